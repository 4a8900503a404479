"""Per-spindle source estimates for EEG, MEG and MEG+EEG, and their synchrony.

:func:`iter_analysis` is the whole pipeline behind ``main.py analyze`` and the
GUI's source workspace: inverse operators per sensor set (kernel computed
once each), then for every spindle the band-passed sensor data → dSPM time
courses per modality → synchrony figures (:mod:`core.synchrony`). It is a
generator that yields :class:`~core.utils.Progress` and stops between
spindles when closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .inverse import (MODALITIES, InverseSettings, check_modality, inverse_kernel,
                      make_inverse)
from .synchrony import SCALARS, pairwise_correlation_sample, spindle_synchrony
from .utils import Progress, SpindleScopeError, check_range, logger


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
        Band over which coherence is averaged.
    pad : float
        Seconds read on both sides of a spindle so that filtering has no edge
        effect inside it.
    mvdr_order : int | None
        MVDR filter length (samples); default ``sfreq / 8``.
    """

    inverse: InverseSettings = field(default_factory=InverseSettings)
    band: tuple | None = (10.0, 15.0)
    coherence_band: tuple = (10.0, 15.0)
    pad: float = 1.0
    mvdr_order: int | None = None
    modalities: tuple = MODALITIES

    def __post_init__(self):
        if self.band is not None:
            lo, hi = self.band
            check_range("band low edge", lo, 0.1, 1e4)
            check_range("band high edge", hi, lo, 1e4)
        check_range("pad", self.pad, 0.0, 30.0)
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


@dataclass
class SpindleSources:
    """Results of one spindle."""

    index: int
    onset: float
    duration: float
    stcs: dict            # modality -> mne.SourceEstimate (dSPM values)
    figures: dict         # scalar synchrony figures (SCALARS)
    maps: dict            # per-source arrays: between_r_map, coherence_*_map
    spectra: dict         # welch_freqs, welch_spectrum, mvdr_freqs, mvdr_spectrum
    pair_sample: dict     # modality -> sampled pairwise correlations


