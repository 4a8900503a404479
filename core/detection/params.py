"""Spindle detector definitions: the A7 and YASA-style parameter sets, their
published defaults, help texts and checks (used by :mod:`core.detection.detector`,
the CLI's ``detect --set`` and the app's parameter form)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.utils import SpindleScopeError, check_option, check_range
from core.utils.dsp import check_nyquist

# --------------------------------------------------------------------------
# Detector definitions
# --------------------------------------------------------------------------


@dataclass
class A7Params:
    """Parameters of the A7 detector (Lacourse et al. 2019 defaults)."""

    abs_pow: float = 1.25          # log10 µV², absolute sigma power (EEG)
    rel_pow: float = 1.6           # z, relative sigma power
    cov: float = 1.3               # z, sigma covariance
    corr: float = 0.69             # r, sigma correlation
    abs_pow_z: float = 1.0         # z, adaptive absolute power (see abs_mode)
    abs_mode: str = "auto"         # "absolute" (EEG in µV), "adaptive", or "auto"
    sigma: tuple = (11.0, 16.0)    # Hz
    # Hz, band of the "raw" signal: DC-30 Hz as the A7 release's input
    # (upper edge capped at 0.95 x Nyquist); None for the unfiltered signal
    broad: tuple | None = (None, 30.0)
    total: tuple = (4.5, 30.0)     # Hz, denominator of relative power
    filter_order: int = 20
    window: float = 0.3            # s
    step: float = 0.1              # s
    zero_pad: float = 2.0          # s, spectrum length of the relative power
    context: float = 30.0          # s of valid windows for the z-scores
    percentiles: tuple = (10.0, 90.0)
    duration: tuple = (0.3, 2.5)   # s
    min_gap: float = 0.0           # s, merge detections closer than this
    context_classifier: bool = False  # reject detections out of NREM context
    slow_low: tuple = (0.5, 8.0)   # Hz, slow-ratio numerator
    slow_high: tuple = (16.0, 30.0)  # Hz, slow-ratio denominator
    slow_ratio: float = 0.9        # log10(1 + low/high) threshold


@dataclass
class YasaParams:
    """Parameters of the YASA-style detector (``yasa.spindles_detect``)."""

    rel_pow: float = 0.2
    corr: float = 0.65
    rms: float = 1.5
    sigma: tuple = (12.0, 15.0)
    broad: tuple = (1.0, 30.0)
    filter_order: int = 20
    transition: float = 0.75       # Hz: sigma filter edges at YASA's -6 dB points
    window: float = 0.3
    step: float = 0.1
    rel_window: float = 2.0
    duration: tuple = (0.5, 2.0)
    min_gap: float = 0.5


DETECTORS = {"a7": A7Params, "yasa": YasaParams}

#: Label and meaning of every detector parameter (the app's parameter form
#: and ``detect --set`` help use them). Units: Hz, s, z (SD from the
#: baseline mean), r (Pearson correlation).
PARAM_HELP = {
    "abs_pow": ("Absolute sigma power", "log10 µV²: mean square of the sigma-filtered EEG "
                "above which a window can hold a spindle (A7; EEG only)"),
    "abs_pow_z": ("Adaptive absolute power", "z: the absolute criterion against the "
                  "channel's own baseline, used for MEG and in adaptive mode"),
    "abs_mode": ("Absolute criterion", "'absolute' (published µV² threshold, EEG), "
                 "'adaptive' (z-score per channel) or 'auto' (absolute for EEG "
                 "alone, adaptive when MEG is analysed)"),
    "rel_pow": ("Relative sigma power", "A7: z of log10(sigma / total power); "
                "YASA: sigma share of the broadband power (0-1)"),
    "cov": ("Sigma covariance", "z of log10(1 + covariance of the broadband and "
            "sigma signals)"),
    "corr": ("Sigma correlation", "r between the broadband and sigma signals"),
    "rms": ("Sigma RMS", "SD: moving RMS of the sigma signal above mean + this "
            "many trimmed SDs"),
    "sigma": ("Sigma band", "Hz (low, high)"),
    "broad": ("Broadband", "Hz (low, high) of the 'raw' signal; 0 = no edge"),
    "total": ("Total band", "Hz (low, high): denominator of the relative power"),
    "transition": ("Sigma filter transition", "Hz added to both sigma edges "
                   "(YASA's FIR -6 dB points)"),
    "filter_order": ("Filter order", "order of the zero-phase Butterworth filters"),
    "window": ("Window", "s: length of the sliding feature window"),
    "step": ("Step", "s: step of the sliding window"),
    "rel_window": ("Relative-power window", "s: window of the relative power"),
    "zero_pad": ("Zero padding", "s: spectrum length of the relative power"),
    "context": ("Baseline context", "s of valid windows around each window for "
                "the z-scores"),
    "percentiles": ("Baseline percentiles", "(low, high): baseline values kept "
                    "for the z-scores"),
    "duration": ("Duration", "s (min, max) of a spindle"),
    "min_gap": ("Merge gap", "s: detections closer than this are merged"),
    "context_classifier": ("Context classifier", "drop detections outside a "
                           "NREM spectral context (A7 slow ratio)"),
    "slow_low": ("Slow-ratio low band", "Hz (low, high): numerator of the slow ratio"),
    "slow_high": ("Slow-ratio high band", "Hz (low, high): denominator of the slow ratio"),
    "slow_ratio": ("Slow-ratio threshold", "log10(1 + low/high power) of the "
                   "30-s context above which a detection is in NREM context"),
}


def param_overrides(params) -> dict:
    """The fields of ``params`` that differ from its detector's defaults.

    Parameters
    ----------
    params : A7Params | YasaParams

    Returns
    -------
    overrides : dict
        JSON-friendly (tuples as lists); ``make_params(method, **overrides)``
        rebuilds ``params``.
    """
    from dataclasses import asdict

    default = asdict(type(params)())
    out = {}
    for k, v in asdict(params).items():
        if v != default[k]:
            out[k] = list(v) if isinstance(v, tuple) else v
    return out


def make_params(method="a7", **overrides):
    """Parameters of a detector with some defaults changed.

    Parameters
    ----------
    method : str
        A key of :data:`DETECTORS`.
    **overrides
        Fields of the detector's parameter class.

    Returns
    -------
    params : A7Params | YasaParams
    """
    check_option("method", method, DETECTORS)
    cls = DETECTORS[method]
    names = set(cls.__dataclass_fields__)
    bad = sorted(set(overrides) - names)
    if bad:
        raise SpindleScopeError(
            f"Unknown parameter(s) {', '.join(map(repr, bad))} for the "
            f"{method!r} detector. Allowed are: {', '.join(sorted(names))}.")
    defaults = cls()
    fixed = {}
    for k, v in overrides.items():
        if k == "broad" and v is None:
            pass  # the unfiltered signal
        elif isinstance(getattr(defaults, k), tuple) or k == "broad":
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise SpindleScopeError(
                    f"Invalid value for the detector parameter {k!r}: expected "
                    f"two numbers (low, high), got {v!r}.")
            try:
                v = tuple(None if x is None else float(x) for x in v)
            except (TypeError, ValueError):
                raise SpindleScopeError(
                    f"Invalid value for the detector parameter {k!r}: expected "
                    f"two numbers (low, high), got {v!r}.") from None
        fixed[k] = v
    params = cls(**fixed)
    _check_types(params)
    _check_params(params)
    return params


def _check_types(p):
    """Numbers where numbers belong (settings files can hold anything)."""
    for name, default in vars(type(p)()).items():
        v = getattr(p, name)
        if isinstance(default, bool):
            if not isinstance(v, bool):
                raise SpindleScopeError(
                    f"Invalid value for the detector parameter {name!r}: "
                    f"expected true or false, got {v!r}.")
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            if name == "abs_pow" and v is None:  # no published threshold: adaptive
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise SpindleScopeError(
                    f"Invalid value for the detector parameter {name!r}: "
                    f"expected a finite number, got {v!r}.")


def _check_params(p):
    lo, hi = p.sigma
    if not 0 < lo < hi:
        raise SpindleScopeError(
            f"Invalid sigma band {p.sigma!r}: it must be (low, high) with "
            f"0 < low < high, e.g. (11, 16).")
    check_range("window", p.window, 0.05, 5)
    check_range("step", p.step, 0.01, p.window)
    dmin, dmax = p.duration
    if not 0 < dmin < dmax:
        raise SpindleScopeError(
            f"Invalid duration range {p.duration!r}: it must be (min, max) "
            f"in seconds with 0 < min < max.")
    if isinstance(p, A7Params):
        check_option("abs_mode", p.abs_mode, ("auto", "absolute", "adaptive"))
        if p.broad is not None:
            blo, bhi = p.broad
            if not ((blo is None or blo >= 0) and (bhi is None or bhi > (blo or 0))
                    and (bhi is None or bhi > p.sigma[1])):
                raise SpindleScopeError(
                    f"Invalid broad band {p.broad!r}: it must be (low, high) in "
                    f"Hz with 0 <= low < high (either may be None) and high "
                    f"above the sigma band, e.g. (None, 30); or None for the "
                    f"unfiltered signal.")
        check_range("context", p.context, 1, 3600)
        if not 0 <= p.percentiles[0] < p.percentiles[1] <= 100:
            raise SpindleScopeError(
                f"Invalid percentiles {p.percentiles!r}: expected "
                f"(low, high) within [0, 100].")


def check_sfreq(sfreq, sigma_high):
    """Raise a clear error when the rate cannot carry the sigma band."""
    check_nyquist(sigma_high, sfreq, "the sigma band")
