"""Synchrony of source time courses within and between modalities.

Dehghani et al. (2010) measured, per spindle, the mean pairwise correlation
of all EEG-derived (and all MEG-derived) source time courses, the correlation
of EEG- and MEG-derived time courses at the same source, and EEG–MEG
coherence in the spindle band by Welch's method and by the minimum-variance
distortionless response (MVDR) estimator of Benesty, Chen & Huang (ICASSP
2006). The correlation functions work on arrays of shape
``(n_sources, n_times)``; the coherence estimators, pooled over spindles, live
in :mod:`core.sources.coherence` and are re-exported here.

Every figure is reported against a null (DESIGN rule 10) by
:func:`figure_stats`: the same pipeline on length-matched spindle-free
segments (or cross-spindle pairs), the excess over it, a bootstrap interval
over spindles and a permutation p-value.
"""

from __future__ import annotations

import numpy as np

from core.sources.coherence import (ESTIMATORS, PooledCoherence, band_mean, coherence_multitaper,
                            coherence_mvdr, coherence_welch)
from core.utils import SpindleScopeError, check_option, check_range


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
    # the matrix is symmetric: blocks on and above the diagonal only, the
    # off-diagonal ones counted twice (half the products)
    for i in range(0, n, block):
        zi = z[i:i + block]
        r = np.abs(zi @ z[i:].T)
        m = len(zi)
        diag = np.abs(r[:, :m]).sum(dtype=np.float64) - np.trace(r[:, :m], dtype=np.float64)
        total += diag + 2.0 * r[:, m:].sum(dtype=np.float64)
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




