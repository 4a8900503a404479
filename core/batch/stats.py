"""Group statistics of synchrony figures pooled across subjects.

Generic over whatever figures a recording's ``summary.json`` holds: a figure
``F`` is any key with a list ``F_per_spindle``. Where the summary also holds
per-segment null values of ``F`` (see :func:`null_values`, the one place that
knows their key), the pooled null, the excess over it, a bootstrap 95 %
interval with subject as the resampling unit and a permutation p (labels
"spindle" / "null" exchanged within each subject) are added.
"""

from __future__ import annotations

import numpy as np

from core.utils import SpindleScopeError

#: Keys tried, in order, for the per-segment null values of figure ``F``.
NULL_KEYS = ("{F}_null_values", "{F}_null_per_segment", "{F}_null_per_spindle",
             "{F}_null_samples")


def figure_keys(summary: dict) -> list[str]:
    """Figures of a recording summary: keys ``F`` with a list ``F_per_spindle``."""
    return [k[: -len("_per_spindle")] for k, v in summary.items()
            if k.endswith("_per_spindle") and isinstance(v, list)
            and not k.endswith("_null_per_spindle")]


def null_values(summary: dict, figure: str) -> list | None:
    """Per-segment null values of ``figure`` in a recording summary, or None.

    Looks for ``F_null_values`` (and the other :data:`NULL_KEYS`) at the top
    level, then ``summary["null"][F]`` and ``summary[F + "_null"]`` when
    these are lists. Adapt this function if the null's key changes.
    """
    for pattern in NULL_KEYS:
        val = summary.get(pattern.format(F=figure))
        if isinstance(val, list):
            return val
    nested = summary.get("null")
    if isinstance(nested, dict) and isinstance(nested.get(figure), list):
        return nested[figure]
    if isinstance(nested, dict) and isinstance(nested.get(figure), dict):
        for sub in ("values", "per_segment", "samples"):
            if isinstance(nested[figure].get(sub), list):
                return nested[figure][sub]
    val = summary.get(f"{figure}_null")
    return val if isinstance(val, list) else None


def _sums(groups):
    arrs = [np.asarray(g, float) for g in groups]
    return (np.array([a.sum() for a in arrs]), np.array([a.size for a in arrs], float), arrs)


def figure_statistics(values: list, nulls: list | None = None, *, n_boot: int = 2000,
                      n_perm: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Statistics of one figure over subjects.

    Parameters
    ----------
    values : list of array-like
        Per subject, the figure's per-spindle values (all that subject's
        recordings pooled).
    nulls : list of array-like | None
        Per subject, the null values (same order); None where no null exists.
    n_boot, n_perm : int
        Bootstrap resamples of subjects; label permutations.
    seed : int
        Seed of the random generator (results are reproducible).
    level : float
        Coverage of the intervals.

    Returns
    -------
    stats : dict
        ``n_subjects``, ``n_spindles``, ``subject_mean`` and ``subject_sd``
        (mean and SD of the subject means), ``pooled`` (mean over all
        spindles) and ``pooled_ci`` (subject bootstrap); with nulls:
        ``pooled_null``, ``excess`` (pooled − pooled_null), ``excess_ci`` and
        ``p`` (one-sided: the fraction of within-subject label permutations
        whose excess reaches the observed one, counting the observed).
    """
    values = [np.asarray(v, float) for v in values]
    if not values or any(v.size == 0 for v in values):
        raise SpindleScopeError("Every subject needs at least one spindle value.")
    if any(not np.isfinite(v).all() for v in values):
        raise SpindleScopeError("The spindle values hold NaN or infinite numbers.")
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.array([v.mean() for v in values])
    sv, nv, _ = _sums(values)
    out = {"n_subjects": n, "n_spindles": int(nv.sum()),
           "subject_mean": float(means.mean()),
           "subject_sd": float(means.std(ddof=1)) if n > 1 else 0.0,
           "pooled": float(sv.sum() / nv.sum())}
    # subject bootstrap: how often each subject is drawn, per resample
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    alpha = (1 - level) / 2 * 100
    pooled_b = (counts @ sv) / (counts @ nv)
    out["pooled_ci"] = [float(x) for x in np.percentile(pooled_b, [alpha, 100 - alpha])]
    if nulls is None or any(x is None or len(x) == 0 for x in nulls):
        return out
    if len(nulls) != n:
        raise SpindleScopeError("values and nulls must list the same subjects.")
    sn, nn, null_arrs = _sums(nulls)
    pooled_null = sn.sum() / nn.sum()
    excess = out["pooled"] - pooled_null
    excess_b = pooled_b - (counts @ sn) / (counts @ nn)
    out.update(pooled_null=float(pooled_null), excess=float(excess),
               excess_ci=[float(x) for x in np.percentile(excess_b, [alpha, 100 - alpha])])
    # permutation: exchange labels within subject, keep the counts
    sv_perm = np.zeros(n_perm)
    for v, z in zip(values, null_arrs):
        both = np.concatenate([v, z])
        keys = rng.random((n_perm, both.size))
        first = np.argpartition(keys, v.size - 1, axis=1)[:, : v.size] if v.size < both.size \
            else np.tile(np.arange(both.size), (n_perm, 1))
        sv_perm += both[first].sum(axis=1)
    total = sv.sum() + sn.sum()
    excess_perm = sv_perm / nv.sum() - (total - sv_perm) / nn.sum()
    out["p"] = float((1 + np.sum(excess_perm >= excess - 1e-12)) / (n_perm + 1))
    out["n_null"] = int(nn.sum())
    return out


def _finite(values) -> list:
    """The finite numbers of a JSON list (None and NaN dropped)."""
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, (int, float)) and np.isfinite(v)]


def group_statistics(summaries: list[tuple[str, dict]], **kwargs) -> dict:
    """Statistics of every figure over the recordings' summaries.

    Parameters
    ----------
    summaries : list of (subject, summary)
        One per recording; a subject's recordings are pooled.
    **kwargs
        Passed to :func:`figure_statistics`.

    Returns
    -------
    figures : dict
        ``{figure: stats}`` for every figure found in any summary.
    """
    figures = []
    for _, s in summaries:
        figures += [f for f in figure_keys(s) if f not in figures]
    out = {}
    for fig in figures:
        vals, nulls = {}, {}
        for subj, s in summaries:
            # a figure not estimable for a spindle (a coherence of a spindle
            # too short for its estimator) is stored as null: left out
            per = _finite(s.get(f"{fig}_per_spindle"))
            if not per:
                continue
            vals.setdefault(subj, []).extend(per)
            nv = null_values(s, fig)
            nulls.setdefault(subj, [])
            if nv is None or nulls[subj] is None or not _finite(nv):
                nulls[subj] = None
            else:
                nulls[subj].extend(_finite(nv))
        subjects = sorted(vals)
        null_list = [nulls[s] for s in subjects]
        out[fig] = figure_statistics([vals[s] for s in subjects],
                                     None if any(x is None for x in null_list) else null_list,
                                     **kwargs)
    return out
