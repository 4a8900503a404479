"""Spindle marks: a spindle, an undoable set of them, import and export.

A :class:`SpindleSet` keeps spindles ordered by onset, emits
:attr:`SpindleSet.changed` after every change (psygnal, Qt-free) and keeps an
undo/redo history. :func:`read_spindles` and :func:`write_spindles` speak BIDS
events TSV, CSV, MNE annotations (FIF), EDF+ annotations (channel-specific as
``description@@channel``) and the DREAMS scoring text format.
"""

from __future__ import annotations

import bisect
import csv
import math
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from psygnal import Signal

from .spindle_checks import (MAX_MARK_DURATION, MAX_ONSET, _check_extent,  # noqa: F401
                             _check_file, _decode, _num, _status_of)
from .safe_io import write_via_temp
from .utils import (SpindleScopeError, atomic_open, atomic_write_text, check_option,
                    check_range, logger)
from .vocabulary import (LEGACY_VISIBILITY_COLUMN, VISIBILITY,
                         VISIBILITY_COLUMN, visibility_of)

STATUS = ("candidate", "accepted", "rejected")

_FIELDS = ("onset", "duration", "channels", "visibility", "scorer", "origin",
           "status", "properties")


@dataclass
class Spindle:
    """One spindle.

    Parameters
    ----------
    onset : float
        Seconds from the start of the recording.
    duration : float
        Seconds, > 0.
    channels : tuple of str
        Channels it was marked on; empty = not channel-specific.
    visibility : str
        Modality that shows it: ``"eeg"``, ``"meg"``, ``"both"`` or ``""``.
    scorer : str
        Who marked it.
    origin : str
        ``"manual"``, a detector name (``"a7"``, ``"yasa"``) or ``"import"``.
    status : str
        ``"candidate"``, ``"accepted"`` or ``"rejected"``.
    properties : dict
        Frequency, amplitude, ... (numbers or short strings).
    uid : int
        Unique within a :class:`SpindleSet`; assigned by ``add``.
    """

    onset: float
    duration: float
    channels: tuple = ()
    visibility: str = ""
    scorer: str = ""
    origin: str = "manual"
    status: str = "accepted"
    properties: dict = field(default_factory=dict)
    uid: int = 0

    def __post_init__(self):
        try:
            self.onset = float(self.onset)
            self.duration = float(self.duration)
        except (TypeError, ValueError):
            raise SpindleScopeError(
                f"A spindle needs numeric onset and duration, got "
                f"onset={self.onset!r}, duration={self.duration!r}.") from None
        if not math.isfinite(self.onset):
            raise SpindleScopeError(f"Spindle onset must be finite, got {self.onset!r}.")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise SpindleScopeError(
                f"Spindle duration must be a positive number of seconds, got "
                f"{self.duration!r} (onset {self.onset:g} s).")
        if isinstance(self.channels, str):
            self.channels = tuple(c.strip() for c in self.channels.split(",") if c.strip())
        else:
            self.channels = tuple(str(c) for c in self.channels)
        check_option("visibility", self.visibility, VISIBILITY)
        check_option("status", self.status, STATUS)
        self.properties = dict(self.properties or {})

    @property
    def end(self) -> float:
        """Onset plus duration (s)."""
        return self.onset + self.duration


@dataclass(frozen=True)
class SpindleChange:
    """What changed in a :class:`SpindleSet`.

    Attributes
    ----------
    kind : str
        ``"add"``, ``"edit"``, ``"delete"``, ``"merge"``, ``"replace"`` (the
        whole content replaced as one undoable step, or such a step undone or
        redone) or ``"reset"`` (replaced without history).
    spindles : tuple of Spindle
        The spindles as they are now (for ``"delete"``: those removed; for
        ``"merge"``: the merged spindle; for ``"replace"`` and ``"reset"``:
        all).
    removed : tuple of int
        Uids that no longer exist (``"merge"``, ``"delete"``, ``"replace"``,
        ``"reset"``).
    """

    kind: str
    spindles: tuple = ()
    removed: tuple = ()


