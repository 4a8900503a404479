"""Per-spindle source estimates for EEG, MEG and MEG+EEG, and their synchrony.

:func:`iter_analysis` is the whole pipeline behind ``main.py analyze`` and the
GUI's source workspace: inverse operators per sensor set (kernel computed
once each), then for every spindle the band-passed sensor data → dSPM time
courses per modality → synchrony figures (:mod:`core.sources.synchrony`), and the
same for one length-matched spindle-free segment per spindle (the null) and
for cross-spindle pairs (EEG of spindle k with MEG of spindle k−1). It is a
generator that yields :class:`~core.utils.Progress` and stops between
spindles when closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.sources.inverse import (MODALITIES, InverseSettings, _bandpass, check_modality,
                          inverse_kernel, make_inverse)
from core.sources.coherence import ESTIMATORS, make_estimator
from core.sources.synchrony_figures import (FIGURES, TIMECOURSES, AnalysisResult, SpindleSources,
                                    segment_figures)
from core.utils import Progress, SpindleScopeError, check_option, check_range, logger
from core.utils.dsp import check_nyquist


@dataclass
class AnalysisConfig:
    """Settings of the spindle source analysis.

    Parameters
    ----------
    inverse : InverseSettings
        Method (dSPM default), SNR, loose, depth, orientation.
    band : (float, float) | None
        Band-pass applied to the sensor data before the inverse, for the
        correlation analyses (default 10–15 Hz); None for broadband.
    coherence_band : (float, float)
        Band over which coherence is averaged; narrowed to its part inside
        ``band`` for band-passed data.
    pad : float
        Seconds read on both sides of a spindle so that filtering has no edge
        effect inside it.
    timecourse : 'norm' | 'normal' | 'envelope'
        Source time course the correlations use: the norm of the three
        loose-orientation components (default; the paper's unsigned dSPM;
        always positive, so anti-phase sources correlate positively), the
        signed component normal to the cortex, or the Hilbert envelope of the
        normal component. Coherence always uses the signed normal component.
    estimators : tuple of str
        Coherence estimators ('multitaper', 'welch', 'mvdr').
    half_bandwidth : float
        Multitaper half-bandwidth (Hz).
    welch_seg : float
        Welch segment length (s).
    mvdr_order : int | None
        MVDR filter length (samples); default 0.1 s.
    mvdr_reg : float
        MVDR diagonal loading relative to the mean power.
    null : bool
        Run the null (length-matched spindle-free segments, cross-spindle
        pairs) and the statistics.
    n_boot, n_perm : int
        Bootstrap and permutation replicates.
    resample_sources : int
        Sources (a seeded subset) whose per-spindle spectra are kept for the
        jackknife intervals, permutation p-values and per-type figures of
        pooled coherence (the pooled figures themselves use every source).
    seed : int
        Seed of the null-segment placement and of the resampling.
    """

    inverse: InverseSettings = field(default_factory=InverseSettings)
    band: tuple | None = (10.0, 15.0)
    coherence_band: tuple = (10.0, 15.0)
    pad: float = 1.0
    timecourse: str = "norm"
    estimators: tuple = ESTIMATORS
    half_bandwidth: float = 2.5
    welch_seg: float = 0.2
    mvdr_order: int | None = None
    mvdr_reg: float = 1e-2
    modalities: tuple = MODALITIES
    null: bool = True
    n_boot: int = 1000
    n_perm: int = 1000
    resample_sources: int = 100
    seed: int = 0

    def __post_init__(self):
        if self.band is not None:
            lo, hi = self.band
            check_range("band low edge", lo, 0.1, 1e4)
            check_range("band high edge", hi, lo, 1e4)
            clo, chi = self.coherence_band
            if clo < lo - 1e-9 or chi > hi + 1e-9:
                # coherence outside the pass band is set by the filter's
                # stop band: keep the part of the coherence band inside it
                if min(chi, hi) - max(clo, lo) <= 0:
                    raise SpindleScopeError(
                        f"The coherence band {clo:g}–{chi:g} Hz lies outside the "
                        f"analysis band {lo:g}–{hi:g} Hz (the data are band-passed); "
                        "choose a coherence band inside it.")
                self.coherence_band = (max(clo, lo), min(chi, hi))
                logger.info("Coherence band narrowed to %g–%g Hz (inside the "
                            "analysis band)", *self.coherence_band)
        check_range("pad", self.pad, 0.0, 30.0)
        check_option("timecourse", self.timecourse, TIMECOURSES)
        for e in self.estimators:
            check_option("estimator", e, ESTIMATORS)
        check_range("half_bandwidth", self.half_bandwidth, 0.5, 20.0)
        check_range("n_boot", self.n_boot, 10, 100000)
        check_range("n_perm", self.n_perm, 10, 100000)
        for m in self.modalities:
            if m not in MODALITIES:
                raise SpindleScopeError(
                    f"Invalid value for the 'modalities' parameter. Allowed values "
                    f"are 'eeg', 'meg' and 'meeg', but got {m!r} instead.")

    def min_duration(self) -> float:
        """Shortest spindle the filter and the coherence estimators allow (s)."""
        base = 0.25
        if self.band is not None:
            base = max(base, 3.0 / self.band[0])  # three cycles of the low edge
        return base

    def spectrum_range(self, sfreq) -> tuple:
        """Frequencies the spectra cover: the analysis band for band-passed
        data, 0–45 Hz (at most Nyquist) for broadband data."""
        if self.band is not None:
            return tuple(self.band)
        return (0.0, min(45.0, sfreq / 2))

    def signals(self) -> dict:
        """What signal each figure uses (recorded in every output)."""
        tc = {"norm": "norm of the three loose-orientation components (unsigned)",
              "normal": "signed component normal to the cortex",
              "envelope": "Hilbert envelope of the normal component"}[self.timecourse]
        if self.inverse.orientation == "fixed":
            tc = {"envelope": "Hilbert envelope of the fixed (normal) orientation"}.get(
                self.timecourse, "signed fixed (normal) orientation")
        return {"timecourse": self.timecourse, "correlation_signal": tc,
                "coherence_signal": "signed component normal to the cortex"}


def check_spindles(spindles, duration: float, min_duration: float) -> list:
    """Validate (onset, duration) pairs against the recording.

    Returns
    -------
    spindles : list of (float, float)
    """
    out = []
    for k, sp in enumerate(spindles):
        onset, dur = (sp.onset, sp.duration) if hasattr(sp, "onset") else sp
        onset, dur = float(onset), float(dur)
        if onset < 0 or onset + dur > duration + 1e-9:
            raise SpindleScopeError(
                f"Spindle {k} ({onset:.2f}–{onset + dur:.2f} s) lies beyond the "
                f"recording, which lasts {duration:.2f} s. Check that the spindle "
                f"file belongs to this recording.")
        if dur < min_duration:
            raise SpindleScopeError(
                f"Spindle {k} (onset {onset:.2f} s) lasts {dur:.3f} s, shorter "
                f"than the {min_duration:.2f} s the band-pass filter allows (three "
                f"cycles of its low edge). Remove or lengthen it, or analyse "
                f"broadband.")
        out.append((onset, dur))
    if not out:
        raise SpindleScopeError("There are no spindles to analyse: mark or "
                                "detect spindles first.")
    return out


def null_segments(spindles, intervals, duration: float, pad: float = 1.0,
                  margin: float = 0.5, seed: int = 0) -> list:
    """One length-matched spindle-free segment per spindle.

    Parameters
    ----------
    spindles : list of (float, float)
        (onset, duration) of the spindles.
    intervals : list of (float, float)
        Where null segments may lie (typically the N2 epochs).
    duration : float
        Length of the recording (s).
    pad : float
        Filter padding read on both sides (must stay inside the recording).
    margin : float
        Distance kept from every spindle (s).
    seed : int

    Returns
    -------
    onsets : list of float
        Onset of the null segment of each spindle (same duration).
    """
    rng = np.random.default_rng(seed)
    busy = sorted((a - margin, a + d + margin) for a, d in spindles)
    starts, ends = (np.array([b[0] for b in busy]), np.array([b[1] for b in busy]))
    out = []
    for k, (_, dur) in enumerate(spindles):
        ok = [(max(a, pad), min(b, duration - pad) - dur) for a, b in intervals]
        ok = [(a, b) for a, b in ok if b > a]
        found = None
        for _ in range(2000):
            if not ok:
                break
            lens = np.array([b - a for a, b in ok])
            i = rng.choice(len(ok), p=lens / lens.sum())
            t = rng.uniform(*ok[i])
            if not np.any((starts < t + dur) & (ends > t)):
                found = float(t)
                break
        if found is None:
            raise SpindleScopeError(
                f"No spindle-free stretch of {dur:.2f} s was found for the null "
                f"of spindle {k}: score more N2 epochs, or analyse without the "
                f"null (null=False).")
        out.append(found)
    return out


def iter_analysis(rec, spindles, fwd, noise_cov, config: AnalysisConfig | None = None,
                  keep_stcs: bool = True, stc_dtype=np.float64, null_intervals=None,
                  on_spindle=None):
    """Per-spindle dSPM sources per modality, their synchrony and its null.

    Parameters
    ----------
    rec : Recording
    spindles : list of Spindle | list of (onset, duration)
        A Spindle's ``properties["kind"]`` (the demo truth's type) groups the
        per-type figures.
    fwd : mne.Forward
        Forward model covering the recording's MEG and EEG channels.
    noise_cov : mne.Covariance
    config : AnalysisConfig
    keep_stcs : bool
        Keep the per-spindle SourceEstimates (needed to write them).
    stc_dtype : dtype
        Precision the kept estimates are stored in as each spindle finishes
        (the figures are always computed in double precision).
    null_intervals : list of (float, float) | None
        Where the null segments are drawn (the N2 epochs); default the whole
        recording.
    on_spindle : callable | None
        Called with each :class:`SpindleSources` as soon as its figures are
        done (e.g. to write its estimates and drop them: memory stays bounded).

    Yields
    ------
    progress : Progress

    Returns
    -------
    result : AnalysisResult
    """
    import mne

    from core.sources.synchrony import pairwise_correlation_sample
    from core.sources.synchrony_figures import Pool, finish_stats

    # raw MaxShield MEG is distorted until MaxFilter/SSS: refuse with the fix
    getattr(rec, "check_source_ready", lambda: None)()
    config = config or AnalysisConfig()
    info = rec.info
    for mod in config.modalities:
        check_modality(info, mod)
    kinds = [sp.properties.get("kind") if hasattr(sp, "properties") else None
             for sp in spindles]
    spindles = check_spindles(spindles, rec.duration, config.min_duration())
    if config.band is not None:
        check_nyquist(config.band, rec.sfreq, "the band")
    sfreq = rec.sfreq
    pad_s = config.pad if config.band is not None else 0.0
    nulls = (null_segments(spindles, null_intervals or [(0.0, rec.duration)],
                           rec.duration, pad_s, seed=config.seed)
             if config.null else [None] * len(spindles))
    n_steps = len(config.modalities) + len(spindles) + 1
    kernels, normals = {}, {}
    for i, mod in enumerate(config.modalities):
        yield Progress(i, n_steps, f"Inverse operator ({mod.upper()})")
        inv = make_inverse(info, fwd, noise_cov, mod, config.inverse,
                           maxfiltered=rec.is_maxfiltered)
        kernels[mod] = inverse_kernel(inv, info, mod, config.inverse)
        normals[mod] = (inverse_kernel(inv, info, mod, config.inverse, "normal")
                        if kernels[mod].n_ori == 3 else kernels[mod])
    first = next(iter(kernels.values()))
    names = sorted({n for k in kernels.values() for n in k.ch_names},
                   key=rec.ch_names.index)
    pos = {n: i for i, n in enumerate(names)}
    rows = {m: [pos[n] for n in k.ch_names] for m, k in kernels.items()}
    both = "eeg" in kernels and "meg" in kernels
    lo, hi = config.spectrum_range(sfreq)
    longest = max(rec.time_to_sample(o + d) - rec.time_to_sample(o) for o, d in spindles)
    estimators = {e: make_estimator(e, sfreq, fmin=lo, fmax=hi, nfft=max(
        longest, int(round(sfreq))), half_bandwidth=config.half_bandwidth,
        welch_seg=config.welch_seg, mvdr_order=config.mvdr_order,
        mvdr_reg=config.mvdr_reg) for e in config.estimators} if both else {}
    n_src = first.n_sources
    subset = np.sort(np.random.default_rng(config.seed).choice(
        n_src, min(n_src, config.resample_sources), replace=False))
    pool = Pool(estimators, config.coherence_band, subset) if estimators else None
    positions = np.concatenate([s["rr"][v] for s, v in zip(fwd["src"], first.vertices)])
    fc = float(np.mean(config.band)) if config.band is not None else float(
        np.mean(config.coherence_band))
    geometry = (sfreq, fc, positions, len(first.vertices[0]))

    def courses(onset, dur, what):
        s0, s1 = rec.time_to_sample(onset), rec.time_to_sample(onset + dur)
        pad = int(round(pad_s * sfreq))
        r0, r1 = max(0, s0 - pad), min(rec.n_times, s1 + pad)
        data = rec.get_samples(r0, r1, rec.pick_indices(names))
        if not np.isfinite(data).all():
            raise SpindleScopeError(
                f"The {what} at {onset:.2f} s contains NaN or infinite samples; "
                f"mark the segment bad or fix the recording.")
        if config.band is not None:
            data = _bandpass(data, sfreq, config.band)
        crop = slice(s0 - r0, s1 - r0)
        tcs, tcs_n = {}, {}
        for mod, kern in kernels.items():
            d = data[rows[mod]]
            if config.timecourse == "envelope":
                from scipy.signal import hilbert

                full = normals[mod].apply(d)
                tcs[mod] = np.abs(hilbert(full, axis=-1))[:, crop]
                tcs_n[mod] = full[:, crop]
                continue
            d = d[:, crop]
            tcs_n[mod] = normals[mod].apply(d)
            tcs[mod] = tcs_n[mod] if config.timecourse == "normal" else (
                kern.apply(d) if kern is not normals[mod] else tcs_n[mod])
        return s0, tcs, tcs_n

    results = []
    first_eeg = prev_meg = None
    for k, (onset, dur) in enumerate(spindles):
        yield Progress(len(config.modalities) + k, n_steps,
                       f"Spindle {k + 1}/{len(spindles)} at {onset:.1f} s")
        s0, tcs, tcs_n = courses(onset, dur, f"spindle {k}")
        stcs = {}
        if keep_stcs:
            for mod, kern in kernels.items():
                stcs[mod] = mne.SourceEstimate(
                    tcs[mod].astype(stc_dtype, copy=False),
                    [v.copy() for v in kern.vertices], tmin=s0 / sfreq,
                    tstep=1.0 / sfreq, subject=kern.subject)
        figures, maps, st = segment_figures(tcs, tcs_n.get("eeg"), tcs_n.get("meg"),
                                            estimators, config.coherence_band,
                                            geometry=geometry)
        sp = SpindleSources(index=k, onset=onset, duration=dur, stcs=stcs,
                            figures=figures, maps=maps, spectra={},
                            pair_sample={m: pairwise_correlation_sample(tc, 5000, seed=k)
                                         for m, tc in tcs.items()}, kind=kinds[k],
                            too_short={e: v is None for e, v in st.items()})
        if pool is not None:
            pool.add("obs", st, k)
        if nulls[k] is not None:
            _, ntcs, ntcs_n = courses(nulls[k], dur, f"null segment of spindle {k}")
            sp.null_onset = nulls[k]
            sp.null_figures, _, nst = segment_figures(
                ntcs, ntcs_n.get("eeg"), ntcs_n.get("meg"), estimators,
                config.coherence_band, geometry=geometry)
            if pool is not None:
                pool.add("null", nst, k)
            del ntcs, ntcs_n
        if both and config.null:
            cur = (tcs["eeg"], tcs_n["eeg"])
            if k == 0:
                first_eeg = cur
            else:
                _cross(sp, cur, prev_meg, estimators, config, pool, k)
            prev_meg = (tcs["meg"], tcs_n["meg"])
        results.append(sp)
        if on_spindle is not None:
            on_spindle(sp)
    if both and config.null and len(results) > 1:
        _cross(results[0], first_eeg, prev_meg, estimators, config, pool, 0)
    yield Progress(n_steps - 1, n_steps, "Nulls, intervals and p-values")
    result = AnalysisResult(config=config, spindles=results, sfreq=sfreq,
                            vertices=first.vertices, subject=first.subject)
    finish_stats(result, pool)
    yield Progress(n_steps, n_steps, "Source analysis done")
    logger.info("Analysed %d spindles", len(results))
    return result


def _cross(target, eeg, meg, estimators, config, pool, k):
    """Cross-spindle pair: EEG of spindle k with MEG of spindle k-1, cut to
    the shorter of the two; stored on spindle k (``target``)."""
    n = min(eeg[0].shape[1], meg[0].shape[1])
    figures, _, st = segment_figures({"eeg": eeg[0][:, :n], "meg": meg[0][:, :n]},
                                     eeg[1][:, :n], meg[1][:, :n], estimators,
                                     config.coherence_band, within=False)
    target.cross_figures = figures
    if pool is not None:
        pool.add("cross", st, k)
