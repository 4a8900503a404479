"""``main.py analyze``: the demo's direction, MNE equivalence, clear errors."""

import csv
import json
import warnings

import mne
import numpy as np
import pytest

from main import main


def _write_spindles(path, rows):
    with open(path, "w") as fid:
        fid.write("onset\tduration\ttrial_type\n")
        for onset, dur in rows:
            fid.write(f"{onset}\t{dur}\tspindle\n")
    return path


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_out")
    assert main(["analyze", "--demo", "--out", str(out), "--n-boot", "300"]) == 0
    return out


def test_demo_reproduces_the_papers_direction(demo_out):
    summary = json.loads((demo_out / "summary.json").read_text())
    n = summary["n_spindles"]
    assert n >= 20
    for key in ("eeg_within_r", "meg_within_r", "between_r", "coherence_welch",
                "coherence_mvdr"):
        assert len(summary[key + "_per_spindle"]) == n
        assert np.isfinite(summary[key])
    # Dehghani et al.: EEG sources synchronous, MEG sources not, and the two
    # barely correlate at the same place
    assert summary["eeg_within_r"] >= 2 * summary["meg_within_r"]
    assert summary["between_r"] < 0.3
    assert 0 < summary["coherence_mvdr"] < 1 and 0 < summary["coherence_welch"] < 1
    assert summary["paper"]["eeg_within_r"] == 0.64


def test_demo_every_figure_has_null_excess_interval_p(demo_out):
    from core.sources.synchrony_figures import BETWEEN, FIGURES

    summary = json.loads((demo_out / "summary.json").read_text())
    n = summary["n_spindles"]
    for key in FIGURES:
        v, null, lo_hi = summary[key], summary[key + "_null"], summary[key + "_ci"]
        assert summary[key + "_excess"] == pytest.approx(v - null)
        assert lo_hi[0] < v < lo_hi[1], key
        assert 0 < summary[key + "_p"] <= 1
        assert len(summary[key + "_values"]) == n
        assert len(summary[key + "_null_values"]) == n
    for key in BETWEEN + ("coherence_multitaper",):
        assert key + "_null_cross" in summary and key + "_p_cross" in summary
    # pooled coherence is no longer the short-segment floor: the demo's
    # EEG-MEG coherence exceeds its spindle-free null, and the null is small
    # (per-spindle Welch gave 0.26 against a null of 0.22)
    assert summary["coherence_multitaper_null"] < 0.06
    assert summary["coherence_multitaper_excess_ci"][0] > 0
    assert summary["timecourse"] == "norm"
    assert "ledoit_wolf" in summary["noise_cov"]
    # per type: the diffuse (matrix) spindles' EEG within-r excess lies above
    # the focal (core) spindles', with intervals that do not overlap
    bt = summary["by_type"]
    assert set(bt) == {"diffuse", "focal", "mixed"}
    assert bt["diffuse"]["eeg_within_r_excess_ci"][0] > \
        bt["focal"]["eeg_within_r_excess_ci"][1]
    # (measured, 300 replicates: diffuse 0.171 [0.146, 0.193], focal 0.000
    # [-0.009, 0.012]: the MEG-only core spindles add nothing to EEG synchrony)
    assert bt["focal"]["eeg_within_r_excess"] < 0.25 * bt["diffuse"]["eeg_within_r_excess"]
    assert [bt[k]["n_spindles"] for k in ("diffuse", "focal", "mixed")] == [9, 9, 8]
    for kind in bt:
        for key in FIGURES:
            assert key + "_null" in bt[kind], (kind, key)


def test_demo_focal_meg_maximum_moves_farther(demo_out):
    """Focal spindles' MEG-derived maximum moves farther per cycle than the
    diffuse spindles' EEG-derived maximum (issue 11 acceptance).

    The focal (core) patches take turns being the strongest (the demo's
    rotating gate, bursts of 1-2 cycles), so the MEG maximum jumps between
    patches >= 5 cm apart; the diffuse (matrix) EEG maximum wanders inside one
    broad sheet. Measured (300 replicates): focal MEG 4.33 cm/cycle
    [3.88, 4.80] against diffuse EEG 3.60 [3.29, 3.90]; before the gate focal
    MEG was 3.55 [3.05, 4.10] (the strongest patch held the maximum for 3-9
    cycles at a time).
    """
    bt = json.loads((demo_out / "summary.json").read_text())["by_type"]
    focal, diffuse = bt["focal"], bt["diffuse"]
    assert focal["meg_max_displacement_cm"] > diffuse["eeg_max_displacement_cm"]
    # with a margin: the focal interval lies above the diffuse point estimate
    assert focal["meg_max_displacement_cm_ci"][0] > diffuse["eeg_max_displacement_cm"]


