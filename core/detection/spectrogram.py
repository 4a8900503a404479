"""Whole-night multitaper spectrogram and sigma-power trace of one row.

:func:`night_spectrogram` is a progress generator: it reads a channel or a
derivation (``C4-M1``, see :func:`core.io.montage.single_row`) a chunk of windows
at a time, estimates each window's power spectral density with
:func:`mne.time_frequency.psd_array_multitaper` (DPSS tapers, no hand-written
taper), and integrates the sigma band (11-16 Hz by default) into a power trace.
Results are cached per recording (path, size, modification time, row and
parameters) as ``.npz`` files written with the atomic writer.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.io.montage import single_row
from core.utils import (Progress, SpindleScopeError, atomic_write_bytes, cache_dir,
                        check_range, logger)

#: Cache format version (bump when the computation changes).
CACHE_VERSION = 1


@dataclass
class Spectrogram:
    """A whole-night spectrogram.

    Attributes
    ----------
    times : array, shape (n_windows,)
        Centre of each window (s).
    freqs : array, shape (n_freqs,)
        Frequencies (Hz).
    power : array, shape (n_freqs, n_windows)
        Power spectral density (V²/Hz).
    sigma : array, shape (n_windows,)
        Power in the sigma band (V², the PSD integrated over the band).
    row : str
        The channel or derivation.
    params : dict
        ``window, step, fmin, fmax, bandwidth, sigma_band``.
    """

    times: np.ndarray
    freqs: np.ndarray
    power: np.ndarray
    sigma: np.ndarray
    row: str
    params: dict

    def db(self) -> np.ndarray:
        """Power in dB re 1 µV²/Hz, shape (n_freqs, n_windows)."""
        return 10.0 * np.log10(np.maximum(self.power, 1e-30) * 1e12)

    def sigma_db(self) -> np.ndarray:
        """Sigma-band power in dB re 1 µV²."""
        return 10.0 * np.log10(np.maximum(self.sigma, 1e-30) * 1e12)


def window_psd(data, sfreq, fmin, fmax, bandwidth):
    """Multitaper PSD of windows (MNE), shape (n_windows, n_freqs)."""
    from mne.time_frequency import psd_array_multitaper

    psd, freqs = psd_array_multitaper(
        np.atleast_2d(data), sfreq, fmin=fmin, fmax=fmax, bandwidth=bandwidth,
        adaptive=False, low_bias=True, normalization="full", n_jobs=1,
        verbose="error")
    return psd, freqs


def band_power(psd, freqs, band):
    """Integrate a PSD over ``band`` (trapezoid), shape (n_windows,)."""
    lo, hi = band
    sel = (freqs >= lo) & (freqs <= hi)
    if sel.sum() < 2:
        raise SpindleScopeError(
            f"The band {lo:g}-{hi:g} Hz holds fewer than two frequencies of the "
            f"spectrogram: widen it or lengthen the window.")
    return np.trapezoid(psd[..., sel], freqs[sel], axis=-1)


def _cache_file(recording, row, params):
    path = getattr(recording, "path", None)
    if path is None or not Path(path).exists():
        return None
    st = Path(path).stat()
    ident = json.dumps({"v": CACHE_VERSION, "path": str(Path(path).resolve()),
                        "size": st.st_size, "mtime": st.st_mtime_ns, "row": row,
                        "n_times": recording.n_times, "sfreq": recording.sfreq,
                        **params}, sort_keys=True)
    key = hashlib.sha1(ident.encode()).hexdigest()[:20]
    folder = cache_dir() / "spectrograms"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{Path(path).name}-{key}.npz"


def night_spectrogram(recording, row=None, *, window=30.0, step=None, fmin=0.5,
                      fmax=25.0, bandwidth=1.0, sigma_band=(11.0, 16.0),
                      chunk_windows=60, cache=True, cache_only=False):
    """Multitaper spectrogram of a whole recording (a progress generator).

    Parameters
    ----------
    recording : core.io.recording.Recording
        The open recording (read chunk by chunk).
    row : str | None
        Channel, AASM row (``'C4-M1'``) or derivation; default: the scorer's
        EEG row found from the names (:func:`core.io.montage.default_rows`).
    window : float
        Window length (s); 30 by default (one scoring epoch).
    step : float | None
        Step between windows (s); default ``window``.
    fmin, fmax : float
        Frequency range (Hz).
    bandwidth : float
        Multitaper frequency bandwidth (Hz), as for MNE.
    sigma_band : tuple of float
        Band of the sigma-power trace (Hz).
    chunk_windows : int
        Windows per chunk read (memory bound and progress step).
    cache : bool
        Read and write the per-recording cache.
    cache_only : bool
        Return the cached spectrogram or None, never compute.

    Yields
    ------
    progress : Progress

    Returns
    -------
    spectrogram : Spectrogram | None
        None only with ``cache_only`` when nothing is cached.
    """
    from core.io.montage import default_rows

    window = check_range("window", window, 1.0, 600.0)
    step = window if step is None else check_range("step", step, 0.1, window)
    check_range("fmin", fmin, 0.0)
    check_range("fmax", fmax, fmin + 1e-3, recording.sfreq / 2)
    lo, hi = (float(v) for v in sigma_band)
    if not fmin <= lo < hi <= fmax:
        raise SpindleScopeError(
            f"Invalid value for the 'sigma_band' parameter: it must lie within "
            f"{fmin:g}-{fmax:g} Hz, but got {sigma_band!r}.")
    if row is None:
        row = default_rows(recording.ch_names, recording.ch_types)["eeg"]
    compiled = single_row(recording.ch_names, recording.ch_types, row)
    sf = recording.sfreq
    n_win = int(round(window * sf))
    n_step = int(round(step * sf))
    n_total = 1 + (recording.n_times - n_win) // n_step if recording.n_times >= n_win else 0
    if n_total < 1:
        raise SpindleScopeError(
            f"The recording ({recording.duration:g} s) is shorter than one "
            f"spectrogram window ({window:g} s): choose a shorter window.")
    params = {"window": window, "step": step, "fmin": fmin, "fmax": fmax,
              "bandwidth": bandwidth, "sigma_band": [lo, hi]}
    cfile = _cache_file(recording, row, params) if cache else None
    if cfile is not None and cfile.exists():
        try:
            with np.load(cfile) as z:
                out = Spectrogram(z["times"], z["freqs"], z["power"], z["sigma"],
                                  str(row), params)
            yield Progress(1, 1, "Spectrogram read from the cache")
            return out
        except (OSError, KeyError, ValueError) as exc:
            logger.warning("Ignoring the unreadable spectrogram cache %s (%s).",
                           cfile.name, exc)
    if cache_only:
        return None
    chunk_windows = max(1, int(chunk_windows))
    n_chunks = int(np.ceil(n_total / chunk_windows))
    psds, freqs = [], None
    for c in range(n_chunks):
        yield Progress(c, n_chunks, f"Spectrogram of {row}: windows "
                                    f"{c * chunk_windows + 1}-"
                                    f"{min(n_total, (c + 1) * chunk_windows)} of {n_total}")
        w0 = c * chunk_windows
        w1 = min(n_total, w0 + chunk_windows)
        s0 = w0 * n_step
        s1 = (w1 - 1) * n_step + n_win
        x = compiled.read_rows(recording, s0, s1, [0])[0]
        starts = np.arange(w1 - w0) * n_step
        segs = np.stack([x[s:s + n_win] for s in starts])
        psd, freqs = window_psd(segs, sf, fmin, fmax, bandwidth)
        psds.append(psd)
    power = np.concatenate(psds, axis=0)
    times = (np.arange(n_total) * n_step + n_win / 2.0) / sf
    out = Spectrogram(times, freqs, power.T.copy(), band_power(power, freqs, (lo, hi)),
                      str(row), params)
    if cfile is not None:
        buf = io.BytesIO()
        np.savez(buf, times=out.times, freqs=out.freqs, power=out.power, sigma=out.sigma)
        atomic_write_bytes(cfile, buf.getvalue())
    yield Progress(n_chunks, n_chunks, "Spectrogram done")
    return out
