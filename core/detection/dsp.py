"""Signal processing, window features and per-channel decisions of the
spindle detectors in :mod:`core.detection.detector`.

Everything here works on in-memory arrays already scaled to the threshold
units (µV, fT, fT/cm): zero-phase band-pass filtering in the frequency domain,
band powers of short Hann-windowed segments, the A7 and YASA-style window
features of one chunk, and the decisions that turn a night of window features
into spindle runs. :mod:`core.detection.detector` drives it chunk by chunk; the names
are private to the two modules.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from core.utils.dsp import butter_sos, zero_phase_gain

# --------------------------------------------------------------------------
# Signal processing helpers
# --------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _zero_phase_response(n_fft, sfreq, band, order):
    """|H|² of a forward-backward Butterworth band-pass on rfft bins."""
    nyq = sfreq / 2
    lo, hi = band
    hi = None if hi is None else min(hi, 0.95 * nyq)
    freqs = np.fft.rfftfreq(n_fft, 1 / sfreq)
    resp = np.ones(len(freqs))
    if lo is not None and lo > 0:
        resp *= zero_phase_gain(butter_sos(order, lo, "highpass", sfreq), freqs, sfreq)
    if hi is not None:
        resp *= zero_phase_gain(butter_sos(order, hi, "lowpass", sfreq), freqs, sfreq)
    return resp


def _fft_filter(x, sfreq, bands, order):
    """Filter rows of ``x`` (zero phase) in several bands with one FFT."""
    from scipy.fft import irfft, next_fast_len, rfft

    n = x.shape[-1]
    n_fft = next_fast_len(n, real=True)
    X = rfft(x, n_fft, axis=-1)
    out = []
    for band in bands:
        if band[0] is None and band[1] is None:
            out.append(x)
            continue
        H = _zero_phase_response(n_fft, float(sfreq), tuple(band), int(order))
        out.append(irfft(X * H, n_fft, axis=-1)[..., :n])
    return out


@lru_cache(maxsize=16)
def _band_projectors(L, n_fft, sfreq, bands):
    """Projectors giving the band powers of a mean-removed, Hann-windowed,
    zero-padded segment.

    The power summed over the DFT bins of a band is a quadratic form
    ``seg @ Q @ seg`` with ``Q = Re(M M^H)`` (M: the band's DFT rows, with the
    window and the mean removal folded in). Writing ``Q = V diag(w) V^T`` and
    keeping the eigenvectors whose eigenvalues are not negligible (a 0.3-s
    window has few degrees of freedom per band) gives the same powers as the
    full spectrum to ~1e-9 relative error, with far fewer products.

    Returns the stacked projector matrix (L, n_proj), the eigenvalue weight of
    each column, and per band the slice of its columns.
    """
    n = np.arange(L)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * n / max(L - 1, 1))
    freqs = np.arange(n_fft // 2 + 1) * sfreq / n_fft
    cols, weights, slices = [], [], []
    start = 0
    for lo, hi in bands:
        keep = np.flatnonzero((freqs >= lo - 1e-9) & (freqs <= hi + 1e-9))
        M = w[:, None] * np.exp(-2j * np.pi * np.outer(n, keep) / n_fft)
        M = M - M.mean(axis=0, keepdims=True)   # per-window mean removal
        one_sided = np.where((keep == 0) | (2 * keep == n_fft), 1.0, 2.0)
        Q = ((M * one_sided) @ M.conj().T).real
        ev, V = np.linalg.eigh((Q + Q.T) / 2)
        good = ev > ev.max() * 1e-10 if ev.max() > 0 else np.zeros(len(ev), bool)
        cols.append(V[:, good])
        weights.append(ev[good])
        slices.append(slice(start, start + int(good.sum())))
        start += int(good.sum())
    P = np.concatenate(cols, axis=1).astype(np.float32)
    return P, np.concatenate(weights).astype(np.float32), tuple(slices)


def _band_powers(x, starts, L, n_fft, sfreq, bands):
    """Power in ``bands`` of Hann-windowed segments of each row of x.

    Returns a list (one per band) of arrays (n_ch, n_windows).
    """
    bands = tuple(tuple(float(v) for v in b) for b in bands)
    P, wts, sl = _band_projectors(int(L), int(n_fft), float(sfreq), bands)
    n_ch = x.shape[0]
    idx = starts[:, None] + np.arange(L)[None, :]
    seg = x.astype(np.float32, copy=False)[:, idx].reshape(-1, L)
    with _single_blas_thread():
        F = seg @ P
    F *= F
    F *= wts
    return [F[:, sli].sum(1).reshape(n_ch, len(starts)).astype(float) for sli in sl]


def _single_blas_thread():
    """One BLAS thread for the many small products (multi-threaded OpenBLAS
    is many times slower on them when the cores are busy)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional; only speed is at stake
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _band_ratio(x, starts, L, n_fft, sfreq, num, den):
    """Power ratio ``num``/``den`` of windowed segments of each row of x."""
    p_num, p_den = _band_powers(x, starts, L, n_fft, sfreq, (num, den))
    with np.errstate(divide="ignore", invalid="ignore"):
        return p_num / p_den


