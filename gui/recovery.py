"""Autosave and crash recovery around :mod:`core.autosave`.

While a recording is open, a :class:`core.autosave.Autosaver` journals every
change to the recording's autosave folder (``core.session.autosave_folder``),
and a ``session.lock`` file there names this process. A normal exit closes the
journal cleanly; a journal left unclean by a process that is gone means the
last run crashed, and the next start (or the next opening of that recording)
offers to restore the journalled marks and stages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.utils import cache_dir, logger

from . import dialogs

LOCK = "session.lock"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False  # cannot tell cheaply: treat as crashed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def crashed(folder: Path) -> bool:
    """Whether ``folder`` was left by a process that is gone (no live lock)."""
    lock = Path(folder) / LOCK
    if not lock.exists():
        return True  # the journal's own "clean" flag decides
    try:
        pid = int(json.loads(lock.read_text()).get("pid", -1))
    except (OSError, ValueError, AttributeError):
        return True
    return not _pid_alive(pid)


def _has_work(folder) -> bool:
    """Whether the journal holds any mark or scored epoch (else nothing to offer)."""
    from core.autosave import Autosaver

    got = Autosaver.recover(folder)
    if not got:
        return False
    spindles, hyp = got
    return len(spindles) > 0 or (hyp is not None and any(s != "?" for s in hyp.stages))


def pending_recoveries() -> list[tuple[Path, str]]:
    """(folder, recording path) of crashed sessions that have a journal."""
    root = cache_dir() / "autosave"
    out = []
    if not root.is_dir():
        return out
    try:
        from core.autosave import Autosaver
    except ImportError:
        return out
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not crashed(folder):
            continue
        try:
            if not Autosaver.has_recovery(folder) or not _has_work(folder):
                continue
            rec = json.loads((folder / "recording.json").read_text())["recording"]
        except Exception as exc:  # a damaged folder must not block start-up
            logger.warning("Ignoring autosave folder %s: %s", folder, exc)
            continue
        out.append((folder, rec))
    return out


class AutosaveController:
    """Keep a :class:`core.autosave.Autosaver` bound to the session's models.

    Parameters
    ----------
    session : core.session.Session
        Observed; the autosaver follows its spindle set and hypnogram.
    parent : QWidget
        Owner of the recovery question.
    """

    def __init__(self, session, parent=None):
        self.session = session
        self.parent = parent
        self.saver = None
        self.folder: Path | None = None
        self.enabled = bool(session.settings.autosave)
        session.spindles_changed.connect(self._on_models_replaced)
        session.hypnogram_changed.connect(self._on_models_replaced)

    def _on_models_replaced(self, *args):
        if self.folder is not None:
            self._bind()

    def _bind(self):
        self._close_saver()
        s = self.session
        if not self.enabled or s.recording is None or s.hypnogram is None:
            return
        try:
            from core.autosave import Autosaver

            self.saver = Autosaver(self.folder, s.spindles, s.hypnogram)
        except Exception as exc:  # autosave failing must never lose the session
            logger.warning("Autosave is off: %s", exc)
            self.saver = None

    def _close_saver(self):
        saver, self.saver = self.saver, None
        if saver is None:
            return
        try:
            saver.close(clean=True)
        except Exception as exc:
            logger.warning("Closing the autosaver failed: %s", exc)

    def start(self, offer_recovery: bool = True):
        """Journal the current recording's models (offer recovery first)."""
        if self.session.recording is None:
            return False
        folder = self.session.autosave_folder()
        restored = False
        if offer_recovery and crashed(folder):
            restored = self.offer(folder)
        self.folder = folder
        (folder / LOCK).write_text(json.dumps({"pid": os.getpid()}))
        self._bind()
        return restored

    def offer(self, folder) -> bool:
        """Ask whether to restore the journal in ``folder``; apply it if yes."""
        try:
            from core.autosave import Autosaver

            if not Autosaver.has_recovery(folder) or not _has_work(folder):
                return False
        except Exception as exc:
            logger.warning("Cannot check for recovery data: %s", exc)
            return False
        if not dialogs.ask(self.parent, "Restore unsaved work?",
                           "SpindleScope did not close properly last time. Restore "
                           "the marks and stages saved automatically for this "
                           "recording?"):
            return False
        try:
            got = Autosaver.recover(folder)
        except Exception as exc:
            dialogs.show_error(self.parent, "Restoring the autosaved work failed.", exc)
            return False
        if not got:
            return False
        spindles, hyp = got
        if hyp is not None:
            self.session.set_hypnogram(hyp)
        if spindles is not None:
            self.session.set_spindles(spindles)
        return True

    def stop(self, clean: bool = False):
        """Stop journalling; ``clean`` (a normal exit) removes the lock."""
        self._close_saver()
        if self.folder is not None:
            lock = self.folder / LOCK
            if lock.exists():
                try:
                    lock.unlink()
                except OSError:
                    pass
        self.folder = None
