"""Automatic spindle detection on EEG and MEG, chunked over a full night.

Two detectors live in a registry (:data:`DETECTORS`):

``"a7"``
    After Lacourse et al. (2019), "A sleep spindle detection algorithm that
    emulates human expert spindle scoring", J. Neurosci. Methods 316, 3-11
    (the A7 detector). Four features on 0.3-s windows sliding by 0.1 s:
    absolute sigma power (log10 of the mean square of the 11-16 Hz signal,
    threshold 1.25 log10 µV²), relative sigma power (log10 of the 11-16 Hz
    over 4.5-30 Hz power of a Hann-windowed, 2-s zero-padded spectrum,
    z-scored against the 30 s of valid context around it, threshold 1.6),
    sigma covariance (log10(1 + covariance) of the broadband and sigma
    signals, z-scored the same way, threshold 1.3) and sigma correlation
    (Pearson r of the same two signals, threshold 0.69). A spindle is where
    all four agree, extended at both ends while absolute power and covariance
    stay above threshold, lasting 0.3-2.5 s. The z-score context keeps only
    the values between the 10th and 90th percentiles of the whole baseline,
    as in the authors' MATLAB release.
``"yasa"``
    A YASA-style detector (Vallat & Walker 2021; ``yasa.spindles_detect``
    defaults; sigma filter edges at the -6 dB points of YASA's FIR, 11.25
    and 15.75 Hz): relative power 12-15 / 1-30 Hz on 2-s windows >= 0.2,
    moving correlation of the sigma and broadband signals >= 0.65 and
    moving RMS of the sigma signal >= mean + 1.5 trimmed SD, all three
    together; events closer than 0.5 s merged, lasting 0.5-2 s.

Every threshold is a parameter. Detection runs per channel and per modality
(EEG, magnetometers, gradiometers); channel detections are merged into events
labelled with the modalities that saw them (``"eeg"``, ``"meg"`` or
``"both"``). The recording is read in chunks (never whole), features are kept
at the 0.1-s window step only, and the whole run is a generator yielding
:class:`~core.utils.Progress`.

Choices the published method leaves open (documented, and the same for every
recording): the sigma and broadband signals are filtered in the frequency
domain with the exact magnitude response of the zero-phase (forward-backward)
order-20 Butterworth filters of the A7 release; the broadband ("raw") signal
used for covariance, correlation and the spectra is low-passed at 30 Hz
(0.95 x Nyquist when that is lower), as the A7 release expects its input
("EEG filtered 0-30 Hz"), so that its bandwidth -- and with it the sigma
correlation and covariance -- does not grow with the sampling rate (an
unfiltered 1-kHz MEG/EEG signal would carry line noise and muscle activity up
to 500 Hz into the correlation with the sigma signal; ``broad=None`` keeps
the unfiltered signal);
MEG has no published absolute sigma-power threshold, so for magnetometers and
gradiometers the absolute criterion is adaptive (z-score of the log power
against the channel's trimmed baseline, ``abs_pow_z``).

This module holds the parameters, the data sources, the chunked driver and
the merging of channel detections; the filters, window features and
per-channel decisions live in :mod:`core.detection.dsp`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.detection.dsp import (_DECIDE, _FEATURES, _broad_band, _cumsum0, _fft_filter,
                                _Geometry, _sigma_band, _window_sums)
from core.utils import (Progress, SpindleScopeError, check_option, check_range, logger,
                        rescale_progress, run_with_progress)
from core.utils.vocabulary import DETECTION_SENSORS, SENSOR_TYPES, SET_TYPES

#: Scale from SI units to the units the thresholds are expressed in.
UNIT_SCALE = {"eeg": 1e6, "eog": 1e6, "mag": 1e15, "grad": 1e13}
UNIT_NAME = {"eeg": "µV", "eog": "µV", "mag": "fT", "grad": "fT/cm"}
#: Default share of a modality's channels that must show a spindle for the
#: event to count as visible in that modality (at least one channel).
MIN_CHANNEL_FRACTION = 0.02

from core.detection.params import (A7Params, YasaParams, DETECTORS, PARAM_HELP,
                                   param_overrides, make_params, _check_types, _check_params,
                                   check_sfreq)

# --------------------------------------------------------------------------
# Data sources
# --------------------------------------------------------------------------


class ArraySource:
    """An in-memory recording with the reading interface of ``Recording``.

    Parameters
    ----------
    data : array, shape (n_channels, n_times)
        Signals in SI units (V for EEG, T for magnetometers, T/m for
        gradiometers).
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str | None
        Names (default ``EEG000``...).
    ch_types : list of str | str
        ``'eeg'``, ``'mag'`` or ``'grad'`` per channel (or one for all).
    """

    def __init__(self, data, sfreq, ch_names=None, ch_types="eeg"):
        data = np.asarray(data, float)
        if data.ndim == 1:
            data = data[None]
        if data.ndim != 2:
            raise SpindleScopeError(
                f"Signals must be an array of shape (n_channels, n_times), "
                f"got shape {data.shape}.")
        self.data = data
        self.sfreq = float(check_range("sfreq", sfreq, 1e-3))
        n = data.shape[0]
        self.ch_names = list(ch_names) if ch_names is not None else [
            f"EEG{i:03d}" for i in range(n)]
        if isinstance(ch_types, str):
            ch_types = [ch_types] * n
        self.ch_types = list(ch_types)
        if len(self.ch_names) != n or len(self.ch_types) != n:
            raise SpindleScopeError(
                f"Got {n} signals but {len(self.ch_names)} names and "
                f"{len(self.ch_types)} types: give one of each per signal.")
        self.path = None

    @property
    def n_times(self):
        return self.data.shape[1]

    @property
    def duration(self):
        return self.n_times / self.sfreq

    @property
    def groups(self):
        out = {g: [] for g in ("eeg", "mag", "grad", "eog", "other")}
        for name, kind in zip(self.ch_names, self.ch_types):
            out[kind if kind in out else "other"].append(name)
        return out

    def pick_indices(self, picks=None):
        from core.io.recording import Recording

        return Recording.pick_indices(self, picks)

    def get_samples(self, start, stop, idx):
        return self.data[np.asarray(idx, int), int(start):int(stop)]


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass
class DetectionResult:
    """What a detection run found.

    Attributes
    ----------
    method : str
        Detector name.
    params : object
        The parameters used.
    channel_events : list of Spindle
        One spindle per channel detection (``channels`` has one name).
    events : list of Spindle
        Channel detections merged across channels, with ``visibility``.
    channels : list of str
        Channels analysed.
    skipped : dict
        Channel name → reason it was left out (flat, NaN).
    montage : str
        The montage read (:class:`core.io.montage.MontageSource`), or
        ``'As recorded'``.
    """

    method: str
    params: object
    channel_events: list = field(default_factory=list)
    events: list = field(default_factory=list)
    channels: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    montage: str = "As recorded"


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

#: Sensors a detection runs on (its ``modality`` option) → channel types.
_MODALITY_TYPES = {None: SENSOR_TYPES, "all": SENSOR_TYPES,
                   **{k: SET_TYPES.get(k, SENSOR_TYPES) for k in DETECTION_SENSORS}}


def _resolve_channels(source, picks, modality):
    check_option("modality", modality, _MODALITY_TYPES)
    allowed = _MODALITY_TYPES[modality]
    idx = source.pick_indices(picks if picks is not None else None)
    types = list(source.ch_types)
    keep = [int(i) for i in idx if types[i] in allowed]
    dropped = [source.ch_names[i] for i in idx if types[i] not in allowed]
    if dropped and picks is not None:
        logger.info("Left out %d channel(s) not of type %s: %s", len(dropped),
                    "/".join(allowed), ", ".join(dropped[:8]))
    if not keep:
        present = sorted({types[i] for i in idx})
        raise SpindleScopeError(
            f"No channel to detect spindles on: modality {modality!r} needs "
            f"{'/'.join(allowed).upper()} channels but the selection has only "
            f"{', '.join(present) or 'none'}. Choose another --modality or "
            f"--picks.")
    return np.array(keep, int), [types[i] for i in keep]


def _window_validity(geom, hypnogram, stages, duration):
    if hypnogram is None:
        return None
    from core.scoring.staging import STAGES, check_hypnogram_length

    check_hypnogram_length(hypnogram, duration)

    for s in stages:
        check_option("stages", s, STAGES)
    good = np.isin(np.asarray(hypnogram.stages, object), list(stages))
    t0 = geom.starts(0, geom.n_win) / geom.sfreq
    t1 = t0 + (geom.L - 1) / geom.sfreq
    e0 = np.floor(t0 / hypnogram.epoch_length).astype(int)
    e1 = np.floor(t1 / hypnogram.epoch_length).astype(int)
    n = len(good)
    g0 = np.where(e0 < n, good[np.clip(e0, 0, n - 1)], False)
    g1 = np.where(e1 < n, good[np.clip(e1, 0, n - 1)], False)
    return g0 & g1


def _read_padded(source, s0, s1, pad, idx, n_times):
    a, b = max(0, s0 - pad), min(n_times, s1 + pad)
    x = np.array(source.get_samples(a, b, idx), float, copy=True)
    left = a - (s0 - pad)
    right = (s1 + pad) - b
    if left > 0 or right > 0:
        mode = "reflect" if x.shape[1] > max(left, right) else "edge"
        if x.shape[1] == 0:
            x = np.zeros((x.shape[0], 1))
            mode = "edge"
        x = np.pad(x, ((0, 0), (left, right)), mode=mode)
    return x, s0 - pad  # sample index of x[:, 0]


def iter_detect(source, *, method="a7", picks=None, modality=None,
                hypnogram=None, stages=None, baseline_stages=None, params=None,
                min_channels=None, chunk_samples=2_000_000, channels_per_pass=64):
    """Detect spindles chunk by chunk; a generator of progress.

    Parameters
    ----------
    source : Recording | ArraySource
        What to read from (never read whole).
    method : str
        ``"a7"`` (default) or ``"yasa"``.
    picks : list of str | None
        Channel names or groups; None for every EEG/MEG channel.
    modality : None | 'eeg' | 'meg' | 'mag' | 'grad' | 'both'
        Which sensor types to use (None / 'both': EEG and MEG).
    hypnogram : Hypnogram | None
        Sleep stages; with it, detection (and the A7 baselines) are
        restricted to ``stages``.
    stages : sequence of str | None
        Stages to search (default N2 and N3 when a hypnogram is given).
    baseline_stages : sequence of str | None
        Stages whose windows form the A7 z-score baselines and YASA's RMS
        threshold (default: ``stages``; the A7 release uses N2).
    params : dict | A7Params | YasaParams | None
        Thresholds and settings; a dict overrides the defaults.
    min_channels : int | None
        Channels of a modality needed to call an event visible in it; None
        (default) for 2 % of the modality's analysed channels, at least 1
        (2 of 60 EEG, 7 of 306 MEG).
    chunk_samples : int
        Samples (channels × time) read at once; bounds memory.
    channels_per_pass : int
        Channels analysed per pass over the file. Features are kept for the
        whole night (4 bytes per feature, channel and 0.1-s window), so a
        group bounds memory (64 channels x 8 h: ~0.3 GB); more channels mean
        more passes over the file.

    Yields
    ------
    progress : Progress

    Returns
    -------
    result : DetectionResult
    """
    check_option("method", method, DETECTORS)
    if params is None or isinstance(params, dict):
        params = make_params(method, **(params or {}))
    elif not isinstance(params, DETECTORS[method]):
        raise SpindleScopeError(
            f"params must be a dict or {DETECTORS[method].__name__} for the "
            f"{method!r} detector, got {type(params).__name__}.")
    else:
        _check_params(params)
    p = params
    sfreq = float(source.sfreq)
    check_sfreq(sfreq, p.sigma[1])
    idx, types = _resolve_channels(source, picks, modality)
    names = [source.ch_names[i] for i in idx]
    n_ch = len(idx)
    n_times = int(source.n_times)
    geom = _Geometry(n_times, sfreq, p.window, p.step)
    if geom.n_win < 1:
        raise SpindleScopeError(
            f"The recording is too short ({n_times / sfreq:.3f} s) for "
            f"spindle detection on {p.window:g}-s windows.")
    if hypnogram is not None and stages is None:
        stages = ("N2", "N3")
    stage_valid = _window_validity(geom, hypnogram, stages or (),
                                   n_times / sfreq)
    if stage_valid is not None and not stage_valid.any():
        raise SpindleScopeError(
            f"The hypnogram has no epoch of stage {'/'.join(stages)}: there is "
            f"nothing to search. Score those stages first, or choose other "
            f"stages (or detect without a hypnogram).")
    base_valid = stage_valid
    if hypnogram is not None and baseline_stages is not None:
        base_valid = _window_validity(geom, hypnogram, baseline_stages,
                                      n_times / sfreq)
    if method == "a7" and p.abs_mode == "auto":
        # EEG alone: the published absolute threshold (µV²). With MEG in the
        # run, every modality gets the same adaptive criterion so that EEG
        # and MEG visibility are judged alike.
        from dataclasses import replace as _replace

        mixed = any(t in ("mag", "grad") for t in types)
        p = _replace(p, abs_mode="adaptive" if mixed else "absolute")

    groups = [np.arange(i, min(i + channels_per_pass, len(idx)))
              for i in range(0, len(idx), channels_per_pass)]
    n_chunks = [_n_chunks(geom, len(g), chunk_samples, p) for g in groups]
    total = sum(2 * n + 1 for n in n_chunks)
    done = 0
    channel_events, skipped = [], {}
    for g, n_c in zip(groups, n_chunks):
        gen = _detect_group(source, idx[g], [types[i] for i in g],
                            [names[i] for i in g], method, p, geom, stage_valid,
                            base_valid, chunk_samples)
        ev, sk = yield from rescale_progress(gen, done, 2 * n_c + 1, total)
        channel_events += ev
        skipped.update(sk)
        done += 2 * n_c + 1
    if len(skipped) == len(idx):
        raise SpindleScopeError(
            f"No usable channel for spindle detection: every selected channel "
            f"is flat or NaN ({'; '.join(f'{k}: {v}' for k, v in list(skipped.items())[:5])}"
            f"). Check the recording or choose other channels.")
    channel_events.sort(key=lambda s: (s.onset, s.channels))
    used = [t for n, t in zip(names, types) if n not in skipped]
    if min_channels is None:
        n_eeg = sum(t == "eeg" for t in used)
        n_meg = sum(t in ("mag", "grad") for t in used)
        min_channels = (max(1, math.ceil(MIN_CHANNEL_FRACTION * n_eeg)),
                        max(1, math.ceil(MIN_CHANNEL_FRACTION * n_meg)))
    events = merge_channel_events(channel_events, min_channels=min_channels,
                                  origin=method)
    return DetectionResult(method=method, params=p,
                           channel_events=channel_events, events=events,
                           channels=[n for n in names if n not in skipped],
                           skipped=skipped,
                           montage=getattr(source, "montage_name", "As recorded"))


def _n_chunks(geom, n_ch, chunk_samples, p):
    per = _windows_per_chunk(geom, n_ch, chunk_samples, p)
    return len(range(0, geom.n_win, per))


def _windows_per_chunk(geom, n_ch, chunk_samples, p):
    return max(int(chunk_samples / max(n_ch, 1) / (p.step * geom.sfreq)),
               int(60 / p.step))


def _detect_group(source, idx, types, names, method, p, geom, stage_valid,
                  base_valid, chunk_samples):
    """Passes 1-3 over the recording for one group of channels.

    Yields progress (done counted within the group) and returns
    (channel_events, skipped).
    """
    from core.scoring.spindles import Spindle

    sfreq = geom.sfreq
    n_ch = len(idx)
    n_times = int(source.n_times)
    scale = np.array([UNIT_SCALE[t] for t in types])
    is_eeg = np.array([t == "eeg" for t in types])

    # ---- pass 1: window features, chunk by chunk --------------------------
    L = geom.L
    pad = int(round(8.0 * sfreq))
    win_per_chunk = _windows_per_chunk(geom, n_ch, chunk_samples, p)
    bounds = list(range(0, geom.n_win, win_per_chunk)) + [geom.n_win]
    n_chunks = len(bounds) - 1
    # the slow-ratio band powers are kept only when the context classifier
    # is on (memory: 4 bytes per feature, channel and 0.1-s window)
    n_feat = (6 if p.context_classifier else 4) if method == "a7" else 3
    feats = np.full((n_feat, n_ch, geom.n_win), np.nan, np.float32)
    bad_w = np.zeros((n_ch, geom.n_win), bool)
    lo = np.full(n_ch, np.inf)
    hi = np.full(n_ch, -np.inf)
    n_finite = np.zeros(n_ch, np.int64)
    compute = _FEATURES[method]
    total = 2 * n_chunks + 1
    label = f"{method.upper()} on {n_ch} channel(s)"
    for c in range(n_chunks):
        k0, k1 = bounds[c], bounds[c + 1]
        st = geom.starts(k0, k1)
        s0, s1 = int(st[0]), int(st[-1]) + L
        x, origin = _read_padded(source, s0, s1, pad, idx, n_times)
        x *= scale[:, None]
        fin = np.isfinite(x)
        core = slice(s0 - origin, s1 - origin)
        xc = np.where(fin[:, core], x[:, core], np.nan)
        n_finite += fin[:, core].sum(1)
        with np.errstate(invalid="ignore"):
            lo = np.fmin(lo, np.nanmin(xc, axis=1, initial=np.inf))
            hi = np.fmax(hi, np.nanmax(xc, axis=1, initial=-np.inf))
        if not fin.all():
            x[~fin] = 0.0
            c_nan = _cumsum0((~fin).astype(float))
            bad_w[:, k0:k1] = _window_sums(c_nan, st - origin, L) > 0
        out = compute(x, sfreq, st - origin, p, is_eeg)
        for j in range(n_feat):
            feats[j, :, k0:k1] = out[j]
        del x, out
        yield Progress(c + 1, total, f"{label}: features {c + 1}/{n_chunks}")

    # ---- bad channels ------------------------------------------------------
    skipped = {}
    for i, name in enumerate(names):
        if n_finite[i] == 0:
            skipped[name] = "no finite sample (all NaN)"
        elif not hi[i] - lo[i] > 1e-9:
            skipped[name] = "flat signal (constant value)"
        elif n_finite[i] < 0.5 * (int(geom.starts(geom.n_win - 1, geom.n_win)[0]) + L):
            skipped[name] = "more than half of the samples are NaN"
    for name, why in skipped.items():
        logger.warning("Spindle detection skips channel %s: %s.", name, why)

    # ---- pass 2: decisions per channel ---------------------------------
    decide = _DECIDE[method]
    runs_per_ch = {}
    for i, name in enumerate(names):
        if name in skipped:
            continue
        valid = ~bad_w[i]
        det_valid = valid if stage_valid is None else valid & stage_valid
        base = valid if base_valid is None else valid & base_valid
        if base.sum() < 10 or det_valid.sum() < 1:
            continue
        fi = [f[i].astype(float) for f in feats]
        if method == "a7" and len(fi) == 4:
            fi += [None, None]
        runs = decide(fi, base, p, geom, types[i] == "eeg", det_valid)
        if len(runs):
            runs_per_ch[i] = runs
    yield Progress(n_chunks + 1, total, f"{label}: thresholds")

    # ---- pass 3: properties of each channel detection --------------------
    rel_feat = feats[1]  # relative sigma power (log10 ratio for A7)
    channel_events = []
    for c in range(n_chunks):
        k0, k1 = bounds[c], bounds[c + 1]
        # segments whose start falls in this chunk's windows
        chans = [i for i, r in runs_per_ch.items()
                 if np.any((r[:, 0] >= k0) & (r[:, 0] < k1))]
        if chans:
            st = geom.starts(k0, k1)
            s0 = int(st[0])
            s1 = min(n_times, int(st[-1]) + L + int(round(p.duration[1] * sfreq)))
            x, origin = _read_padded(source, s0, s1, pad, idx[chans], n_times)
            x *= scale[chans][:, None]
            x[~np.isfinite(x)] = 0.0
            sig, brd = _fft_filter(x, sfreq, [_sigma_band(p, sfreq), _broad_band(p, sfreq)],
                                   p.filter_order)
            for row, i in enumerate(chans):
                r = runs_per_ch[i]
                r = r[(r[:, 0] >= k0) & (r[:, 0] < k1)]
                for a, b in r:
                    channel_events.append(_channel_spindle(
                        Spindle, a, b, sig[row], brd[row], origin, sfreq, p,
                        names[i], types[i], method, rel_feat[i], geom))
            del x, sig, brd
        yield Progress(n_chunks + 2 + c, total,
                       f"{label}: properties {c + 1}/{n_chunks}")
    return channel_events, skipped


def _channel_spindle(Spindle, a, b, sig, brd, origin, sfreq, p, name, kind,
                     method, rel_feat, geom):
    from scipy.signal import find_peaks

    onset = a * p.step
    end = b * p.step
    i0 = int(round(onset * sfreq)) - origin
    i1 = max(i0 + 2, int(round(end * sfreq)) - origin)
    s = sig[i0:i1]
    w = brd[i0:i1]
    if len(w) > 2:
        t = np.arange(len(w)) - (len(w) - 1) / 2
        w = w - w.mean() - t * (t @ w) / (t @ t)
    dur = end - onset
    freq = _crossing_frequency(s, sfreq)
    pk = int(np.argmax(np.abs(s))) if len(s) else 0
    n_osc = len(find_peaks(s, height=0)[0]) if len(s) > 2 else 0
    rel = rel_feat[max(a - geom.n_over + 1, 0):max(b, a + 1)].astype(float)
    rel = rel[np.isfinite(rel)]
    rel_val = float(np.median(10 ** rel)) if (method == "a7" and len(rel)) else (
        float(np.median(rel)) if len(rel) else float("nan"))
    props = {
        "duration": round(dur, 4),
        "amplitude": float(np.ptp(w)) if len(w) else 0.0,
        "amplitude_sigma": float(np.ptp(s)) if len(s) else 0.0,
        "frequency": freq,
        "sigma_power": float(np.log10(np.mean(s * s))) if len(s) and np.any(s) else float("nan"),
        "rel_power": rel_val,
        "symmetry": float(pk / max(len(s) - 1, 1)),
        "oscillations": int(n_osc),
        "peak": float(onset + pk / sfreq),
        "unit": UNIT_NAME.get(kind, ""),
        "channel_type": kind,
    }
    vis = "eeg" if kind == "eeg" else "meg"
    return Spindle(onset=float(round(onset, 4)), duration=float(round(dur, 4)),
                   channels=(name,), visibility=vis, scorer="",
                   origin=method, status="candidate", properties=props)


def _crossing_frequency(s, sfreq):
    """Frequency from the interpolated zero crossings of a band-passed signal."""
    if len(s) < 3:
        return float("nan")
    i = np.flatnonzero(np.signbit(s[:-1]) != np.signbit(s[1:]))
    if len(i) < 3:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = s[i] / (s[i] - s[i + 1])
    t = (i + np.nan_to_num(frac, nan=0.5)) / sfreq
    return float((len(t) - 1) / (2 * (t[-1] - t[0])))


def merge_channel_events(channel_events, *, min_channels=1, origin=None):
    """Merge overlapping channel detections into events with visibility.

    Overlapping detections (on any channels) form one event whose onset and
    end are the medians of its members'; it is visible in EEG if at least
    ``min_channels`` EEG channels saw it, in MEG likewise for magnetometers
    and gradiometers together, and labelled ``"eeg"``, ``"meg"`` or
    ``"both"``.

    Parameters
    ----------
    channel_events : list of Spindle
        Single-channel detections (``properties['channel_type']`` set).
    min_channels : int | (int, int)
        Channels needed per modality (one number, or EEG and MEG).
    origin : str | None
        Origin of the merged events (default: that of the members).

    Returns
    -------
    events : list of Spindle
    """
    from core.scoring.spindles import Spindle

    if np.ndim(min_channels) == 0:
        min_channels = (int(min_channels), int(min_channels))
    min_eeg, min_meg = (max(1, int(v)) for v in min_channels)
    evs = sorted(channel_events, key=lambda s: s.onset)
    clusters = []
    cur, cur_end = [], -np.inf
    for s in evs:
        if cur and s.onset < cur_end:
            cur.append(s)
            cur_end = max(cur_end, s.end)
        else:
            if cur:
                clusters.append(cur)
            cur, cur_end = [s], s.end
    if cur:
        clusters.append(cur)
    out = []
    for cl in clusters:
        kinds = [m.properties.get("channel_type", "eeg") for m in cl]
        n_eeg = sum(k == "eeg" for k in kinds)
        n_mag = sum(k == "mag" for k in kinds)
        n_grad = sum(k == "grad" for k in kinds)
        in_eeg = n_eeg >= min_eeg
        in_meg = (n_mag + n_grad) >= min_meg
        if not (in_eeg or in_meg):
            continue
        vis = "both" if in_eeg and in_meg else ("eeg" if in_eeg else "meg")
        onset = float(np.median([m.onset for m in cl]))
        end = float(np.median([m.end for m in cl]))
        props = {"n_channels": len(cl), "n_eeg": n_eeg, "n_mag": n_mag,
                 "n_grad": n_grad}
        for key in ("frequency", "oscillations", "symmetry", "rel_power"):
            vals = [m.properties.get(key) for m in cl]
            vals = [v for v in vals if v is not None and np.isfinite(v)]
            if vals:
                props[key] = float(np.median(vals))
        for kind in ("eeg", "mag", "grad"):
            amps = [m.properties.get("amplitude", 0.0) for m, k in zip(cl, kinds)
                    if k == kind]
            if amps:
                props[f"amplitude_{kind}"] = float(np.max(amps))
        props["duration"] = round(end - onset, 4)
        chans = tuple(dict.fromkeys(c for m in cl for c in m.channels))
        out.append(Spindle(onset=round(onset, 4), duration=round(end - onset, 4),
                           channels=chans, visibility=vis,
                           origin=origin or cl[0].origin, status="candidate",
                           properties=props))
    return out


def detect(source, *, progress=None, **kwargs):
    """Detect spindles (see :func:`iter_detect`) and return the result."""
    return run_with_progress(iter_detect(source, **kwargs), progress)


def detect_array(data, sfreq, *, ch_names=None, ch_types="eeg", **kwargs):
    """Detect spindles on in-memory signals in SI units (V, T, T/m)."""
    return detect(ArraySource(data, sfreq, ch_names, ch_types), **kwargs)
