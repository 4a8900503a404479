"""One filter design for the whole core: Butterworth second-order sections,
zero-phase band-pass, and the one Nyquist check.

Detection (:mod:`core.detection.dsp`), source analysis
(:mod:`core.sources.inverse`, :mod:`core.sources.analysis`), the display
page (:mod:`core.io.page`) and the demo simulation all design their filters
here, so a band means the same filter everywhere and a band too high for a
recording is refused with the same message. Only NumPy/SciPy and
:mod:`core.utils` are imported (this is the bottom layer).
"""

from __future__ import annotations

import numpy as np

from core.utils import SpindleScopeError

__all__ = ["bandpass", "butter_sos", "check_nyquist", "zero_phase_gain"]


def check_nyquist(band, sfreq, what="band"):
    """Refuse a band whose high edge reaches the Nyquist frequency.

    Parameters
    ----------
    band : tuple of float | float
        ``(low, high)`` in Hz, or just the high edge.
    sfreq : float
        Sampling rate in Hz.
    what : str
        What the band is for, named in the message (e.g. ``"the sigma band"``).

    Raises
    ------
    SpindleScopeError
        When ``high >= sfreq / 2``.
    """
    lo, hi = (None, float(band)) if np.ndim(band) == 0 else (band[0], band[1])
    if hi is None:
        return
    nyq = float(sfreq) / 2.0
    if hi >= nyq:
        span = f"{hi:g} Hz" if lo is None else f"{lo:g}–{hi:g} Hz"
        raise SpindleScopeError(
            f"The sampling rate {float(sfreq):g} Hz is too low for {what} ({span}): "
            f"its Nyquist frequency {nyq:g} Hz must lie above the band's upper "
            f"edge {hi:g} Hz. Lower the high edge, or use a recording sampled at "
            f"least at {2 * hi + 1:g} Hz.")


def butter_sos(order, freqs, btype, sfreq):
    """Digital Butterworth filter as second-order sections.

    Parameters
    ----------
    order : int
        Filter order (of each edge for band filters, as :func:`scipy.signal.butter`).
    freqs : float | tuple of float
        Edge frequency (or ``(low, high)``) in Hz.
    btype : 'lowpass' | 'highpass' | 'bandpass' | 'bandstop'
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    sos : ndarray, shape (n_sections, 6)
    """
    from scipy.signal import butter

    return butter(int(order), freqs, btype=btype, fs=float(sfreq), output="sos")


def bandpass(data, sfreq, band, order=4, axis=-1, what="the band"):
    """Zero-phase (forward-backward) Butterworth band-pass.

    Parameters
    ----------
    data : array
        Signals; filtered along ``axis``.
    sfreq : float
        Sampling rate in Hz.
    band : tuple of float
        ``(low, high)`` in Hz; ``high`` must lie below Nyquist.
    order : int
        Butterworth order (the forward-backward gain is ``|H|^2``).
    axis : int
        Time axis.
    what : str
        Named in the Nyquist message.

    Returns
    -------
    out : ndarray
    """
    from scipy.signal import sosfiltfilt

    check_nyquist(band, sfreq, what)
    sos = butter_sos(order, band, "bandpass", sfreq)
    return sosfiltfilt(sos, data, axis=axis)


def zero_phase_gain(sos, freqs, sfreq):
    """``|H(f)|^2``: the gain of ``sos`` applied forward and backward.

    Parameters
    ----------
    sos : ndarray
        Second-order sections.
    freqs : array
        Frequencies in Hz.
    sfreq : float
        Sampling rate in Hz.
    """
    from scipy.signal import sosfreqz

    return np.abs(sosfreqz(np.asarray(sos, float), worN=np.asarray(freqs, float),
                           fs=float(sfreq))[1]) ** 2
