"""core.session.simulate: the demo recording and its ground truth."""

import csv

import mne
import numpy as np
import pytest

from core.session import simulate
from core.io.recording import open_recording


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
    # the claim the demo embodies: diffuse (matrix) spindles are EEG-only,
    # focal (core) spindles MEG-only, mixed both
    params = simulate.demo_params()
    by_kind = {k: [r for r in rows if r["kind"] == k] for k in kinds}
    assert [len(by_kind[k]) for k in ("diffuse", "focal", "mixed")] == [9, 9, 8]
    assert all(r["visibility"] == "eeg" for r in by_kind["diffuse"])
    assert all(r["visibility"] == "meg" for r in by_kind["focal"])
    assert all(r["visibility"] == "both" for r in by_kind["mixed"])
    # focal spindles stay below EEG visibility as a whole (their patches are
    # summed), with a clear MEG signal; diffuse ones are faint in MEG
    assert max(float(r["snr_eeg"]) for r in by_kind["focal"]) <= \
        params["focal"]["max_eeg_snr"] + 0.01
    assert min(float(r["snr_meg"]) for r in by_kind["focal"]) >= 8
    assert max(float(r["snr_meg"]) for r in by_kind["diffuse"]) < 4
    assert min(float(r["snr_eeg"]) for r in by_kind["diffuse"]) >= 7.5
    assert all(int(r["n_generators"]) >= 3 for r in by_kind["focal"])
    assert all(int(r["n_generators"]) == 1 for r in by_kind["diffuse"])


def test_no_inverse_crime(demo):
    """The data come from another source space and other conductivities."""
    from core.sources.headmodel import CONDUCTIVITY, iter_template_forward
    from core.sources.sensors import make_info
    from core.utils import run_with_progress

    sim = simulate.demo_params()["simulation"]
    assert sim["spacing"] != "ico4"
    assert tuple(sim["conductivity"]) != CONDUCTIVITY
    assert sim["conductivity"][1] == pytest.approx(0.0045)  # skull, not 0.006
    fwd = mne.read_forward_solution(demo.forward, verbose="error")  # what is inverted
    info = make_info(200.0)
    fwd_sim = run_with_progress(iter_template_forward(info, sim["spacing"],
                                                      tuple(sim["conductivity"])))
    assert (fwd["nsource"], fwd_sim["nsource"]) == (5124, 20484)
    # the ico-4 sources are a subset of the ico-5 ones: compare the gains
    # there. The perturbed skull changes the EEG gain by tens of per cent and
    # MEG (nearly blind to the conductivities) little
    cols_sim = []
    for s, s_sim in zip(fwd["src"], fwd_sim["src"]):
        assert np.isin(s["vertno"], s_sim["vertno"]).all()
        cols_sim.append(np.searchsorted(s_sim["vertno"], s["vertno"]))
    off = len(fwd_sim["src"][0]["vertno"])
    idx = np.r_[cols_sim[0], cols_sim[1] + off]
    cols = (3 * idx[:, None] + np.arange(3)).ravel()
    g, g_sim = fwd["sol"]["data"], fwd_sim["sol"]["data"][:, cols]
    assert fwd["sol"]["row_names"] == fwd_sim["sol"]["row_names"]
    eeg = np.array([n[:3] != "MEG" for n in fwd["sol"]["row_names"]])
    rel = np.linalg.norm(g - g_sim, axis=0) / np.linalg.norm(g, axis=0)
    rel_eeg = np.linalg.norm(g[eeg] - g_sim[eeg]) / np.linalg.norm(g[eeg])
    rel_meg = np.linalg.norm(g[~eeg] - g_sim[~eeg]) / np.linalg.norm(g[~eeg])
    assert rel_eeg > 0.1 and rel_meg < rel_eeg
    assert np.isfinite(rel).all()
    # and the cache keeps the two apart: the default forward is unchanged
    again = run_with_progress(iter_template_forward(info, "ico4"))
    np.testing.assert_array_equal(again["sol"]["data"], g)


def test_conductivity_is_checked():
    from core.sources.headmodel import iter_template_bem
    from core.utils import SpindleScopeError, run_with_progress

    with pytest.raises(SpindleScopeError, match="three positive numbers"):
        run_with_progress(iter_template_bem((0.3, -0.006, 0.3)))


