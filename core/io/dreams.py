"""Read the DREAMS Sleep Spindles Database text files.

``excerptN.txt``: a header line naming the channel (``[C3-A1]``), then one
value per line in µV over 30 minutes; the sampling rate follows from the
sample count. ``Visual_scoring{1,2}_excerptN.txt``: a header, then
``onset duration`` (s) per spindle. ``Hypnogram_excerptN.txt``: a header then
one stage code per 5-s epoch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.utils import SpindleScopeError

#: Length of every DREAMS spindle excerpt (s).
EXCERPT_DURATION = 1800.0


def read_dreams_signal(path, duration=EXCERPT_DURATION):
    """Read one DREAMS excerpt signal.

    Parameters
    ----------
    path : path-like
        ``excerptN.txt``.
    duration : float
        Length of the excerpt in seconds (30 min), used to infer the rate.

    Returns
    -------
    data : array, shape (n_times,)
        Signal in volts.
    sfreq : float
        Sampling rate (Hz), rounded to the nearest integer.
    ch_name : str
        Channel named in the header.
    """
    path = Path(path)
    if not path.exists():
        raise SpindleScopeError(f"The DREAMS signal {str(path)!r} does not exist.")
    with open(path, encoding="latin-1") as fh:
        header = fh.readline().strip()
        try:
            data = np.loadtxt(fh, dtype=float)
        except ValueError as exc:
            raise SpindleScopeError(
                f"{path.name}: expected one number per line after the header "
                f"({exc}).") from None
    if data.ndim != 1 or data.size < 10:
        raise SpindleScopeError(f"{path.name}: expected one value per line.")
    sfreq = float(round(data.size / duration))
    ch_name = header.strip("[]") or path.stem
    return data * 1e-6, sfreq, ch_name