def _window_sums(c, starts, L):
    """Sums over windows from a cumulative sum with a leading zero."""
    return c[:, starts + L] - c[:, starts]



def _window_cov_corr(sig, brd, starts, L):
    """Sliding-window covariance and correlation of two signals (cumulative sums).

    Returns the cumulative sum of ``sig**2`` (reused for window powers), the
    covariance and the correlation of ``brd`` and ``sig`` in each window.
    """
    c_ss = _cumsum0(sig * sig)
    sb = _window_sums(_cumsum0(brd), starts, L)
    ss = _window_sums(_cumsum0(sig), starts, L)
    cov = (_window_sums(_cumsum0(brd * sig), starts, L) - sb * ss / L) / (L - 1)
    var_b = (_window_sums(_cumsum0(brd * brd), starts, L) - sb * sb / L) / (L - 1)
    var_s = (_window_sums(c_ss, starts, L) - ss * ss / L) / (L - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.sqrt(np.clip(var_b, 0, None) * np.clip(var_s, 0, None))
    return c_ss, cov, np.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)

def _cumsum0(a):
    out = np.empty((a.shape[0], a.shape[1] + 1))
    out[:, 0] = 0
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


# --------------------------------------------------------------------------
# Features per window
# --------------------------------------------------------------------------


class _Geometry:
    """Window and segment grid of a recording for given window / step."""

    def __init__(self, n_times, sfreq, window, step):
        self.sfreq = float(sfreq)
        self.L = int(round(window * sfreq))
        self.step = float(step)
        self.n_over = max(1, int(round(window / step)))
        n_win = int(math.floor((n_times - self.L) / (step * sfreq))) + 1
        self.n_win = max(n_win, 0)
        self.n_seg = self.n_win + self.n_over - 1 if self.n_win else 0

    def starts(self, k0, k1):
        return np.round(np.arange(k0, k1) * self.step * self.sfreq).astype(int)


def _sigma_band(p, sfreq):
    """Edges of the sigma filter (YASA-style: its FIR's -6 dB points)."""
    t = getattr(p, "transition", 0.0)
    return (p.sigma[0] - t, min(p.sigma[1] + t, 0.95 * sfreq / 2))


def _broad_band(p, sfreq):
    if p.broad is None:
        return (None, None)
    return (p.broad[0], min(p.broad[1], 0.95 * sfreq / 2))


def _a7_chunk_features(x, sfreq, starts, p, is_eeg):
    """A7 features for the windows starting at ``starts`` (relative to x).

    Returns (abs, rel, cov, corr, low, high, sigma signal, broadband signal),
    features of shape (n_ch, n_win); abs is the linear mean square, rel the
    log10 power ratio, cov log10(1 + max(cov, 0)), low/high the slow-ratio
    band powers.
    """
    L = int(round(p.window * sfreq))
    nyq = sfreq / 2
    sig, brd = _fft_filter(x, sfreq, [_sigma_band(p, sfreq), _broad_band(p, sfreq)],
                           p.filter_order)
    c_ss, cov, corr = _window_cov_corr(sig, brd, starts, L)
    abs_ms = _window_sums(c_ss, starts, L) / L
    total = (p.total[0], min(p.total[1], nyq))
    n_fft = int(round(p.zero_pad * sfreq))
    p_sig, p_tot, p_low, p_high = _band_powers(
        brd, starts, L, max(n_fft, L), sfreq,
        (p.sigma, total, p.slow_low, (p.slow_high[0], min(p.slow_high[1], nyq))))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.log10(p_sig / p_tot)
    rel[~np.isfinite(rel)] = np.nan
    cov_log = np.log10(np.clip(cov, 0, None) + 1)
    return abs_ms, rel, cov_log, corr, p_low, p_high, sig, brd


