"""Crash-safe autosave of a scorer's work (spindle marks and sleep stages).

An :class:`Autosaver` listens to a :class:`~core.scoring.spindles.SpindleSet` and a
:class:`~core.scoring.staging.Hypnogram` and writes every change *immediately* as one
line of an append-only journal (``journal-<generation>.jsonl``), flushed and
fsync'd before the change handler returns. Every so often it starts a new
journal generation: the full state goes to ``snapshot.json`` (through
:func:`core.utils.atomic_write_text`) *and* as the first ("base") line of the
new journal, so each journal can be replayed on its own.

A process killed at any moment (SIGKILL included) therefore leaves a
snapshot and a journal whose complete lines replay every change. Recovery
(:meth:`Autosaver.recover`) survives its own damage: a half-written last line
is ignored; a damaged or unexpected line in the middle is skipped and
counted, and the lines after it are still replayed; a damaged snapshot is
replaced by the base line of the newest journal. Nothing is ever deleted
that holds unrecovered work: a new :class:`Autosaver` moves what an unclean
session left in its folder (damaged files included) into a ``kept-<time>``
subfolder.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.scoring.spindles import Spindle, SpindleSet
from core.scoring.staging import STAGES, Hypnogram
from core.utils import SpindleScopeError, atomic_write_text, fsync_dir, json_default, logger

SNAPSHOT = "snapshot.json"
FORMAT_VERSION = 2
_JOURNAL_RE = re.compile(r"^journal-(\d+)\.jsonl$")
_SP_KINDS = ("add", "edit", "delete", "merge", "replace", "reset")
_SP_KEYS = {"onset", "duration", "channels", "visibility", "scorer", "origin",
            "status", "properties", "uid"}


def _jsonable(o):
    """:func:`core.utils.json_default`; an autosave never fails: other objects
    are written as text."""
    try:
        return json_default(o)
    except TypeError:
        return str(o)


def _sp_dict(s: Spindle) -> dict:
    # by hand: dataclasses.asdict deep-copies and is ~20x slower, which a
    # snapshot of 150,000 marks feels
    return {"onset": s.onset, "duration": s.duration, "channels": list(s.channels),
            "visibility": s.visibility, "scorer": s.scorer, "origin": s.origin,
            "status": s.status, "properties": s.properties,
            "uid": s.uid}


class _Damaged(Exception):
    """A journal record or snapshot whose content is not what we write."""


def _sp_from(d) -> Spindle:
    if not isinstance(d, dict) or not {"onset", "duration", "uid"} <= set(d) \
            or set(d) - _SP_KEYS:
        raise _Damaged(f"not a spindle: {str(d)[:80]!r}")
    d = dict(d)
    if not isinstance(d.get("uid"), int) or isinstance(d["uid"], bool) or d["uid"] <= 0:
        raise _Damaged(f"bad spindle uid {d.get('uid')!r}")
    chans = d.get("channels", ())
    if not isinstance(chans, (list, tuple)) or not all(isinstance(c, str) for c in chans):
        raise _Damaged(f"bad channels {chans!r}")
    d["channels"] = tuple(chans)
    if not isinstance(d.get("properties", {}), dict):
        raise _Damaged("bad properties")
    for key in ("onset", "duration"):
        if isinstance(d[key], bool) or not isinstance(d[key], (int, float)):
            raise _Damaged(f"bad {key} {d[key]!r}")
    for key in ("visibility", "scorer", "origin", "status"):
        if key in d and not isinstance(d[key], str):
            raise _Damaged(f"bad {key} {d[key]!r}")
    try:
        return Spindle(**d)
    except (SpindleScopeError, TypeError, ValueError) as exc:
        raise _Damaged(str(exc)) from None


def _stage(v) -> str:
    if not isinstance(v, str) or v not in STAGES:
        raise _Damaged(f"unknown stage {v!r}")
    return v


def _state_of(rec) -> tuple[dict, Hypnogram | None, bool]:
    """(uid -> Spindle, hypnogram, edited) of a snapshot or base record."""
    if not isinstance(rec, dict) or not isinstance(rec.get("spindles"), list):
        raise _Damaged("no spindle list")
    spindles = {}
    for d in rec["spindles"]:
        s = _sp_from(d)
        spindles[s.uid] = s
    h = rec.get("hypnogram")
    hyp = None
    if h is not None:
        if not isinstance(h, dict) or not isinstance(h.get("stages"), list):
            raise _Damaged("bad hypnogram")
        el = h.get("epoch_length")
        if isinstance(el, bool) or not isinstance(el, (int, float)) or \
                not math.isfinite(el) or el <= 0:
            raise _Damaged(f"bad epoch length {el!r}")
        hyp = Hypnogram([_stage(v) for v in h["stages"]], float(el))
    return spindles, hyp, bool(rec.get("edited", True))


def proposals_to_dict(result) -> dict | None:
    """JSON form of automatic-staging proposals
    (:class:`core.detection.autostage.StagingResult`), None for none."""
    if result is None:
        return None
    import numpy as np

    return {"stages": list(result.stages),
            "proba": np.asarray(result.proba, float).round(6).tolist(),
            "channels": dict(result.channels), "model": str(result.model),
            "epoch_length": float(result.epoch_length)}


def proposals_from_dict(d):
    """The :class:`core.detection.autostage.StagingResult` of :func:`proposals_to_dict`
    (None for None); raises ``ValueError`` naming what is damaged."""
    if d is None:
        return None
    import numpy as np

    from core.detection.autostage import StagingResult

    if not isinstance(d, dict) or not isinstance(d.get("stages"), list):
        raise ValueError("the proposals have no stage list")
    stages = [_stage(v) for v in d["stages"]]
    try:
        proba = np.asarray(d.get("proba"), float)
    except (TypeError, ValueError):
        raise ValueError("the proposals' probabilities are not numbers") from None
    if proba.shape != (len(stages), 5) or not np.isfinite(proba).all():
        raise ValueError(f"the proposals' probabilities should be {len(stages)} x 5 "
                         f"numbers, got shape {proba.shape}")
    el = d.get("epoch_length", 30.0)
    if isinstance(el, bool) or not isinstance(el, (int, float)) or not \
            math.isfinite(el) or el <= 0:
        raise ValueError(f"bad proposals epoch length {el!r}")
    channels = d.get("channels") or {}
    if not isinstance(channels, dict):
        raise ValueError("the proposals' channels are not a mapping")
    return StagingResult(stages, proba, channels, str(d.get("model", "")), float(el))


@dataclass
class Recovered:
    """What an autosave folder holds (see :meth:`Autosaver.recover`).

    Unpacks as ``(spindles, hypnogram)``.

    Attributes
    ----------
    spindles : SpindleSet
        The marks, uids as they were.
    hypnogram : Hypnogram | None
        The stages.
    n_entries : int
        Journal lines replayed.
    n_damaged : int
        Damaged or unexpected lines (and snapshots) skipped.
    edited : bool
        Whether the journalled session holds edits of its user (a session
        that was only opened has nothing worth offering).
    clean : bool
        The session was closed normally.
    proposals : core.detection.autostage.StagingResult | None
        Automatic-staging proposals not yet accepted.
    """

    spindles: SpindleSet
    hypnogram: Hypnogram | None
    n_entries: int = 0
    n_damaged: int = 0
    edited: bool = False
    clean: bool = False
    problems: list = field(default_factory=list)
    proposals: object = None

    def __iter__(self):
        return iter((self.spindles, self.hypnogram))

    def __getitem__(self, i):
        return (self.spindles, self.hypnogram)[i]

    def __len__(self):
        return 2


def _journals(folder: Path) -> dict[int, Path]:
    out = {}
    for p in folder.glob("journal-*.jsonl"):
        m = _JOURNAL_RE.match(p.name)
        if m:
            out[int(m.group(1))] = p
    return out


_HEAD_RE = {k: re.compile(rf'"{k}"\s*:\s*(true|false|\d+)')
            for k in ("generation", "clean", "edited")}


def _snapshot_head(path: Path) -> dict | None:
    """generation / clean / edited of a snapshot, from its first bytes only
    (they come first; parsing 30 MB of marks to learn them would stall)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(400).decode("utf-8", "replace")
    except OSError:
        return None
    head = head.split('"spindles"', 1)[0]
    out = {}
    for key, rx in _HEAD_RE.items():
        m = rx.search(head)
        if m is None:
            return None
        v = m.group(1)
        out[key] = int(v) if v.isdigit() else v == "true"
    return out