def test_spindles_are_in_the_data(demo):
    rec = open_recording(demo.raw)
    rows = list(csv.DictReader(open(demo.spindles), delimiter="\t"))
    r = [x for x in rows if x["kind"] == "diffuse"][0]
    on, dur = float(r["onset"]), float(r["duration"])
    from core.session.simulate import _sigma_filter

    seg = _sigma_filter(rec.get_chunk(on - 5, on + dur + 5, "eeg"), rec.sfreq)
    i0, i1 = int(5 * rec.sfreq), int((5 + dur) * rec.sfreq)
    peak = np.abs(seg[:, i0:i1]).max(1)
    background = seg[:, : i0 - 100].std(1)  # the 5 s before: spindle-free
    # the truth's peak SNR is measured this way on the noise-free spindle
    assert (peak / background).max() > 0.7 * float(r["snr_eeg"])


def test_spindles_visible_at_the_default_display(demo):
    """EEG spindles stand out by eye at the default EEG scaling, as in N2.

    On the best channel (average reference) the sigma-band peak of every
    diffuse spindle reaches half the default half-spacing (20 µV: measured
    12-21 µV; mixed 8-26 µV), and diffuse and mixed spindles stand above what
    the same measure gives at the EEG-invisible focal spindles (background
    alone: 7-12 µV).
    """
    from core.session.settings import DEFAULT_SCALINGS
    from core.session.simulate import _sigma_filter

    rec = open_recording(demo.raw)
    rows = list(csv.DictReader(open(demo.spindles), delimiter="\t"))
    peaks = {"diffuse": [], "focal": [], "mixed": []}
    for r in rows:
        on, dur = float(r["onset"]), float(r["duration"])
        x = rec.get_chunk(on - 2, on + dur + 2, "eeg")
        x = _sigma_filter(x - x.mean(axis=0), rec.sfreq)
        i0, i1 = int(2 * rec.sfreq), int((2 + dur) * rec.sfreq)
        peaks[r["kind"]].append(np.abs(x[:, i0:i1]).max())
    assert min(peaks["diffuse"]) >= 0.5 * DEFAULT_SCALINGS["eeg"]
    seen = np.array(peaks["diffuse"] + peaks["mixed"])
    assert np.median(seen) >= 1.5 * np.median(peaks["focal"])


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


def test_background_mixing_is_continuous():
    """The cause of the irreproducible demo, fixed (issue 11).

    EEG (V) and MEG (T) gains differ by ~1e6 (covariances by ~1e12), so an
    eigendecomposition of the sensor covariance resolves the MEG block only
    at round-off level: a 1e-13 change of the gain (another BLAS thread
    count, a rebuilt BEM) drew a different MEG background. The Cholesky
    factor of the correlation matrix changes continuously.
    """
    rng = np.random.default_rng(3)
    gain = rng.standard_normal((80, 400))
    gain[:20] *= 1e3      # "EEG"
    gain[20:] *= 1e-3     # "MEG"
    gain[:20] -= gain[:20].mean(axis=0)  # average reference: singular
    wobble = gain * (1 + 1e-13 * rng.standard_normal(gain.shape))
    x = rng.standard_normal((80, 500))
    a = simulate._background_mixing(gain @ gain.T) @ x
    b = simulate._background_mixing(wobble @ wobble.T) @ x
    for rows in (slice(0, 20), slice(20, 80)):
        assert np.linalg.norm(a[rows] - b[rows]) <= 1e-6 * np.linalg.norm(a[rows])
    # and it is a square root of the covariance (up to the tiny ridge)
    m = simulate._background_mixing(gain @ gain.T)
    cov = gain @ gain.T
    d = np.sqrt(np.diag(cov))
    np.testing.assert_allclose((m @ m.T) / np.outer(d, d), cov / np.outer(d, d), atol=1e-8)

    def eig_mixing(c):
        w, v = np.linalg.eigh(c)
        return v * np.sqrt(np.clip(w, 0, None))

    # what the old build did: the "MEG" rows move by far more than the wobble
    ea, eb = eig_mixing(gain @ gain.T) @ x, eig_mixing(wobble @ wobble.T) @ x
    assert np.linalg.norm(ea[20:] - eb[20:]) > 1e-3 * np.linalg.norm(ea[20:])