def test_demo_outputs(demo_out):
    summary = json.loads((demo_out / "summary.json").read_text())
    n = summary["n_spindles"]
    rows = list(csv.DictReader(open(demo_out / "spindles.csv")))
    assert len(rows) == n
    np.testing.assert_allclose([float(r["eeg_within_r"]) for r in rows],
                               summary["eeg_within_r_per_spindle"], atol=1e-6)
    np.testing.assert_allclose([float(r["eeg_within_r_null"]) for r in rows],
                               summary["eeg_within_r_null_values"], atol=1e-6)
    assert {r["type"] for r in rows} == {"diffuse", "focal", "mixed"}
    assert all(r["timecourse"] == "norm" for r in rows)
    html = (demo_out / "report.html").read_text()
    for text in ("null", "excess", "95 % CI", "norm of the three", "dSPM, MNE and "
                 "sLORETA give the same", "ledoit_wolf", "Per spindle type"):
        assert text in html, text
    for mod in ("eeg", "meg", "meeg"):
        files = sorted(demo_out.glob(f"{mod}_spindle*-stc.h5"))
        assert len(files) == n
    stc = mne.read_source_estimate(demo_out / "meg_spindle0-stc.h5")
    assert stc.data.shape[0] == 5124
    assert float(rows[0]["onset"]) == pytest.approx(stc.tmin, abs=1 / 200.0)
    assert np.all(stc.data >= 0)  # dSPM values (magnitudes, loose orientation)
    cmap = mne.read_source_estimate(demo_out / "coherence_mvdr_map-stc.h5")
    assert cmap.data.shape == (5124, 1)
    assert 0 < cmap.data.mean() == pytest.approx(summary["coherence_mvdr"], rel=1e-6)
    html = (demo_out / "report.html").read_text()
    assert "Dehghani" in html and html.count("<img") >= 3


# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_problem(sample_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sample")
    paths = dict(
        raw=sample_dir / "SSS" / "sample_audvis_trunc_raw_sss.fif",
        trans=sample_dir / "MEG/sample/sample_audvis_trunc-trans.fif",
        bem=sample_dir / "subjects/sample/bem/sample-320-320-320-bem-sol.fif",
        src=sample_dir / "mne_python_tests/small-src.fif.gz",
        cov=sample_dir / "MEG/sample/sample_audvis_trunc-cov.fif",
        subjects_dir=sample_dir / "subjects",
        spindles=_write_spindles(tmp / "spindles.tsv", [(0.1, 0.4), (0.55, 0.4)]),
        out=tmp / "out",
    )
    return paths


