"""Noise covariances and inverse operators per sensor set (EEG, MEG, MEG+EEG).

The inverse kernels are taken from MNE itself (applying MNE's inverse to an
identity "recording" returns exactly the kernel MNE applies), computed once
per modality and reused for every spindle.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.utils import SpindleScopeError, check_option, check_range, logger
from core.utils.dsp import bandpass
from core.utils.vocabulary import SENSOR_LABELS, SENSOR_SETS

#: Sensor sets with an inverse solution (:data:`core.utils.vocabulary.SENSOR_SETS`).
MODALITIES = SENSOR_SETS
METHODS = ("dSPM", "MNE", "sLORETA", "eLORETA")
ORIENTATIONS = ("loose", "fixed")
MODALITY_LABEL = {k: SENSOR_LABELS[k] for k in SENSOR_SETS}


def modality_picks(info, modality: str) -> list[str]:
    """Names of the channels a modality uses (good MEG and/or EEG)."""
    check_option("modality", modality, MODALITIES)
    return sensor_picks(info, modality)


#: ``mne.pick_types`` arguments of each sensor set (inverse and resolution).
SENSOR_PICKS = {"meeg": dict(meg=True, eeg=True), "meg": dict(meg=True, eeg=False),
                "eeg": dict(meg=False, eeg=True), "mag": dict(meg="mag", eeg=False),
                "grad": dict(meg="grad", eeg=False)}


def sensor_picks(info, sensors: str, exclude="bads") -> list[str]:
    """Names of the channels of a sensor set (``SENSOR_PICKS``) in ``info``."""
    import mne

    check_option("sensors", sensors, tuple(SENSOR_PICKS))
    idx = mne.pick_types(info, **SENSOR_PICKS[sensors], exclude=exclude)
    return [info["ch_names"][i] for i in idx]


def has_eeg_average_ref(info) -> bool:
    """Whether ``info`` holds an average EEG reference projector."""
    from mne.io.constants import FIFF

    return any("Average EEG reference" in p["desc"]
               or p.get("kind") == FIFF.FIFFV_PROJ_ITEM_EEG_AVREF
               for p in info["projs"])


def with_eeg_average_ref(info):
    """``info`` with an (inactive) average EEG reference projector.

    The one place the inverse solutions (:func:`modality_info`) and the
    resolution analysis add it. ``info`` itself is returned when it has no
    EEG or already has the projector; otherwise a copy.
    """
    import mne

    if not len(mne.pick_types(info, meg=False, eeg=True, exclude=())) or \
            has_eeg_average_ref(info):
        return info
    # MNE makes the projector through an instance; a one-sample dummy does
    dummy = mne.io.RawArray(np.zeros((info["nchan"], 1)), info.copy(), verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dummy.set_eeg_reference("average", projection=True, verbose="error")
    out = info.copy()
    with out._unlock():
        out["projs"] = list(dummy.info["projs"])
    logger.info("Added an average-reference projection for EEG.")
    return out


def identity_kernel(info, apply):
    """Kernel of a linear inverse: ``apply`` to an identity evoked (nave 1).

    Parameters
    ----------
    info : mne.Info
        The channels (columns of the kernel, in order).
    apply : callable
        Takes an ``mne.Evoked`` and returns a source estimate.

    Returns
    -------
    stc : SourceEstimate-like
        What ``apply`` returned; its ``data`` (rows: sources, columns:
        channels) is the kernel.
    """
    import mne

    ev = mne.EvokedArray(np.eye(info["nchan"]), info, tmin=0.0, nave=1, verbose="error")
    return apply(ev)


def check_modality(info, modality: str):
    """Raise a clear error when the recording lacks a modality's sensors."""
    import mne

    check_option("modality", modality, MODALITIES)
    need = {"eeg": ["eeg"], "meg": ["meg"], "meeg": ["meg", "eeg"]}[modality]
    for kind in need:
        idx = mne.pick_types(info, meg=kind == "meg", eeg=kind == "eeg",
                             exclude="bads")
        if len(idx) == 0:
            raise SpindleScopeError(
                f"{MODALITY_LABEL[modality]} source analysis needs {kind.upper()} "
                f"channels, but the recording has none. Analyse the sensors it has "
                f"(analyze --modalities, or the Sources tab's sensor sets; the "
                f"recording has: "
                f"{', '.join(sorted(set(info.get_channel_types())))}).")
        if kind == "eeg":
            locs = np.array([info["chs"][i]["loc"][:3] for i in idx])
            if not (np.isfinite(locs).all() and (np.abs(locs).sum(1) > 0).all()):
                raise SpindleScopeError(
                    "The EEG channels have no sensor positions, so EEG source "
                    "analysis is impossible. Set a montage (digitised positions "
                    "or a standard cap) before the analysis.")
        if kind == "meg" and info["dev_head_t"] is None:
            raise SpindleScopeError(
                "The MEG device-to-head transform is missing, so MEG source "
                "analysis is impossible. Use a file with head-position "
                "information.")


