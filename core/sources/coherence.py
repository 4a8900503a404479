"""EEG–MEG coherence pooled over spindles: multitaper, Welch and MVDR.

Per-spindle coherence on sub-second segments is mostly small-sample bias: a
magnitude-squared coherence (MSC) estimated from ν independent spectral
estimates of two *independent* signals has expectation ≈ 1/ν, so one 64-sample
Welch segment gives 1.0 by construction. Every estimator here therefore keeps
*sufficient statistics* per segment (tapered cross- and auto-spectra, or lag
covariances) that are **summed over spindles** before the coherence is formed;
ν is then the number of tapers or segments of all spindles together.

Estimators
----------
``multitaper`` (default)
    DPSS tapers from :func:`mne.time_frequency.dpss_windows` with a
    half-bandwidth ``W`` (2.5 Hz by default); a segment of ``n`` samples gives
    ``int(2 n W / sfreq)`` tapers whose concentration exceeds 0.9 (MNE's
    ``low_bias``). Cross-spectra are weighted by the eigenvalues as in
    ``mne_connectivity.spectral_connectivity_epochs(mode="multitaper")``, so
    on equal-length segments the two give the same coherence.
``welch``
    Hann segments (0.2 s by default) with 50 % overlap inside each spindle,
    zero-padded to a common FFT length; segment spectra of all spindles pooled.
``mvdr``
    Benesty, Chen & Huang (2006): ``L×L`` lag covariances of the delay-embedded
    signals summed over all windows of all spindles, then the MVDR formula. The
    filter length is 0.1 s by default (20 samples at 200 Hz), so the shortest
    analysable spindle (0.3 s) still gives 41 windows; the loading adds
    ``reg`` (1 %) of the mean power to the diagonal of ``R_xx`` and ``R_yy``.

A segment too short for an estimator (fewer than one well-concentrated taper,
shorter than one Welch segment or than two MVDR filter lengths) gives ``None``
statistics: it is flagged and left out of the pool, never given coherence 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.utils import SpindleScopeError, check_option, check_range

ESTIMATORS = ("multitaper", "welch", "mvdr")


def _check_pair(x, y):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.ndim == 1:
        x, y = x[None], y[None]
    if x.ndim != 2 or x.shape != y.shape:
        raise SpindleScopeError(
            f"x and y must be arrays of the same shape (n_sources, n_times), got "
            f"{x.shape} and {y.shape}.")
    return x, y


def _segments(x, y):
    """Lists of 2-D segments from a 3-D array or a list of 2-D arrays."""
    if isinstance(x, np.ndarray) and x.ndim == 2:
        x, y = [x], [y]
    if len(x) != len(y) or len(x) == 0:
        raise SpindleScopeError(
            f"x and y must hold the same, non-zero number of segments, got "
            f"{len(x)} and {len(y)}.")
    return [_check_pair(a, b) for a, b in zip(x, y)]


class _Estimator:
    """Per-segment sufficient statistics and coherence from their sums.

    ``stats(x, y)`` returns a dict of arrays (summable over segments, with the
    source axis first after any leading batch axes) plus ``dof``, or None when
    the segment is too short. ``coherence(stats)`` turns (possibly batched)
    summed statistics into MSC of shape ``(..., n_sources, n_freqs)``.
    """

    name = ""
    freqs: np.ndarray

    def min_samples(self) -> int:
        raise NotImplementedError

    def stats(self, x, y):
        raise NotImplementedError

    def coherence(self, st):
        raise NotImplementedError

    def pooled(self, xs, ys):
        """Pool the statistics of several segments.

        Returns
        -------
        total : dict | None
            Summed statistics (None when no segment was long enough).
        too_short : array of bool, shape (n_segments,)
        """
        total, short = None, []
        for x, y in _segments(xs, ys):
            st = self.stats(x, y)
            short.append(st is None)
            if st is not None:
                total = st if total is None else add_stats(total, st)
        return total, np.array(short, bool)


def add_stats(a: dict, b: dict) -> dict:
    """Sum two sets of sufficient statistics (same estimator and sources)."""
    return {k: a[k] + b[k] for k in a}


def _cdot(x, wr, wi):
    """``x @ (wr + 1j wi)`` for real ``x`` (two real products: half the
    work of promoting ``x`` to complex)."""
    return (x @ wr) + 1j * (x @ wi)


def _lag_cov(x, y, order, symmetric=False):
    """Lag covariances of the delay-embedded rows, ``R[i, a, b] = Σ_t
    x[i, t + a] y[i, t + b]`` over the ``n − order + 1`` windows.

    Each diagonal ``b − a = d`` is a running sum of the lagged products
    ``x[s] y[s + d]``, so ``R[a, a + d]`` is a difference of two prefix sums:
    O(order · n) per row instead of the O(order² · n) of the embedding product.
    """
    # time first: running sums along axis 0 run over all rows at once
    xt, yt = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
    n, n_rows = xt.shape
    n_win = n - order + 1
    out = np.empty((order, order, n_rows))
    a = np.arange(order)
    pre = np.zeros((n + 1, n_rows))
    for d in range(order):
        k = a[:order - d]
        np.cumsum(xt[:n - d] * yt[d:], axis=0, out=pre[1:n - d + 1])
        out[k, k + d] = pre[k + n_win] - pre[k]
        if d == 0:
            continue
        if symmetric:
            out[k + d, k] = out[k, k + d]
        else:
            np.cumsum(xt[d:] * yt[:n - d], axis=0, out=pre[1:n - d + 1])
            out[k + d, k] = pre[k + n_win] - pre[k]
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _msc(st):
    sxx, syy = st["sxx"], st["syy"]
    den = sxx * syy
    with np.errstate(invalid="ignore", divide="ignore"):
        coh = np.where(den > 0, np.abs(st["sxy"]) ** 2 / np.where(den > 0, den, 1.0),
                       0.0)
    return np.clip(coh, 0.0, 1.0)


class MultitaperEstimator(_Estimator):
    """Pooled multitaper coherence (see the module notes).

    Parameters
    ----------
    sfreq : float
    half_bandwidth : float
        DPSS half-bandwidth W in Hz (MNE's ``bandwidth`` is 2W).
    nfft : int
        Common FFT length (segments are zero-padded to it); at least the
        longest segment.
    fmin, fmax : float
        Frequencies kept (Hz).
    """

    name = "multitaper"

    def __init__(self, sfreq, half_bandwidth=2.5, nfft=None, fmin=0.0, fmax=None):
        check_range("half_bandwidth", half_bandwidth, 0.1, sfreq / 4)
        self.sfreq = float(sfreq)
        self.half_bandwidth = float(half_bandwidth)
        self.nfft = int(nfft) if nfft else None
        fmax = sfreq / 2 if fmax is None else fmax
        self.fmin, self.fmax = float(fmin), float(fmax)
        self._tapers = {}
        if self.nfft:
            self._grid()

    def _grid(self):
        f = np.fft.rfftfreq(self.nfft, 1.0 / self.sfreq)
        self._fsel = np.where((f >= self.fmin - 1e-9) & (f <= self.fmax + 1e-9))[0]
        self.freqs = f[self._fsel]

    def min_samples(self) -> int:
        """Shortest segment giving one taper of concentration > 0.9."""
        n = 2
        while n < 100000 and self.tapers(n) is None:
            n += 1
        return n

    def tapers(self, n: int):
        """DPSS tapers (MNE) and eigenvalues for ``n`` samples, or None."""
        if n not in self._tapers:
            from mne.time_frequency import dpss_windows

            half_nbw = self.half_bandwidth * n / self.sfreq
            k = int(2 * half_nbw)
            res = None
            if half_nbw >= 0.5 and k >= 1:
                win, eig = dpss_windows(n, half_nbw, k, sym=False, low_bias=False)
                keep = np.atleast_1d(eig) > 0.9
                if keep.any():
                    res = (np.atleast_2d(win)[keep], np.atleast_1d(eig)[keep])
            self._tapers[n] = res
        return self._tapers[n]

    def stats(self, x, y):
        x, y = _check_pair(x, y)
        n = x.shape[1]
        tap = self.tapers(n)
        if tap is None:
            return None
        if self.nfft is None:
            self.nfft = n
            self._grid()
        if n > self.nfft:
            raise SpindleScopeError(
                f"A segment of {n} samples is longer than the common FFT length "
                f"({self.nfft}); give nfft >= the longest segment.")
        win, eig = tap
        # the kept rfft bins of the tapered, mean-free segments as one
        # real matrix product (a zero-padded rfft of every row, then
        # keeping a few bins, costs several times more)
        wr, wi = self._dft(n)
        k, nf = len(eig), len(self._fsel)
        x = x - x.mean(axis=1, keepdims=True)
        y = y - y.mean(axis=1, keepdims=True)
        xf = _cdot(x, wr, wi).reshape(len(x), k, nf)
        yf = _cdot(y, wr, wi).reshape(len(y), k, nf)
        w = eig[None, :, None]
        return {"sxy": (w * xf * yf.conj()).sum(axis=1),
                "sxx": (w * (xf.real ** 2 + xf.imag ** 2)).sum(axis=1),
                "syy": (w * (yf.real ** 2 + yf.imag ** 2)).sum(axis=1),
                "dof": np.float64(len(eig))}

    def _dft(self, n):
        """Tapers times the kept DFT bins, shape (n, n_tapers * n_freqs)
        (real and imaginary parts), cached per segment length."""
        key = ("dft", n, self.nfft)
        if key not in self._tapers:
            win = self.tapers(n)[0]
            e = np.exp(-2j * np.pi * np.outer(np.arange(n), self._fsel) / self.nfft)
            m = (win.T[:, :, None] * e[:, None, :]).reshape(n, -1)
            self._tapers[key] = (np.ascontiguousarray(m.real), np.ascontiguousarray(m.imag))
        return self._tapers[key]

    def coherence(self, st):
        return _msc(st)


class WelchEstimator(_Estimator):
    """Pooled Welch coherence: Hann segments inside each spindle, pooled.

    Parameters
    ----------
    sfreq : float
    seg_len : float
        Segment length (s), 0.2 s by default; 50 % overlap.
    nfft : int | None
        FFT length (zero padding); default one second of samples (1-Hz grid).
    fmin, fmax : float
    """

    name = "welch"

    def __init__(self, sfreq, seg_len=0.2, nfft=None, fmin=0.0, fmax=None):
        from scipy.signal import get_window

        self.sfreq = float(sfreq)
        self.nperseg = int(round(seg_len * sfreq))
        if self.nperseg < 8:
            raise SpindleScopeError(
                f"Welch segments of {seg_len:g} s are only {self.nperseg} samples "
                "at this sampling rate; choose longer segments.")
        self.step = self.nperseg - self.nperseg // 2
        self.nfft = max(int(nfft or round(sfreq)), self.nperseg)
        self.window = get_window("hann", self.nperseg)
        f = np.fft.rfftfreq(self.nfft, 1.0 / sfreq)
        fmax = sfreq / 2 if fmax is None else fmax
        self._fsel = np.where((f >= fmin - 1e-9) & (f <= fmax + 1e-9))[0]
        self.freqs = f[self._fsel]
        e = np.exp(-2j * np.pi * np.outer(np.arange(self.nperseg), self._fsel) / self.nfft)
        e = self.window[:, None] * e
        self._wdft = (np.ascontiguousarray(e.real), np.ascontiguousarray(e.imag))

    def min_samples(self) -> int:
        return self.nperseg

    def stats(self, x, y):
        from numpy.lib.stride_tricks import sliding_window_view

        x, y = _check_pair(x, y)
        if x.shape[1] < self.nperseg:
            return None
        sx = sliding_window_view(x, self.nperseg, axis=1)[:, ::self.step]
        sy = sliding_window_view(y, self.nperseg, axis=1)[:, ::self.step]
        # windowed kept DFT bins of the mean-free segments as real matrix
        # products (cheaper than a zero-padded rfft of every segment)
        wr, wi = self._wdft
        xf = _cdot(sx - sx.mean(axis=-1, keepdims=True), wr, wi)
        yf = _cdot(sy - sy.mean(axis=-1, keepdims=True), wr, wi)
        return {"sxy": (xf * yf.conj()).sum(axis=1),
                "sxx": (xf.real ** 2 + xf.imag ** 2).sum(axis=1),
                "syy": (yf.real ** 2 + yf.imag ** 2).sum(axis=1),
                "dof": np.float64(sx.shape[1])}

    def coherence(self, st):
        return _msc(st)


class MVDREstimator(_Estimator):
    """Pooled MVDR coherence (Benesty, Chen & Huang, ICASSP 2006).

    For the Fourier vector ``f = [1, e^{jω}, …, e^{jω(L−1)}]ᵀ`` and the lag
    covariances ``R_xx, R_yy, R_xy`` of the delay-embedded signals, summed over
    all windows of all segments::

        γ²(ω) = |fᴴ R_xx⁻¹ R_xy R_yy⁻¹ f|² / ((fᴴ R_xx⁻¹ f)(fᴴ R_yy⁻¹ f))

    in [0, 1] by the Cauchy–Schwarz inequality.

    Parameters
    ----------
    sfreq : float
    order : int | None
        Filter length L (samples); default 0.1 s.
    freqs : array | None
        Frequencies (Hz); default a 0.5-Hz grid from ``fmin`` to ``fmax``.
    reg : float
        Diagonal loading of ``R_xx`` and ``R_yy`` relative to their mean
        diagonal (1 % by default). Band-passed data have lag covariances of
        low rank, so some loading is needed; outside the pass band the
        estimate is set by the loading and is not meaningful.
    """

    name = "mvdr"

    def __init__(self, sfreq, order=None, freqs=None, reg=1e-2, fmin=0.0, fmax=None):
        self.sfreq = float(sfreq)
        self.order = int(order or round(0.1 * sfreq))
        if self.order < 4:
            raise SpindleScopeError(
                f"The MVDR filter length must be at least 4 samples, got {self.order}.")
        check_range("reg", reg, 0.0, 10.0)
        self.reg = float(reg)
        fmax = sfreq / 2 if fmax is None else fmax
        if freqs is None:
            freqs = np.arange(np.ceil(fmin * 2) / 2, fmax + 1e-9, 0.5)
        self.freqs = np.asarray(freqs, float)
        omega = 2 * np.pi * self.freqs / self.sfreq
        self._fv = np.exp(1j * np.outer(np.arange(self.order), omega))  # (L, n_f)

    def min_samples(self) -> int:
        return 2 * self.order

    def stats(self, x, y):
        x, y = _check_pair(x, y)
        if x.shape[1] < self.min_samples():
            return None
        x = x - x.mean(axis=1, keepdims=True)
        y = y - y.mean(axis=1, keepdims=True)
        n_win = x.shape[1] - self.order + 1
        out = {"rxx": _lag_cov(x, x, self.order, True),
               "ryy": _lag_cov(y, y, self.order, True),
               "rxy": _lag_cov(x, y, self.order),
               "dof": np.float64(n_win)}
        return out

    def coherence(self, st):
        rxx, ryy, rxy = st["rxx"], st["ryy"], st["rxy"]
        L = self.order
        eye = np.eye(L)
        load_x = self.reg * np.trace(rxx, axis1=-2, axis2=-1)[..., None, None] / L
        load_y = self.reg * np.trace(ryy, axis1=-2, axis2=-1)[..., None, None] / L
        # a tiny absolute floor keeps all-zero rows solvable
        rxx = rxx + (load_x + 1e-30) * eye
        ryy = ryy + (load_y + 1e-30) * eye
        fv = self._fv
        nf = fv.shape[1]
        rhs = np.concatenate([fv.real, fv.imag], axis=1)  # (L, 2 n_f), real
        rhs = np.broadcast_to(rhs, rxx.shape[:-1] + (2 * nf,))
        sx, sy = np.linalg.solve(rxx, rhs), np.linalg.solve(ryy, rhs)
        axr, axi = sx[..., :nf], sx[..., nf:]
        ayr, ayi = sy[..., :nf], sy[..., nf:]
        fr, fi = fv.real, fv.imag
        den_x = (fr * axr + fi * axi).sum(axis=-2)   # fᴴ R⁻¹ f (real)
        den_y = (fr * ayr + fi * ayi).sum(axis=-2)
        t = rxy @ sy
        tr, ti = t[..., :nf], t[..., nf:]
        num_r = (axr * tr + axi * ti).sum(axis=-2)
        num_i = (axr * ti - axi * tr).sum(axis=-2)
        with np.errstate(invalid="ignore", divide="ignore"):
            coh = (num_r ** 2 + num_i ** 2) / (den_x * den_y)
        return np.clip(np.nan_to_num(coh), 0.0, 1.0)


def make_estimator(name: str, sfreq: float, *, fmin=0.0, fmax=None, nfft=None,
                   half_bandwidth=2.5, welch_seg=0.2, mvdr_order=None, mvdr_reg=1e-2):
    """The estimator object of a name (``multitaper``, ``welch``, ``mvdr``)."""
    check_option("estimator", name, ESTIMATORS)
    if name == "multitaper":
        return MultitaperEstimator(sfreq, half_bandwidth, nfft, fmin, fmax)
    if name == "welch":
        return WelchEstimator(sfreq, welch_seg, None, fmin, fmax)
    return MVDREstimator(sfreq, mvdr_order, None, mvdr_reg, fmin, fmax)


@dataclass
class PooledCoherence:
    """Coherence pooled over segments.

    Attributes
    ----------
    freqs : array, shape (n_freqs,)
    coherence : array, shape (n_sources, n_freqs)
        Magnitude-squared coherence.
    dof : float
        Tapers (multitaper), segments (Welch) or windows (MVDR) pooled.
    too_short : array of bool, shape (n_segments,)
        Segments left out because they are too short for the estimator.
    """

    freqs: np.ndarray
    coherence: np.ndarray
    dof: float
    too_short: np.ndarray

    def band(self, band) -> np.ndarray:
        """Per-source coherence averaged over a band (Hz)."""
        return band_mean(self.freqs, self.coherence, band)


def _pooled(est, x, y):
    total, short = est.pooled(x, y)
    if total is None:
        raise SpindleScopeError(
            f"Every segment is too short for {est.name} coherence (at least "
            f"{est.min_samples()} samples are needed); analyse longer segments.")
    return PooledCoherence(est.freqs, est.coherence(total), float(total["dof"]), short)


def coherence_multitaper(x, y, sfreq: float, *, half_bandwidth: float = 2.5,
                         fmin: float = 0.0, fmax: float | None = None,
                         nfft: int | None = None) -> PooledCoherence:
    """Multitaper magnitude-squared coherence pooled over segments.

    Parameters
    ----------
    x, y : array, shape (n_sources, n_times) | list of such arrays | array, shape (n_segments, n_sources, n_times)
        Paired segments (e.g. one per spindle); lengths may differ.
    sfreq : float
    half_bandwidth : float
        DPSS half-bandwidth in Hz.
    fmin, fmax : float
        Frequency range kept.
    nfft : int | None
        Common FFT length; default the longest segment.

    Returns
    -------
    result : PooledCoherence
    """
    segs = _segments(x, y)
    nfft = nfft or max(a.shape[1] for a, _ in segs)
    est = MultitaperEstimator(sfreq, half_bandwidth, nfft, fmin, fmax)
    return _pooled(est, [a for a, _ in segs], [b for _, b in segs])


def coherence_welch(x, y, sfreq: float, *, seg_len: float = 0.2, fmin: float = 0.0,
                    fmax: float | None = None, nfft: int | None = None) -> PooledCoherence:
    """Welch magnitude-squared coherence pooled over segments.

    Hann windows of ``seg_len`` seconds with 50 % overlap inside every segment;
    their cross-spectra are summed over all segments before the coherence is
    formed. Parameters and return as :func:`coherence_multitaper`.
    """
    segs = _segments(x, y)
    est = WelchEstimator(sfreq, seg_len, nfft, fmin, fmax)
    return _pooled(est, [a for a, _ in segs], [b for _, b in segs])


def coherence_mvdr(x, y, sfreq: float, *, order: int | None = None,
                   freqs=None, reg: float = 1e-2, fmin: float = 0.0,
                   fmax: float | None = None) -> PooledCoherence:
    """MVDR magnitude-squared coherence with lag covariances pooled over segments.

    Parameters
    ----------
    x, y : see :func:`coherence_multitaper`
    sfreq : float
    order : int | None
        Filter length L in samples (default 0.1 s).
    freqs : array | None
        Frequencies (default a 0.5-Hz grid over ``fmin``–``fmax``).
    reg : float
        Diagonal loading relative to the mean power (default 1 %).

    Returns
    -------
    result : PooledCoherence
    """
    segs = _segments(x, y)
    est = MVDREstimator(sfreq, order, freqs, reg, fmin, fmax)
    return _pooled(est, [a for a, _ in segs], [b for _, b in segs])


def band_mean(freqs: np.ndarray, spec: np.ndarray, band=(10.0, 15.0)) -> np.ndarray:
    """Mean of spectra over a band (last axis)."""
    lo, hi = band
    mask = (freqs >= lo - 1e-9) & (freqs <= hi + 1e-9)
    if not mask.any():
        raise SpindleScopeError(
            f"No frequency of the spectrum falls in the band {lo:g}–{hi:g} Hz; "
            "the segments are too short for this resolution.")
    return spec[..., mask].mean(axis=-1)


def resample_stats(est, st: dict, band, sources) -> dict:
    """What one segment keeps for resampling (bootstrap, permutation).

    Parameters
    ----------
    est : estimator
    st : dict
        The segment's statistics (:meth:`stats`).
    band : (float, float)
        Coherence band (Hz); multitaper and Welch keep only its frequencies.
    sources : array of int
        Sources kept (a seeded subset bounds memory and time).

    Returns
    -------
    kept : dict
        Single-precision arrays of the kept sources (and band frequencies).
    """
    out = {"dof": np.float64(st["dof"])}
    if est.name == "mvdr":
        for k in ("rxx", "ryy", "rxy"):
            out[k] = st[k][sources].astype(np.float32)
        return out
    mask = (est.freqs >= band[0] - 1e-9) & (est.freqs <= band[1] + 1e-9)
    out["sxy"] = st["sxy"][sources][:, mask].astype(np.complex64)
    out["sxx"] = st["sxx"][sources][:, mask].astype(np.float32)
    out["syy"] = st["syy"][sources][:, mask].astype(np.float32)
    return out


def band_pool(est, band):
    """A ``pool(stack, weights)`` for :func:`core.sources.synchrony.figure_stats`.

    ``stack`` maps each statistic to an array of shape ``(n_units, ...)``
    (from :func:`resample_stats`); the weighted sums over units are turned
    into coherence, averaged over the band and over the kept sources.
    """
    if est.name == "mvdr":
        sub = MVDREstimator(est.sfreq, est.order, est.freqs[
            (est.freqs >= band[0] - 1e-9) & (est.freqs <= band[1] + 1e-9)], est.reg)
    else:
        sub = est

    def pool(stack, weights):
        w = np.asarray(weights, float)
        summed = {k: np.tensordot(w, v.astype(np.complex128 if np.iscomplexobj(v)
                                              else np.float64), axes=(1, 0))
                  for k, v in stack.items() if k != "dof"}
        coh = sub.coherence(summed)       # (n_reps, n_sources, n_freqs)
        out = coh.mean(axis=(-1, -2))
        # replicates that drew no segment at all have no figure
        return np.where(w.sum(axis=1) > 0, out, np.nan)

    return pool