def test_cli_dspm_equals_mne_apply_inverse_raw(sample_problem):
    p = sample_problem
    rc = main(["analyze", str(p["raw"]), "--spindles", str(p["spindles"]),
               "--subjects-dir", str(p["subjects_dir"]), "--subject", "sample",
               "--trans", str(p["trans"]), "--bem", str(p["bem"]), "--src", str(p["src"]),
               "--noise-cov", str(p["cov"]), "--band", "none", "--no-report",
               "--no-null", "--out", str(p["out"])])
    assert rc == 0
    # the reference, computed with MNE alone
    raw = mne.io.read_raw_fif(p["raw"], preload=True, verbose="error")
    raw.set_eeg_reference(projection=True, verbose="error")
    fwd = mne.make_forward_solution(raw.info, p["trans"],
                                    mne.read_source_spaces(p["src"], verbose="error"),
                                    p["bem"], verbose="error")
    cov = mne.read_cov(p["cov"], verbose="error")
    sfreq = raw.info["sfreq"]
    for mod, (meg, eeg) in {"eeg": (False, True), "meg": (True, False),
                            "meeg": (True, True)}.items():
        r = raw.copy().pick(mne.pick_types(raw.info, meg=meg, eeg=eeg, exclude="bads"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inv = mne.minimum_norm.make_inverse_operator(
                r.info, fwd, cov, loose=0.2, depth=0.8,
                rank="info" if meg else None, verbose="error")
        for k, (onset, dur) in enumerate([(0.1, 0.4), (0.55, 0.4)]):
            start, stop = int(round(onset * sfreq)), int(round((onset + dur) * sfreq))
            ref = mne.minimum_norm.apply_inverse_raw(
                r, inv, 1.0 / 9.0, "dSPM", start=start, stop=stop, verbose="error")
            ours = mne.read_source_estimate(p["out"] / f"{mod}_spindle{k}-stc.h5")
            np.testing.assert_allclose(ours.data, ref.data, rtol=1e-6,
                                       atol=1e-9 * np.abs(ref.data).max())
            assert ours.tmin == pytest.approx(ref.tmin)
            for v1, v2 in zip(ours.vertices, ref.vertices):
                np.testing.assert_array_equal(v1, v2)


# --------------------------------------------------------------------------
def _run_expect_error(capsys, argv, *fragments):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    for frag in fragments:
        assert frag in err, err
    return err


def test_missing_recording(capsys, tmp_path):
    sp = _write_spindles(tmp_path / "s.tsv", [(1, 1)])
    _run_expect_error(capsys, ["analyze", str(tmp_path / "nope.fif"), "--spindles",
                               str(sp), "--out", str(tmp_path)], "does not exist")


def test_truncated_fif(capsys, tmp_path, sample_problem):
    data = sample_problem["raw"].read_bytes()
    bad = tmp_path / "cut_raw.fif"
    bad.write_bytes(data[: len(data) // 3])
    sp = _write_spindles(tmp_path / "s.tsv", [(0.1, 0.5)])
    _run_expect_error(capsys, ["analyze", str(bad), "--spindles", str(sp),
                               "--out", str(tmp_path)], "truncated")


def test_eeg_only_recording_asked_for_meg(capsys, tmp_path, sample_problem):
    p = sample_problem
    raw = mne.io.read_raw_fif(p["raw"], verbose="error").pick("eeg")
    raw.save(tmp_path / "eeg_raw.fif", verbose="error")
    _run_expect_error(capsys, ["analyze", str(tmp_path / "eeg_raw.fif"), "--spindles",
                               str(p["spindles"]), "--subjects-dir",
                               str(p["subjects_dir"]), "--subject", "sample",
                               "--trans", str(p["trans"]), "--bem", str(p["bem"]),
                               "--src", str(p["src"]), "--noise-cov", str(p["cov"]),
                               "--modalities", "eeg,meg", "--out", str(tmp_path)],
                      "MEG source analysis needs MEG channels", "--modalities")


def test_spindles_beyond_the_end(capsys, tmp_path, sample_problem):
    p = sample_problem
    sp = _write_spindles(tmp_path / "s.tsv", [(0.2, 0.5), (3.0, 0.8)])
    _run_expect_error(capsys, ["analyze", str(p["raw"]), "--spindles", str(sp),
                               "--forward", str(_sample_fwd(p, tmp_path)),
                               "--noise-cov", str(p["cov"]), "--band", "none",
                               "--out", str(tmp_path)],
                      "Spindle 1", "beyond the recording")


def test_spindle_shorter_than_filter(capsys, tmp_path, sample_problem):
    p = sample_problem
    sp = _write_spindles(tmp_path / "s.tsv", [(0.3, 0.1)])
    _run_expect_error(capsys, ["analyze", str(p["raw"]), "--spindles", str(sp),
                               "--forward", str(_sample_fwd(p, tmp_path)),
                               "--noise-cov", str(p["cov"]), "--out", str(tmp_path)],
                      "shorter than", "band-pass")


def test_no_sensor_positions(capsys, tmp_path, sample_problem):
    p = sample_problem
    raw = mne.io.read_raw_fif(p["raw"], verbose="error").pick(["eeg", "meg"])
    with raw.info._unlock():
        for ch in raw.info["chs"]:
            if ch["kind"] == 2:  # EEG
                ch["loc"][:] = 0.0
    raw.save(tmp_path / "nopos_raw.fif", verbose="error")
    _run_expect_error(capsys, ["analyze", str(tmp_path / "nopos_raw.fif"),
                               "--spindles", str(p["spindles"]), "--noise-cov",
                               "diagonal", "--band", "none", "--modalities", "eeg",
                               "--out", str(tmp_path)],
                      "no sensor positions")


def _sample_fwd(p, tmp_path):
    path = tmp_path / "sample-fwd.fif"
    if not path.exists():
        info = mne.io.read_info(p["raw"], verbose="error")
        fwd = mne.make_forward_solution(info, p["trans"],
                                        mne.read_source_spaces(p["src"], verbose="error"),
                                        p["bem"], verbose="error")
        mne.write_forward_solution(path, fwd, verbose="error")
    return path
