"""core.sources.analysis: the analysis generator reports progress and stops when asked."""

import mne
import numpy as np
import pytest

from core.sources.inverse import InverseSettings
from core.sources.analysis import AnalysisConfig, iter_analysis
from core.utils import Cancelled, Progress, SpindleScopeError, run_with_progress


@pytest.fixture(scope="module")
def problem(sample_problem):
    return sample_problem


def test_progress_and_cancel_between_spindles(problem):
    rec, fwd, cov = problem
    spindles = [(0.05 + 0.3 * k, 0.28) for k in range(3)]
    config = AnalysisConfig(band=None, modalities=("eeg",), null=False)
    seen = []
    result = run_with_progress(iter_analysis(rec, spindles, fwd, cov, config),
                               lambda p: seen.append(p))
    assert all(isinstance(p, Progress) for p in seen)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    # 1 modality + 3 spindles + the statistics
    assert seen[-1].done == seen[-1].total == 1 + 3 + 1
    assert len(result.spindles) == 3

    calls = []

    def stop_after_first_spindle(p):
        calls.append(p.message)
        return not p.message.startswith("Spindle 2/")

    gen = iter_analysis(rec, spindles, fwd, cov, config)
    with pytest.raises(Cancelled):
        run_with_progress(gen, stop_after_first_spindle)
    assert calls[-1].startswith("Spindle 2/")
    assert gen.gi_frame is None  # the generator was closed, nothing runs on


def test_methods_and_fixed_orientation(problem):
    rec, fwd, cov = problem
    spindles = [(0.1, 0.5)]
    res = {}
    for method in ("dSPM", "sLORETA", "eLORETA", "MNE"):
        cfg = AnalysisConfig(inverse=InverseSettings(method=method), band=None,
                             modalities=("eeg",), null=False)
        out = run_with_progress(iter_analysis(rec, spindles, fwd, cov, cfg))
        res[method] = out.spindles[0].stcs["eeg"].data
        assert res[method].shape == (516, 150)
    assert not np.allclose(res["dSPM"] / res["dSPM"].max(),
                           res["MNE"] / res["MNE"].max())
    cfg = AnalysisConfig(inverse=InverseSettings(orientation="fixed"), band=None,
                         modalities=("eeg",), null=False)
    fixed = run_with_progress(iter_analysis(rec, spindles, fwd, cov, cfg))
    assert (fixed.spindles[0].stcs["eeg"].data < 0).any()  # signed, normal to cortex


def _figures(problem, timecourse="norm", cov=None, **inv):
    rec, fwd, cov0 = problem
    cfg = AnalysisConfig(inverse=InverseSettings(**inv), band=None, null=False,
                         timecourse=timecourse, coherence_band=(8.0, 13.0),
                         estimators=("multitaper",))
    out = run_with_progress(iter_analysis(rec, [(0.05, 0.9)], fwd,
                                          cov0 if cov is None else cov, cfg))
    return out.summary()


KEYS = ("eeg_within_r", "meg_within_r", "meeg_within_r", "between_r",
        "coherence_multitaper")


@pytest.mark.parametrize("timecourse", ["norm", "normal", "envelope"])
def test_dspm_mne_sloreta_give_the_same_figures(problem, timecourse):
    """Correlation and coherence ignore a per-source scale: dSPM, MNE and
    sLORETA (which differ only by one) give identical synchrony figures;
    loose, depth, SNR, eLORETA and the noise covariance change them."""
    base = _figures(problem, timecourse, method="dSPM")
    assert base["timecourse"] == timecourse
    assert "normal" in base["coherence_signal"]
    for method in ("MNE", "sLORETA"):
        other = _figures(problem, timecourse, method=method)
        for k in KEYS:
            assert other[k] == pytest.approx(base[k], rel=1e-6, abs=1e-9), (method, k)
    if timecourse != "norm":
        return
    changed = {
        "eLORETA": _figures(problem, timecourse, method="eLORETA"),
        "loose": _figures(problem, timecourse, loose=0.6),
        "depth": _figures(problem, timecourse, depth=None),
        "snr": _figures(problem, timecourse, snr=0.3),
        "cov": _figures(problem, timecourse, cov=mne.make_ad_hoc_cov(
            problem[0].info, verbose="error")),
    }
    for name, fig in changed.items():
        diff = max(abs(fig[k] - base[k]) for k in KEYS)
        # dSPM's noise normalisation undoes most of the depth weighting
        assert diff > (1e-5 if name == "depth" else 1e-3), (name, diff)


def test_timecourse_setting_changes_the_correlations_not_the_coherence(problem):
    norm = _figures(problem, "norm")
    normal = _figures(problem, "normal")
    env = _figures(problem, "envelope")
    assert normal["coherence_multitaper"] == pytest.approx(norm["coherence_multitaper"])
    assert env["coherence_multitaper"] == pytest.approx(norm["coherence_multitaper"])
    for other in (normal, env):
        assert abs(other["eeg_within_r"] - norm["eeg_within_r"]) > 1e-3
    assert "norm of the three" in norm["correlation_signal"]
    assert "envelope" in env["correlation_signal"]
    with pytest.raises(SpindleScopeError, match="'timecourse'"):
        AnalysisConfig(timecourse="phase")


def test_bad_settings():
    with pytest.raises(SpindleScopeError, match="'method'"):
        InverseSettings(method="beamformer")
    with pytest.raises(SpindleScopeError, match="'snr'"):
        InverseSettings(snr=-1)
    with pytest.raises(SpindleScopeError, match="'modalities'"):
        AnalysisConfig(modalities=("eeg", "ecog"))
    with pytest.raises(SpindleScopeError, match="band high edge"):
        AnalysisConfig(band=(15.0, 10.0))
