"""``resolution --forward/--noise-cov`` (no recording) goes through the Session
pipeline (``Session.iter_resolution``) and equals the study of those files."""

from __future__ import annotations

import numpy as np
import pytest

from core.utils import SpindleScopeError, run_with_progress


@pytest.fixture(scope="module")
def files(sample_dir, tmp_path_factory):
    import mne

    raw = sample_dir / "SSS" / "sample_audvis_trunc_raw_sss.fif"
    info = mne.io.read_info(raw, verbose="error")
    src = mne.read_source_spaces(
        sample_dir / "mne_python_tests" / "small-src.fif.gz", verbose="error")
    fwd = mne.make_forward_solution(
        info, sample_dir / "MEG" / "sample" / "sample_audvis_trunc-trans.fif", src,
        sample_dir / "subjects" / "sample" / "bem" / "sample-320-320-320-bem-sol.fif",
        meg=True, eeg=True, verbose="error")
    fname = tmp_path_factory.mktemp("res") / "sample-fwd.fif"
    mne.write_forward_solution(fname, fwd, verbose="error")
    cov = sample_dir / "MEG" / "sample" / "sample_audvis_trunc-cov.fif"
    return fname, cov, raw


def test_cli_files_equal_the_session_pipeline(files, tmp_path, capsys, monkeypatch):
    from core.cli.main import main
    from core.resolution.matrix import iter_resolution_study
    from core.resolution.metrics import FUNCTIONS, METRICS
    from core.session import pipeline
    from core.session.session import Session

    fwd, cov, raw = files
    calls = []
    real = pipeline.iter_resolution

    def spy(session, **kw):
        calls.append((type(session).__name__, session.recording, kw["forward"]))
        return real(session, **kw)

    monkeypatch.setattr(pipeline, "iter_resolution", spy)
    out = tmp_path / "out"
    assert main(["resolution", "--forward", str(fwd), "--noise-cov", str(cov),
                 "--info", str(raw), "--methods", "MNE,dSPM", "--sensors", "meg",
                 "--no-maps", "--no-report", "--out", str(out)]) == 0
    # the command went through a (recording-less) Session
    assert calls == [("Session", None, str(fwd))]
    monkeypatch.undo()
    direct = run_with_progress(iter_resolution_study(
        str(fwd), str(cov), ["MNE", "dSPM"], ["meg"], info=str(raw),
        functions=FUNCTIONS, metrics=METRICS))
    direct.write_csv(tmp_path / "direct.csv")
    assert (out / "metrics.csv").read_text() == (tmp_path / "direct.csv").read_text()
    computed = run_with_progress(Session().iter_resolution(
        forward=str(fwd), noise_cov=str(cov), info=str(raw), methods=("MNE",),
        sensors=("meg",), functions=FUNCTIONS, metrics=METRICS))
    assert computed.key is None and computed.kind == "resolution"
    for name in direct.names:
        np.testing.assert_array_equal(computed.result.get("MNE", "meg", name),
                                      direct.get("MNE", "meg", name))
    capsys.readouterr()


def test_files_need_both_and_info_needs_files(files):
    from core.session.session import Session

    fwd, _cov, raw = files
    with pytest.raises(SpindleScopeError, match="both a forward model and a noise"):
        Session().iter_resolution(forward=str(fwd))
    with pytest.raises(SpindleScopeError, match="info is only used"):
        Session().iter_resolution(info=str(raw))
