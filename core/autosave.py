"""Crash-safe autosave of a scorer's work (spindle marks and sleep stages).

An :class:`Autosaver` listens to a :class:`~core.spindles.SpindleSet` and a
:class:`~core.staging.Hypnogram` and writes every change *immediately* as one
line of an append-only journal (``journal-<generation>.jsonl``), flushed and
fsync'd before the change handler returns. Every so often it writes a full
snapshot (``snapshot.json``) to a temporary file, fsyncs it and moves it over
the old one with :func:`os.replace` (atomic), then starts a new journal
generation. A process killed at any moment (SIGKILL included) therefore
leaves either the old or the new snapshot plus a journal whose complete
lines replay every change; a half-written last line is ignored, and a
half-written snapshot never replaces a good one.

:func:`Autosaver.recover` rebuilds the marks and stages from a folder.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

from .spindles import Spindle, SpindleSet
from .staging import Hypnogram
from .utils import SpindleScopeError, logger

SNAPSHOT = "snapshot.json"
FORMAT_VERSION = 1


def _jsonable(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def _clean_floats(d):
    for k, v in list(d.items()):
        if isinstance(v, float) and not math.isfinite(v):
            d[k] = None
    return d


def _sp_dict(s: Spindle) -> dict:
    d = asdict(s)
    d["channels"] = list(s.channels)
    d["properties"] = _clean_floats(dict(s.properties))
    return d


def _sp_from(d: dict) -> Spindle:
    d = dict(d)
    d["channels"] = tuple(d.get("channels", ()))
    return Spindle(**d)


def _fsync_dir(folder: Path):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class Autosaver:
    """Journal every change of marks and stages to ``folder``.

    Parameters
    ----------
    folder : path-like
        Session folder (created). An existing journal there is replaced:
        call :meth:`recover` first to keep it.
    spindles : SpindleSet
        Marks to watch.
    hypnogram : Hypnogram | None
        Stages to watch.
    snapshot_every : int
        Journal lines after which a fresh snapshot is written.
    snapshot_interval : float
        Seconds after which the next change triggers a snapshot.
    """

    def __init__(self, folder, spindles: SpindleSet, hypnogram: Hypnogram | None = None,
                 *, snapshot_every: int = 500, snapshot_interval: float = 60.0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.spindles = spindles
        self.hypnogram = hypnogram
        self.snapshot_every = int(snapshot_every)
        self.snapshot_interval = float(snapshot_interval)
        self._fh = None
        self._generation = 0
        self._lines = 0
        self._last_snapshot = 0.0
        self.n_writes = 0
        old = _read_snapshot(self.folder)
        if old is not None:
            self._generation = int(old.get("generation", 0))
        self.snapshot()

        # plain functions are held strongly by psygnal (bound methods are
        # not): the autosaver lives as long as what it watches, until close()
        def on_spindles(change, _self=self):
            _self._on_spindles_changed(change)

        def on_stages(which, _self=self):
            _self._on_hypnogram_changed(which)

        self._slots = (on_spindles, on_stages)
        spindles.changed.connect(on_spindles)
        if hypnogram is not None:
            hypnogram.changed.connect(on_stages)

    # -- writing --------------------------------------------------------------
    def _journal_path(self, gen=None) -> Path:
        return self.folder / f"journal-{self._generation if gen is None else gen}.jsonl"

    def _append(self, record: dict):
        if self._fh is None:
            raise SpindleScopeError("The autosaver is closed.")
        line = json.dumps(record, default=_jsonable, separators=(",", ":"),
                          allow_nan=False)
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._lines += 1
        self.n_writes += 1
        if (self._lines >= self.snapshot_every or
                time.monotonic() - self._last_snapshot >= self.snapshot_interval):
            self.snapshot()

    def _on_spindles_changed(self, change):
        self._append({"t": "sp", "k": change.kind,
                      "s": [_sp_dict(s) for s in change.spindles],
                      "r": list(change.removed)})

    def _on_hypnogram_changed(self, which):
        hyp = self.hypnogram
        if isinstance(which, slice):
            idx = list(range(*which.indices(hyp.n_epochs)))
        else:
            idx = [int(which)]
        self._append({"t": "st", "i": idx, "v": [hyp.stages[i] for i in idx]})

    def snapshot(self):
        """Write the full state atomically and start a new journal generation."""
        gen = self._generation + 1
        state = {
            "version": FORMAT_VERSION,
            "generation": gen,
            "time": time.time(),
            "clean": False,
            "spindles": [_sp_dict(s) for s in self.spindles],
            "hypnogram": None if self.hypnogram is None else {
                "epoch_length": self.hypnogram.epoch_length,
                "stages": list(self.hypnogram.stages)},
        }
        _write_atomic(self.folder / SNAPSHOT, state)
        old_fh, old_gen = self._fh, self._generation
        self._generation = gen
        self._fh = open(self._journal_path(), "a", encoding="utf-8")
        _fsync_dir(self.folder)
        if old_fh is not None:
            old_fh.close()
        for p in self.folder.glob("journal-*.jsonl"):
            if p != self._journal_path():
                try:
                    p.unlink()
                except OSError:  # pragma: no cover
                    pass
        del old_gen
        self._lines = 0
        self._last_snapshot = time.monotonic()

    def close(self, clean: bool = True):
        """Stop watching; with ``clean`` mark the session as saved normally."""
        try:
            self.spindles.changed.disconnect(self._slots[0])
        except Exception:  # pragma: no cover - already disconnected
            pass
        if self.hypnogram is not None:
            try:
                self.hypnogram.changed.disconnect(self._slots[1])
            except Exception:  # pragma: no cover
                pass
        if self._fh is None:
            return
        self.snapshot()
        if clean:
            state = _read_snapshot(self.folder)
            state["clean"] = True
            _write_atomic(self.folder / SNAPSHOT, state)
        self._fh.close()
        self._fh = None

    # -- reading ------------------------------------------------------------------
    @staticmethod
    def has_recovery(folder) -> bool:
        """Whether ``folder`` holds work that was not closed cleanly."""
        state = _read_snapshot(Path(folder))
        return state is not None and not state.get("clean", False)

    @staticmethod
    def recover(folder):
        """Rebuild marks and stages from a session folder.

        Returns
        -------
        result : (SpindleSet, Hypnogram | None) | None
            None when the folder holds no snapshot.
        """
        folder = Path(folder)
        state = _read_snapshot(folder)
        if state is None:
            return None
        spindles = {d["uid"]: _sp_from(d) for d in state.get("spindles", [])}
        h = state.get("hypnogram")
        hyp = Hypnogram(h["stages"], h["epoch_length"]) if h else None
        journal = folder / f"journal-{state.get('generation', 0)}.jsonl"
        n_rec = 0
        if journal.exists():
            with open(journal, encoding="utf-8") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break  # half-written last line
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        logger.warning("Autosave journal %s: ignoring a damaged "
                                       "line after %d good ones.", journal.name, n_rec)
                        break
                    _replay(rec, spindles, hyp)
                    n_rec += 1
        sset = SpindleSet(sorted(spindles.values(), key=lambda s: (s.onset, s.uid)))
        logger.info("Recovered %d spindles (%d journal entries) from %s",
                    len(sset), n_rec, folder)
        return sset, hyp


def _replay(rec, spindles, hyp):
    if rec.get("t") == "sp":
        kind = rec.get("k")
        if kind in ("reset", "replace"):  # the record lists the whole content
            spindles.clear()
        for uid in rec.get("r", []):
            spindles.pop(uid, None)
        if kind == "delete":
            for d in rec.get("s", []):
                spindles.pop(d["uid"], None)
        else:
            for d in rec.get("s", []):
                spindles[d["uid"]] = _sp_from(d)
    elif rec.get("t") == "st" and hyp is not None:
        for i, v in zip(rec.get("i", []), rec.get("v", [])):
            if 0 <= i < hyp.n_epochs:
                hyp.stages[i] = v


def _write_atomic(path: Path, state: dict):
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    data = json.dumps(state, default=_jsonable, allow_nan=False)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read_snapshot(folder: Path):
    path = folder / SNAPSHOT
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpindleScopeError(
            f"The autosave snapshot {path} is damaged ({exc}); it was not "
            f"written by SpindleScope's atomic writer. Move it away to start "
            f"afresh.") from exc