def _n_lines(path) -> int:
    if path is None:
        return 0
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 2   # unknown: treat as edited


class Autosaver:
    """Journal every change of marks and stages to ``folder``.

    Parameters
    ----------
    folder : path-like
        Session folder (created). Whatever an unclean session left there
        that holds edits or damage is moved into a ``kept-<time>`` subfolder
        (call :meth:`recover` first to restore it); a clean or unedited one
        is replaced.
    spindles : SpindleSet
        Marks to watch.
    hypnogram : Hypnogram | None
        Stages to watch.
    snapshot_every : int
        Journal lines after which a fresh snapshot is written.
    snapshot_interval : float
        Seconds after which the next change triggers a snapshot.
    edited : bool
        The watched state already holds unsaved edits (e.g. restored work),
        so a crash before the next edit must still offer it.
    on_error : callable | None
        Called with the exception when a change cannot be journalled; the
        autosaver is then off (:attr:`error` holds the cause) and the
        editing that triggered it goes on unharmed.
    proposals : core.detection.autostage.StagingResult | None
        Automatic-staging proposals shown (journalled with the state;
        :meth:`set_proposals` records new ones).
    """

    def __init__(self, folder, spindles: SpindleSet, hypnogram: Hypnogram | None = None,
                 *, snapshot_every: int = 500, snapshot_interval: float = 60.0,
                 edited: bool = False, on_error=None, proposals=None):
        self.folder = Path(folder)
        self.proposals = proposals_to_dict(proposals)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.spindles = spindles
        self.hypnogram = hypnogram
        self.snapshot_every = int(snapshot_every)
        self.snapshot_interval = float(snapshot_interval)
        self.edited = bool(edited)
        self.on_error = on_error
        self.error: BaseException | None = None
        self.kept_aside: Path | None = None
        self._fh = None
        self._lines = 0
        self._last_snapshot = 0.0
        self.n_writes = 0
        self._generation = self._clear_folder()
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

    # -- set-up -------------------------------------------------------------------
    def _clear_folder(self) -> int:
        """Keep aside what an unclean session left; return the last generation."""
        folder = self.folder
        journals = _journals(folder)
        snap = folder / SNAPSHOT
        gen = max(journals, default=0)
        if not journals and not snap.exists():
            return gen
        state = _snapshot_head(snap)
        if state is not None:
            gen = max(gen, state["generation"])
        if isinstance(state, dict) and (state.get("clean") is True or (
                state.get("edited") is False and gen == state.get("generation")
                and _n_lines(journals.get(gen)) <= 1)):
            keep = False   # closed normally, or opened and never edited: cheap
        else:
            try:
                got = Autosaver.recover(folder)
            except OSError:  # pragma: no cover - unreadable: keep it all
                got = None
            keep = got is None or (not got.clean and (got.edited or got.n_damaged))
        files = list(journals.values()) + ([snap] if snap.exists() else [])
        if keep:
            dest = folder / time.strftime("kept-%Y%m%d-%H%M%S")
            n = 1
            while dest.exists():
                n += 1
                dest = folder / time.strftime(f"kept-%Y%m%d-%H%M%S-{n}")
            dest.mkdir()
            for p in files:
                os.replace(p, dest / p.name)
            fsync_dir(folder)
            self.kept_aside = dest
            logger.warning("Autosave: the previous unsaved session of this "
                           "recording was kept in %s.", dest)
        else:
            for p in files:
                try:
                    p.unlink()
                except OSError:  # pragma: no cover
                    pass
        return gen

    # -- writing --------------------------------------------------------------
    def _journal_path(self, gen=None) -> Path:
        return self.folder / f"journal-{self._generation if gen is None else gen}.jsonl"

    def _state(self, clean=False) -> dict:
        return {
            "version": FORMAT_VERSION,
            "generation": self._generation,
            "time": time.time(),
            "clean": clean,
            "edited": self.edited,
            "spindles": [_sp_dict(s) for s in self.spindles],
            "hypnogram": None if self.hypnogram is None else {
                "epoch_length": self.hypnogram.epoch_length,
                "stages": list(self.hypnogram.stages)},
            "proposals": self.proposals,
        }

    def _fail(self, exc: BaseException):
        self.error = exc
        logger.error("Autosave failed and is off: %s", exc)
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass
        if self.on_error is not None:
            self.on_error(exc)

    def _append(self, record: dict):
        if self._fh is None:
            return  # closed or failed (already reported)
        try:
            line = json.dumps(record, default=_jsonable, separators=(",", ":"))
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self.edited = True
            self._lines += 1
            self.n_writes += 1
            if (self._lines >= self.snapshot_every or
                    time.monotonic() - self._last_snapshot >= self.snapshot_interval):
                self.snapshot()
        except (OSError, ValueError, TypeError) as exc:
            self._fail(exc)

    def _on_spindles_changed(self, change):
        self._append({"t": "sp", "k": change.kind,
                      "s": [_sp_dict(s) for s in change.spindles],
                      "r": list(change.removed)})

    def set_proposals(self, proposals):
        """Journal new automatic-staging proposals (None: cleared)."""
        self.proposals = proposals_to_dict(proposals)
        self._append({"t": "pr", "p": self.proposals})

    def _on_hypnogram_changed(self, which):
        hyp = self.hypnogram
        if isinstance(which, slice):
            idx = list(range(*which.indices(hyp.n_epochs)))
        else:
            idx = [int(which)]
        self._append({"t": "st", "i": idx, "v": [hyp.stages[i] for i in idx]})

    def snapshot(self, clean: bool = False):
        """Write the full state atomically and start a new journal generation.

        The state goes to ``snapshot.json`` and, as a base line, to the new
        journal, which is created afresh (never appended to).
        """
        self._generation += 1
        # NaN / inf properties are kept as JSON's NaN / Infinity (Python reads
        # them back); the journal is only ever read by recover()
        text = json.dumps(self._state(clean), default=_jsonable,
                          separators=(",", ":"))
        path = self._journal_path()
        fh = open(path, "x", encoding="utf-8")
        try:
            fh.write('{"t":"base",' + text[1:] + "\n")  # the same state, one line
            fh.flush()
            os.fsync(fh.fileno())
            fsync_dir(self.folder)
            atomic_write_text(self.folder / SNAPSHOT, text)
        except BaseException:
            fh.close()
            raise
        old_fh, self._fh = self._fh, fh
        if old_fh is not None:
            old_fh.close()
        for gen, p in _journals(self.folder).items():
            if gen < self._generation:
                try:
                    p.unlink()
                except OSError:  # pragma: no cover
                    pass
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
        try:
            self.snapshot(clean=clean)
        finally:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    # -- reading ------------------------------------------------------------------
    @staticmethod
    def has_recovery(folder) -> bool:
        """Whether ``folder`` holds edits that were not closed cleanly."""
        got = Autosaver.recover(folder)
        return got is not None and not got.clean and (got.edited or got.n_damaged > 0)

    @staticmethod
    def recover(folder) -> Recovered | None:
        """Rebuild marks and stages from a session folder (read only).

        Returns
        -------
        result : Recovered | None
            Unpacks as ``(spindles, hypnogram)``; None when the folder holds
            neither a readable snapshot nor a journal with a base line.
        """
        folder = Path(folder)
        if not folder.is_dir():
            return None
        problems = []
        journals = _journals(folder)
        snap = folder / SNAPSHOT
        base = None   # (spindles, hyp, edited, clean, generation)
        extra = {"p": None}   # the proposals (journalled as dicts)
        if snap.exists():
            try:
                state = json.loads(snap.read_text(encoding="utf-8"))
                sp, hyp, edited = _state_of(state)
                gen = state.get("generation", 0)
                if not isinstance(gen, int):
                    raise _Damaged(f"bad generation {gen!r}")
                base = (sp, hyp, edited, bool(state.get("clean", False)), gen)
                extra = {"p": state.get("proposals")}
            except (OSError, ValueError, _Damaged) as exc:
                problems.append(f"{SNAPSHOT}: {exc}")
        snap_gen = base[4] if base is not None else -1
        # a kill between starting journal N+1 and writing its snapshot leaves
        # the snapshot of N: the newest complete base line wins
        for gen in sorted(journals, reverse=True):
            if base is not None and gen <= snap_gen:
                break
            try:
                with open(journals[gen], encoding="utf-8") as fh:
                    first = fh.readline()
                if not first.endswith("\n"):
                    continue  # half-written base line: that generation never began
                rec = json.loads(first)
                if not isinstance(rec, dict) or rec.get("t") != "base":
                    raise _Damaged("no base line")
                sp, hyp, edited = _state_of(rec)
                base = (sp, hyp, edited, False, gen)
                extra = {"p": rec.get("proposals")}
                break
            except (OSError, ValueError, _Damaged) as exc:
                problems.append(f"{journals[gen].name}: {exc}")
        skip_base = True
        if base is None:
            if problems:
                logger.warning("Autosave folder %s holds nothing usable: %s",
                               folder, "; ".join(problems))
            return None
        spindles, hyp, edited, clean, gen = base
        n_damaged = len(problems)
        n_rec = 0
        journal = journals.get(gen)
        if journal is not None:
            with open(journal, encoding="utf-8", errors="replace") as fh:
                lines = fh.readlines()
            for n, line in enumerate(lines, start=1):
                if n == 1 and skip_base and '"t":"base"' in line[:20]:
                    continue
                if not line.endswith("\n"):
                    logger.info("Autosave journal %s: ignoring a half-written "
                                "last line.", journal.name)
                    break
                try:
                    _replay(json.loads(line), spindles, hyp, extra)
                except (ValueError, _Damaged) as exc:
                    n_damaged += 1
                    problems.append(f"{journal.name}, line {n}: {exc}")
                    continue
                n_rec += 1
        if n_damaged:
            logger.warning("Autosave %s: skipped %d damaged entries (%s).", folder,
                           n_damaged, "; ".join(problems[:5]))
        sset = SpindleSet(sorted(spindles.values(), key=lambda s: (s.onset, s.uid)))
        logger.info("Recovered %d spindles (%d journal entries) from %s",
                    len(sset), n_rec, folder)
        try:
            proposals = proposals_from_dict(extra["p"])
        except ValueError as exc:
            proposals = None
            n_damaged += 1
            problems.append(f"proposals: {exc}")
        return Recovered(sset, hyp, n_rec, n_damaged, edited or n_rec > 0, clean,
                         problems, proposals)