# --------------------------------------------------------------------------
# Null, excess, interval and p-value of a figure
# --------------------------------------------------------------------------
def weighted_mean(stack: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The default pooling of :func:`figure_stats`: a weighted mean.

    Parameters
    ----------
    stack : array, shape (n_units,)
        Per-unit values; NaN (not estimable) units are left out.
    weights : array, shape (n_reps, n_units)

    Returns
    -------
    pooled : array, shape (n_reps,)
    """
    v = np.asarray(stack, float)
    ok = np.isfinite(v)
    num = weights @ np.where(ok, v, 0.0)
    den = weights @ ok.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _concat(a, b):
    if isinstance(a, dict):
        return {k: np.concatenate([a[k], b[k]]) for k in a}
    return np.concatenate([np.asarray(a, float), np.asarray(b, float)])


def _n_units(a) -> int:
    return len(next(iter(a.values()))) if isinstance(a, dict) else len(a)


def _group_index(groups, n):
    if groups is None:
        return np.arange(n)
    g = np.asarray(groups)
    if len(g) != n:
        raise SpindleScopeError(f"groups has {len(g)} entries for {n} values.")
    return np.unique(g, return_inverse=True)[1]


def _boot_weights(rng, gidx, n_reps):
    """Counts of each unit when groups (resampling units) are drawn with
    replacement: shape (n_reps, n_units)."""
    n_groups = gidx.max() + 1
    draws = rng.integers(0, n_groups, (n_reps, n_groups))
    counts = np.zeros((n_reps, n_groups))
    np.add.at(counts, (np.arange(n_reps)[:, None], draws), 1.0)
    return counts[:, gidx]


def _in_chunks(pool, stack, weights, chunk):
    return np.concatenate([np.asarray(pool(stack, weights[i:i + chunk]), float)
                           for i in range(0, len(weights), chunk)])


def _jackknife(pool, values, gidx, chunk):
    """Delete-one-group replicates and the jackknife standard error."""
    n_groups = gidx.max() + 1
    w = np.ones((n_groups, len(gidx)))
    w[gidx, np.arange(len(gidx))] = 0.0
    reps = _in_chunks(pool, values, w, chunk)
    ok = np.isfinite(reps)
    g = int(ok.sum())
    if g < 2:
        return np.nan, g
    se = np.sqrt((g - 1) / g * np.sum((reps[ok] - reps[ok].mean()) ** 2))
    return float(se), g


def figure_stats(values, null_values, *, pool=None, groups=None, null_groups=None,
                 n_boot: int = 1000, n_perm: int = 1000, ci: float = 0.95,
                 seed: int = 0, chunk: int = 100, interval: str = "bootstrap") -> dict:
    """Observed figure, null, excess, bootstrap interval and permutation p.

    One function for every synchrony figure, within a recording (spindles as
    resampling units) and across a cohort (subjects as resampling units, via
    ``groups``).

    Parameters
    ----------
    values : array, shape (n_units, ...) | dict of such arrays
        Per-spindle contributions: the figure's per-spindle values (pooled by
        a mean), or per-spindle sufficient statistics that ``pool`` combines
        (e.g. cross-spectra for pooled coherence). NaN values of a scalar
        figure mark spindles where it is not estimable; they are left out.
    null_values : same kind, shape (n_null_units, ...)
        The same figure on null units (length-matched spindle-free segments,
        or cross-spindle pairs).
    pool : callable | None
        ``pool(stack, weights) -> array, shape (n_reps,)`` pooling the units
        with non-negative weights of shape ``(n_reps, n_units)``; default
        :func:`weighted_mean`.
    groups, null_groups : array, shape (n_units,) | None
        Resampling units (e.g. subject ids): the bootstrap draws whole groups
        with replacement, and the permutation exchanges spindle/null labels
        only within a group. Default: every unit is its own group.
    n_boot, n_perm : int
        Bootstrap and permutation replicates.
    ci : float
        Coverage of the percentile interval.
    seed : int
        Seed of the random generator (results are reproducible).
    chunk : int
        Replicates pooled at once (bounds memory for spectral statistics).
    interval : 'bootstrap' | 'jackknife'
        'bootstrap': percentile interval of ``n_boot`` replicates drawing
        groups with replacement (for means). 'jackknife': delete-one-group
        standard error with a Student-t interval, the usual error bar of
        pooled coherence (Thomson & Chave 1991): a bootstrap draws a spindle
        twice, and a duplicated spindle is perfectly coherent with itself,
        which biases pooled coherence upward.

    Returns
    -------
    stats : dict
        ``value`` (observed pooled figure), ``null`` (pooled null), ``excess``
        (value − null), ``ci`` ([low, high] of the value, bootstrap over
        spindles), ``excess_ci`` (of the excess, spindles and null units
        resampled independently), ``p`` (one-sided permutation p that the
        figure exceeds its null: (1 + #{perm excess >= observed}) /
        (1 + n_perm)), ``n`` and ``n_null`` (units that entered).
    """
    check_range("ci", ci, 0.5, 0.999)
    pool = weighted_mean if pool is None else pool
    if not isinstance(values, dict):
        values = np.asarray(values, float)
    if not isinstance(null_values, dict):
        null_values = np.asarray(null_values, float)
    n, m = _n_units(values), _n_units(null_values)
    if n == 0:
        raise SpindleScopeError("No values to summarise: analyse spindles first.")
    if m == 0:
        raise SpindleScopeError(
            "No null values: give length-matched spindle-free segments "
            "(score N2 epochs with spindle-free stretches).")
    if (groups is None) != (null_groups is None):
        raise SpindleScopeError("Give both groups and null_groups, or neither.")
    rng = np.random.default_rng(seed)
    one = np.ones((1, n))
    value = float(pool(values, one)[0])
    null = float(pool(null_values, np.ones((1, m)))[0])
    g_obs = _group_index(groups, n)
    g_null = _group_index(null_groups, m)
    check_option("interval", interval, ("bootstrap", "jackknife"))
    alpha = (1 - ci) / 2
    if interval == "bootstrap":
        wb = _boot_weights(rng, g_obs, n_boot)
        boot = _in_chunks(pool, values, wb, chunk)
        wn = _boot_weights(rng, g_null, n_boot)
        boot_null = _in_chunks(pool, null_values, wn, chunk)
        q = [100 * alpha, 100 * (1 - alpha)]
        ok = np.isfinite(boot)
        ci_v = np.percentile(boot[ok], q) if ok.any() else [np.nan, np.nan]
        ex = boot - boot_null
        ok = np.isfinite(ex)
        ci_e = np.percentile(ex[ok], q) if ok.any() else [np.nan, np.nan]
    else:
        from scipy.stats import t as student

        se_v, g_v = _jackknife(pool, values, g_obs, chunk)
        se_n, g_n = _jackknife(pool, null_values, g_null, chunk)
        tq = student.ppf(1 - alpha, max(1, min(g_v, g_n) - 1))
        se_e = np.hypot(se_v, se_n)
        ci_v = [value - tq * se_v, value + tq * se_v]
        ci_e = [value - null - tq * se_e, value - null + tq * se_e]
    # permutation of spindle/null labels (within groups when given)
    both = _concat(values, null_values)
    if groups is None:
        labels = [np.arange(n + m)]
    else:
        gall = np.concatenate([np.asarray(groups, object), np.asarray(null_groups, object)])
        gi = np.unique(gall.astype(str), return_inverse=True)[1]
        labels = [np.where(gi == g)[0] for g in range(gi.max() + 1)]
    is_obs = np.r_[np.ones(n, bool), np.zeros(m, bool)]
    wa = np.zeros((n_perm, n + m))
    for r in range(n_perm):
        perm = np.empty(n + m, bool)
        for idx in labels:
            perm[idx] = rng.permutation(is_obs[idx])
        wa[r] = perm
    pa = _in_chunks(pool, both, wa, chunk)
    pb = _in_chunks(pool, both, 1.0 - wa, chunk)
    excess = value - null
    d = pa - pb
    p = float((1 + np.sum(d[np.isfinite(d)] >= excess - 1e-12)) / (1 + n_perm))
    n_ok = n if not isinstance(values, np.ndarray) or values.ndim != 1 else int(
        np.isfinite(values).sum())
    m_ok = m if not isinstance(null_values, np.ndarray) or null_values.ndim != 1 else int(
        np.isfinite(null_values).sum())
    return {"value": value, "null": null, "excess": float(excess),
            "ci": [float(ci_v[0]), float(ci_v[1])],
            "excess_ci": [float(ci_e[0]), float(ci_e[1])], "p": p,
            "n": n_ok, "n_null": m_ok}
