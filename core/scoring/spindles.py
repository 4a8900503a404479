"""Spindle marks: a spindle and an undoable set of them.

A :class:`SpindleSet` keeps spindles ordered by onset, emits
:attr:`SpindleSet.changed` after every change (psygnal, Qt-free) and keeps an
undo/redo history. Mark files are read and written by
:mod:`core.io.marks`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, fields, replace

from psygnal import Signal

from core.utils import SpindleScopeError, UndoStacks, check_option
from core.utils.vocabulary import VISIBILITY

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


class SpindleSet(UndoStacks):
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
        self._init_stacks()
        self._history = None   # see attach_history
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
        step = (kind, tuple(removed), tuple(added))
        if self._history is not None:     # an owner keeps the one history
            self._history(step)
            return
        self._undo.append(step)
        self._redo.clear()

    def attach_history(self, record):
        """Hand this set's undo steps to an owner's history (one stack).

        Parameters
        ----------
        record : callable | None
            Called with each new undoable step (an opaque tuple that
            :meth:`apply_step` takes back); None gives the set its own
            history again. Either way the set's own stacks are emptied, so
            there is never a second stack to keep in sync.
        """
        self._history = record
        self._undo.clear()
        self._redo.clear()

    def apply_step(self, step, undo: bool):
        """Undo (or redo) one step recorded through :meth:`attach_history`,
        with the same change notification as :meth:`undo` / :meth:`redo`."""
        kind, removed, added = step
        if undo:
            self._apply(added, removed)
            self._emit_inverse(kind, removed, added)
        else:
            self._apply(removed, added)
            self._emit_inverse(kind, added, removed)

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

    # -- history (can_undo / can_redo from UndoStacks) ---------------------------
    def undo(self):
        """Undo the last change; returns False when there is none."""
        if not self._undo:
            return False
        step = self._undo.pop()
        self._redo.append(step)
        self.apply_step(step, undo=True)
        return True

    def redo(self):
        """Redo the last undone change; returns False when there is none."""
        if not self._redo:
            return False
        step = self._redo.pop()
        self._undo.append(step)
        self.apply_step(step, undo=False)
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
