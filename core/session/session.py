"""The session: one recording, its hypnogram, spindle marks, settings, results.

A :class:`Session` is the model the desktop app observes (house rule 2): it
emits psygnal signals when its parts are replaced, and the hypnogram and spindle
set emit their own ``changed`` signals for edits. It is Qt-free, so scripts can
build, save and load sessions exactly as the GUI does.

A saved session is a small JSON file holding references (relative and absolute
paths) to the recording and to the marks exported beside it::

    night1.spindlescope.json
    night1.spindles.tsv        # BIDS-style events (core.io.marks.write_spindles)
    night1.hypnogram.tsv       # onset, duration, stage (core.io.hypnograms.write_hypnogram)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

from psygnal import Signal

from core.session.autosave import proposals_from_dict, proposals_to_dict
from core.session.settings import Settings
from core.utils import (SpindleScopeError, UndoStacks, atomic_write_text, cache_dir,
                        logger)
from core.utils import json_default as _json_default

#: Version of the session JSON layout.
SESSION_SCHEMA_VERSION = 1
#: Suffix of session files.
SESSION_SUFFIX = ".spindlescope.json"


def _stem(path: Path) -> str:
    name = path.name
    if name.endswith(SESSION_SUFFIX):
        return name[: -len(SESSION_SUFFIX)]
    return path.stem


def _ref(target: Path | None, base: Path) -> dict | None:
    if target is None:
        return None
    target = Path(target).resolve()
    try:
        rel = os.path.relpath(target, base)
    except ValueError:  # other drive on Windows
        rel = None
    return {"path": str(target), "relative": rel}


def _resolve(ref, base: Path) -> Path | None:
    """Find a referenced file: relative to the session first, then absolute."""
    if not ref:
        return None
    if isinstance(ref, str):
        ref = {"path": ref}
    cands = []
    if ref.get("relative"):
        try:
            cands.append((base / ref["relative"]).resolve())
        except (OSError, ValueError):
            pass
    if ref.get("path"):
        cands.append(Path(ref["path"]))
    for c in cands:
        try:
            if c.exists():
                return c
        except (OSError, ValueError):  # e.g. a NUL byte or a too-long name
            continue
    return cands[0] if cands else None


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def autosave_folder(recording_path) -> Path:
    """The autosave journal folder of a recording (under the cache folder).

    Parameters
    ----------
    recording_path : path-like | None
        The recording; None gives the folder of unsaved, recording-less work.

    Returns
    -------
    folder : Path
        ``cache_dir()/autosave/<hash of the absolute path>`` (created).
    """
    key = str(Path(recording_path).resolve()) if recording_path else "<none>"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    folder = cache_dir() / "autosave" / digest
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / "recording.json"
    if not meta.exists():
        atomic_write_text(meta, json.dumps({"recording": key}))
    return folder


class EditHistory(UndoStacks):
    """One undo / redo order across spindle marks and sleep stages.

    The one stack: the session's spindle set hands its undo steps here
    (:meth:`SpindleSet.attach_history`) and keeps none of its own; stage
    edits are recorded here from a copy of the stages (whatever made them:
    keys, menus, scripts). Importing marks or stages
    (:meth:`Session.replace_spindles`, :meth:`Session.replace_hypnogram`) is
    one step of this history; starting over (:meth:`Session.set_spindles`,
    :meth:`Session.set_hypnogram`, a new recording or session) clears it.

    Parameters
    ----------
    session : Session
        Observed.
    """

    changed = Signal()

    def __init__(self, session):
        self.session = session
        self._init_stacks()
        self._busy = False
        self._keep = False   # a recorded hypnogram swap: keep the history
        self._sp = self._hyp = None
        self._stages: list = []
        session.spindles_changed.connect(self._on_models_replaced)
        session.hypnogram_changed.connect(self._on_models_replaced)
        self._on_models_replaced()

    def _on_models_replaced(self, *args):
        if self._sp is not None and self._sp is not self.session.spindles:
            self._sp.changed.disconnect(self._on_spindles_edited)
            self._sp.attach_history(None)
        if self._hyp is not None:
            self._hyp.changed.disconnect(self._on_stages_edited)
        new_sp = self.session.spindles is not self._sp
        self._sp, self._hyp = self.session.spindles, self.session.hypnogram
        if self._sp is not None and new_sp:
            self._sp.changed.connect(self._on_spindles_edited)
            self._sp.attach_history(self._on_spindle_step)
        if self._hyp is not None:
            self._hyp.changed.connect(self._on_stages_edited)
        self._stages = list(self._hyp.stages) if self._hyp is not None else []
        if self._keep:
            return
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    def _push(self, entry):
        self._undo.append(entry)
        self._redo.clear()
        self.changed.emit()

    def _on_spindle_step(self, step):
        if not self._busy:
            self._push(("sp", step))

    def _on_spindles_edited(self, change):
        if self._busy:
            return
        if getattr(change, "kind", "") == "reset":  # not undoable in the set
            self._undo = [e for e in self._undo if e[0] != "sp"]
            self._redo = [e for e in self._redo if e[0] != "sp"]
            self.changed.emit()

    def _on_stages_edited(self, which):
        hyp = self._hyp
        idx = (list(range(*which.indices(hyp.n_epochs))) if isinstance(which, slice)
               else [int(which)])
        old = [self._stages[i] for i in idx]
        new = [hyp.stages[i] for i in idx]
        for i, st in zip(idx, new):
            self._stages[i] = st
        if not self._busy and old != new:
            self._push(("st", idx, old, new))

    def _install_hypnogram(self, hypnogram):
        self._keep = True
        try:
            self.session._install_hypnogram(hypnogram)
        finally:
            self._keep = False

    def swap_hypnogram(self, hypnogram):
        """Put ``hypnogram`` in the session's place as one undoable step.

        For a hypnogram that cannot take the new stages in place (another
        epoch length or count): undo puts the previous object back, with
        the stages it had, and the stage edits before it stay undoable.
        """
        old = self.session.hypnogram
        if hypnogram is old:
            return
        self._install_hypnogram(hypnogram)
        self._push(("hyp", old, hypnogram))

    def _apply(self, entry, undo: bool):
        self._busy = True
        try:
            if entry[0] == "sp":
                self._sp.apply_step(entry[1], undo)
            elif entry[0] == "hyp":
                _, old, new = entry
                self._install_hypnogram(old if undo else new)
            else:
                _, idx, old, new = entry
                values = old if undo else new
                if len(idx) > 1 and idx == list(range(idx[0], idx[0] + len(idx))):
                    self._hyp.set_stages(values, start=idx[0])  # one notification
                else:
                    for i, st in zip(idx, values):
                        self._hyp.set_stage(i, st)
        finally:
            self._busy = False

    def undo(self) -> bool:
        """Undo the last edit of marks or stages; False when there is none."""
        if not self._undo:
            return False
        entry = self._undo.pop()
        self._apply(entry, undo=True)
        self._redo.append(entry)
        self.changed.emit()
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; False when there is none."""
        if not self._redo:
            return False
        entry = self._redo.pop()
        self._apply(entry, undo=False)
        self._undo.append(entry)
        self.changed.emit()
        return True


