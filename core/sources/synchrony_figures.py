"""Synchrony figures of a set of spindles, with their nulls and intervals.

:func:`segment_figures` computes every figure of one segment (a spindle, its
length-matched spindle-free null segment, or a cross-spindle pair);
:class:`AnalysisResult` keeps them and :func:`finish_stats` turns them into,
for each figure F, the pooled value, the null, the excess, a bootstrap 95 %
interval over spindles and a permutation p (:func:`core.sources.synchrony.figure_stats`).

Figures
-------
``eeg_within_r, meg_within_r, meeg_within_r``
    Mean pairwise correlation of all source time courses of a modality.
``eeg_within_abs_r, meg_within_abs_r``
    Mean absolute pairwise correlation.
``between_r, between_abs_r``
    Correlation of the EEG- and MEG-derived time courses at the same source
    (mean over sources; signed and absolute).
``coherence_multitaper, coherence_welch, coherence_mvdr``
    EEG–MEG magnitude-squared coherence of the normal components in the
    coherence band, pooled over spindles (cross-spectra summed before the
    coherence is formed), averaged over sources.
``<modality>_max_displacement_cm, _max_hemi_change, _max_spread_cm``
    Generator dynamics per cycle (:mod:`core.sources.dynamics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.sources.coherence import add_stats, band_mean, band_pool, resample_stats
from core.sources.dynamics import DYNAMICS, cycle_maxima, dynamics_figures
from core.sources.synchrony import (between_correlation, figure_stats, mean_abs_pairwise_correlation,
                            mean_pairwise_correlation)

TIMECOURSES = ("norm", "normal", "envelope")
WITHIN = ("eeg_within_r", "meg_within_r", "meeg_within_r", "eeg_within_abs_r",
          "meg_within_abs_r")
BETWEEN = ("between_r", "between_abs_r")
COHERENCE = ("coherence_multitaper", "coherence_welch", "coherence_mvdr")
DYNAMIC = tuple(f"{m}_{k}" for m in ("eeg", "meg", "meeg") for k in DYNAMICS)
FIGURES = WITHIN + BETWEEN + COHERENCE + DYNAMIC
#: fewest tapers/segments for which a single spindle's coherence is shown
MIN_DOF = 2
#: permutations for the p-value of pooled coherence (each one re-pools the
#: spectra of every spindle; MVDR re-solves the filters)
SPECTRAL_PERM = 200


def segment_figures(corr: dict, eeg_n=None, meg_n=None, estimators=None,
                    band=(10.0, 15.0), within: bool = True, geometry=None):
    """Every synchrony figure of one segment.

    Parameters
    ----------
    corr : dict
        Modality ('eeg', 'meg', 'meeg') -> time courses for correlations,
        array of shape (n_sources, n_times).
    eeg_n, meg_n : array, shape (n_sources, n_times) | None
        Signed normal components for coherence.
    estimators : dict | None
        Name -> coherence estimator (:mod:`core.sources.coherence`).
    band : (float, float)
        Coherence band.
    within : bool
        Compute the within-modality figures (False for cross-spindle pairs).
    geometry : (sfreq, cycle_freq, positions, n_left) | None
        For the generator dynamics per cycle (:mod:`core.sources.dynamics`).

    Returns
    -------
    figures : dict
        Scalar figures; a coherence is NaN when the segment is too short for
        its estimator to give at least ``MIN_DOF`` tapers/segments.
    maps : dict
        ``between_r_map`` (per source).
    stats : dict
        Estimator name -> sufficient statistics (None when too short).
    """
    figures, maps, stats = {}, {}, {}
    if within and geometry is not None:
        sfreq, fc, positions, n_left = geometry
        for mod, tc in corr.items():
            mx = cycle_maxima(tc, sfreq, fc)
            maps[f"{mod}_maxima"] = mx
            for k, v in dynamics_figures(mx, positions, n_left).items():
                figures[f"{mod}_{k}"] = v
    if within:
        for mod, tc in corr.items():
            figures[f"{mod}_within_r"] = mean_pairwise_correlation(tc)
            if mod != "meeg":  # O(n² T): the costliest figure, as before
                figures[f"{mod}_within_abs_r"] = mean_abs_pairwise_correlation(tc)
    if "eeg" in corr and "meg" in corr:
        between = between_correlation(corr["eeg"], corr["meg"])
        figures["between_r"] = float(np.mean(between))
        figures["between_abs_r"] = float(np.mean(np.abs(between)))
        maps["between_r_map"] = between
    for name, est in (estimators or {}).items():
        st = est.stats(eeg_n, meg_n)
        stats[name] = st
        key = f"coherence_{name}"
        if st is None or st["dof"] < MIN_DOF:
            figures[key] = np.nan
        else:
            figures[key] = float(band_mean(est.freqs, est.coherence(st), band).mean())
    return figures, maps, stats


@dataclass
class SpindleSources:
    """Results of one spindle (and of its null segment and cross pair)."""

    index: int
    onset: float
    duration: float
    stcs: dict            # modality -> mne.SourceEstimate
    figures: dict         # scalar figures of the spindle
    maps: dict            # per-source arrays: between_r_map
    spectra: dict         # unused per spindle (pooled spectra live on the result)
    pair_sample: dict     # modality -> sampled pairwise correlations
    kind: str | None = None
    null_onset: float | None = None
    null_figures: dict = field(default_factory=dict)
    cross_figures: dict = field(default_factory=dict)
    too_short: dict = field(default_factory=dict)   # estimator -> bool


class Pool:
    """Running sums of coherence statistics and the per-unit subsets kept
    for resampling (observed, null, cross-pair)."""

    def __init__(self, estimators: dict, band, sources):
        self.estimators = estimators
        self.band = band
        self.sources = sources
        self.total = {w: {e: None for e in estimators} for w in ("obs", "null", "cross")}
        self.units = {w: {e: [] for e in estimators} for w in ("obs", "null", "cross")}
        self.unit_of = {w: {e: [] for e in estimators} for w in ("obs", "null", "cross")}
        # pooled spectra, computed once per (which, estimator) after the last
        # add: the full-source MVDR solve is the costliest step of the stats
        self._spectra = {}

    def add(self, which: str, stats: dict, index: int):
        for e, st in stats.items():
            if st is None:
                continue
            t = self.total[which][e]
            self.total[which][e] = st if t is None else add_stats(t, st)
            self._spectra.pop((which, e), None)
            self.units[which][e].append(resample_stats(self.estimators[e], st, self.band,
                                                       self.sources))
            self.unit_of[which][e].append(index)

    def stack(self, which, e, subset=None):
        units = self.units[which][e]
        idx = self.unit_of[which][e]
        keep = [i for i, k in enumerate(idx) if subset is None or k in subset]
        if not keep:
            return None
        return {k: np.stack([units[i][k] for i in keep]) for k in units[0]}

    def spectrum(self, which, e):
        """Pooled coherence spectrum per source (cached until the next add;
        do not modify the array returned)."""
        t = self.total[which][e]
        if t is None:
            return None
        if (which, e) not in self._spectra:
            self._spectra[which, e] = self.estimators[e].coherence(t)
        return self._spectra[which, e]


@dataclass
class AnalysisResult:
    """Everything :func:`core.sources.analysis.iter_analysis` computed.

    Attributes
    ----------
    stats : dict
        Figure -> statistics (:func:`core.sources.synchrony.figure_stats` keys, plus
        ``null_cross``, ``excess_cross``, ``p_cross`` for between-modality
        figures).
    type_stats : dict
        Spindle type (the truth TSV's ``kind``) -> figure -> statistics.
    spectra : dict
        Estimator -> ``freqs``, ``observed``, ``null``, ``cross`` (pooled,
        mean over sources).
    maps : dict
        Per-source maps: ``between_r_map`` (mean over spindles) and
        ``coherence_<estimator>_map`` (pooled).
    """

    config: object
    spindles: list
    sfreq: float
    vertices: list
    subject: str | None
    stats: dict = field(default_factory=dict)
    type_stats: dict = field(default_factory=dict)
    spectra: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def figure_keys(self) -> list:
        return [k for k in FIGURES if any(k in s.figures for s in self.spindles)]

    def values(self, key: str, which: str = "figures") -> np.ndarray:
        """Per-spindle values of a figure (NaN where not estimable)."""
        return np.array([getattr(s, which).get(key, np.nan) for s in self.spindles],
                        float)

    def summary(self) -> dict:
        """JSON-ready summary: for each figure F, ``F``, ``F_null``,
        ``F_excess``, ``F_ci``, ``F_excess_ci``, ``F_p``, ``F_n``,
        ``F_values`` (per spindle), ``F_null_values`` (per null segment);
        for between-modality figures also ``F_null_cross``,
        ``F_excess_cross``, ``F_p_cross``, ``F_cross_values``; per spindle
        type the same under ``by_type``."""
        cfg = self.config
        out = {"n_spindles": len(self.spindles),
               "method": cfg.inverse.method,
               "snr": cfg.inverse.snr, "loose": cfg.inverse.loose,
               "depth": cfg.inverse.depth, "orientation": cfg.inverse.orientation,
               "band": list(cfg.band) if cfg.band else None,
               "coherence_band": list(cfg.coherence_band),
               # what the sources see: MNE needs the EEG average reference
               "montage": "EEG average reference (projector); MEG as recorded",
               "estimators": {"multitaper_half_bandwidth_hz": cfg.half_bandwidth,
                              "welch_segment_s": cfg.welch_seg,
                              "mvdr_order_samples": int(cfg.mvdr_order or
                                                        round(0.1 * self.sfreq)),
                              "mvdr_loading": cfg.mvdr_reg},
               "null": ("length-matched spindle-free segments (one per spindle) "
                        "through the same pipeline; cross-spindle pairs (EEG of "
                        "spindle k with MEG of spindle k-1) for between-modality "
                        "figures") if cfg.null else None,
               "resampling": {"n_boot": cfg.n_boot, "n_perm": cfg.n_perm,
                              "coherence_sources": cfg.resample_sources,
                              "seed": cfg.seed}}
        out.update(cfg.signals())
        out.update(self.settings)
        for key in self.figure_keys():
            vals = self.values(key)
            _put(out, key, self.stats.get(key), vals, self.values(key, "null_figures"),
                 self.values(key, "cross_figures") if key in BETWEEN + COHERENCE else None)
        if self.type_stats:
            out["by_type"] = {}
            for kind, st in self.type_stats.items():
                sub = [i for i, s in enumerate(self.spindles) if s.kind == kind]
                d = {"n_spindles": len(sub)}
                for key, fs in st.items():
                    _put(d, key, fs, self.values(key)[sub],
                         self.values(key, "null_figures")[sub], None)
                out["by_type"][kind] = d
        return out

    def mean_map(self, key: str) -> np.ndarray:
        """A per-source map: pooled when kept, else averaged over spindles."""
        if key in self.maps:
            return self.maps[key]
        return np.mean([s.maps[key] for s in self.spindles], axis=0)


def _clean(v):
    v = np.asarray(v, float)
    return [None if not np.isfinite(x) else float(x) for x in v]


def _put(out, key, fs, vals, null_vals, cross_vals):
    if fs is not None:
        out[key] = fs["value"]
        out[key + "_null"] = fs["null"]
        out[key + "_excess"] = fs["excess"]
        out[key + "_ci"] = fs["ci"]
        out[key + "_excess_ci"] = fs["excess_ci"]
        out[key + "_p"] = fs["p"]
        out[key + "_n"] = fs["n"]
        for k in ("null_cross", "excess_cross", "p_cross", "excess_cross_ci"):
            if k in fs:
                out[f"{key}_{k}"] = fs[k]
    else:
        ok = np.isfinite(vals)
        out[key] = float(np.mean(vals[ok])) if ok.any() else None
    ok = np.isfinite(vals)
    out[key + "_sd"] = float(np.std(vals[ok], ddof=1)) if ok.sum() > 1 else 0.0
    out[key + "_values"] = _clean(vals)
    out[key + "_per_spindle"] = out[key + "_values"]
    if np.isfinite(null_vals).any():
        out[key + "_null_values"] = _clean(null_vals)
    if cross_vals is not None and np.isfinite(cross_vals).any():
        out[key + "_cross_values"] = _clean(cross_vals)


def _coherence_stats(pool: Pool, e: str, band, cfg, subset=None, vs="null",
                     seed=0) -> dict | None:
    est = pool.estimators[e]
    obs, nul = pool.stack("obs", e, subset), pool.stack(vs, e, subset)
    if obs is None or nul is None:
        return None
    fs = figure_stats(obs, nul, pool=band_pool(est, band), interval="jackknife",
                      n_perm=min(cfg.n_perm, SPECTRAL_PERM), seed=seed,
                      chunk=25 if e == "mvdr" else 100)
    if subset is None:
        # the point figures use every source; the resampling uses the kept
        # subset, whose interval is moved onto the full-source figures
        full_v = float(band_mean(est.freqs, pool.spectrum("obs", e), band).mean())
        full_n = float(band_mean(est.freqs, pool.spectrum(vs, e), band).mean())
        dv, de = full_v - fs["value"], (full_v - full_n) - fs["excess"]
        fs.update(value=full_v, null=full_n, excess=full_v - full_n,
                  ci=[c + dv for c in fs["ci"]], excess_ci=[c + de for c in fs["excess_ci"]])
    return fs


def finish_stats(result: AnalysisResult, pool: Pool | None):
    """Fill ``result.stats``, ``type_stats``, ``spectra`` and pooled maps."""
    cfg = result.config
    band = cfg.coherence_band
    if pool is not None:
        for e, est in pool.estimators.items():
            spec = {"freqs": est.freqs}
            for which in ("obs", "null", "cross"):
                c = pool.spectrum(which, e)
                if c is not None:
                    spec[{"obs": "observed"}.get(which, which)] = c.mean(axis=0)
            if "observed" in spec:
                result.spectra[e] = spec
                result.maps[f"coherence_{e}_map"] = band_mean(
                    est.freqs, pool.spectrum("obs", e), band)
    if not cfg.null:
        return
    kinds = sorted({s.kind for s in result.spindles if s.kind})
    for key in result.figure_keys():
        vals = result.values(key)
        nulls = result.values(key, "null_figures")
        if key in COHERENCE:
            e = key.split("_", 1)[1]
            fs = _coherence_stats(pool, e, band, cfg, seed=cfg.seed)
            if fs is None:
                continue
            cross = _coherence_stats(pool, e, band, cfg, vs="cross", seed=cfg.seed + 1)
        else:
            if not np.isfinite(vals).any() or not np.isfinite(nulls).any():
                continue
            fs = figure_stats(vals, nulls, n_boot=cfg.n_boot, n_perm=cfg.n_perm,
                              seed=cfg.seed)
            cross = None
            if key in BETWEEN:
                cv = result.values(key, "cross_figures")
                if np.isfinite(cv).any():
                    cross = figure_stats(vals, cv, n_boot=cfg.n_boot, n_perm=cfg.n_perm,
                                         seed=cfg.seed + 1)
        if cross is not None:
            fs.update(null_cross=cross["null"], excess_cross=cross["excess"],
                      p_cross=cross["p"], excess_cross_ci=cross["excess_ci"])
        result.stats[key] = fs
        for kind in kinds:
            idx = [i for i, s in enumerate(result.spindles) if s.kind == kind]
            if key in COHERENCE:
                fk = _coherence_stats(pool, key.split("_", 1)[1], band, cfg,
                                      subset=set(idx), seed=cfg.seed)
            else:
                v, n = vals[idx], nulls[idx]
                fk = (figure_stats(v, n, n_boot=cfg.n_boot, n_perm=cfg.n_perm,
                                   seed=cfg.seed)
                      if np.isfinite(v).any() and np.isfinite(n).any() else None)
            if fk is not None:
                result.type_stats.setdefault(kind, {})[key] = fk
