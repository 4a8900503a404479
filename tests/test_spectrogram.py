"""Whole-night multitaper spectrogram: MNE's estimate, sigma power, chunks, cache."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from core.io.recording import Recording
from core.detection.spectrogram import night_spectrogram
from core.utils import Cancelled, SpindleScopeError, run_with_progress

SF = 100.0


def _signal(seconds=600, seed=1):
    """White noise with a 13-Hz burst in windows 4-6 (120-210 s) on C4 only."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SF)
    t = np.arange(n) / SF
    data = 5e-6 * rng.standard_normal((3, n))
    burst = (t >= 120) & (t < 210)
    data[0, burst] += 20e-6 * np.sin(2 * np.pi * 13 * t[burst])
    return data


def _rec(tmp_path, seconds=600):
    info = mne.create_info(["C4", "M1", "EOG"], SF, ["eeg", "eeg", "eog"])
    raw = mne.io.RawArray(_signal(seconds), info, verbose="error")
    path = tmp_path / "night_raw.fif"
    raw.save(path, verbose="error")
    return Recording(mne.io.read_raw_fif(path, verbose="error"), path)


def test_spectrogram_equals_mne_multitaper_per_window(tmp_path):
    from mne.time_frequency import psd_array_multitaper

    rec = _rec(tmp_path)
    reports = []
    spec = run_with_progress(night_spectrogram(rec, "C4-M1", chunk_windows=7, cache=False),
                             reports.append)
    assert len(reports) == 4 and reports[-1].done == reports[-1].total  # 3 chunks + done
    assert spec.power.shape[1] == 20 and spec.times[0] == 15.0
    x = rec.get_samples(0, rec.n_times, [0, 1])   # as stored (FIF float32)
    deriv = x[0] - x[1]
    segs = deriv.reshape(20, 3000)
    psd, freqs = psd_array_multitaper(segs, SF, fmin=0.5, fmax=25.0, bandwidth=1.0,
                                      adaptive=False, normalization="full",
                                      verbose="error")
    np.testing.assert_allclose(spec.freqs, freqs)
    np.testing.assert_allclose(spec.power, psd.T, rtol=1e-10)
    # sigma power: the 13-Hz burst windows stand out by > 10 dB
    sig = spec.sigma_db()
    burst = [4, 5, 6]
    rest = [i for i in range(20) if i not in burst]
    assert sig[burst].min() > sig[rest].max() + 10
    sel = (freqs >= 11) & (freqs <= 16)
    np.testing.assert_allclose(spec.sigma, np.trapezoid(psd[:, sel], freqs[sel], axis=1))


def test_spectrogram_cache_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINDLESCOPE_CACHE_DIR", str(tmp_path / "cache"))
    rec = _rec(tmp_path, 300)
    a = run_with_progress(night_spectrogram(rec, "C4", step=15.0))
    files = list((tmp_path / "cache" / "spectrograms").glob("*.npz"))
    assert len(files) == 1 and a.power.shape[1] == 19
    msgs = []
    b = run_with_progress(night_spectrogram(rec, "C4", step=15.0), msgs.append)
    assert msgs[-1].message == "Spectrogram read from the cache"
    np.testing.assert_array_equal(a.power, b.power)
    assert run_with_progress(night_spectrogram(rec, "C4", cache_only=True)) is None
    c = run_with_progress(night_spectrogram(rec, "C4", step=15.0, cache_only=True))
    np.testing.assert_array_equal(c.power, a.power)
    with pytest.raises(Cancelled):
        run_with_progress(night_spectrogram(rec, "C4", cache=False), lambda p: False)
    with pytest.raises(SpindleScopeError, match="sigma_band"):
        run_with_progress(night_spectrogram(rec, "C4", sigma_band=(11, 40)))
    with pytest.raises(SpindleScopeError, match="shorter than one"):
        run_with_progress(night_spectrogram(rec, "C4", window=400.0))
