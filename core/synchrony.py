"""Synchrony of source time courses within and between modalities.

Dehghani et al. (2010) measured, per spindle, the mean pairwise correlation
of all EEG-derived (and all MEG-derived) source time courses, the correlation
of EEG- and MEG-derived time courses at the same source, and EEG–MEG
coherence in the spindle band by Welch's method and by the minimum-variance
distortionless response (MVDR) estimator of Benesty, Chen & Huang (ICASSP
2006). All functions work on arrays of shape ``(n_sources, n_times)``.
"""

from __future__ import annotations

import numpy as np

from .utils import SpindleScopeError, check_range


def _standardise(x: np.ndarray) -> np.ndarray:
    """Rows with zero mean and unit norm (flat rows stay zero)."""
    x = np.asarray(x, float)
    z = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    norm[norm == 0] = np.inf
    return z / norm


def _check_2d(name, x, min_times=3):
    x = np.asarray(x, float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < min_times:
        raise SpindleScopeError(
            f"{name} must have shape (n_sources >= 2, n_times >= {min_times}), "
            f"got {x.shape}.")
    return x


def mean_pairwise_correlation(x: np.ndarray) -> float:
    """Mean Pearson correlation over all pairs of rows, in O(n·T).

    With rows standardised to zero mean and unit norm (z), the sum of all
    correlations is ``|Σ z_i|²`` and the diagonal contributes ``n``, so the
    mean off-diagonal correlation is ``(|Σ z_i|² − n) / (n (n − 1))``; the
    n×n matrix is never formed. Flat rows count as uncorrelated.

    Parameters
    ----------
    x : array, shape (n_sources, n_times)

    Returns
    -------
    r : float
    """
    x = _check_2d("x", x)
    z = _standardise(x)
    n = z.shape[0]
    n_ok = int((np.abs(z).sum(1) > 0).sum())
    s = z.sum(axis=0)
    return float((s @ s - n_ok) / (n * (n - 1)))


def mean_abs_pairwise_correlation(x: np.ndarray, block: int = 1024) -> float:
    """Mean absolute pairwise correlation, blockwise (memory ∝ block × n).

    Parameters
    ----------
    x : array, shape (n_sources, n_times)
    block : int
        Rows per block.
    """
    x = _check_2d("x", x)
    # single precision halves the time; the mean keeps ~1e-7 relative accuracy
    z = _standardise(x).astype(np.float32)
    n = z.shape[0]
    total = 0.0
    for i in range(0, n, block):
        r = np.abs(z[i:i + block] @ z.T).astype(np.float64)
        # remove the diagonal of this block
        rows = np.arange(r.shape[0])
        total += r.sum() - r[rows, i + rows].sum()
    return float(total / (n * (n - 1)))


def pairwise_correlation_sample(x: np.ndarray, n_pairs: int = 20000,
                                seed: int = 0) -> np.ndarray:
    """Correlations of random pairs of rows (for distributions/histograms)."""
    x = _check_2d("x", x)
    z = _standardise(x)
    rng = np.random.default_rng(seed)
    n = z.shape[0]
    i = rng.integers(0, n, n_pairs)
    j = rng.integers(0, n - 1, n_pairs)
    j[j >= i] += 1
    return np.einsum("ij,ij->i", z[i], z[j])


def between_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Correlation of ``x[i]`` with ``y[i]`` for every source i.

    Returns
    -------
    r : array, shape (n_sources,)
    """
    x = _check_2d("x", x)
    y = _check_2d("y", y)
    if x.shape != y.shape:
        raise SpindleScopeError(f"x and y differ in shape: {x.shape} vs {y.shape}.")
    return np.einsum("ij,ij->i", _standardise(x), _standardise(y))


def _band_mask(freqs, band):
    lo, hi = band
    mask = (freqs >= lo) & (freqs <= hi)
    if not mask.any():
        raise SpindleScopeError(
            f"No frequency of the spectrum falls in the band {lo:g}–{hi:g} Hz; "
            "the segments are too short for this resolution.")
    return mask


def welch_coherence(x, y, sfreq: float, nperseg: int | None = None,
                    noverlap: int | None = None, nfft: int | None = None):
    """Magnitude-squared coherence by Welch's method, row by row.

    Parameters
    ----------
    x, y : array, shape (n_sources, n_times)
    sfreq : float
    nperseg : int | None
        Segment length; default a quarter of the signal (at least 16 samples).
    nfft : int | None
        FFT length (zero padding); fixes the frequency grid across signals of
        different lengths.

    Returns
    -------
    freqs : array, shape (n_freqs,)
    coh : array, shape (n_sources, n_freqs)
    """
    from scipy.signal import coherence

    x = _check_2d("x", x)
    y = _check_2d("y", y)
    n_times = x.shape[1]
    if nperseg is None:
        nperseg = max(16, n_times // 4)
    nperseg = min(nperseg, n_times)
    if nfft is not None:
        nfft = max(nfft, nperseg)
    freqs, coh = coherence(x, y, fs=sfreq, nperseg=nperseg, noverlap=noverlap,
                           nfft=nfft, axis=-1)
    return freqs, coh


def _lag_cov(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    """Cross-correlation matrices ``E[x_L(t) y_L(t)ᵀ]`` of delay embeddings.

    The embedding is taken oldest-sample-first; reversing it (the textbook
    order) permutes rows and columns alike, which leaves every MVDR quantity
    below unchanged in magnitude.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    # contiguous copies make the batched product a BLAS call
    wx = np.ascontiguousarray(sliding_window_view(x, order, axis=-1))  # (n, m, L)
    wy = wx if y is x else np.ascontiguousarray(sliding_window_view(y, order, axis=-1))
    return np.matmul(wx.transpose(0, 2, 1), wy) / wx.shape[1]


def mvdr_coherence(x, y, sfreq: float, order: int | None = None,
                   freqs: np.ndarray | None = None, reg: float = 1e-3):
    """Magnitude-squared coherence by the MVDR approach (Benesty et al. 2006).

    For each frequency f with Fourier vector ``f = [1, e^{jω}, …,
    e^{jω(L−1)}]ᵀ``, MVDR filters ``h_x = R_xx⁻¹ f / (fᴴ R_xx⁻¹ f)`` (and
    ``h_y`` alike) pass f undistorted with least output power. The coherence
    is that of the two filter outputs::

        γ(ω) = fᴴ R_xx⁻¹ R_xy R_yy⁻¹ f / sqrt((fᴴ R_xx⁻¹ f)(fᴴ R_yy⁻¹ f))

    with ``R_xx, R_yy, R_xy`` the L×L auto- and cross-correlation matrices of
    the delay-embedded signals; the magnitude-squared coherence |γ|² lies in
    [0, 1] by the Cauchy–Schwarz inequality.

    Parameters
    ----------
    x, y : array, shape (n_sources, n_times)
    sfreq : float
    order : int | None
        Filter length L; default ``round(sfreq / 8)`` (≈ 125 ms), at most a
        third of the signal.
    freqs : array | None
        Frequencies (Hz); default ``L`` points from 0 to Nyquist.
    reg : float
        Diagonal loading of R_xx and R_yy, relative to their mean power.

    Returns
    -------
    freqs : array, shape (n_freqs,)
    coh : array, shape (n_sources, n_freqs)
    """
    x = _check_2d("x", x)
    y = _check_2d("y", y)
    n, n_times = x.shape
    if order is None:
        order = int(round(sfreq / 8))
    order = int(min(order, n_times // 3))
    if order < 4:
        raise SpindleScopeError(
            f"The segments ({n_times} samples) are too short for MVDR coherence.")
    if freqs is None:
        freqs = np.linspace(0, sfreq / 2, order + 1)
    freqs = np.asarray(freqs, float)
    # rows in blocks: the delay embeddings take n·T·L values
    block = max(1, int(2e7 // (n_times * order)))
    if n > block:
        coh = np.concatenate([
            mvdr_coherence(x[i:i + block], y[i:i + block], sfreq, order, freqs, reg)[1]
            for i in range(0, n, block)])
        return freqs, coh
    x = x - x.mean(1, keepdims=True)
    y = y - y.mean(1, keepdims=True)
    rxx, ryy, rxy = _lag_cov(x, x, order), _lag_cov(y, y, order), _lag_cov(x, y, order)
    eye = np.eye(order)
    rxx += reg * np.trace(rxx, axis1=1, axis2=2)[:, None, None] / order * eye
    ryy += reg * np.trace(ryy, axis1=1, axis2=2)[:, None, None] / order * eye
    omega = 2 * np.pi * freqs / sfreq
    fv = np.exp(1j * np.outer(np.arange(order), omega))  # (L, n_freqs)
    # R⁻¹f with real arithmetic: solve for the real and imaginary parts at once
    nf = len(freqs)
    rhs = np.broadcast_to(np.concatenate([fv.real, fv.imag], axis=1),
                          (n, order, 2 * nf))
    sx, sy = np.linalg.solve(rxx, rhs), np.linalg.solve(ryy, rhs)
    axr, axi = sx[..., :nf], sx[..., nf:]
    ayr, ayi = sy[..., :nf], sy[..., nf:]
    fr, fi = fv.real[None], fv.imag[None]
    # fᴴ R⁻¹ f is real for symmetric R
    den_x = (fr * axr + fi * axi).sum(axis=1)
    den_y = (fr * ayr + fi * ayi).sum(axis=1)
    # fᴴ R_xx⁻¹ R_xy R_yy⁻¹ f = (R_xx⁻¹ f)ᴴ R_xy (R_yy⁻¹ f), R_xx symmetric
    t = rxy @ sy
    tr, ti = t[..., :nf], t[..., nf:]
    num_r = (axr * tr + axi * ti).sum(axis=1)
    num_i = (axr * ti - axi * tr).sum(axis=1)
    num = num_r + 1j * num_i
    coh = np.abs(num) ** 2 / (den_x * den_y)
    return freqs, np.clip(coh, 0.0, 1.0)


def band_mean(freqs: np.ndarray, spec: np.ndarray, band=(10.0, 15.0)) -> np.ndarray:
    """Mean of spectra over a band (last axis)."""
    return spec[..., _band_mask(freqs, band)].mean(axis=-1)


def spindle_synchrony(eeg: np.ndarray, meg: np.ndarray, sfreq: float,
                      meeg: np.ndarray | None = None, band=(10.0, 15.0),
                      eeg_n=None, meg_n=None, mvdr_order: int | None = None) -> dict:
    """All synchrony figures of one spindle.

    Parameters
    ----------
    eeg, meg : array, shape (n_sources, n_times)
        EEG- and MEG-derived time courses used for correlations (dSPM
        values, band-passed before the inverse).
    sfreq : float
    meeg : array | None
        MEG+EEG-derived time courses.
    band : (float, float)
        Coherence band (Hz).
    eeg_n, meg_n : array | None
        Signed (cortex-normal) time courses for coherence; default
        ``eeg``/``meg``.

    Returns
    -------
    figures : dict
        ``eeg_within_r, meg_within_r, meeg_within_r, eeg_within_abs_r,
        meg_within_abs_r, between_r, coherence_welch, coherence_mvdr`` and
        per-source arrays ``between_r_map, coherence_welch_map,
        coherence_mvdr_map``, spectra ``welch_freqs, welch_spectrum,
        mvdr_freqs, mvdr_spectrum`` (averaged over sources).
    """
    check_range("band low", band[0], 0.0, sfreq / 2)
    check_range("band high", band[1], band[0], sfreq / 2)
    eeg_n = eeg if eeg_n is None else eeg_n
    meg_n = meg if meg_n is None else meg_n
    between = between_correlation(eeg, meg)
    # the same frequency grids for every spindle, whatever its length:
    # Welch on ~0.32-s Hann segments zero-padded to 1-Hz bins, MVDR on 1 Hz
    n_times = eeg_n.shape[1]
    fw, cw = welch_coherence(eeg_n, meg_n, sfreq, nperseg=min(n_times, int(
        round(0.32 * sfreq))), nfft=int(round(sfreq)))
    grid = np.arange(0.0, min(sfreq / 2, 60.0) + 1e-9, 1.0)
    fm, cm = mvdr_coherence(eeg_n, meg_n, sfreq, order=mvdr_order, freqs=grid)
    out = {
        "eeg_within_r": mean_pairwise_correlation(eeg),
        "meg_within_r": mean_pairwise_correlation(meg),
        "eeg_within_abs_r": mean_abs_pairwise_correlation(eeg),
        "meg_within_abs_r": mean_abs_pairwise_correlation(meg),
        "between_r": float(np.mean(between)),
        "between_abs_r": float(np.mean(np.abs(between))),
        "coherence_welch": float(band_mean(fw, cw, band).mean()),
        "coherence_mvdr": float(band_mean(fm, cm, band).mean()),
        "between_r_map": between,
        "coherence_welch_map": band_mean(fw, cw, band),
        "coherence_mvdr_map": band_mean(fm, cm, band),
        "welch_freqs": fw, "welch_spectrum": cw.mean(0),
        "mvdr_freqs": fm, "mvdr_spectrum": cm.mean(0),
    }
    if meeg is not None:
        out["meeg_within_r"] = mean_pairwise_correlation(meeg)
    return out


SCALARS = ("eeg_within_r", "meg_within_r", "meeg_within_r", "eeg_within_abs_r",
           "meg_within_abs_r", "between_r", "between_abs_r", "coherence_welch",
           "coherence_mvdr")