def _replay(rec, spindles, hyp, extra=None):
    """Apply one journal record, all or nothing (raises :class:`_Damaged`);
    a proposals record goes to ``extra["p"]``."""
    if not isinstance(rec, dict):
        raise _Damaged(f"not a record: {str(rec)[:60]!r}")
    kind = rec.get("t")
    if kind == "sp":
        k = rec.get("k")
        if k not in _SP_KINDS:
            raise _Damaged(f"unknown change {k!r}")
        items, removed = rec.get("s", []), rec.get("r", [])
        if not isinstance(items, list) or not isinstance(removed, list) or not all(
                isinstance(u, int) and not isinstance(u, bool) for u in removed):
            raise _Damaged("bad spindle lists")
        new = [_sp_from(d) for d in items]
        if k in ("reset", "replace"):  # the record lists the whole content
            spindles.clear()
        for uid in removed:
            spindles.pop(uid, None)
        if k == "delete":
            for s in new:
                spindles.pop(s.uid, None)
        else:
            for s in new:
                spindles[s.uid] = s
    elif kind == "st":
        idx, vals = rec.get("i"), rec.get("v")
        if hyp is None:
            raise _Damaged("a stage change without a hypnogram")
        if not isinstance(idx, list) or not isinstance(vals, list) or \
                len(idx) != len(vals):
            raise _Damaged("bad stage lists")
        vals = [_stage(v) for v in vals]
        for i in idx:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < hyp.n_epochs:
                raise _Damaged(f"epoch {i!r} out of range")
        for i, v in zip(idx, vals):
            hyp.stages[i] = v
    elif kind == "pr":
        p = rec.get("p")
        if p is not None and not isinstance(p, dict):
            raise _Damaged("bad proposals record")
        if extra is not None:
            extra["p"] = p
    else:
        raise _Damaged(f"unknown record type {kind!r}")



