"""core.sources.headmodel and core.sources.sensors: the offline template and the subject's own."""

import json

import mne
import numpy as np
import pytest

from core.sources import headmodel, sensors
from core.utils import SpindleScopeError


@pytest.fixture(scope="module")
def demo_info():
    return sensors.make_info(200.0)


def test_template_source_spaces():
    src4 = headmodel.template_source_space("ico4")
    assert [s["nuse"] for s in src4] == [2562, 2562]
    # fsaverage5's first 2,562 vertices per hemisphere are the ico-4 subset
    for s in src4:
        np.testing.assert_array_equal(s["vertno"], np.arange(2562))
    src5 = headmodel.template_source_space("ico5")
    assert sum(s["nuse"] for s in src5) == 20484
    with pytest.raises(SpindleScopeError, match="'spacing'"):
        headmodel.template_source_space("oct6")


def test_template_bem_is_three_nested_layers():
    bem = headmodel.template_bem()
    assert len(bem["surfs"]) == 3
    np.testing.assert_allclose([s["sigma"] for s in bem["surfs"]], [0.3, 0.006, 0.3])
    # MNE orders the surfaces outermost first: scalp, outer skull, inner skull
    assert [s["id"] for s in bem["surfs"]] == [4, 3, 1]
    centre = bem["surfs"][2]["rr"].mean(0)
    radii = [np.linalg.norm(s["rr"] - centre, axis=1).mean() for s in bem["surfs"]]
    assert radii[0] > radii[1] > radii[2]
    assert radii[1] - radii[2] == pytest.approx(headmodel.SKULL_THICKNESS, abs=1e-3)


def test_sensor_array(demo_info):
    types = demo_info.get_channel_types()
    assert types.count("mag") == 102 and types.count("grad") == 204
    assert types.count("eeg") == 60 and types.count("eog") == 2
    coils = {ch["coil_type"] for ch in demo_info["chs"] if ch["kind"] == 1}
    assert coils == {3012, 3024}  # Vectorview planar gradiometer, magnetometer
    # the head is seated in the helmet: sensors CLEARANCE or more from the scalp
    dev_head = demo_info["dev_head_t"]["trans"]
    pos = np.array([ch["loc"][:3] for ch in demo_info["chs"] if ch["kind"] == 1])
    pos_head = pos @ dev_head[:3, :3].T + dev_head[:3, 3]
    scalp = sensors._scalp_head_coords()
    d = np.linalg.norm(pos_head[:, None] - scalp[None], axis=2).min(1)
    assert d.min() >= sensors.CLEARANCE - 1e-3 and d.min() < sensors.CLEARANCE + 5e-3
    # EEG positions come from the fsaverage montage
    assert len(demo_info["dig"]) == 63


def test_template_forward_keeps_all_sources_and_is_cached(demo_info):
    fwd = headmodel.template_forward(demo_info, "ico4")
    assert fwd["nsource"] == 5124
    assert fwd["nchan"] == 366
    files = list((headmodel._template_root() / "forward").glob("ico4-*-fwd.fif"))
    key = headmodel._info_key(demo_info)
    path = [f for f in files if key in f.name][0]
    mtime = path.stat().st_mtime
    again = headmodel.template_forward(demo_info, "ico4")
    assert path.stat().st_mtime == mtime  # read, not rebuilt
    np.testing.assert_allclose(again["sol"]["data"], fwd["sol"]["data"], rtol=1e-6)
    # gains have the right magnitude: EEG µV and MEG fT per 10 nAm
    g = fwd["sol"]["data"]
    picks_eeg = mne.pick_types(fwd["info"], meg=False, eeg=True)
    picks_mag = mne.pick_types(fwd["info"], meg="mag")
    assert 1e-6 < np.abs(g[picks_eeg]).max() * 1e-8 < 1e-3
    assert 1e-14 < np.abs(g[picks_mag]).max() * 1e-8 < 1e-11


def test_stale_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINDLESCOPE_CACHE_DIR", str(tmp_path))
    src = headmodel.template_source_space("ico4")
    path = headmodel._template_root() / "fsaverage-ico4-src.fif"
    man = path.with_name(path.name + ".json")
    key = json.loads(man.read_text())
    key["recipe"] = -1  # as if built by an older recipe
    man.write_text(json.dumps(key))
    assert not headmodel._manifest_ok(path, headmodel._recipe_key(spacing="ico4"))
    src2 = headmodel.template_source_space("ico4")
    assert json.loads(man.read_text())["recipe"] == headmodel.TEMPLATE_RECIPE
    assert [s["nuse"] for s in src2] == [s["nuse"] for s in src]
    path.unlink()  # a missing file is rebuilt too
    fresh = headmodel.template_source_space("ico4")
    assert path.exists()
    # freshly built objects have native byte order (MNE's numba kernels reject
    # the big-endian integers FreeSurfer files are read into)
    assert all(s["tris"].dtype.isnative for s in fresh)


def test_subject_forward(sample_dir):
    info = mne.io.read_info(sample_dir / "SSS/sample_audvis_trunc_raw_sss.fif",
                            verbose="error")
    fwd = headmodel.subject_forward(
        info, subjects_dir=sample_dir / "subjects", subject="sample",
        trans=sample_dir / "MEG/sample/sample_audvis_trunc-trans.fif",
        bem=sample_dir / "subjects/sample/bem/sample-320-320-320-bem-sol.fif",
        src=sample_dir / "mne_python_tests/small-src.fif.gz")
    assert fwd["nsource"] == 516 and fwd["nchan"] == 366
    with pytest.raises(SpindleScopeError, match="missing: trans, bem"):
        headmodel.subject_forward(info, subjects_dir=sample_dir / "subjects",
                                  subject="sample")
    with pytest.raises(SpindleScopeError, match="does not exist"):
        headmodel.subject_forward(info, forward="/nonexistent-fwd.fif")
    with pytest.raises(SpindleScopeError, match="not in the subjects folder"):
        headmodel.subject_forward(
            info, subjects_dir=sample_dir / "subjects", subject="bert",
            trans=sample_dir / "MEG/sample/sample_audvis_trunc-trans.fif",
            bem=sample_dir / "subjects/sample/bem/sample-320-320-320-bem-sol.fif")