class Session:
    """Everything one scoring session holds.

    Parameters
    ----------
    settings : Settings | None
        Preferences; defaults when None.

    Attributes
    ----------
    recording : core.io.recording.Recording | None
        The open recording.
    hypnogram : core.scoring.staging.Hypnogram | None
        One stage per epoch of the recording.
    spindles : core.scoring.spindles.SpindleSet
        Marks of every origin and status.
    settings : Settings
        Preferences.
    results : dict
        Named analysis results (JSON-serialisable summaries).
    view : dict
        Viewer state saved with the session (e.g. ``{"t0": 120.0}``).
    proposals : core.detection.autostage.StagingResult | None
        Automatic-staging proposals not yet accepted (saved with the session
        and the autosave journal).
    path : Path | None
        Where the session was last saved or loaded.
    history : EditHistory
        Undo / redo across marks and stages.
    dirty : bool
        Unsaved changes exist.
    """

    recording_changed = Signal(object)
    hypnogram_changed = Signal(object)
    spindles_changed = Signal(object)
    results_changed = Signal(str)
    proposals_changed = Signal(object)
    dirty_changed = Signal(bool)
    path_changed = Signal(object)

    def __init__(self, settings: Settings | None = None):
        from core.scoring.spindles import SpindleSet

        self.settings = settings if settings is not None else Settings()
        self.recording = None
        self.hypnogram = None
        self.spindles = SpindleSet()
        self.spindles.changed.connect(self._on_model_edited)
        self.results: dict = {}
        self.view: dict = {}
        self.proposals = None
        self.path: Path | None = None
        self._dirty = False
        self.history = EditHistory(self)

    # -- state ------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, value: bool):
        if value != self._dirty:
            self._dirty = value
            self.dirty_changed.emit(value)

    def _on_model_edited(self, *args):
        self._set_dirty(True)

    # -- setters ----------------------------------------------------------
    def open_recording(self, path):
        """Open a recording lazily and start fresh marks for it.

        Parameters
        ----------
        path : path-like
            Any format :func:`core.io.recording.open_recording` reads.

        Returns
        -------
        recording : Recording
            The opened recording (also :attr:`recording`).
        """
        from core.io.recording import open_recording

        rec = open_recording(path)
        self.set_recording(rec)
        return rec

    def set_recording(self, recording, *, hypnogram=None, spindles=None):
        """Use ``recording``; replace hypnogram and spindles (fresh if None)."""
        from core.scoring.spindles import SpindleSet
        from core.scoring.staging import Hypnogram

        self.recording = recording
        if hypnogram is None and recording is not None:
            hypnogram = Hypnogram.from_duration(
                recording.duration, epoch_length=self.settings.epoch_length)
        self.set_hypnogram(hypnogram)
        self.set_spindles(spindles if spindles is not None else SpindleSet())
        self.results = {}
        self.set_proposals(None)
        self.recording_changed.emit(recording)
        self._set_dirty(False)

    def _check_hypnogram(self, hypnogram):
        if hypnogram is not None and self.recording is not None:
            from core.scoring.staging import check_hypnogram_length

            check_hypnogram_length(hypnogram, self.recording.duration)

    def set_hypnogram(self, hypnogram):
        """Replace the hypnogram (checked against the recording's length).

        This starts a new undo history; to import stages as an undoable
        step use :meth:`replace_hypnogram`.
        """
        self._check_hypnogram(hypnogram)
        self._install_hypnogram(hypnogram)

    def _install_hypnogram(self, hypnogram):
        old = self.hypnogram
        if old is not None:
            try:
                old.changed.disconnect(self._on_model_edited)
            except Exception:  # pragma: no cover - not connected
                pass
        self.hypnogram = hypnogram
        if hypnogram is not None:
            hypnogram.changed.connect(self._on_model_edited)
        self.hypnogram_changed.emit(hypnogram)
        self._set_dirty(True)

    def replace_hypnogram(self, hypnogram):
        """Import stages as one undoable step of :attr:`history`.

        When the epoch length and count match, the current hypnogram takes
        the new stages in place (one recorded stage edit; autosave and views
        follow its ``changed`` signal). Otherwise ``hypnogram`` replaces it,
        and undo puts the previous hypnogram back.

        Parameters
        ----------
        hypnogram : core.scoring.staging.Hypnogram
            The imported stages (checked against the recording's length).

        Returns
        -------
        hypnogram : core.scoring.staging.Hypnogram
            The session's hypnogram now (the previous object when updated in
            place).
        """
        from core.scoring.staging import Hypnogram

        if not isinstance(hypnogram, Hypnogram):
            raise SpindleScopeError(
                f"Expected a Hypnogram, got {type(hypnogram).__name__}.")
        self._check_hypnogram(hypnogram)
        cur = self.hypnogram
        if (cur is not None and cur.epoch_length == hypnogram.epoch_length
                and cur.n_epochs == hypnogram.n_epochs):
            cur.set_stages(hypnogram.stages)
        else:
            self.history.swap_hypnogram(hypnogram)
        return self.hypnogram

    def replace_spindles(self, spindles) -> list[int]:
        """Import marks in place of all current ones, as one undoable step.

        The session keeps its :class:`~core.scoring.spindles.SpindleSet`, which
        records the replacement (:meth:`~core.scoring.spindles.SpindleSet.replace_all`):
        undo brings back the previous marks with their uids, and autosave and
        views follow its ``changed`` signal.

        Parameters
        ----------
        spindles : iterable of Spindle
            The imported marks (e.g. from :func:`core.io.marks.read_spindles`).

        Returns
        -------
        uids : list of int
            The uids the imported marks got.
        """
        return self.spindles.replace_all(spindles)

    def set_spindles(self, spindles):
        """Replace the spindle set (this starts a new undo history; to import
        marks as an undoable step use :meth:`replace_spindles`)."""
        try:
            self.spindles.changed.disconnect(self._on_model_edited)
        except Exception:  # pragma: no cover
            pass
        self.spindles = spindles
        spindles.changed.connect(self._on_model_edited)
        self.spindles_changed.emit(spindles)
        self._set_dirty(True)

    def set_proposals(self, proposals) -> None:
        """Keep automatic-staging proposals (:class:`core.detection.autostage.StagingResult`
        or None); emits ``proposals_changed``."""
        if proposals is self.proposals:
            return
        self.proposals = proposals
        self.proposals_changed.emit(proposals)
        self._set_dirty(True)

    def set_result(self, name: str, value) -> None:
        """Store a named, JSON-serialisable result."""
        self.results[name] = value
        self.results_changed.emit(name)
        self._set_dirty(True)

    # -- the pipeline (core/session/pipeline.py) -----------------------------------
    @property
    def workspace(self):
        """The session's :class:`core.session.workspace.SourceWorkspace` (head model,
        inverse settings, cached source and resolution results)."""
        ws = self.__dict__.get("_workspace")
        if ws is None:
            from core.session.workspace import SourceWorkspace

            ws = self._workspace = SourceWorkspace(self)
        return ws

    def iter_detect(self, options):
        """Detection generator (:func:`core.session.pipeline.iter_detect`); call on the
        main thread, add the result with :meth:`add_detection`."""
        from core.session.pipeline import iter_detect

        return iter_detect(self, options)

    def add_detection(self, result, status="candidate") -> list:
        """Add a detection's events as marks (:func:`core.session.pipeline.add_detection`)."""
        from core.session.pipeline import add_detection

        return add_detection(self, result, status)

    def compare(self, reference, **kwargs):
        """Agreement of the marks with a reference (:func:`core.session.pipeline.compare`)."""
        from core.session.pipeline import compare

        return compare(self, reference, **kwargs)

    def iter_analyze(self, **kwargs):
        """Source analysis generator (:func:`core.session.pipeline.iter_analyze`)."""
        from core.session.pipeline import iter_analyze

        return iter_analyze(self, **kwargs)

    def iter_resolution(self, **options):
        """Resolution study generator (:func:`core.session.pipeline.iter_resolution`)."""
        from core.session.pipeline import iter_resolution

        return iter_resolution(self, **options)

    def export(self, result, out, **kwargs) -> dict:
        """Write a source result's files (:func:`core.session.pipeline.export`)."""
        from core.session.pipeline import export

        return export(self, result, out, **kwargs)

    # -- persistence ------------------------------------------------------
    def to_dict(self, path: Path) -> dict:
        """The JSON content of the session file at ``path``."""
        base = path.parent
        stem = _stem(path)
        out = {
            "schema_version": SESSION_SCHEMA_VERSION,
            "app": "SpindleScope",
            "recording": _ref(self.recording.path if self.recording else None, base),
            "spindles": {"relative": f"{stem}.spindles.tsv",
                         "path": str((base / f"{stem}.spindles.tsv").resolve())},
            "hypnogram": None,
            "epoch_length": (self.hypnogram.epoch_length if self.hypnogram
                             else self.settings.epoch_length),
            "view": dict(self.view),
            "results": self.results,
            "proposals": proposals_to_dict(self.proposals),
        }
        if self.hypnogram is not None:
            out["hypnogram"] = {"relative": f"{stem}.hypnogram.tsv",
                                "path": str((base / f"{stem}.hypnogram.tsv").resolve())}
        return out

    def save(self, path) -> Path:
        """Save the session JSON and export the marks beside it.

        Parameters
        ----------
        path : path-like
            The session file; ``.spindlescope.json`` is appended if missing.

        Returns
        -------
        path : Path
            The session file written.
        """
        from core.io.marks import write_spindles
        from core.io.hypnograms import write_hypnogram

        path = Path(path)
        if not path.name.endswith(SESSION_SUFFIX):
            path = path.with_name(_stem(path) + SESSION_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_dict(path)
        try:
            json.dumps(data, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise SpindleScopeError(
                f"The session cannot be saved: a result is not JSON-serialisable "
                f"({exc}).") from exc
        base, stem = path.parent, _stem(path)
        write_spindles(self.spindles, base / f"{stem}.spindles.tsv")
        if self.hypnogram is not None:
            write_hypnogram(self.hypnogram, base / f"{stem}.hypnogram.tsv")
        try:
            text = json.dumps(data, indent=2, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise SpindleScopeError(
                f"The session cannot be saved: a result is not JSON-serialisable "
                f"({exc}).") from exc
        # every file through the one atomic writer: a kill at any moment
        # leaves the old or the new file, never a truncated one
        atomic_write_text(path, text)
        self.path = path
        self.path_changed.emit(path)
        self._set_dirty(False)
        logger.info("Session saved to %s", path)
        return path

    @classmethod
    def load(cls, path, *, settings: Settings | None = None) -> "Session":
        """Load a session file, opening the recording it refers to.

        Parameters
        ----------
        path : path-like
            A ``.spindlescope.json`` file.
        settings : Settings | None
            Preferences of the new session.

        Returns
        -------
        session : Session
            With recording, hypnogram and spindles restored.
        """
        from core.io.recording import open_recording
        from core.scoring.spindles import SpindleSet
        from core.io.marks import read_spindles
        from core.io.hypnograms import read_hypnogram_for

        path = Path(path)
        data = _read_session_json(path)
        base = path.parent
        session = cls(settings=settings)
        rec = None
        rec_path = _resolve(data.get("recording"), base)
        if rec_path is not None:
            if not _exists(rec_path):
                raise SpindleScopeError(
                    f"The session's recording {str(rec_path)!r} is missing. Move "
                    f"it back (or beside the session file) and load again.")
            rec = open_recording(rec_path)
        sp_path = _resolve(data.get("spindles"), base)
        spindles = (read_spindles(sp_path, sfreq=rec.sfreq if rec else None,
                                  duration=rec.duration if rec else None)
                    if sp_path is not None and _exists(sp_path) else SpindleSet())
        hyp = None
        hyp_path = _resolve(data.get("hypnogram"), base)
        if hyp_path is not None and _exists(hyp_path):
            hyp = read_hypnogram_for(hyp_path, rec, epoch_length=data["epoch_length"])
        if rec is not None:
            session.set_recording(rec, hypnogram=hyp, spindles=spindles)
        else:
            session.set_hypnogram(hyp)
            session.set_spindles(spindles)
        session.view = dict(data["view"])
        session.results = dict(data["results"])
        session.set_proposals(data["proposals"])
        session.path = path
        session._set_dirty(False)
        return session

    def autosave_folder(self) -> Path:
        """The autosave folder of the current recording."""
        return autosave_folder(self.recording.path if self.recording else None)

    def __repr__(self):
        rec = self.recording.path.name if self.recording and self.recording.path else None
        return (f"<Session recording={rec!r} spindles={len(self.spindles)} "
                f"dirty={self.dirty}>")


def _read_session_json(path: Path) -> dict:
    """Read and type-check a session file (every field it may hold).

    Returns
    -------
    data : dict
        With ``view`` and ``results`` dicts (empty when absent) and
        ``epoch_length`` a positive number or None.
    """
    if path.is_dir():
        raise SpindleScopeError(
            f"{str(path)!r} is a folder, not a session file: choose the "
            f"{SESSION_SUFFIX} file inside it.")
    if not path.exists():
        raise SpindleScopeError(f"The session file {str(path)!r} does not exist.")
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise SpindleScopeError(
            f"The session file {str(path)!r} cannot be read (permission denied). "
            f"Check its permissions.") from None
    except OSError as exc:
        raise SpindleScopeError(
            f"The session file {str(path)!r} cannot be read ({exc.strerror or exc}).") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:
        raise SpindleScopeError(
            f"Cannot read the session {path.name!r}: it is not valid JSON "
            f"({str(exc)[:120]}; UTF-8 text expected). Pick the .spindlescope.json "
            f"file SpindleScope saved.") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise SpindleScopeError(
            f"{path.name!r} is not a SpindleScope session file (no "
            f"'schema_version').")

    def bad(field, want):
        return SpindleScopeError(
            f"The session {path.name!r} is damaged: {field!r} should be {want}, "
            f"but it is {data[field]!r}. Fix that field or save the session again.")

    ver = data["schema_version"]
    if isinstance(ver, bool) or not isinstance(ver, int) or ver < 1:
        raise bad("schema_version", "a positive integer")
    if ver > SESSION_SCHEMA_VERSION:
        raise SpindleScopeError(
            f"The session {path.name!r} was written by a newer SpindleScope "
            f"(schema {ver}); update the app.")
    for key in ("recording", "spindles", "hypnogram"):
        ref = data.get(key)
        if ref is None or isinstance(ref, str):
            continue
        if not isinstance(ref, dict) or not all(
                isinstance(ref.get(k), (str, type(None))) for k in ("path", "relative")):
            raise bad(key, "a file reference ({'path': ..., 'relative': ...})")
        if not (ref.get("path") or ref.get("relative")):
            data[key] = None
    for key in ("view", "results"):
        if data.get(key) is None:
            data[key] = {}
        elif not isinstance(data[key], dict):
            raise bad(key, "an object")
    try:
        data["proposals"] = proposals_from_dict(data.get("proposals"))
    except ValueError as exc:
        raise SpindleScopeError(
            f"The session {path.name!r} is damaged: its automatic-staging "
            f"proposals cannot be read ({exc}). Remove the 'proposals' field or "
            f"save the session again.") from None
    el = data.get("epoch_length")
    if el is not None and (isinstance(el, bool) or not isinstance(el, (int, float))
                           or not 0 < el <= 3600):
        raise bad("epoch_length", "a number of seconds (0 < x <= 3600)")
    data["epoch_length"] = el
    for k, v in data["view"].items():
        if k == "t0" and (isinstance(v, bool) or not isinstance(v, (int, float))
                          or not math.isfinite(v)):
            raise SpindleScopeError(
                f"The session {path.name!r} is damaged: view['t0'] should be a "
                f"number of seconds, but it is {v!r}.")
    return data


def open_session(recording, *, spindles=None, hypnogram=None, epoch_length=None,
                 settings=None):
    """A :class:`core.session.session.Session` on these files, as the app holds it after
    opening them (the commands' first step).

    Parameters
    ----------
    recording : path-like
    spindles, hypnogram : path-like | None
        Marks and stages to load.
    epoch_length : float | None
        Hypnogram epoch length (default: from the file).
    settings : core.session.settings.Settings | None

    Returns
    -------
    session : core.session.session.Session
    """
    from core.scoring.spindles import SpindleSet
    from core.io.marks import read_spindles
    from core.io.hypnograms import read_hypnogram_for

    session = Session(settings=settings)
    rec = session.open_recording(recording)
    if hypnogram:
        session.set_hypnogram(read_hypnogram_for(hypnogram, rec,
                                                 epoch_length=epoch_length))
    if spindles:
        session.set_spindles(SpindleSet(read_spindles(spindles)))
    return session
