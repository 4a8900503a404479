"""Agreement between two spindle scorings (two scorers, or scorer and detector).

By-event agreement (Warby et al. 2014; Lacourse et al. 2019): two events match
when their intersection over union (IoU) reaches a threshold (0.2 by
default); matching is one-to-one, best IoU first. Precision, recall and F1
follow. Sample-wise agreement: Cohen's kappa of the two binary "inside a
spindle" time series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.utils import SpindleScopeError, check_range


@dataclass
class Agreement:
    """Agreement of a scoring with a reference.

    Attributes
    ----------
    n_reference, n_other : int
        Events in each scoring.
    tp : int
        Matched events (true positives).
    precision, recall, f1 : float
        By-event scores (``nan`` where undefined).
    kappa : float
        Sample-wise Cohen's kappa (``nan`` when not computed).
    iou : float
        IoU threshold used.
    matches : list of (int, int, float)
        (reference index, other index, IoU) of each match.
    """

    n_reference: int
    n_other: int
    tp: int
    precision: float
    recall: float
    f1: float
    kappa: float = float("nan")
    iou: float = 0.2
    matches: list = field(default_factory=list)

    @property
    def fp(self) -> int:
        return self.n_other - self.tp

    @property
    def fn(self) -> int:
        return self.n_reference - self.tp

    def as_dict(self) -> dict:
        return {"n_reference": self.n_reference, "n_other": self.n_other,
                "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "kappa": self.kappa, "iou": self.iou}


def _intervals(events, name):
    """(n, 2) array of onset, end from spindles, a SpindleSet or an array."""
    if isinstance(events, np.ndarray) and events.dtype != object:
        arr = np.asarray(events, float).reshape(-1, 2)
        on, dur = arr[:, 0], arr[:, 1]
    else:
        items = list(events)
        if items and not hasattr(items[0], "onset"):
            arr = np.asarray(items, float).reshape(-1, 2)
            on, dur = arr[:, 0], arr[:, 1]
        else:
            on = np.array([s.onset for s in items], float)
            dur = np.array([s.duration for s in items], float)
    if np.any(~np.isfinite(on)) or np.any(~np.isfinite(dur)) or np.any(dur <= 0):
        raise SpindleScopeError(
            f"The {name} events must have finite onsets and positive "
            f"durations.")
    return np.column_stack([on, on + dur])


def match_events(reference, other, iou=0.2):
    """One-to-one matches with IoU >= ``iou``, best first.

    Parameters
    ----------
    reference, other : SpindleSet | list of Spindle | array, shape (n, 2)
        Events (arrays hold onset and duration in seconds).
    iou : float
        Minimum intersection over union, in (0, 1].

    Returns
    -------
    matches : list of (int, int, float)
        Reference index, other index and IoU, sorted by reference index.
    """
    iou = check_range("iou", iou, 1e-9, 1.0)
    a = _intervals(reference, "reference")
    b = _intervals(other, "other")
    if not len(a) or not len(b):
        return []
    order = np.argsort(b[:, 0])
    bs = b[order]
    max_len = float(np.max(bs[:, 1] - bs[:, 0]))
    pairs = []
    for i, (s, e) in enumerate(a):
        lo = np.searchsorted(bs[:, 0], s - max_len, side="left")
        hi = np.searchsorted(bs[:, 0], e, side="right")
        for jj in range(lo, hi):
            s2, e2 = bs[jj]
            inter = min(e, e2) - max(s, s2)
            if inter <= 0:
                continue
            v = inter / (max(e, e2) - min(s, s2))
            if v >= iou - 1e-12:
                pairs.append((v, i, int(order[jj])))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_a, used_b, out = set(), set(), []
    for v, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j, float(v)))
    return sorted(out)


def by_event(reference, other, iou=0.2) -> Agreement:
    """Precision, recall and F1 of ``other`` against ``reference``."""
    m = match_events(reference, other, iou)
    n_ref = len(_intervals(reference, "reference"))
    n_oth = len(_intervals(other, "other"))
    tp = len(m)
    prec = tp / n_oth if n_oth else float("nan")
    rec = tp / n_ref if n_ref else float("nan")
    if n_ref == 0 and n_oth == 0:
        f1 = float("nan")
    else:
        f1 = 2 * tp / (n_ref + n_oth)
    return Agreement(n_ref, n_oth, tp, prec, rec, f1, iou=float(iou), matches=m)


#: Longest scored period (s) kappa is computed over: a week of recording,
#: 60 million samples at 100 Hz; longer means the units are wrong.
MAX_SCORED_DURATION = 7 * 24 * 3600.0


def sample_mask(events, duration, sfreq=100.0) -> np.ndarray:
    """Binary time series (``duration`` s at ``sfreq``) of spindle samples."""
    duration = check_range("duration", duration, 0.0, MAX_SCORED_DURATION)
    sfreq = check_range("sfreq", sfreq, 1e-3, 1e5)
    n = int(round(float(duration) * float(sfreq)))
    out = np.zeros(n, bool)
    for s, e in _intervals(events, "scoring"):
        a = max(0, int(round(s * sfreq)))
        b = min(n, int(round(e * sfreq)))
        if b > a:
            out[a:b] = True
    return out


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two boolean arrays of equal length."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    if a.shape != b.shape or a.ndim != 1:
        raise SpindleScopeError(
            f"Kappa needs two series of the same length, got {a.shape} and "
            f"{b.shape}.")
    n = a.size
    if n == 0:
        return float("nan")
    po = np.mean(a == b)
    pa, pb = a.mean(), b.mean()
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe >= 1:
        return 1.0 if po >= 1 else float("nan")
    return float((po - pe) / (1 - pe))


def compare(reference, other, *, iou=0.2, duration=None, sfreq=100.0,
            window=None) -> Agreement:
    """By-event agreement and sample-wise kappa of two scorings.

    Parameters
    ----------
    reference, other : SpindleSet | list of Spindle | array, shape (n, 2)
        Events (onset, duration in s).
    iou : float
        IoU threshold for a match (default 0.2).
    duration : float | None
        Length of the scored period for kappa (default: the last event end).
    sfreq : float
        Rate of the sample-wise series for kappa (100 Hz is ample).
    window : (float, float) | None
        Keep only events starting within this period (e.g. the part an
        expert scored); kappa is computed over it too.

    Returns
    -------
    agreement : Agreement
    """
    iou = check_range("iou", iou, 0.0, 1.0)
    if iou <= 0:
        raise SpindleScopeError(
            "Invalid value for the 'iou' parameter: it must lie in (0, 1], but "
            "got 0 instead (every pair of events would match).")
    sfreq = check_range("sfreq", sfreq, 1.0, 10000.0)
    a = _intervals(reference, "reference")
    b = _intervals(other, "other")
    for name, x in (("reference", a), ("other", b)):
        if len(x) and x[:, 0].min() < 0:
            raise SpindleScopeError(
                f"The {name} scoring has an event with a negative onset "
                f"({x[:, 0].min():g} s). Onsets are seconds from the start of the "
                f"recording; fix that file.")
    if duration is not None:
        duration = check_range("duration", duration, 0.0, MAX_SCORED_DURATION)
        if duration <= 0:
            raise SpindleScopeError(
                f"Invalid value for the 'duration' parameter: the scored period "
                f"must last more than 0 s, but got {duration:g} s instead.")
    if window is not None:
        t0, t1 = (check_range("window", v, 0.0, MAX_SCORED_DURATION)
                  for v in window[:2])
        if len(window) != 2 or t1 <= t0:
            raise SpindleScopeError(
                f"Invalid value for the 'window' parameter: expected (t0, t1) "
                f"in seconds with 0 <= t0 < t1, but got {tuple(window)!r}.")
        a = a[(a[:, 0] >= t0) & (a[:, 0] < t1)] - [t0, t0]
        b = b[(b[:, 0] >= t0) & (b[:, 0] < t1)] - [t0, t0]
        duration = t1 - t0
    ref = np.column_stack([a[:, 0], a[:, 1] - a[:, 0]])
    oth = np.column_stack([b[:, 0], b[:, 1] - b[:, 0]])
    agr = by_event(ref, oth, iou)
    ends = np.concatenate([a[:, 1], b[:, 1], [0.0]])
    last = float(ends.max())
    if duration is None:
        if last > MAX_SCORED_DURATION:
            raise SpindleScopeError(
                f"An event ends {last:g} s into the recording, beyond any night "
                f"(kappa would need {last * sfreq:.3g} samples). The onsets or "
                f"durations are probably samples or milliseconds: give seconds, "
                f"or fix that event.")
        duration = last
    elif window is None and last > duration + 0.5:
        raise SpindleScopeError(
            f"An event ends at {last:g} s, after the scored period of "
            f"{duration:g} s. Give the recording's length as the duration (or "
            f"a window that holds the events).")
    if duration > 0:
        agr.kappa = cohen_kappa(sample_mask(ref, duration, sfreq),
                                sample_mask(oth, duration, sfreq))
    return agr


def disagreements(reference, other, duration, *, iou=0.2):
    """Agreement figures and the list of unmatched marks of two scorings.

    What the compare panel shows (and what a session stores as its
    ``compare`` result): the figures of :func:`compare` under display names,
    and one entry per mark that has no match in the other scoring.

    Parameters
    ----------
    reference, other : SpindleSet | list of Spindle
        The other scorer's marks and this session's marks.
    duration : float
        Length of the recording in seconds (for kappa).
    iou : float
        IoU threshold for a match.

    Returns
    -------
    summary : dict
        ``F1``, ``precision``, ``recall``, ``kappa`` (floats), ``matched``,
        ``theirs`` (reference events), ``mine`` (other events) (ints).
    disagreements : list of (float, str)
        (onset in s, description) of each unmatched mark, sorted by onset.
    """
    ref, oth = list(reference), list(other)
    agr = compare(ref, oth, iou=iou, duration=duration)
    summary = {"F1": agr.f1, "precision": agr.precision, "recall": agr.recall,
               "kappa": agr.kappa, "matched": agr.tp, "theirs": agr.n_reference,
               "mine": agr.n_other}
    matched_ref = {m[0] for m in agr.matches}
    matched_oth = {m[1] for m in agr.matches}
    dis = [(float(s.onset), f"{s.onset:.2f} s ({s.duration:.2f} s): only in the other file")
           for i, s in enumerate(ref) if i not in matched_ref]
    dis += [(float(s.onset), f"{s.onset:.2f} s ({s.duration:.2f} s): only in this session")
            for i, s in enumerate(oth) if i not in matched_oth]
    return summary, sorted(dis)
