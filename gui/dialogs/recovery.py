"""Autosave and crash recovery around :mod:`core.session.autosave`.

While a recording is open, a :class:`core.session.autosave.Autosaver` journals every
change to the recording's autosave folder (``core.session.session.autosave_folder``),
and a ``session.lock`` file there names this process (lock and crash
detection live in :mod:`core.session.autosave`; this module only asks and applies). A normal exit closes the
journal cleanly; a journal left unclean by a process that is gone means the
last run crashed, and the next start (or the next opening of that recording)
offers to restore the journalled marks and stages.
"""

from __future__ import annotations

from pathlib import Path

from core.session.autosave import LOCK, crashed, recoverable, remove_lock, write_lock  # noqa: F401
from core.session.autosave import pending_recoveries as _pending_in
from core.utils import cache_dir, logger

from gui.dialogs import common as dialogs


def pending_recoveries() -> list[tuple[Path, str]]:
    """(folder, recording path) of crashed sessions that hold edits (see
    :func:`core.session.autosave.pending_recoveries`), under the app's cache folder."""
    return _pending_in(cache_dir() / "autosave")


class AutosaveController:
    """Keep a :class:`core.session.autosave.Autosaver` bound to the session's models.

    Autosave is never silently off: when the journal cannot be written
    (at start or on any later change) :attr:`problem` says why and
    ``on_problem`` (set by the window) is called once with that text.

    Parameters
    ----------
    session : core.session.session.Session
        Observed; the autosaver follows its spindle set and hypnogram.
    parent : QWidget
        Owner of the recovery question.
    interactive : bool
        False for off-screen renders (``--screenshot``): nothing is asked
        and the autosave folders are left untouched (crash data included).
    """

    def __init__(self, session, parent=None, *, interactive: bool = True):
        self.session = session
        self.parent = parent
        self.saver = None
        self.folder: Path | None = None
        self.enabled = bool(session.settings.autosave)
        self.interactive = bool(interactive)
        self.problem: str | None = None
        self.on_problem = None        # callable(text), set by the window
        self.on_notice = None         # callable(text): recovery remarks
        self._damaged = 0
        session.spindles_changed.connect(self._on_models_replaced)
        session.hypnogram_changed.connect(self._on_models_replaced)
        session.proposals_changed.connect(self._on_proposals_changed)

    def _on_models_replaced(self, *args):
        if self.folder is not None:
            # an import or a restore while journalling: that is an edit
            self._bind(edited=True)

    def _on_proposals_changed(self, proposals):
        if self.saver is not None:
            self.saver.set_proposals(proposals)

    def _report(self, exc):
        text = (f"Autosave is off: {type(exc).__name__}: {exc}. Your changes are "
                f"not being saved automatically; save the session to keep them.")
        first = self.problem is None
        self.problem = text
        logger.error("%s", text)
        if first and self.on_problem is not None:
            self.on_problem(text)

    def _bind(self, edited=False):
        prev = self.saver
        edited = edited or bool(prev is not None and prev.edited)
        self._close_saver()
        s = self.session
        if not self.enabled or s.recording is None or s.hypnogram is None:
            return
        try:
            from core.session.autosave import Autosaver

            self.saver = Autosaver(self.folder, s.spindles, s.hypnogram,
                                   edited=edited, on_error=self._report,
                                   proposals=s.proposals)
        except Exception as exc:  # autosave failing must never lose the session
            self.saver = None
            self._report(exc)

    def _close_saver(self):
        saver, self.saver = self.saver, None
        if saver is None:
            return
        try:
            saver.close(clean=True)
        except Exception as exc:
            logger.warning("Closing the autosaver failed: %s", exc)

    def start(self, offer_recovery: bool = True):
        """Journal the current recording's models (offer recovery first).

        Never raises: a folder that cannot be used is reported through
        :attr:`problem`. Returns whether autosaved work was restored.
        """
        if self.session.recording is None or not self.interactive:
            return False
        try:
            folder = self.session.autosave_folder()
        except Exception as exc:
            self._report(exc)
            return False
        restored = False
        if offer_recovery and crashed(folder):
            restored = self.offer(folder)
        self.folder = folder
        try:
            write_lock(folder)
        except OSError as exc:
            self._report(exc)
            return restored
        self._bind(edited=restored)
        saver = self.saver
        if saver is not None and saver.kept_aside is not None:
            self._notice(
                f"The autosaved work that was {'restored' if restored else 'not restored'} "
                f"is kept in {saver.kept_aside}"
                + (f" ({self._damaged} damaged autosave entries were skipped)."
                   if restored and self._damaged else "."))
        return restored

    def _notice(self, text):
        logger.warning("%s", text)
        if self.on_notice is not None:
            self.on_notice(text)

    def offer(self, folder) -> bool:
        """Ask whether to restore the journal in ``folder``; apply it if yes.

        Declining keeps the journal aside (the next autosaver moves it into a
        ``kept-*`` subfolder); nothing is asked for a session without edits.
        """
        self._damaged = 0
        if not self.interactive:
            return False
        try:
            got = recoverable(folder)
        except Exception as exc:
            logger.warning("Cannot check for recovery data: %s", exc)
            return False
        if got is None:
            return False
        extra = (f" ({got.n_damaged} damaged autosave entries will be skipped.)"
                 if got.n_damaged else "")
        if not dialogs.ask(self.parent, "Restore unsaved work?",
                           "SpindleScope did not close properly last time. Restore "
                           "the marks and stages saved automatically for this "
                           f"recording?{extra}"):
            return False
        spindles, hyp = got
        self._damaged = got.n_damaged
        try:
            if hyp is not None:
                self.session.set_hypnogram(hyp)
            if spindles is not None:
                self.session.set_spindles(spindles)
            self.session.set_proposals(got.proposals)
        except Exception as exc:
            dialogs.show_error(self.parent, "Restoring the autosaved work failed.", exc)
            return False
        return True

    def stop(self, clean: bool = False):
        """Stop journalling; ``clean`` (a normal exit) removes the lock."""
        self._close_saver()
        if self.folder is not None:
            remove_lock(self.folder)
        self.folder = None