def _yasa_chunk_features(x, sfreq, starts, p, is_eeg):
    L = int(round(p.window * sfreq))
    nyq = sfreq / 2
    sig, brd = _fft_filter(x, sfreq, [_sigma_band(p, sfreq), _broad_band(p, sfreq)],
                           p.filter_order)
    c_ss, cov, corr = _window_cov_corr(sig, brd, starts, L)
    rms = np.sqrt(np.clip(_window_sums(c_ss, starts, L) / L, 0, None))
    # relative power on 2-s windows centred on each short window
    Lr = int(round(p.rel_window * sfreq))
    centre = starts + L // 2
    rs = np.clip(centre - Lr // 2, 0, x.shape[1] - Lr)
    rel = _band_ratio(brd, rs, Lr, Lr, sfreq, p.sigma,
                      (p.broad[0], min(p.broad[1], nyq)))
    return rms, rel, corr, sig, brd


# --------------------------------------------------------------------------
# Decisions per channel (on window features held for the whole night)
# --------------------------------------------------------------------------


def _context_stats(values, valid, n_ctx, perc):
    """Mean and SD per window from the ``n_ctx`` nearest valid windows.

    Only values within the ``perc`` percentiles of all valid windows count
    (A7 release: ``useLimPercRelSigPow``).
    """
    n = len(values)
    ok = valid & np.isfinite(values)
    avail = np.flatnonzero(ok)
    nv = len(avail)
    if nv == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    vv = values[avail].astype(float)
    lim = np.percentile(vv, perc)
    inl = (vv >= lim[0]) & (vv <= lim[1])
    n_ctx = min(int(n_ctx), nv)
    c_n = np.concatenate([[0], np.cumsum(inl)])
    c_x = np.concatenate([[0], np.cumsum(np.where(inl, vv, 0.0))])
    c_xx = np.concatenate([[0], np.cumsum(np.where(inl, vv * vv, 0.0))])
    # position of each window in the list of valid windows
    j = np.searchsorted(avail, np.arange(n), side="left")
    j = np.clip(j, 0, nv - 1)
    a = np.clip(j - int(math.ceil((n_ctx - 1) / 2)), 0, nv - n_ctx)
    b = a + n_ctx
    cnt = c_n[b] - c_n[a]
    sx = c_x[b] - c_x[a]
    sxx = c_xx[b] - c_xx[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sx / cnt
        var = (sxx - cnt * mean * mean) / (cnt - 1)
    sd = np.sqrt(np.clip(var, 0, None))
    sd[~(cnt > 1)] = np.nan
    return mean, sd


def _to_segments(w, n_over):
    """Average window values over the windows covering each step segment."""
    n = len(w)
    if n == 0:
        return w
    k = np.ones(n_over)
    good = np.isfinite(w)
    num = np.convolve(np.where(good, w, 0.0), k)
    den = np.convolve(good.astype(float), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out  # length n + n_over - 1


def _runs(mask):
    """(start, stop) index pairs of True runs (stop exclusive)."""
    if not len(mask):
        return np.zeros((0, 2), int)
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.column_stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)])