class SpindleSet:
    """Spindles ordered by onset, with undo/redo and change notifications.

    Parameters
    ----------
    spindles : iterable of Spindle | None
        Initial content (not undoable).
    """

    changed = Signal(object)

    def __init__(self, spindles=None):
        self._items: list[Spindle] = []
        self._keys: list[tuple] = []
        self._by_uid: dict[int, Spindle] = {}
        self._next_uid = 1
        self._undo: list[tuple] = []
        self._redo: list[tuple] = []
        self._max_dur = 0.0
        if spindles is not None:
            for s in spindles:
                self._insert(self._assign(s))

    # -- container protocol ----------------------------------------------
    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __getitem__(self, i):
        return self._items[i]

    def __repr__(self):
        return f"<SpindleSet: {len(self)} spindles>"

    @property
    def uids(self) -> list[int]:
        return [s.uid for s in self._items]

    def get(self, uid) -> Spindle:
        """The spindle with this uid."""
        try:
            return self._by_uid[int(uid)]
        except (KeyError, TypeError, ValueError):
            raise SpindleScopeError(f"No spindle with uid {uid!r} in this set.") from None

    # -- internals ----------------------------------------------------------
    def _assign(self, s):
        if not isinstance(s, Spindle):
            raise SpindleScopeError(
                f"Expected a Spindle, got {type(s).__name__}.")
        s = replace(s)  # own copy
        if s.uid <= 0 or s.uid in self._by_uid:
            s.uid = self._next_uid
        self._next_uid = max(self._next_uid, s.uid + 1)
        return s

    def _insert(self, s):
        key = (s.onset, s.uid)
        i = bisect.bisect_left(self._keys, key)
        self._keys.insert(i, key)
        self._items.insert(i, s)
        self._by_uid[s.uid] = s
        self._max_dur = max(self._max_dur, s.duration)

    def _remove(self, uid):
        s = self._by_uid.pop(uid)
        i = bisect.bisect_left(self._keys, (s.onset, s.uid))
        del self._keys[i]
        del self._items[i]
        return s

    def _apply(self, removed, added):
        for s in removed:
            self._remove(s.uid)
        for s in added:
            self._insert(replace(s))

    def _record(self, kind, removed, added):
        self._undo.append((kind, tuple(removed), tuple(added)))
        self._redo.clear()

    def _emit(self, kind, spindles=(), removed=()):
        self.changed.emit(SpindleChange(kind, tuple(spindles), tuple(removed)))

    # -- editing ------------------------------------------------------------
    def add(self, spindles) -> list[int]:
        """Add one spindle or several; returns their uids."""
        if isinstance(spindles, Spindle):
            spindles = [spindles]
        new = []
        for s in spindles:
            s = self._assign(s)
            self._insert(s)
            new.append(s)
        if new:
            self._record("add", (), [replace(s) for s in new])
            self._emit("add", [replace(s) for s in new])
        return [s.uid for s in new]

    def edit(self, uid, **changes) -> Spindle:
        """Change fields of a spindle (not its uid)."""
        bad = set(changes) - set(_FIELDS)
        if bad:
            raise SpindleScopeError(
                f"Cannot edit {', '.join(sorted(bad))}: editable fields are "
                f"{', '.join(_FIELDS)}.")
        old = self.get(uid)
        new = replace(old, **changes)  # validated by __post_init__
        new.uid = old.uid
        self._apply([old], [new])
        self._record("edit", [replace(old)], [replace(new)])
        self._emit("edit", [replace(new)])
        return new

    def delete(self, uids):
        """Delete one uid or a list of uids."""
        if isinstance(uids, (int,)) or not hasattr(uids, "__iter__"):
            uids = [uids]
        old = [self.get(u) for u in uids]
        if not old:
            return
        for s in old:
            self._remove(s.uid)
        self._record("delete", [replace(s) for s in old], ())
        self._emit("delete", [replace(s) for s in old], [s.uid for s in old])

    def merge(self, uids) -> int:
        """Replace several spindles by one spanning them all; returns its uid."""
        uids = list(uids)
        if len(uids) < 2:
            raise SpindleScopeError("Select at least two spindles to merge.")
        old = sorted((self.get(u) for u in uids), key=lambda s: s.onset)
        onset = min(s.onset for s in old)
        end = max(s.end for s in old)
        chans = tuple(dict.fromkeys(c for s in old for c in s.channels))
        vis = {s.visibility for s in old} - {""}
        if not vis:
            visibility = ""
        elif len(vis) == 1:
            visibility = vis.pop()
        else:
            visibility = "both"
        status = "accepted" if any(s.status == "accepted" for s in old) else old[0].status
        new = Spindle(onset=onset, duration=end - onset, channels=chans,
                      visibility=visibility, scorer=old[0].scorer,
                      origin="manual" if any(s.origin == "manual" for s in old)
                      else old[0].origin, status=status,
                      properties=dict(old[0].properties))
        new.uid = self._next_uid
        self._next_uid += 1
        self._apply(old, [new])
        self._record("merge", [replace(s) for s in old], [replace(new)])
        self._emit("merge", [replace(new)], [s.uid for s in old])
        return new.uid

    def replace_all(self, spindles) -> list[int]:
        """Replace the whole content by ``spindles`` as one undoable change.

        Undo brings back exactly the previous spindles (same uids and
        fields); redo brings back the replacing ones with the uids they got
        here. Unlike :meth:`reset`, the history is kept.

        Parameters
        ----------
        spindles : iterable of Spindle
            The new content (e.g. a :class:`SpindleSet` read from a file).
            Each gets a fresh uid, never one this set has used before.

        Returns
        -------
        uids : list of int
            The uids of the new spindles, in the order given.
        """
        incoming = list(spindles)
        for s in incoming:
            if not isinstance(s, Spindle):
                raise SpindleScopeError(
                    f"Expected a Spindle, got {type(s).__name__}.")
        if not incoming and not self._items:
            return []
        old = [replace(s) for s in self._items]
        new = []
        for s in incoming:
            s = replace(s)  # own copy (validated again)
            s.uid = self._next_uid
            self._next_uid += 1
            new.append(s)
        self._fill(new)
        self._record("replace", old, [replace(s) for s in new])
        self._emit("replace", [replace(s) for s in self._items],
                   [s.uid for s in old])
        return [s.uid for s in new]

    def clear(self):
        """Remove everything (undoable)."""
        if self._items:
            self.delete(self.uids)

    def reset(self, spindles=()):
        """Replace the content without history (e.g. after loading)."""
        self._undo.clear()
        self._redo.clear()
        self._fill(self._assign(s) for s in spindles)
        self._emit("reset", [replace(s) for s in self._items])

    def _fill(self, spindles):
        """Empty the index, then insert ``spindles`` (uids already set)."""
        self._items, self._keys, self._by_uid = [], [], {}
        self._max_dur = 0.0
        for s in spindles:
            self._insert(s)

    # -- history --------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self):
        """Undo the last change; returns False when there is none."""
        if not self._undo:
            return False
        kind, removed, added = self._undo.pop()
        self._apply(added, removed)
        self._redo.append((kind, removed, added))
        self._emit_inverse(kind, removed, added)
        return True

    def redo(self):
        """Redo the last undone change; returns False when there is none."""
        if not self._redo:
            return False
        kind, removed, added = self._redo.pop()
        self._apply(removed, added)
        self._undo.append((kind, removed, added))
        self._emit_inverse(kind, added, removed)
        return True

    def _emit_inverse(self, kind, now_present, now_gone):
        # now_present: spindles that exist after the step; now_gone: removed
        gone_uids = {s.uid for s in now_gone} - {s.uid for s in now_present}
        if kind == "replace":
            self._emit("replace", [replace(s) for s in self._items], sorted(gone_uids))
        elif kind == "edit":
            self._emit("edit", [replace(s) for s in now_present])
        elif not now_gone:
            self._emit("add", [replace(s) for s in now_present])
        elif not now_present:
            self._emit("delete", [replace(s) for s in now_gone], sorted(gone_uids))
        else:
            self._emit("reset", [replace(s) for s in self._items], sorted(gone_uids))

    # -- queries ----------------------------------------------------------------
    def accepted(self) -> list[Spindle]:
        """Spindles whose status is ``"accepted"``."""
        return [s for s in self._items if s.status == "accepted"]

    def in_window(self, t0, t1) -> list[Spindle]:
        """Spindles overlapping ``[t0, t1]`` (bisect on the sorted onsets)."""
        lo = bisect.bisect_left(self._keys, (t0 - self._max_dur, -1))
        hi = bisect.bisect_right(self._keys, (t1, float("inf")))
        return [s for s in self._items[lo:hi] if s.end >= t0 and s.onset <= t1]

    # -- tables -------------------------------------------------------------------
    def to_records(self) -> list[dict]:
        """One dict per spindle (``channels`` as a tuple)."""
        return [{**{f.name: getattr(s, f.name) for f in fields(s)}}
                for s in self._items]

    @classmethod
    def from_records(cls, records) -> "SpindleSet":
        """Build from dicts with Spindle field names (``uid`` kept if unique)."""
        out = []
        for r in records:
            r = dict(r)
            props = dict(r.pop("properties", {}) or {})
            kw = {k: r.pop(k) for k in list(r) if k in _FIELDS or k == "uid"}
            props.update(r)
            out.append(Spindle(**kw, properties=props))
        return cls(out)