# --------------------------------------------------------------------------
# Noise covariance
# --------------------------------------------------------------------------
COV_METHODS = ("ledoit_wolf", "shrunk", "auto", "empirical")


def _covariance(names, data_iter, projs=(), *, info=None, method: str = "ledoit_wolf",
                rank=None):
    """Noise covariance of equal-length segments, regularised by MNE.

    ``method`` is passed to :func:`mne.compute_covariance` ('ledoit_wolf':
    Ledoit–Wolf shrinkage, closed form; 'shrunk':
    Ledoit–Wolf shrinkage with the shrinkage chosen by cross-validation;
    'auto': MNE's choice among several by log-likelihood; 'empirical': no
    regularisation).
    """
    import mne

    check_option("noise covariance method", method, COV_METHODS)
    segs = [seg - seg.mean(axis=1, keepdims=True) for seg in data_iter]
    if not segs or sum(s.shape[1] for s in segs) < 2:
        raise SpindleScopeError(
            "No data were left to estimate the noise covariance. Give a "
            "baseline or empty-room file, or choose the diagonal covariance.")
    if info is None or method == "empirical" or len(segs) < 2:
        acc = sum(s @ s.T for s in segs)
        n = sum(s.shape[1] for s in segs)
        return mne.Covariance(acc / (n - 1), names, bads=[], projs=list(projs),
                              nfree=n - 1, verbose="error")
    sub = mne.pick_info(info, [info["ch_names"].index(n) for n in names])
    with sub._unlock():
        sub["bads"] = []
    epochs = mne.EpochsArray(np.stack(segs), sub, baseline=None, verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cov = mne.compute_covariance(epochs, method=method, rank=rank,
                                     verbose="error")
    if isinstance(cov, list):
        cov = cov[0]
    logger.info("Noise covariance regularised by MNE (%s)", cov.get("method", method))
    return cov


def cov_regularisation(cov) -> str:
    """How a noise covariance was regularised, for reports."""
    method = cov.get("method") if hasattr(cov, "get") else None
    if method in (None, "empirical") and not cov.get("diag", False):
        return "not regularised (as given)"
    if cov.get("diag", False):
        return "diagonal"
    return f"regularised with MNE's '{method}' estimator"


def noise_cov_from_recording(rec, intervals, exclude=(), *, seg_len: float = 2.0,
                             margin: float = 0.5, max_seconds: float = 300.0,
                             band=None, method: str = "ledoit_wolf"):
    """Noise covariance from spindle-free segments of the recording.

    Parameters
    ----------
    rec : Recording
        The recording.
    intervals : list of (float, float)
        Where to look, in seconds (typically the N2 epochs).
    exclude : list of (float, float)
        Intervals to avoid (spindles), widened by ``margin`` on both sides.
    seg_len : float
        Length of the segments read (s).
    max_seconds : float
        At most this much data is used, spread over the intervals.
    band : (float, float) | None
        Band-pass the segments as the analysed data are, so that whitening
        matches them (1 s read on both sides absorbs the filter's edges).
    method : 'ledoit_wolf' | 'shrunk' | 'auto' | 'empirical'
        Regularisation (:func:`mne.compute_covariance`, per channel type);
        default Ledoit–Wolf shrinkage with its closed-form shrinkage
        ('shrunk', which cross-validates the shrinkage, and 'auto' took
        ~40× longer on the demo's 366 channels).

    Returns
    -------
    cov : mne.Covariance
        Over all MEG and EEG channels.
    """
    names = [rec.ch_names[i] for i in rec.pick_indices(None)
             if rec.ch_types[i] in ("eeg", "mag", "grad")]
    if not names:
        raise SpindleScopeError("The recording has no MEG or EEG channels.")
    ex = sorted((a - margin, b + margin) for a, b in exclude)
    segs = []
    for a, b in sorted(intervals):
        t = max(0.0, a)
        while t + seg_len <= min(b, rec.duration):
            clash = [e for e in ex if e[0] < t + seg_len and e[1] > t]
            if clash:
                t = max(e[1] for e in clash)
                continue
            segs.append(t)
            t += seg_len
    if not segs:
        raise SpindleScopeError(
            "No spindle-free stretch of at least "
            f"{seg_len:g} s was found in the chosen sleep stages to estimate "
            "the noise covariance. Score N2 epochs first, or give a baseline "
            "or empty-room file, or choose the diagonal covariance.")
    n_use = int(max_seconds // seg_len)
    if len(segs) > n_use:
        segs = [segs[i] for i in np.linspace(0, len(segs) - 1, n_use).astype(int)]
    logger.info("Noise covariance from %d spindle-free segments (%.0f s)",
                len(segs), len(segs) * seg_len)
    q = max(1, int(rec.sfreq // (2.5 * band[1]))) if band is not None else 1

    def segments():
        for t in segs:
            if band is None:
                yield rec.get_chunk(t, t + seg_len, names)
                continue
            a = max(0.0, t - 1.0)
            data = _bandpass(rec.get_chunk(a, t + seg_len + 1.0, names), rec.sfreq, band)
            i0 = rec.time_to_sample(t) - rec.time_to_sample(a)
            # band-passed samples are strongly correlated: keeping every q-th
            # (still above twice the band's high edge) changes the estimate
            # little and makes MNE's regularised estimators several times faster
            yield data[:, i0:i0 + rec.time_to_sample(seg_len):q]

    rank = "info" if getattr(rec, "is_maxfiltered", False) else None
    return _covariance(names, segments(), info=rec.info, method=method, rank=rank)


def noise_cov_from_file(path, *, max_seconds: float = 300.0, band=None,
                        method: str = "ledoit_wolf"):
    """Noise covariance from a ``-cov.fif`` file or an empty-room/baseline file.

    Parameters
    ----------
    path : path-like
    max_seconds : float
        At most this much of a recording is used.
    band : (float, float) | None
        The band the analysed data are filtered to. A recording is band-passed
        the same way (band-consistent whitening); a warning is logged when its
        own filter band does not cover it, and when a ``-cov.fif`` file (which
        records no band) is used with band-passed data.
    method : str
        Regularisation of a covariance computed from a recording.
    """
    import mne

    from core.io.recording import open_recording

    path = Path(path)
    if not path.exists():
        raise SpindleScopeError(f"The noise-covariance file {str(path)!r} does not exist.")
    if path.name.endswith(("-cov.fif", "_cov.fif", "-cov.fif.gz")):
        try:
            cov = mne.read_cov(path, verbose="error")
        except Exception as exc:
            raise SpindleScopeError(
                f"Cannot read {path.name!r} as a noise covariance ({exc}).") from exc
        if band is not None:
            logger.warning(
                "The noise covariance %s records no frequency band, but the data "
                "are band-passed to %g–%g Hz: if it was computed on broadband "
                "data, whitening will not match them. Prefer a baseline or "
                "empty-room recording (band-passed like the data) or 'auto'.",
                path.name, band[0], band[1])
        return cov
    rec = open_recording(path)
    hp, lp = rec.info["highpass"], rec.info["lowpass"]
    if band is not None and (hp > band[0] + 1e-6 or lp < band[1] - 1e-6):
        logger.warning(
            "The noise recording %s was filtered to %g–%g Hz, which does not "
            "cover the analysed band %g–%g Hz: the covariance will not match "
            "the data.", path.name, hp, lp, band[0], band[1])
    stop = min(rec.duration, max_seconds)
    return noise_cov_from_recording(rec, [(0.0, stop)], band=band, method=method)


def noise_cov_diagonal(info):
    """Ad hoc diagonal noise covariance (MNE's default sensor noise levels)."""
    import mne

    return mne.make_ad_hoc_cov(info, verbose="error")


# --------------------------------------------------------------------------
# Inverse operators and kernels
# --------------------------------------------------------------------------
@dataclass
class InverseSettings:
    """Settings of the inverse solutions (MNE's defaults for dSPM)."""

    method: str = "dSPM"
    snr: float = 3.0
    loose: float = 0.2
    depth: float | None = 0.8
    orientation: str = "loose"

    def __post_init__(self):
        check_option("method", self.method, METHODS)
        check_option("orientation", self.orientation, ORIENTATIONS)
        check_range("snr", self.snr, 1e-3, 1e3)
        check_range("loose", self.loose, 0.0, 1.0)
        if self.depth is not None:
            check_range("depth", self.depth, 0.0, 1.0)

    @property
    def lambda2(self) -> float:
        return 1.0 / self.snr ** 2


def modality_info(info, modality: str):
    """``info`` restricted to a modality, with the EEG average-reference projector."""
    import mne

    check_modality(info, modality)
    sub = mne.pick_info(info, [info["ch_names"].index(n)
                               for n in modality_picks(info, modality)])
    with sub._unlock():
        sub["projs"] = [p for p in sub["projs"]
                        if set(p["data"]["col_names"]) <= set(sub["ch_names"])]
    if modality in ("eeg", "meeg"):
        sub = with_eeg_average_ref(sub)
    return sub


def make_inverse(info, fwd, cov, modality: str, settings: InverseSettings | None = None,
                 *, maxfiltered: bool = False):
    """Inverse operator for one sensor set.

    Parameters
    ----------
    info : mne.Info
        The recording's info.
    fwd : mne.Forward
        Forward model covering at least the modality's channels.
    cov : mne.Covariance
        Noise covariance covering the modality's channels.
    modality : 'eeg' | 'meg' | 'meeg'
        Sensor set.
    settings : InverseSettings
        Method, SNR, loose, depth.
    maxfiltered : bool
        Use ``rank='info'`` (Maxwell-filtered MEG).

    Returns
    -------
    inv : mne.minimum_norm.InverseOperator
    """
    import mne

    settings = settings or InverseSettings()
    sub = modality_info(info, modality)
    names = sub["ch_names"]
    missing_fwd = [n for n in names if n not in fwd["info"]["ch_names"]]
    if missing_fwd:
        raise SpindleScopeError(
            f"The forward model lacks {len(missing_fwd)} of the recording's "
            f"{MODALITY_LABEL[modality]} channels ({', '.join(missing_fwd[:4])}...). "
            "Compute the forward model for this recording's sensors.")
    missing_cov = [n for n in names if n not in cov["names"]]
    if missing_cov:
        raise SpindleScopeError(
            f"The noise covariance lacks {len(missing_cov)} of the "
            f"{MODALITY_LABEL[modality]} channels ({', '.join(missing_cov[:4])}...): "
            "it must cover every channel type used.")
    fwd_m = mne.pick_channels_forward(fwd, names, ordered=True, verbose="error")
    cov_m = cov.copy().pick_channels(names, ordered=True, verbose="error")
    loose = 0.0 if settings.orientation == "fixed" else settings.loose
    fixed = settings.orientation == "fixed"
    rank = "info" if (maxfiltered and modality != "eeg") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne.minimum_norm.make_inverse_operator(
            sub, fwd_m, cov_m, loose=loose, depth=settings.depth, fixed=fixed,
            rank=rank, verbose="error")


@dataclass
class InverseKernel:
    """A linear inverse kernel, computed once and applied to many segments.

    Attributes
    ----------
    kernel : array, shape (n_sources * n_ori, n_channels)
        ``n_ori`` is 3 for free/loose orientation with magnitude output.
    ch_names : list of str
        Channel order the kernel expects.
    vertices : list of array
        Source vertices per hemisphere.
    n_ori : int
        1 (signed output) or 3 (magnitude of the three components).
    """

    kernel: np.ndarray
    ch_names: list
    vertices: list
    n_ori: int
    method: str
    modality: str
    subject: str | None

    @property
    def n_sources(self) -> int:
        return self.kernel.shape[0] // self.n_ori

    def apply(self, data: np.ndarray) -> np.ndarray:
        """Source time courses of sensor data ordered as :attr:`ch_names`.

        Returns
        -------
        stc_data : array, shape (n_sources, n_times)
        """
        out = self.kernel @ data
        if self.n_ori == 3:
            out = np.linalg.norm(out.reshape(self.n_sources, 3, -1), axis=1)
        return out


def inverse_kernel(inv, info, modality: str, settings: InverseSettings | None = None,
                   pick_ori: str | None = None) -> InverseKernel:
    """Extract MNE's kernel by applying the inverse to an identity recording.

    Parameters
    ----------
    inv : InverseOperator
    info : mne.Info
        The recording's info (as given to :func:`make_inverse`).
    modality : 'eeg' | 'meg' | 'meeg'
    settings : InverseSettings
    pick_ori : None | 'normal'
        ``None`` gives MNE's default output (magnitude for loose orientation,
        signed for fixed); ``'normal'`` the signed component normal to the
        cortex.
    """
    import mne

    settings = settings or InverseSettings()
    check_option("pick_ori", pick_ori, (None, "normal"))
    sub = modality_info(info, modality)
    names = sub["ch_names"]
    free = inv["source_ori"] == 2  # FIFFV_MNE_FREE_ORI
    mne_ori = "vector" if (free and pick_ori is None) else pick_ori
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stc = identity_kernel(sub, lambda ev: mne.minimum_norm.apply_inverse(
            ev, inv, settings.lambda2, settings.method, pick_ori=mne_ori,
            verbose="error"))
    data = stc.data
    n_ori = 3 if data.ndim == 3 else 1
    kernel = data.reshape(-1, len(names))
    return InverseKernel(kernel=kernel, ch_names=list(stc.ch_names) if hasattr(
        stc, "ch_names") else names, vertices=[v.copy() for v in stc.vertices],
        n_ori=n_ori, method=settings.method, modality=modality,
        subject=stc.subject)


def _bandpass(data, sfreq, band):
    """Zero-phase 4th-order Butterworth band-pass (:func:`core.utils.dsp.bandpass`)."""
    return bandpass(data, sfreq, band, order=4, what="the band")