def _a7_decide(feat, valid_w, p, geom, is_eeg, det_valid=None):
    """Spindle (start, stop) segment indices from the A7 window features.

    ``valid_w`` selects the baseline windows, ``det_valid`` (default the
    same) where spindles may be detected.
    """
    if det_valid is None:
        det_valid = valid_w
    abs_ms, rel, cov, corr, p_low, p_high = feat
    n_ctx = int(round(p.context / p.step))
    with np.errstate(divide="ignore", invalid="ignore"):
        m, s = _context_stats(rel, valid_w, n_ctx, p.percentiles)
        rel_z = (rel - m) / s
        m, s = _context_stats(cov, valid_w, n_ctx, p.percentiles)
        cov_z = (cov - m) / s
    n_over = geom.n_over
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_seg = np.log10(_to_segments(abs_ms, n_over))
    if is_eeg and p.abs_pow is not None and p.abs_mode == "absolute":
        abs_ok = abs_seg > p.abs_pow
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            la = np.log10(abs_ms)
        ok = valid_w & np.isfinite(la)
        if ok.sum() < 10:
            abs_ok = np.zeros(geom.n_seg, bool)
        else:
            vv = la[ok]
            lim = np.percentile(vv, p.percentiles)
            vv = vv[(vv >= lim[0]) & (vv <= lim[1])]
            mu, sd = vv.mean(), vv.std(ddof=1) if len(vv) > 1 else 0.0
            abs_ok = (abs_seg - mu) / (sd if sd > 0 else np.inf) > p.abs_pow_z
    rel_ok = _to_segments(rel_z, n_over) > p.rel_pow
    cov_ok = _to_segments(cov_z, n_over) > p.cov
    corr_ok = _to_segments(corr, n_over) > p.corr
    seg_valid = _segment_valid(det_valid, n_over)
    poss = abs_ok & rel_ok & cov_ok & corr_ok & seg_valid
    length_ok = abs_ok & cov_ok & seg_valid
    runs = _runs(poss)
    if len(runs):
        # extend both ends while absolute power and covariance stay high
        lr = _runs(length_ok)
        idx = np.searchsorted(lr[:, 0], runs[:, 0], side="right") - 1
        runs = np.unique(lr[idx], axis=0)
    runs = _finish_runs(runs, p)
    if len(runs) and p.context_classifier:
        # A7 spectral context: keep detections with at least one window whose
        # 30-s context has log10(1 + low/high power) above the threshold
        ok = valid_w & np.isfinite(p_low) & np.isfinite(p_high)
        low_m = _context_mean(p_low, ok, n_ctx)
        high_m = _context_mean(p_high, ok, n_ctx)
        with np.errstate(divide="ignore", invalid="ignore"):
            sr = np.log10(np.clip(low_m / high_m, 0, None) + 1)
        in_ctx = np.convolve((sr > p.slow_ratio).astype(float),
                             np.ones(n_over)) > 0
        c = np.concatenate([[0], np.cumsum(in_ctx)])
        runs = runs[(c[runs[:, 1]] - c[runs[:, 0]]) > 0]
    return runs


def _context_mean(values, valid, n_ctx):
    """Mean of the ``n_ctx`` nearest valid windows, for every window."""
    n = len(values)
    avail = np.flatnonzero(valid)
    nv = len(avail)
    if nv == 0:
        return np.full(n, np.nan)
    vv = values[avail].astype(float)
    n_ctx = min(int(n_ctx), nv)
    c = np.concatenate([[0], np.cumsum(vv)])
    j = np.clip(np.searchsorted(avail, np.arange(n), side="left"), 0, nv - 1)
    a = np.clip(j - int(math.ceil((n_ctx - 1) / 2)), 0, nv - n_ctx)
    return (c[a + n_ctx] - c[a]) / n_ctx


def _segment_valid(valid_w, n_over):
    inv = np.convolve((~valid_w).astype(float), np.ones(n_over))
    return inv < 0.5


def _finish_runs(runs, p):
    if not len(runs):
        return runs
    if p.min_gap > 0:
        gap = int(round(p.min_gap / p.step))
        merged = [list(runs[0])]
        for a, b in runs[1:]:
            if a - merged[-1][1] < gap:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        runs = np.array(merged, int)
    dur = (runs[:, 1] - runs[:, 0]) * p.step
    keep = (dur >= p.duration[0] - 1e-9) & (dur <= p.duration[1] + 1e-9)
    return runs[keep]


def _yasa_decide(feat, valid_w, p, geom, is_eeg, det_valid=None):
    if det_valid is None:
        det_valid = valid_w
    rms, rel, corr = feat
    n_over = geom.n_over
    ok = valid_w & np.isfinite(rms)
    if ok.sum() < 10:
        return np.zeros((0, 2), int)
    v = np.sort(rms[ok])
    cut = int(0.1 * len(v))
    vt = v[cut:len(v) - cut] if len(v) - 2 * cut > 1 else v
    thr = rms[ok].mean() + p.rms * vt.std(ddof=1)
    if is_eeg:
        thr = min(thr, 10.0)  # YASA caps the RMS threshold at 10 µV
    rel_ok = _to_segments(rel, n_over) >= p.rel_pow
    corr_ok = _to_segments(corr, n_over) >= p.corr
    rms_ok = _to_segments(rms, n_over) >= thr
    poss = rel_ok & corr_ok & rms_ok & _segment_valid(det_valid, n_over)
    return _finish_runs(_runs(poss), p)


_FEATURES = {"a7": _a7_chunk_features, "yasa": _yasa_chunk_features}
_DECIDE = {"a7": _a7_decide, "yasa": _yasa_decide}
