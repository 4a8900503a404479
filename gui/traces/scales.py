"""Per-kind scales, units, colours and display filters of the trace browser.

A scorer reads each channel type at its own sensitivity and through its own
AASM display band: EEG and EOG 0.3–35 Hz, EMG 10–100 Hz, ECG 0.3–70 Hz,
respiration 0.1–15 Hz, temperature unfiltered, stim never filtered (drawn as
event ticks). Scales are stated per division (one channel spacing), the way
scorers set them (EEG 50 µV/div by default).
"""

from __future__ import annotations

import numpy as np

from core.session.settings import DEFAULT_SCALINGS

from gui.traces.rows import _VOLT_FACTORS, _nice

#: Display unit and factor from SI per channel kind ("" = the file's own unit).
UNITS = {"eeg": ("µV", 1e6), "eog": ("µV", 1e6), "mag": ("fT", 1e15),
         "grad": ("fT/cm", 1e13), "emg": ("µV", 1e6), "ecg": ("mV", 1e3),
         "resp": ("", 1.0), "temp": ("", 1.0), "stim": ("", 1.0), "misc": ("", 1.0),
         "other": ("", 1.0)}
#: Trace colour per channel kind.
GROUP_COLORS = {"eeg": (25, 55, 120), "eog": (110, 60, 160), "mag": (20, 110, 40),
                "grad": (10, 90, 100), "other": (80, 80, 80), "emg": (150, 40, 40),
                "ecg": (170, 20, 90), "resp": (0, 120, 160), "temp": (160, 100, 0),
                "stim": (0, 0, 0), "misc": (80, 80, 80)}
#: Display kind of each MNE channel type (each kind has its own scale).
KIND_OF_TYPE = {"eeg": "eeg", "eog": "eog", "mag": "mag", "grad": "grad",
                "emg": "emg", "ecg": "ecg", "resp": "resp", "temperature": "temp",
                "stim": "stim"}
#: Kinds whose scale is fixed (volts, teslas); the others are set per file
#: from their robust amplitude (their units are whatever the file says).
#: Chin EMG is read at 50 µV/div, ECG at 2 mV/div.
FIXED_SCALINGS = {"emg": 25e-6, "ecg": 1e-3}
#: Kinds whose scale is remembered across recordings (physical units).
PERSISTED_KINDS = tuple(DEFAULT_SCALINGS) + tuple(FIXED_SCALINGS)
KINDS = ("eeg", "eog", "mag", "grad", "emg", "ecg", "resp", "temp", "misc", "stim")


def kind_filter(kind, settings):
    """Display band ``(highpass, lowpass)`` of a channel kind (None: stim).

    A kind listed in ``settings.display_filters`` uses its own band; the
    others (EEG, EOG, MEG, misc unless overridden) use the general
    ``settings.highpass`` / ``settings.lowpass``. Stim rows are never filtered.
    """
    if kind == "stim":
        return None
    own = (settings.display_filters or {}).get(kind)
    if own is not None:
        return (own[0] or None, own[1] or None)
    return (settings.highpass or None, settings.lowpass or None)


def format_band(band) -> str:
    """``(0.3, 35)`` → ``'0.3–35 Hz'``; ``(None, None)`` → ``'unfiltered'``."""
    if band is None:
        return "raw"
    hp, lp = band
    if hp and lp:
        return f"{hp:g}–{lp:g} Hz"
    if hp:
        return f"> {hp:g} Hz"
    if lp:
        return f"< {lp:g} Hz"
    return "unfiltered"


def per_division(kind, scalings, units) -> tuple:
    """The scale of a kind as ``(value, unit)`` per division (channel spacing)."""
    unit, fac = units.get(kind, UNITS.get(kind, ("", 1.0)))
    return 2.0 * scalings.get(kind, 1.0) * fac, unit


def auto_scalings(rec, kind_of, scalings, force=False) -> dict:
    """Fill scales of kinds without a standard one; return the units per kind.

    EMG and ECG get fixed scales in volts; respiration, temperature and misc
    channels (any unit) get a 1-2-5 value near 3 robust standard deviations
    of their data; stim rows are drawn as event ticks.

    Parameters
    ----------
    rec : core.io.recording.Recording | None
        The recording.
    kind_of : dict
        Channel index → display kind.
    scalings : dict
        Kind → SI amplitude per half channel spacing; updated in place.
    force : bool
        Recompute kinds already set (a reset).

    Returns
    -------
    units : dict
        Kind → ``(unit, factor from SI)``.
    """
    units = {k: UNITS[k] for k in UNITS}
    if rec is None:
        return units
    orig = getattr(rec.raw, "_orig_units", None) or {}
    for kind, fixed in FIXED_SCALINGS.items():
        if force or kind not in scalings:
            scalings[kind] = fixed
    for kind in ("resp", "temp", "misc", "stim"):
        idx = [i for i, k in kind_of.items() if k == kind]
        if not idx:
            continue
        unit = next((orig.get(rec.ch_names[i]) for i in idx
                     if orig.get(rec.ch_names[i])), "a.u.")
        units[kind] = (unit, _VOLT_FACTORS.get(unit, 1.0))
        if kind == "stim" or (not force and kind in scalings):
            continue
        try:
            amp = float(np.nanmedian(rec._robust_amplitude(idx[:16])))
        except Exception:  # noqa: BLE001 - a scale must not stop browsing
            amp = float("nan")
        scalings[kind] = _nice(3 * 1.4826 * amp) if amp > 0 else 1.0
    scalings.setdefault("stim", 1.0)
    return units


def capped(band, sfreq):
    """A display band with its low-pass capped below Nyquist, as drawn."""
    from gui.traces.loader import NYQUIST_CAP

    if band is None or not band[1] or not sfreq:
        return band
    lp = min(band[1], round(NYQUIST_CAP * sfreq / 2, 1))
    return (band[0] if band[0] and band[0] < lp else None, lp)


def legend_text(present, scalings, units, settings, sfreq=None) -> str:
    """One line per page: each kind's scale per division and display band."""
    parts = []
    for k in KINDS:
        if k not in present:
            continue
        if k == "stim":
            parts.append("STIM events (raw)")
            continue
        val, unit = per_division(k, scalings, units)
        band = format_band(capped(kind_filter(k, settings), sfreq))
        parts.append(f"{k.upper()} {val:.3g} {unit}/div {band}".replace("  ", " "))
    return " · ".join(parts)