# ---------------------------------------------------------------------------
# Reading and writing
# ---------------------------------------------------------------------------

_FORMATS = (".tsv", ".csv", ".fif", ".edf", ".txt")
_CORE_COLS = ("onset", "duration", "trial_type", "channel", "modality",
              "visibility", "status", "scorer", "origin", "uid")


def _fmt_of(path):
    path = Path(path)
    name = path.name.lower()
    for ext in (".fif.gz",) + _FORMATS:
        if name.endswith(ext):
            return ".fif" if ext == ".fif.gz" else ext
    raise SpindleScopeError(
        f"Cannot tell the spindle file format of {path.name!r}: use one of "
        f"{', '.join(_FORMATS)} (BIDS events TSV, CSV, MNE annotations FIF, "
        f"EDF+ annotations, DREAMS scoring text).")


def _is_spindle(label: str) -> bool:
    return "spindle" in str(label).strip().lower()


def read_spindles(path, *, sfreq=None, duration=None) -> SpindleSet:
    """Read spindle marks from a file.

    Parameters
    ----------
    path : path-like
        ``.tsv`` (BIDS events), ``.csv``, ``.fif`` (MNE annotations),
        ``.edf`` (EDF+ annotations) or ``.txt`` (DREAMS scoring).
    sfreq : float | None
        Sampling rate, used when a table gives ``sample`` but no ``onset``.
    duration : float | None
        Length of the recording the marks belong to (s): a mark starting
        before 0 or ending after it is an error (it belongs to another
        recording, or its unit is wrong). Without it, onsets are checked
        against a week and durations against an hour.

    Returns
    -------
    spindles : SpindleSet
    """
    path = Path(path)
    fmt = _fmt_of(path)
    if sfreq is not None:
        sfreq = check_range("sfreq", sfreq, 1e-6)
    if duration is not None:
        duration = check_range("duration", duration, 0, 1e9)
    _check_file(path)
    if fmt in (".tsv", ".csv"):
        spindles = _read_table(path, "\t" if fmt == ".tsv" else None, sfreq)
    elif fmt == ".txt":
        spindles = _read_dreams(path)
    elif fmt == ".fif":
        spindles = _read_fif(path)
    else:
        spindles = _read_edf(path)
    _check_extent(spindles, path, duration)
    logger.info("Read %d spindles from %s", len(spindles), path.name)
    return SpindleSet(spindles)


