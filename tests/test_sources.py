"""core.sources: the analysis generator reports progress and stops when asked."""

import mne
import numpy as np
import pytest

from core.inverse import InverseSettings
from core.recording import open_recording
from core.sources import AnalysisConfig, iter_analysis
from core.utils import Cancelled, Progress, SpindleScopeError, run_with_progress


@pytest.fixture(scope="module")
def problem(sample_dir):
    rec = open_recording(sample_dir / "SSS/sample_audvis_trunc_raw_sss.fif")
    src = mne.read_source_spaces(sample_dir / "mne_python_tests/small-src.fif.gz",
                                 verbose="error")
    fwd = mne.make_forward_solution(
        rec.info, sample_dir / "MEG/sample/sample_audvis_trunc-trans.fif", src,
        sample_dir / "subjects/sample/bem/sample-320-320-320-bem-sol.fif",
        verbose="error")
    cov = mne.read_cov(sample_dir / "MEG/sample/sample_audvis_trunc-cov.fif",
                       verbose="error")
    return rec, fwd, cov


def test_progress_and_cancel_between_spindles(problem):
    rec, fwd, cov = problem
    spindles = [(0.05 + 0.3 * k, 0.28) for k in range(3)]
    config = AnalysisConfig(band=None, modalities=("eeg",))
    seen = []
    result = run_with_progress(iter_analysis(rec, spindles, fwd, cov, config),
                               lambda p: seen.append(p))
    assert all(isinstance(p, Progress) for p in seen)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == seen[-1].total == 1 + 3  # 1 modality + 3 spindles
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
                             modalities=("eeg",))
        out = run_with_progress(iter_analysis(rec, spindles, fwd, cov, cfg))
        res[method] = out.spindles[0].stcs["eeg"].data
        assert res[method].shape == (516, 150)
    assert not np.allclose(res["dSPM"] / res["dSPM"].max(),
                           res["MNE"] / res["MNE"].max())
    cfg = AnalysisConfig(inverse=InverseSettings(orientation="fixed"), band=None,
                         modalities=("eeg",))
    fixed = run_with_progress(iter_analysis(rec, spindles, fwd, cov, cfg))
    assert (fixed.spindles[0].stcs["eeg"].data < 0).any()  # signed, normal to cortex


def test_bad_settings():
    with pytest.raises(SpindleScopeError, match="'method'"):
        InverseSettings(method="beamformer")
    with pytest.raises(SpindleScopeError, match="'snr'"):
        InverseSettings(snr=-1)
    with pytest.raises(SpindleScopeError, match="'modalities'"):
        AnalysisConfig(modalities=("eeg", "ecog"))
    with pytest.raises(SpindleScopeError, match="band high edge"):
        AnalysisConfig(band=(15.0, 10.0))