# -- session locks and crash detection --------------------------------------------
#: File in an autosave folder naming the process that journals into it.
LOCK = "session.lock"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (this process counts as alive).

    Off POSIX the check is not cheap: any other process is taken as gone,
    so its journal is treated as left by a crash (recovery is offered).
    """
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_lock(folder) -> Path:
    """Claim ``folder`` for this process (atomically written ``session.lock``)."""
    path = Path(folder) / LOCK
    atomic_write_text(path, json.dumps({"pid": os.getpid()}))
    return path


def remove_lock(folder) -> None:
    """Release ``folder`` (a normal exit); a missing lock is fine."""
    try:
        (Path(folder) / LOCK).unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("Could not remove the autosave lock in %s: %s", folder, exc)


def crashed(folder) -> bool:
    """Whether ``folder`` was left by a process that is gone (no live lock).

    Without a readable lock the journal's own "clean" flag decides (True is
    returned and :func:`recoverable` looks at the journal).
    """
    lock = Path(folder) / LOCK
    if not lock.exists():
        return True
    try:
        pid = int(json.loads(lock.read_text()).get("pid", -1))
    except (OSError, ValueError, AttributeError, TypeError):
        return True
    return not pid_alive(pid)


def recoverable(folder) -> Recovered | None:
    """What ``folder`` offers to restore: an unclean journal with edits or
    damage (a :class:`Recovered`), else None."""
    got = Autosaver.recover(folder)
    if got is None or got.clean or not (got.edited or got.n_damaged):
        return None
    return got


def pending_recoveries(root) -> list[tuple[Path, str]]:
    """(folder, recording path) of the crashed sessions under ``root`` that
    hold edits, sorted by folder name.

    A damaged folder is logged and skipped (it must never block start-up);
    a folder whose journalling process still runs is not offered.
    """
    root = Path(root)
    out = []
    if not root.is_dir():
        return out
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not crashed(folder):
            continue
        try:
            if recoverable(folder) is None:
                continue
            rec = json.loads((folder / "recording.json").read_text())["recording"]
        except Exception as exc:  # noqa: BLE001 - a damaged folder must not block start-up
            logger.warning("Ignoring autosave folder %s: %s", folder, exc)
            continue
        out.append((folder, str(rec)))
    return out