def _read_table(path, delimiter, sfreq):
    text = _decode(path)
    if "\x00" in text:
        raise SpindleScopeError(
            f"{path.name} holds NUL bytes: it is not a text table (or it is "
            f"damaged). Export the spindles again as TSV or CSV text.")
    lines = text.splitlines()
    if delimiter is None:
        first = next((ln for ln in lines if ln.strip()), "")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        if "\t" in first and "," not in first:
            delimiter = "\t"
    rows = []
    for n, line in enumerate(lines, start=1):
        # one row per line: a stray quote must not swallow the next rows
        try:
            row = next(csv.reader([line], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            raise SpindleScopeError(
                f"{path.name}, line {n}: cannot split the row ({exc}); an "
                f"unterminated quote? Fix that line.") from None
        if any(c.strip() for c in row):
            rows.append((n, row))
    if not rows:
        raise SpindleScopeError(f"{path.name} is empty: no header and no spindle.")
    header = [h.strip().lower() for h in rows[0][1]]
    has_sample = "sample" in header and sfreq
    missing = [c for c in ("onset", "duration") if c not in header
               and not (c == "onset" and has_sample)]
    if missing:
        raise SpindleScopeError(
            f"{path.name} lacks the column(s) {', '.join(map(repr, missing))}: "
            f"a spindle table needs 'onset' and 'duration' in seconds (found "
            f"columns {', '.join(header) or 'none'}).")
    col = {h: i for i, h in enumerate(header)}
    out = []
    for n, r in rows[1:]:
        r = r + [""] * (len(header) - len(r))

        def get(name):
            v = r[col[name]].strip() if name in col else ""
            return "" if v.lower() in ("n/a", "nan", "") else v

        if "trial_type" in col and get("trial_type") and not _is_spindle(get("trial_type")):
            continue
        if "onset" in col:
            onset = _num(get("onset") or r[col["onset"]], "onset", path, n)
        else:
            onset = _num(get("sample"), "sample", path, n) / float(sfreq)
        dur = _num(get("duration") or r[col["duration"]], "duration", path, n)
        if dur <= 0:
            raise SpindleScopeError(
                f"{path.name}, line {n}: duration {dur:g} s is not positive "
                f"(a spindle lasts > 0 s). Fix or delete that row.")
        chans = tuple(c.strip() for c in get("channel").replace(";", ",").split(",")
                      if c.strip()) if "channel" in col else ()
        vis = visibility_of(get(VISIBILITY_COLUMN) or get(LEGACY_VISIBILITY_COLUMN))
        status = _status_of(get("status"), path, n)
        props = {}
        for h, i in col.items():
            if h in _CORE_COLS or h == "sample":
                continue
            v = get(h)
            if v == "":
                continue
            try:
                props[h] = float(v) if any(ch in v for ch in ".eE") or not v.lstrip("-").isdigit() else int(v)
            except ValueError:
                props[h] = v
        out.append(Spindle(onset=onset, duration=dur, channels=chans,
                           visibility=vis, scorer=get("scorer"),
                           origin=get("origin") or "import", status=status,
                           properties=props))
    return out


def _read_dreams(path):
    lines = _decode(path).splitlines()
    out = []
    for n, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if n == 1 and not _looks_numeric(parts[0]):
            continue  # header such as [vis1_Spindles/C3-A1]
        if len(parts) < 2:
            raise SpindleScopeError(
                f"{path.name}, line {n}: expected 'onset duration' (seconds), "
                f"got {line.strip()!r}.")
        onset = _num(parts[0], "onset", path, n)
        dur = _num(parts[1], "duration", path, n)
        if dur <= 0:
            raise SpindleScopeError(
                f"{path.name}, line {n}: duration {dur:g} s is not positive.")
        out.append(Spindle(onset=onset, duration=dur, origin="import"))
    return out


def _looks_numeric(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _decode_desc(desc):
    """'spindle' or 'spindle/<visibility>/<status>' (our FIF/EDF encoding)."""
    parts = str(desc).split("/")
    vis = parts[1] if len(parts) > 1 and parts[1] in VISIBILITY else ""
    status = parts[2] if len(parts) > 2 and parts[2] in STATUS else "accepted"
    return vis, status


def _encode_desc(s):
    return f"spindle/{s.visibility}/{s.status}"


def _read_fif(path):
    import mne

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a damaged tag: say so, never half a file
            annot = mne.read_annotations(path)
    except Exception as exc:
        raise SpindleScopeError(
            f"Cannot read annotations from {path.name}: {exc}") from exc
    out = []
    for a in annot:
        if not _is_spindle(a["description"]):
            continue
        vis, status = _decode_desc(a["description"])
        if a["duration"] <= 0:
            raise SpindleScopeError(
                f"{path.name}: a spindle at {a['onset']:g} s has duration "
                f"{a['duration']:g} s; durations must be positive.")
        out.append(Spindle(onset=a["onset"], duration=a["duration"],
                           channels=tuple(a.get("ch_names", ()) or ()),
                           visibility=vis, status=status, origin="import"))
    return out


def _read_edf(path):
    import edfio

    try:
        with warnings.catch_warnings():
            # edfio warns (and reads on) when records are missing: a truncated
            # file would silently lose the marks of its missing records
            warnings.simplefilter("error")
            edf = edfio.read_edf(path, lazy_load_data=True)
            annots = edf.annotations
    except Exception as exc:
        raise SpindleScopeError(
            f"Cannot read EDF+ annotations from {path.name}: {exc}") from exc
    # MNE's convention: one annotation per channel, "description@@channel";
    # identical onset, duration and description on several channels are one
    # channel-specific spindle.
    groups = {}
    for a in annots:
        desc, _, chans = a.text.partition("@@")
        if not _is_spindle(desc):
            continue
        if not a.duration or a.duration <= 0:
            raise SpindleScopeError(
                f"{path.name}: the spindle at {a.onset:g} s has no positive "
                f"duration.")
        key = (round(float(a.onset), 6), round(float(a.duration), 6), desc)
        lst = groups.setdefault(key, [])
        lst.extend(c for c in chans.split(",") if c and c not in lst)
    out = []
    for (onset, dur, desc), chans in groups.items():
        vis, status = _decode_desc(desc)
        out.append(Spindle(onset=onset, duration=dur, channels=tuple(chans),
                           visibility=vis, status=status, origin="import"))
    return out


def write_spindles(spindles, path):
    """Write spindles to a file (format by extension, see :func:`read_spindles`).

    Parameters
    ----------
    spindles : SpindleSet | list of Spindle
    path : path-like
    """
    path = Path(path)
    fmt = _fmt_of(path)
    items = sorted(list(spindles), key=lambda s: s.onset)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in (".tsv", ".csv"):
        _write_table(items, path, "\t" if fmt == ".tsv" else ",")
    elif fmt == ".txt":
        lines = ["[Spindles]"] + [f"{s.onset:.4f}\t{s.duration:.4f}" for s in items]
        atomic_write_text(path, "\n".join(lines) + "\n")
    elif fmt == ".fif":
        import mne

        annot = mne.Annotations(
            [s.onset for s in items], [s.duration for s in items],
            [_encode_desc(s) for s in items],
            ch_names=[list(s.channels) for s in items])
        write_via_temp(path, lambda tmp: annot.save(tmp, overwrite=True, verbose="error"))
    else:
        _write_edf(items, path)


def _write_table(items, path, delim):
    prop_keys = []
    for s in items:
        for k, v in s.properties.items():
            if k not in prop_keys and k not in _CORE_COLS:
                prop_keys.append(k)
    header = ["onset", "duration", "trial_type", "channel", VISIBILITY_COLUMN,
              "status", "scorer", "origin"] + prop_keys
    na = "n/a"
    with atomic_open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=delim, lineterminator="\n")
        w.writerow(header)
        for s in items:
            row = [f"{s.onset:.4f}", f"{s.duration:.4f}", "spindle",
                   ",".join(s.channels) or na, s.visibility or na, s.status,
                   s.scorer or na, s.origin or na]
            for k in prop_keys:
                v = s.properties.get(k, na)
                if isinstance(v, float):
                    v = na if not math.isfinite(v) else f"{v:.6g}"
                row.append(v if v != "" else na)
            w.writerow(row)


def _write_edf(items, path):
    import edfio
    import numpy as np

    dur = max([s.end for s in items] + [1.0])
    n_rec = int(math.ceil(dur)) + 1
    annots = []
    for s in items:   # MNE's convention: one annotation per channel
        for ch in (s.channels or ("",)):
            annots.append(edfio.EdfAnnotation(
                round(s.onset, 4), round(s.duration, 4),
                _encode_desc(s) + (f"@@{ch}" if ch else "")))
    # EDF+ needs at least one signal; a 1-Hz placeholder keeps the file tiny
    sig = edfio.EdfSignal(np.zeros(n_rec), sampling_frequency=1, label="Spindles",
                          physical_range=(-1, 1))
    edf = edfio.Edf([sig], annotations=annots)
    write_via_temp(path, edf.write)