@dataclass
class AnalysisResult:
    """Everything :func:`iter_analysis` computed."""

    config: AnalysisConfig
    spindles: list
    sfreq: float
    vertices: list
    subject: str | None

    def summary(self) -> dict:
        """Per-figure mean, SD and per-spindle values (JSON-ready)."""
        out = {"n_spindles": len(self.spindles),
               "method": self.config.inverse.method,
               "snr": self.config.inverse.snr,
               "band": list(self.config.band) if self.config.band else None,
               "coherence_band": list(self.config.coherence_band),
               # what the sources see: MNE needs the EEG average reference
               "montage": "EEG average reference (projector); MEG as recorded"}
        for key in SCALARS:
            vals = [s.figures[key] for s in self.spindles if key in s.figures]
            if not vals:
                continue
            out[key] = float(np.mean(vals))
            out[key + "_sd"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            out[key + "_per_spindle"] = [float(v) for v in vals]
        return out

    def mean_map(self, key: str) -> np.ndarray:
        """A per-source map averaged over spindles."""
        return np.mean([s.maps[key] for s in self.spindles], axis=0)


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


def _bandpass(data, sfreq, band):
    from scipy.signal import butter, sosfiltfilt

    if band[1] >= sfreq / 2:
        raise SpindleScopeError(
            f"The band {band[0]:g}–{band[1]:g} Hz reaches the Nyquist frequency "
            f"({sfreq / 2:g} Hz) of this recording; lower its high edge.")
    sos = butter(4, band, btype="bandpass", fs=sfreq, output="sos")
    return sosfiltfilt(sos, data, axis=-1)


def iter_analysis(rec, spindles, fwd, noise_cov, config: AnalysisConfig | None = None,
                  keep_stcs: bool = True, stc_dtype=np.float64, on_spindle=None):
    """Per-spindle dSPM sources per modality and their synchrony.

    Parameters
    ----------
    rec : Recording
    spindles : list of Spindle | list of (onset, duration)
    fwd : mne.Forward
        Forward model covering the recording's MEG and EEG channels.
    noise_cov : mne.Covariance
    config : AnalysisConfig
    keep_stcs : bool
        Keep the per-spindle SourceEstimates (needed to write them).
    stc_dtype : dtype
        Precision the kept estimates are stored in as each spindle finishes
        (the figures are always computed in double precision); float32 halves
        the memory the movies of a whole night's spindles take.
    on_spindle : callable | None
        Called with each :class:`SpindleSources` as soon as it is done (e.g.
        to write its estimates and drop them: memory stays bounded).

    Yields
    ------
    progress : Progress

    Returns
    -------
    result : AnalysisResult
    """
    import mne

    config = config or AnalysisConfig()
    info = rec.info
    for mod in config.modalities:
        check_modality(info, mod)
    spindles = check_spindles(spindles, rec.duration, config.min_duration())
    if config.band is not None and config.band[1] >= rec.sfreq / 2:
        raise SpindleScopeError(
            f"The band {config.band[0]:g}–{config.band[1]:g} Hz reaches the Nyquist "
            f"frequency ({rec.sfreq / 2:g} Hz) of this recording; lower its high edge.")
    n_steps = len(config.modalities) + len(spindles)
    kernels, normals = {}, {}
    for i, mod in enumerate(config.modalities):
        yield Progress(i, n_steps, f"Inverse operator ({mod.upper()})")
        inv = make_inverse(info, fwd, noise_cov, mod, config.inverse,
                           maxfiltered=rec.is_maxfiltered)
        kernels[mod] = inverse_kernel(inv, info, mod, config.inverse)
        if mod in ("eeg", "meg"):
            ori = "normal" if kernels[mod].n_ori == 3 else None
            normals[mod] = (inverse_kernel(inv, info, mod, config.inverse, ori)
                            if ori else kernels[mod])
    first = next(iter(kernels.values()))
    names = sorted({n for k in kernels.values() for n in k.ch_names},
                   key=rec.ch_names.index)
    pos = {n: i for i, n in enumerate(names)}
    rows = {m: [pos[n] for n in k.ch_names] for m, k in kernels.items()}
    sfreq = rec.sfreq
    results = []
    for k, (onset, dur) in enumerate(spindles):
        yield Progress(len(config.modalities) + k, n_steps,
                       f"Spindle {k + 1}/{len(spindles)} at {onset:.1f} s")
        s0, s1 = rec.time_to_sample(onset), rec.time_to_sample(onset + dur)
        pad = int(round(config.pad * sfreq)) if config.band is not None else 0
        r0, r1 = max(0, s0 - pad), min(rec.n_times, s1 + pad)
        data = rec.get_samples(r0, r1, rec.pick_indices(names))
        if not np.isfinite(data).all():
            raise SpindleScopeError(
                f"Spindle {k} (onset {onset:.2f} s) contains NaN or infinite "
                f"samples; mark the segment bad or fix the recording.")
        if config.band is not None:
            data = _bandpass(data, sfreq, config.band)
        data = data[:, s0 - r0:s1 - r0]
        tcs, tcs_n, stcs = {}, {}, {}
        for mod, kern in kernels.items():
            tcs[mod] = kern.apply(data[rows[mod]])
            if mod in normals:
                tcs_n[mod] = (tcs[mod] if normals[mod] is kern
                              else normals[mod].apply(data[rows[mod]]))
            if keep_stcs:
                stcs[mod] = mne.SourceEstimate(
                    tcs[mod].astype(stc_dtype, copy=False),
                    [v.copy() for v in kern.vertices], tmin=s0 / sfreq,
                    tstep=1.0 / sfreq, subject=kern.subject)
        figures, maps, spectra = {}, {}, {}
        if "eeg" in tcs and "meg" in tcs:
            syn = spindle_synchrony(tcs["eeg"], tcs["meg"], sfreq,
                                    meeg=tcs.get("meeg"),
                                    band=config.coherence_band,
                                    eeg_n=tcs_n["eeg"], meg_n=tcs_n["meg"],
                                    mvdr_order=config.mvdr_order)
            for key, val in syn.items():
                if key.endswith("_map"):
                    maps[key] = val
                elif key.endswith(("_freqs", "_spectrum")):
                    spectra[key] = val
                else:
                    figures[key] = val
        else:
            from .synchrony import mean_pairwise_correlation

            for mod, tc in tcs.items():
                figures[f"{mod}_within_r"] = mean_pairwise_correlation(tc)
        sample = {m: pairwise_correlation_sample(tc, 5000, seed=k)
                  for m, tc in tcs.items()}
        results.append(SpindleSources(index=k, onset=onset, duration=dur, stcs=stcs,
                                      figures=figures, maps=maps, spectra=spectra,
                                      pair_sample=sample))
        if on_spindle is not None:
            on_spindle(results[-1])
    yield Progress(n_steps, n_steps, "Source analysis done")
    logger.info("Analysed %d spindles", len(results))
    return AnalysisResult(config=config, spindles=results, sfreq=sfreq,
                          vertices=first.vertices, subject=first.subject)
