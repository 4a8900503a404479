"""core.simulate: the demo recording and its ground truth."""

import csv

import mne
import numpy as np
import pytest

from core import simulate
from core.recording import open_recording


@pytest.fixture(scope="module")
def demo():
    return simulate.demo_paths()


def test_demo_files_and_channels(demo):
    rec = open_recording(demo.raw)
    assert rec.duration >= 300
    g = rec.groups
    assert (len(g["mag"]), len(g["grad"]), len(g["eeg"]), len(g["eog"])) == (102, 204, 60, 2)
    assert rec.report.has_eeg_positions and rec.report.has_meg_geometry
    fwd = mne.read_forward_solution(demo.forward, verbose="error")
    assert fwd["nsource"] == 5124
    cov = mne.read_cov(demo.noise_cov, verbose="error")
    assert len(cov["names"]) == 366
    hyp = list(csv.DictReader(open(demo.hypnogram), delimiter="\t"))
    assert len(hyp) * float(hyp[0]["duration"]) == pytest.approx(rec.duration)
    assert {h["stage"] for h in hyp} <= {"W", "N1", "N2", "N3", "R"}


def test_demo_truth(demo):
    rows = list(csv.DictReader(open(demo.spindles), delimiter="\t"))
    kinds = {r["kind"] for r in rows}
    assert kinds == {"diffuse", "focal", "mixed"}
    hyp = list(csv.DictReader(open(demo.hypnogram), delimiter="\t"))
    n2 = [(float(h["onset"]), float(h["onset"]) + float(h["duration"]))
          for h in hyp if h["stage"] == "N2"]
    for r in rows:
        on, dur = float(r["onset"]), float(r["duration"])
        assert 0.4 < dur < 3.0
        assert 11 <= float(r["frequency"]) <= 15
        assert any(a <= on < b for a, b in n2)  # stage-2 spindles
        assert r["visibility"] in ("eeg", "meg", "both")
    # diffuse (radial, widespread) generators are EEG-visible and nearly
    # MEG-silent; focal (tangential) ones are strongest in MEG
    diffuse = [r for r in rows if r["kind"] == "diffuse"]
    focal = [r for r in rows if r["kind"] == "focal"]
    assert all(float(r["snr_meg"]) < float(r["snr_eeg"]) for r in diffuse)
    assert all(r["visibility"] == "eeg" for r in diffuse)
    assert all(float(r["snr_meg"]) > float(r["snr_eeg"]) for r in focal)
    assert all(r["visibility"] in ("meg", "both") for r in focal)
    # so the demo has spindles that only one modality shows, as in the paper
    assert {r["visibility"] for r in rows} >= {"eeg", "both"}


def test_spindles_are_in_the_data(demo):
    rec = open_recording(demo.raw)
    rows = list(csv.DictReader(open(demo.spindles), delimiter="\t"))
    r = [x for x in rows if x["kind"] == "diffuse"][0]
    on, dur = float(r["onset"]), float(r["duration"])
    from core.simulate import _sigma_filter

    seg = _sigma_filter(rec.get_chunk(on - 5, on + dur + 5, "eeg"), rec.sfreq)
    i0, i1 = int(5 * rec.sfreq), int((5 + dur) * rec.sfreq)
    peak = np.abs(seg[:, i0:i1]).max(1)
    background = seg[:, : i0 - 100].std(1)  # the 5 s before: spindle-free
    # the truth's peak SNR is measured this way on the noise-free spindle
    assert (peak / background).max() > 0.7 * float(r["snr_eeg"])


def test_demo_is_reproducible(tmp_path):
    params = simulate.demo_params()
    params["stages"] = ["N2", "N2"]
    params["spindles"] = {"diffuse": 1, "focal": 1, "mixed": 1}
    a = simulate._iter_build(params, simulate._paths(_mk(tmp_path / "a")))
    b = simulate._iter_build(params, simulate._paths(_mk(tmp_path / "b")))
    from core.utils import run_with_progress

    pa, pb = run_with_progress(a), run_with_progress(b)
    ra = mne.io.read_raw_fif(pa.raw, verbose="error").get_data()
    rb = mne.io.read_raw_fif(pb.raw, verbose="error").get_data()
    np.testing.assert_array_equal(ra, rb)
    assert pa.spindles.read_text() == pb.spindles.read_text()


def _mk(path):
    path.mkdir()
    return path
