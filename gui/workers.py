"""Run core progress generators on a worker thread with progress and Cancel.

House rules 3 and 4: the worker only computes and returns a value; the
``on_done`` callback runs on the main thread and is the one place that changes
the session or the widgets. Cancel closes the generator between steps
(:func:`core.utils.run_with_progress`).

``make_gen`` is called on the main thread when the worker starts, so the
functions that freeze their inputs when called (e.g.
:meth:`core.session.workspace.SourceWorkspace.iter_sources`) take their snapshot
there; the worker thread only advances the generator. A plain
``QThreadPool`` runnable is used (superqt's ``thread_worker`` would add a
dependency for the same forty lines, so superqt is not used).
"""

from __future__ import annotations

import gc
import time
import traceback

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog

from core.utils import Cancelled, Progress, run_with_progress

_ACTIVE: set = set()  # keep workers alive until they report


class MainThreadGC(QObject):
    """Python's cyclic garbage collector, run on the main thread only.

    Left automatic, the collector runs on whichever thread allocates when a
    threshold is crossed — often a worker. Collecting a cycle that holds Qt
    objects there destroys them off the main thread: the worker takes a Qt
    mutex and waits for the GIL while the main thread, holding the GIL,
    destroys a widget and waits for that mutex — a deadlock (seen: a
    resolution worker band-passing N2 segments and the main thread deleting a
    menu). This turns automatic collection off and collects on a main-thread
    timer by the same generation thresholds; :meth:`stop` restores it.

    Parameters
    ----------
    interval_ms : int
        How often the thresholds are checked.
    """

    def __init__(self, parent=None, interval_ms: int = 500):
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(int(interval_ms))

    def check(self) -> int:
        """Collect the generation whose threshold is crossed; returns the
        number of unreachable objects found (0 when nothing was due)."""
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self._threshold
        if c0 <= t0:
            return 0
        gen = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
        return gc.collect(gen)

    def stop(self):
        """Stop the timer, collect once, give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()


class _Runnable(QRunnable):
    def __init__(self, worker):
        super().__init__()
        self.worker = worker

    def run(self):
        self.worker._run()


class ProgressWorker(QObject):
    """Drive ``make_gen()`` on the thread pool.

    Parameters
    ----------
    make_gen : callable
        Returns a generator yielding :class:`core.utils.Progress` and
        returning the result; called on the main thread by :meth:`start`
        (the inputs are read there), the generator runs on the worker.

    Signals
    -------
    progress(Progress), finished(result), failed(exception, details), cancelled()
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()

    def __init__(self, make_gen, parent=None):
        super().__init__(parent)
        self.make_gen = make_gen
        self._cancel = False
        self._last_report = -1.0
        self.done = False
        self._gen = None
        self._start_error = None

    def start(self, pool: QThreadPool | None = None):
        """Call ``make_gen`` here (main thread) and run the generator on the pool."""
        try:
            self._gen = self.make_gen()
        except Exception as exc:  # reported from the worker like any failure
            self._start_error = (exc, traceback.format_exc())
        _ACTIVE.add(self)
        for sig in (self.finished, self.failed, self.cancelled):
            sig.connect(self._release)
        (pool or QThreadPool.globalInstance()).start(_Runnable(self))

    def cancel(self):
        """Ask the generator to stop at its next step."""
        self._cancel = True

    def _release(self, *args):
        self.done = True
        _ACTIVE.discard(self)

    #: Seconds between progress reports sent to the GUI thread (a fast
    #: generator must not flood the event queue).
    REPORT_INTERVAL = 0.05

    def _callback(self, prog: Progress):
        now = time.monotonic()
        if now - self._last_report >= self.REPORT_INTERVAL or prog.done >= prog.total:
            self._last_report = now
            try:
                self.progress.emit(prog)
            except RuntimeError:  # the receiver is gone (app closing): stop
                return False
        return not self._cancel

    def _emit(self, signal, *args):
        try:
            signal.emit(*args)
        except RuntimeError:  # pragma: no cover - the app is closing
            pass

    def _run(self):
        if self._start_error is not None:
            self._emit(self.failed, *self._start_error)
            return
        try:
            result = run_with_progress(self._gen, self._callback)
        except Cancelled:
            self._emit(self.cancelled)
            return
        except Exception as exc:  # reported as a dialog by the caller
            self._emit(self.failed, exc, traceback.format_exc())
            return
        if self._cancel:
            self._emit(self.cancelled)
        else:
            self._emit(self.finished, result)


def run_task(parent, title: str, make_gen, on_done, on_error=None, on_cancel=None):
    """Run a progress generator with a progress dialog and a Cancel button.

    Parameters
    ----------
    parent : QWidget
        Owner of the dialog.
    title : str
        What is being done.
    make_gen : callable
        Returns the progress generator (called on the main thread at start;
        the generator runs on the worker thread).
    on_done : callable
        Called with the result on the main thread.
    on_error : callable | None
        Called with ``(exception, details)``; default shows an error dialog.
    on_cancel : callable | None
        Called when the user cancelled.

    Returns
    -------
    worker : ProgressWorker
        The running worker (``worker.dialog`` is the progress dialog).
    """
    from gui.dialogs.common import show_error

    dlg = QProgressDialog(title, "Cancel", 0, 100, parent)
    dlg.setWindowTitle(title)
    dlg.setWindowModality(Qt.WindowModality.WindowModal)
    dlg.setMinimumDuration(300)
    dlg.setAutoClose(False)
    dlg.setAutoReset(False)
    dlg.setValue(0)
    worker = ProgressWorker(make_gen)
    worker.dialog = dlg

    def _progress(prog):
        if prog.total:
            dlg.setMaximum(int(prog.total))
            dlg.setValue(int(min(prog.done, prog.total)))
        if prog.message:
            dlg.setLabelText(f"{title}\n{prog.message}")

    def _finish():
        dlg.canceled.disconnect(worker.cancel)
        dlg.close()

    def _done(result):
        _finish()
        on_done(result)

    def _failed(exc, details):
        _finish()
        if on_error is not None:
            on_error(exc, details)
        else:
            show_error(parent, f"{title} failed.", exc, details)

    def _cancelled():
        _finish()
        if on_cancel is not None:
            on_cancel()

    dlg.canceled.connect(worker.cancel)
    worker.progress.connect(_progress)
    worker.finished.connect(_done)
    worker.failed.connect(_failed)
    worker.cancelled.connect(_cancelled)
    worker.start()
    return worker
