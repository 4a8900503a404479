"""Blockwise resolution metrics of point-spread and cross-talk functions.

The metrics and their definitions are those of
:func:`mne.minimum_norm.resolution_metrics` (Molins et al. 2008; Hauk et al.
2019, 2022): distances in centimetres, amplitudes relative to the largest over
all sources. They are computed here for all sources at once, in blocks of a
few functions, so that no ``(n_sources, n_sources)`` distance matrix is ever
built and a resolution matrix kept in factored form (``R = K @ G``) is never
assembled either.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.utils.safe_io import write_via_temp
from core.utils import (Progress, atomic_open, SpindleScopeError, check_option, check_range,
                        run_with_progress)

FUNCTIONS = ("psf", "ctf")
METRICS = ("peak_err", "cog_err", "sd_ext", "maxrad_ext", "peak_amp", "sum_amp")
#: Units of each metric (distances in cm as in MNE).
METRIC_UNITS = {"peak_err": "cm", "cog_err": "cm", "sd_ext": "cm",
                "maxrad_ext": "cm", "peak_amp": "ratio", "sum_amp": "ratio"}
#: Functions (rows) processed at once by the metric kernel: small enough to stay
#: in the CPU cache and to need less extra memory than MNE at 20,484 sources.
SUB_BLOCK_BYTES = 2 ** 18


def _sub_block(n):
    """Rows per kernel call: about 256 kB of functions, 4 to 16 rows
    (4 at 20,484 sources, 6 at 5,124)."""
    return int(np.clip(SUB_BLOCK_BYTES // (8 * n), 4, 16))
#: Functions computed at once from a factored matrix (one BLAS call each): at
#: most 256, and about 16 MB per chunk (102 functions at 20,484 sources).
CHUNK = 256
CHUNK_BYTES = 2 ** 24
#: A factored matrix whose dense form takes at most this many bytes is
#: assembled once (one product instead of two; 5,124 sources: 210 MB).
MAX_DENSE_BYTES = 2 ** 28


def metric_names(functions=FUNCTIONS, metrics=METRICS) -> list[str]:
    """Column names ``{function}_{metric}``, e.g. ``'psf_sd_ext'``."""
    return [f"{f}_{m}" for f in functions for m in metrics]


def source_locations(src) -> np.ndarray:
    """Positions (m) of the used vertices of a surface source space.

    Parameters
    ----------
    src : mne.SourceSpaces
        A two-hemisphere surface source space.

    Returns
    -------
    rr : array, shape (n_sources, 3)
        Left hemisphere first, as in forward models and SourceEstimates.
    """
    if getattr(src, "kind", "surface") != "surface" or len(src) != 2:
        raise SpindleScopeError(
            "Resolution metrics need a cortical (two-hemisphere surface) source "
            f"space, but got a {getattr(src, 'kind', 'unknown')!r} source space "
            f"with {len(src)} part(s). Use a forward model made on a cortical "
            "source space.")
    return np.vstack([s["rr"][s["vertno"]] for s in src])


class _DenseRows:
    """PSF/CTF rows from a dense square resolution matrix."""

    def __init__(self, resmat):
        self.resmat = resmat
        self.n = resmat.shape[1]

    def chunks(self, function):
        # a dense matrix needs no large chunks: hand out sub-blocks directly
        size = 16 * _sub_block(self.n)
        for s in range(0, self.n, size):
            yield s, min(s + size, self.n)

    def fill(self, function, start, stop, out):
        """Write |functions start..stop| into ``out`` (rows)."""
        if function == "psf":
            np.abs(self.resmat[:, start:stop].T, out=out)
        else:
            np.abs(self.resmat[start:stop], out=out)
        return out


class _FactoredRows:
    """PSF/CTF rows from a factored resolution matrix ``R = K @ G``."""

    def __init__(self, kernel, gain):
        self.kernel = np.ascontiguousarray(kernel)
        self.gain = np.ascontiguousarray(gain)
        self.n = self.kernel.shape[0]

    def chunks(self, function):
        size = int(np.clip(CHUNK_BYTES // (8 * self.n), 16, CHUNK))
        for s in range(0, self.n, size):
            yield s, min(s + size, self.n)

    def block(self, function, start, stop):
        if function == "psf":   # columns of R, as rows: G[:, j].T @ K.T
            # (transposed views: BLAS reads them in place, no copy of K)
            return np.ascontiguousarray(self.gain[:, start:stop].T) @ self.kernel.T
        return self.kernel[start:stop] @ self.gain


def _check_resmat(resmat, src, locations, max_dense_bytes=MAX_DENSE_BYTES):
    """Return (rows provider, locations in cm)."""
    # a core.resolution.matrix.ResolutionMatrix (duck-typed: no import here)
    if hasattr(resmat, "kernel") and hasattr(resmat, "gain"):
        if locations is None and src is None:
            locations = resmat.locations
        if resmat.nbytes_dense <= max_dense_bytes:
            resmat = resmat.to_array()
        else:
            resmat = _FactoredRows(resmat.kernel, resmat.gain)
    if isinstance(resmat, _FactoredRows):
        rows = resmat
    else:
        resmat = np.asarray(resmat)
        if resmat.ndim != 2 or resmat.shape[0] != resmat.shape[1]:
            raise SpindleScopeError(
                "The resolution matrix must be square (n_sources, n_sources) with "
                f"one fixed orientation per source, but got shape {resmat.shape}.")
        if not np.issubdtype(resmat.dtype, np.floating):
            resmat = resmat.astype(np.float64)
        rows = _DenseRows(resmat)
    if locations is None:
        if src is None:
            raise SpindleScopeError(
                "Give the source space ('src') or the source 'locations' of the "
                "resolution matrix.")
        locations = source_locations(src)
    locations = np.asarray(locations, dtype=np.float64)
    if locations.shape != (rows.n, 3):
        raise SpindleScopeError(
            f"The resolution matrix has {rows.n} sources but the source space has "
            f"{locations.shape[0]}; they must come from the same forward model.")
    return rows, 100.0 * locations  # cm, as MNE


class _Kernel:
    """Per-block metric arithmetic (all metrics of one function type)."""

    def __init__(self, X, threshold, wanted, n, mne_maxrad=False):
        self.X = X
        self.mne_maxrad = mne_maxrad
        self.threshold = threshold
        self.wanted = wanted
        self.Y = X  # centred by the caller: second moments lose no digits
        self.q = np.einsum("ij,ij->i", X, X)
        keep = set(wanted) - {"peak_amp", "sum_amp"} | {"peak"}
        if wanted & {"cog_err", "sum_amp"}:
            keep.add("sum")
        self.out = {m: np.empty(n) for m in keep}
        self._bufs = {}

    def _buf(self, b, n, float_buf=False):
        if (b, float_buf) not in self._bufs:
            self._bufs[(b, float_buf)] = (np.empty((b, n)) if float_buf else None,
                                          np.empty((b, n), dtype=bool))
        return self._bufs[(b, float_buf)]

    def __call__(self, A, start):
        """Metrics of functions ``start..start+len(A)``; ``A`` holds |f| and is
        overwritten."""
        X, out, wanted = self.X, self.out, self.wanted
        b, n = A.shape
        src = np.arange(start, start + b)
        rows = np.arange(b)
        pk = A.argmax(axis=1)
        pv = A[rows, pk]
        out["peak"][src] = pv
        if "peak_err" in wanted:
            out["peak_err"][src] = np.linalg.norm(X[src] - X[pk], axis=1)
        if wanted & {"cog_err", "sum_amp"}:
            sums = A.sum(axis=1)
            out["sum"][src] = sums
            if "cog_err" in wanted:
                with np.errstate(invalid="ignore", divide="ignore"):
                    cog = (A @ X) / sums[:, None]
                out["cog_err"][src] = np.sqrt(np.sum((X[src] - cog) ** 2, axis=1))
        if "maxrad_ext" in wanted and self.mne_maxrad:
            out["maxrad_ext"][src] = self._mne_maxrad(A, pv, src)
        elif "maxrad_ext" in wanted:
            # supra-threshold vertices are few (1-6 % on the template): find
            # them, then compute their distances exactly as MNE would
            _, above = self._buf(b, n)
            np.greater(A, (self.threshold * pv)[:, None], out=above)
            r, c = np.nonzero(above)
            d = X[c] - X[src[r]]
            d2 = np.sum(d * d, axis=1)
            counts = np.bincount(r, minlength=b)
            rad = np.full(b, np.nan)
            has = counts > 0
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
            rad[has] = np.sqrt(np.maximum.reduceat(d2, starts))
            out["maxrad_ext"][src] = rad
        if "sd_ext" in wanted:
            np.multiply(A, A, out=A)
            sw = A.sum(axis=1)
            Ys = self.Y[src]
            var = A @ self.q - 2.0 * np.einsum("ij,ij->i", A @ self.Y, Ys) \
                + self.q[src] * sw
            with np.errstate(invalid="ignore", divide="ignore"):
                var /= sw
            out["sd_ext"][src] = np.sqrt(np.maximum(var, 0.0))

    def _mne_maxrad(self, A, pv, src):
        """MNE 1.13's 'maxrad_ext' value, reproduced exactly.

        MNE indexes ``locations[np.where(mask), :]`` (a tuple inside a tuple),
        which adds an axis, so ``np.sum(d ** 2, 1)`` sums over the supra-
        threshold vertices instead of the coordinates: the value is
        ``sqrt(max_k sum_p (x_pk - x_jk) ** 2)``, not a radius.
        """
        d2, above = self._buf(A.shape[0], A.shape[1], float_buf=True)
        np.greater(A, (self.threshold * pv)[:, None], out=above)
        best = np.zeros(A.shape[0])
        for k in range(3):
            np.subtract(self.X[None, :, k], self.X[src, k][:, None], out=d2)
            d2 *= d2
            d2 *= above
            best = np.maximum(best, d2.sum(axis=1))
        return np.sqrt(best)

    def result(self, function):
        res = {}
        for m in METRICS:
            if m not in self.wanted:
                continue
            if m == "peak_amp":
                v = self.out["peak"]
                res[m] = v / v.max()
            elif m == "sum_amp":
                v = self.out["sum"]
                res[m] = v / v.max()
            else:
                res[m] = self.out[m]
        return {f"{function}_{m}": v for m, v in res.items()}


class _ColumnStreamer:
    """PSF metrics of a dense C-ordered matrix, streamed by contiguous rows.

    Gathering columns of a C-ordered 20,484 x 20,484 matrix costs one cache and
    TLB miss per element; instead, blocks of rows are read in order and every
    column statistic is accumulated: running peak (first occurrence, as
    ``argmax``), sums, first and second moments. The maximum radius needs the
    final peaks and is found in a second pass over the rows.
    """

    def __init__(self, R, X, threshold, wanted, mne_maxrad=False):
        n = R.shape[0]
        self.R, self.X, self.n = R, X, n
        self.threshold, self.wanted, self.mne_maxrad = threshold, wanted, mne_maxrad
        self.Y = X  # centred by the caller
        self.q = np.einsum("ij,ij->i", X, X)
        self.peak = np.full(n, -1.0)
        self.arg = np.zeros(n, dtype=np.intp)
        self.m1 = np.zeros((n, 4))          # sum |f| x, sum |f|
        self.m2 = np.zeros((n, 5))          # sum f^2 y, sum f^2 q, sum f^2
        self.rad2 = np.zeros((n, 3) if mne_maxrad else n)
        self._a = None

    def row_blocks(self):
        sb = _sub_block(self.n)
        for s in range(0, self.n, sb):
            yield s, min(s + sb, self.n)

    def _abs(self, s, e):
        if self._a is None or self._a.shape[0] != e - s:
            self._a = np.empty((e - s, self.n))
        return np.abs(self.R[s:e], out=self._a)

    def accumulate(self, s, e):
        """First pass over rows ``s..e``."""
        A = self._abs(s, e)
        w = self.wanted
        bmax = A.max(axis=0)
        better = bmax > self.peak
        if better.any():
            cols = np.flatnonzero(better)
            self.arg[cols] = s + A[:, cols].argmax(axis=0)
            self.peak[cols] = bmax[cols]
        if w & {"cog_err", "sum_amp"}:
            X4 = np.empty((e - s, 4))
            X4[:, :3] = self.X[s:e]
            X4[:, 3] = 1.0
            self.m1 += A.T @ X4
        if "sd_ext" in w:
            np.multiply(A, A, out=A)
            Q = np.empty((e - s, 5))
            Q[:, :3] = self.Y[s:e]
            Q[:, 3] = self.q[s:e]
            Q[:, 4] = 1.0
            self.m2 += A.T @ Q

    def radius(self, s, e):
        """Second pass (maximum radius) over rows ``s..e``."""
        A = self._abs(s, e)
        r, c = np.nonzero(A > self.threshold * self.peak)
        d = self.X[s + r] - self.X[c]
        if self.mne_maxrad:
            for k in range(3):
                np.add.at(self.rad2[:, k], c, d[:, k] * d[:, k])
        else:
            np.maximum.at(self.rad2, c, np.sum(d * d, axis=1))

    def result(self):
        """Final values; accumulators are released as they are used."""
        X, w, out = self.X, self.wanted, {}
        if "peak_err" in w:
            d = X[self.arg]
            d -= X
            out["peak_err"] = np.sqrt(np.einsum("ij,ij->i", d, d))
            del d
        del self.arg
        if "cog_err" in w:
            with np.errstate(invalid="ignore", divide="ignore"):
                cog = self.m1[:, :3] / self.m1[:, 3:4]
            cog -= X
            out["cog_err"] = np.sqrt(np.einsum("ij,ij->i", cog, cog))
            del cog
        if "sum_amp" in w:
            sums = self.m1[:, 3]
            out["sum_amp"] = sums / sums.max()
        del self.m1
        if "sd_ext" in w:
            m2 = self.m2
            var = np.einsum("ij,ij->i", m2[:, :3], X)
            var *= -2.0
            var += m2[:, 3]
            var += self.q * m2[:, 4]
            with np.errstate(invalid="ignore", divide="ignore"):
                var /= m2[:, 4]
            np.maximum(var, 0.0, out=var)
            out["sd_ext"] = np.sqrt(var, out=var)
        del self.m2
        if "maxrad_ext" in w:
            rad2 = self.rad2.max(axis=1) if self.mne_maxrad else self.rad2
            out["maxrad_ext"] = np.where(self.peak > 0, np.sqrt(rad2), np.nan)
        if "peak_amp" in w:
            out["peak_amp"] = self.peak / self.peak.max()
        return {f"psf_{m}": out[m] for m in METRICS if m in out}


def _blas_single_thread():
    """Single-threaded BLAS for the many small products of the metric kernels
    (threads only add synchronisation there, badly so on a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def iter_resolution_metrics(resmat, src=None, *, functions=FUNCTIONS,
                            metrics=METRICS, threshold=0.5, locations=None,
                            mne_maxrad=False, max_dense_bytes=MAX_DENSE_BYTES):
    """Resolution metrics of all PSFs and/or CTFs, blockwise (generator).

    Parameters
    ----------
    resmat : array, shape (n_sources, n_sources) | ResolutionMatrix
        A dense resolution matrix (rows: CTFs, columns: PSFs) or one kept in
        factored form (:class:`core.resolution.matrix.ResolutionMatrix`), whose blocks
        are computed on the fly and never assembled.
    src : mne.SourceSpaces | None
        The source space of the matrix (not needed for a ResolutionMatrix).
    functions : tuple of str
        ``'psf'`` and/or ``'ctf'``.
    metrics : tuple of str
        Any of ``'peak_err'``, ``'cog_err'``, ``'sd_ext'``, ``'maxrad_ext'``,
        ``'peak_amp'``, ``'sum_amp'`` (see
        :func:`mne.minimum_norm.resolution_metrics`).
    threshold : float
        Amplitude fraction for ``'maxrad_ext'`` (0.5 as in MNE).
    locations : array, shape (n_sources, 3) | None
        Source positions (m) instead of ``src``.
    mne_maxrad : bool
        ``False`` (default): ``'maxrad_ext'`` is the maximum radius as
        documented, the largest distance from the true source to a vertex whose
        amplitude exceeds ``threshold`` times the peak. ``True``: reproduce
        MNE 1.13's value instead, which by an indexing slip is
        ``sqrt(max_k sum_p (x_pk - x_jk)**2)`` over the supra-threshold
        vertices ``p`` and coordinates ``k`` (it grows with the number of such
        vertices and is not a radius).
    max_dense_bytes : int
        A ResolutionMatrix whose dense form fits in this many bytes is
        assembled once (faster); larger ones (20,484 sources: 3.4 GB) are
        processed from their factors, block by block.

    Yields
    ------
    progress : Progress

    Returns
    -------
    values : dict of str -> array, shape (n_sources,)
        Keyed ``'{function}_{metric}'`` (e.g. ``'psf_sd_ext'``); distances in
        cm, amplitudes as ratios to the largest over sources.
    """
    functions = tuple(functions)
    metrics = tuple(metrics)
    if not functions or not metrics:
        raise SpindleScopeError("Ask for at least one function and one metric.")
    for f in functions:
        check_option("function", f, FUNCTIONS)
    for m in metrics:
        check_option("metric", m, METRICS)
    threshold = check_range("threshold", threshold, 0.0, 1.0)
    rows, X = _check_resmat(resmat, src, locations, max_dense_bytes)
    # distances do not depend on the origin; second moments about the centre
    # keep their digits (spatial deviation by expansion)
    X -= X.mean(axis=0)
    n = rows.n
    chunks = {f: list(rows.chunks(f)) for f in functions}
    total = sum(len(c) for c in chunks.values())
    done = 0
    result = {}
    wanted = set(metrics)
    dense = isinstance(rows, _DenseRows)
    sb = _sub_block(n)
    for function in functions:
        if dense and function == "psf":
            yield from _stream_psf(rows.resmat, X, threshold, wanted, mne_maxrad,
                                   result, done, len(chunks[function]), total)
            done += len(chunks[function])
            continue
        kern = _Kernel(X, threshold, wanted, n, mne_maxrad=mne_maxrad)
        abuf = {}
        for start, stop in chunks[function]:
            yield Progress(done, total, f"{function.upper()} metrics, sources "
                                        f"{start}-{stop - 1} of {n}")
            if dense:
                with _blas_single_thread():
                    for s in range(start, stop, sb):
                        e = min(s + sb, stop)
                        A = abuf.get(e - s)
                        if A is None:
                            A = abuf[e - s] = np.empty((e - s, n))
                        rows.fill(function, s, e, A)
                        kern(A, s)
            else:
                block = rows.block(function, start, stop)
                np.abs(block, out=block)
                with _blas_single_thread():
                    for s in range(0, stop - start, sb):
                        e = min(s + sb, stop - start)
                        kern(block[s:e], start + s)
                del block
            done += 1
        result.update(kern.result(function))
    yield Progress(total, total, "Resolution metrics done")
    return result


def _stream_psf(R, X, threshold, wanted, mne_maxrad, result, done, steps, total):
    """PSF metrics of a dense matrix by row streaming (generator); reports
    progress from ``done`` to ``done + steps``."""
    st = _ColumnStreamer(R, X, threshold, wanted, mne_maxrad=mne_maxrad)
    blocks = list(st.row_blocks())
    passes = 2 if "maxrad_ext" in wanted else 1
    per = max(1, len(blocks) // 8)
    for p in range(1, passes + 1):
        step = st.accumulate if p == 1 else st.radius
        for k in range(0, len(blocks), per):
            frac = ((p - 1) * len(blocks) + k) / (passes * len(blocks))
            yield Progress(done + int(steps * frac), total,
                           f"PSF metrics, rows {blocks[k][0]} of {st.n} "
                           f"(pass {p} of {passes})")
            # no yield inside: the BLAS thread limit is process-wide
            with _blas_single_thread():
                for s, e in blocks[k:k + per]:
                    step(s, e)
    result.update(st.result())


def resolution_metrics(resmat, src=None, **kwargs) -> dict:
    """Blocking wrapper of :func:`iter_resolution_metrics` (same parameters)."""
    return run_with_progress(iter_resolution_metrics(resmat, src, **kwargs))


# --------------------------------------------------------------------------
# Results of a study
# --------------------------------------------------------------------------
@dataclass
class ResolutionResults:
    """Per-source resolution metrics of several methods and sensor sets.

    Attributes
    ----------
    values : dict of (method, sensors) -> dict of str -> array (n_sources,)
        Metric values keyed ``'{function}_{metric}'`` (distances in cm).
    vertices : list of array
        Vertex numbers (left, right hemisphere).
    locations : array, shape (n_sources, 3)
        Source positions (m).
    subject : str | None
    params : dict
        Settings used (snr, lambda2, reg, threshold, ...).
    """

    values: dict
    vertices: list
    locations: np.ndarray
    subject: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def keys(self) -> list:
        return list(self.values)

    @property
    def methods(self) -> list:
        return list(dict.fromkeys(m for m, _ in self.values))

    @property
    def sensor_sets(self) -> list:
        return list(dict.fromkeys(s for _, s in self.values))

    @property
    def names(self) -> list:
        first = next(iter(self.values.values()))
        return list(first)

    @property
    def n_sources(self) -> int:
        return self.locations.shape[0]

    def get(self, method, sensors, name) -> np.ndarray:
        """Values of one metric (e.g. ``'psf_sd_ext'``) for all sources."""
        key = (method, sensors)
        if key not in self.values:
            raise SpindleScopeError(
                f"No results for method {method!r} with sensor set {sensors!r}; "
                f"available: {', '.join(f'{m}/{s}' for m, s in self.values)}.")
        check_option("name", name, self.names)
        return self.values[key][name]

    def to_stc(self, method, sensors, names=None):
        """Metric maps as an :class:`mne.SourceEstimate`.

        Parameters
        ----------
        method, sensors : str
        names : list of str | str | None
            Metrics to include (default: all), one "time point" each in this
            order.

        Returns
        -------
        stc : mne.SourceEstimate
        """
        import mne

        names = self.names if names is None else ([names] if isinstance(names, str)
                                                   else list(names))
        data = np.column_stack([self.get(method, sensors, n) for n in names])
        return mne.SourceEstimate(data, [v.copy() for v in self.vertices], tmin=0.0,
                                  tstep=1.0, subject=self.subject)

    def contrast(self, name, a, b) -> np.ndarray:
        """Difference map ``a - b`` of one metric; ``a``, ``b`` are
        ``(method, sensors)`` pairs."""
        return self.get(*a, name) - self.get(*b, name)

    def default_contrasts(self) -> dict:
        """EEG+MEG − MEG, EEG+MEG − EEG (per method), method − MNE (per set).

        Returns
        -------
        contrasts : dict of str -> ((method, sensors), (method, sensors))
            Keyed like ``'MNE:meeg-meg'`` and ``'meeg:dSPM-MNE'``.
        """
        out = {}
        for m in self.methods:
            for other in ("meg", "eeg"):
                if (m, "meeg") in self.values and (m, other) in self.values:
                    out[f"{m}:meeg-{other}"] = ((m, "meeg"), (m, other))
        for s in self.sensor_sets:
            if ("MNE", s) not in self.values:
                continue
            for m in self.methods:
                if m != "MNE" and (m, s) in self.values:
                    out[f"{s}:{m}-MNE"] = ((m, s), ("MNE", s))
        return out

    def contrast_stc(self, label, names=None):
        """A default contrast (see :meth:`default_contrasts`) as SourceEstimate."""
        import mne

        contrasts = self.default_contrasts()
        check_option("contrast", label, list(contrasts))
        a, b = contrasts[label]
        names = self.names if names is None else list(names)
        data = np.column_stack([self.contrast(n, a, b) for n in names])
        return mne.SourceEstimate(data, [v.copy() for v in self.vertices], tmin=0.0,
                                  tstep=1.0, subject=self.subject)

    def summary(self) -> list[dict]:
        """Median and interquartile range per metric, method and sensor set.

        Returns
        -------
        rows : list of dict
            Keys ``method, sensors, metric, unit, median, q1, q3, iqr, mean``.
        """
        rows = []
        for (m, s), vals in self.values.items():
            for name, v in vals.items():
                v = v[np.isfinite(v)]
                q1, med, q3 = np.percentile(v, [25, 50, 75]) if v.size else (np.nan,) * 3
                rows.append(dict(method=m, sensors=s, metric=name,
                                 unit=METRIC_UNITS[name.split("_", 1)[1]],
                                 median=float(med), q1=float(q1), q3=float(q3),
                                 iqr=float(q3 - q1),
                                 mean=float(v.mean()) if v.size else np.nan))
        return rows

    def median(self, method, sensors, name) -> float:
        return float(np.nanmedian(self.get(method, sensors, name)))

    def write_csv(self, fname):
        """One row per source x method x sensor set, one column per metric."""
        fname = Path(fname)
        n_lh = len(self.vertices[0])
        with atomic_open(fname, "w", newline="") as fid:
            w = csv.writer(fid)
            w.writerow(["source", "hemi", "vertex", "x_mm", "y_mm", "z_mm", "method",
                        "sensors"] + self.names)
            for (m, s), vals in self.values.items():
                cols = np.column_stack([vals[n] for n in self.names])
                for i in range(self.n_sources):
                    hemi = "lh" if i < n_lh else "rh"
                    vert = self.vertices[0][i] if i < n_lh else self.vertices[1][i - n_lh]
                    x, y, z = self.locations[i] * 1e3
                    w.writerow([i, hemi, int(vert), f"{x:.3f}", f"{y:.3f}", f"{z:.3f}",
                                m, s] + [f"{v:.9g}" for v in cols[i]])
        return fname

    def write_summary_csv(self, fname):
        rows = self.summary()
        with atomic_open(fname, "w", newline="") as fid:
            w = csv.DictWriter(fid, fieldnames=list(rows[0]))
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                            for k, v in r.items()})
        return Path(fname)

    def save_maps(self, folder) -> list[Path]:
        """Metric maps and default contrasts as STC HDF5 files.

        Each file holds every metric of one method x sensor set (or contrast),
        one "time point" per metric in the order of :attr:`names`
        (``maps/index.csv`` lists them).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for m, s in self.values:
            fname = folder / f"{m}_{s}-stc.h5"
            stc = self.to_stc(m, s)
            write_via_temp(fname, lambda tmp, stc=stc: stc.save(
                tmp, ftype="h5", overwrite=True, verbose="error"))
            out.append(fname)
        for label in self.default_contrasts():
            safe = label.replace(":", "_")
            fname = folder / f"contrast_{safe}-stc.h5"
            stc = self.contrast_stc(label)
            write_via_temp(fname, lambda tmp, stc=stc: stc.save(
                tmp, ftype="h5", overwrite=True, verbose="error"))
            out.append(fname)
        with atomic_open(folder / "index.csv", "w", newline="") as fid:
            w = csv.writer(fid)
            w.writerow(["time_index", "metric", "unit"])
            for i, n in enumerate(self.names):
                w.writerow([i, n, METRIC_UNITS[n.split("_", 1)[1]]])
        return out
