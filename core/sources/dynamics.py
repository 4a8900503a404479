"""Generator dynamics per spindle cycle: where the source maximum sits.

Dehghani et al. (2010) describe MEG-derived spindle generators as focal and
shifting, EEG-derived ones as widespread and stable. For each spindle and
modality the time course is cut into consecutive windows of one cycle
(``sfreq / f`` samples, f the centre of the analysis band); in each window the
source with the largest mean absolute value is the cycle's maximum. From the
sequence of maxima:

``max_displacement_cm``
    mean distance between the maxima of successive cycles, in cm, measured in
    a straight line between the sources' positions on the cortical surface
    (not along the surface);
``max_hemi_change``
    fraction of successive cycles whose maximum changes hemisphere;
``max_spread_cm``
    mean distance of the maxima from their centroid, in cm.
"""

from __future__ import annotations

import numpy as np

from core.utils import SpindleScopeError

DYNAMICS = ("max_displacement_cm", "max_hemi_change", "max_spread_cm")


def cycle_maxima(tc: np.ndarray, sfreq: float, freq: float) -> np.ndarray | None:
    """Index of the source with the largest mean |value| in each cycle.

    Parameters
    ----------
    tc : array, shape (n_sources, n_times)
    sfreq : float
    freq : float
        Spindle frequency (Hz) setting the cycle length.

    Returns
    -------
    maxima : array of int, shape (n_cycles,) | None
        None when the segment holds fewer than two cycles.
    """
    tc = np.asarray(tc, float)
    if tc.ndim != 2:
        raise SpindleScopeError(f"tc must be 2-D (n_sources, n_times), got {tc.shape}.")
    width = max(1, int(round(sfreq / freq)))
    n_cyc = tc.shape[1] // width
    if n_cyc < 2:
        return None
    amp = np.abs(tc[:, :n_cyc * width]).reshape(tc.shape[0], n_cyc, width).mean(-1)
    return amp.argmax(axis=0)


def dynamics_figures(maxima, positions: np.ndarray, n_left: int) -> dict:
    """Displacement, hemisphere changes and spread of a sequence of maxima.

    Parameters
    ----------
    maxima : array of int, shape (n_cycles,) | None
    positions : array, shape (n_sources, 3)
        Source positions in metres.
    n_left : int
        Sources of the left hemisphere (they come first).

    Returns
    -------
    figures : dict
        :data:`DYNAMICS` keys (NaN when there are fewer than two cycles).
    """
    if maxima is None or len(maxima) < 2:
        return {k: np.nan for k in DYNAMICS}
    pos = positions[maxima]
    step = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    right = np.asarray(maxima) >= n_left
    return {"max_displacement_cm": float(step.mean() * 100),
            "max_hemi_change": float(np.mean(right[1:] != right[:-1])),
            "max_spread_cm": float(np.linalg.norm(pos - pos.mean(0), axis=1).mean() * 100)}
