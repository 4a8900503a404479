"""Export cortical movies (MP4 through imageio-ffmpeg, GIF through Pillow) and
snapshots of brain views.

A movie's frames are rendered by VTK, so on the main thread; encoding them is
slow and runs on a worker thread. :class:`MovieExport` renders one frame per
event-loop turn from a timer (the app stays responsive), hands it to an
encoder on a worker (:class:`gui.workers.ProgressWorker`) through a bounded
queue, shows a progress dialog with Cancel, and puts the finished file in
place atomically: a cancelled, failed or killed export leaves no file behind.
:func:`iter_export_movie` is the blocking form (scripts, tests).
"""

from __future__ import annotations

import queue
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.utils.safe_io import write_via_temp
from core.utils import Progress, SpindleScopeError, atomic_write_bytes

#: Frames rendered ahead of the encoder at most (memory bound: a few MB each).
QUEUE_FRAMES = 8
#: Seconds the encoder waits for the next frame before giving the export up
#: (a safety net should the exporting window vanish without cancelling).
FRAME_TIMEOUT = 120.0


def compose(images) -> np.ndarray:
    """Images side by side (padded to the tallest), array (h, w, 3) uint8."""
    h = max(im.shape[0] for im in images)
    padded = [np.pad(im[..., :3], ((0, h - im.shape[0]), (0, 0), (0, 0)),
                     constant_values=255) for im in images]
    return np.concatenate(padded, axis=1).astype(np.uint8)


def snapshot(views, path) -> Path:
    """Save the views side by side as one PNG (or any Pillow format)."""
    from PIL import Image

    path = Path(path)
    img = compose([v.image() for v in views])
    try:
        write_via_temp(path, lambda tmp: Image.fromarray(img).save(tmp))
    except (ValueError, OSError) as exc:
        raise SpindleScopeError(f"Cannot write the snapshot {str(path)!r} ({exc}).") \
            from exc
    return path


def check_movie_args(path, frames) -> tuple[Path, list]:
    """Validate a movie's output path (``.mp4`` or ``.gif``) and frames."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise SpindleScopeError(f"Movies are written as .mp4 or .gif, not "
                                f"{suffix or 'a file without extension'!r}.")
    frames = list(frames)
    if not frames:
        raise SpindleScopeError("There are no frames to export.")
    return path, frames


def render_frame(views, set_frame, frame) -> np.ndarray:
    """Show ``frame`` and grab the views side by side (even sizes for H.264).
    Main thread only (VTK renders)."""
    set_frame(frame)
    img = compose([v.image() for v in views])
    h, w = img.shape[:2]
    return np.ascontiguousarray(img[: h - h % 2, : w - w % 2])


class MovieEncoder:
    """Encode frames into a private temporary file; :meth:`finish` puts the
    movie at ``path`` atomically, :meth:`close` without finishing discards it.

    Parameters
    ----------
    path : Path
        ``.mp4`` (H.264 through imageio-ffmpeg) or ``.gif`` (Pillow).
    fps : float
        Frames per second.
    """

    def __init__(self, path, fps: float = 10.0):
        self.path = Path(path)
        self.fps = float(fps)
        self.gif = self.path.suffix.lower() == ".gif"
        self.n_frames = 0
        self._images = []
        self._writer = None
        self._tmpdir = tempfile.TemporaryDirectory(prefix=".spindlescope-")
        self._tmp = Path(self._tmpdir.name) / self.path.name

    def add(self, img: np.ndarray) -> None:
        """Append one frame (array (h, w, 3) uint8)."""
        self.n_frames += 1
        if self.gif:
            self._images.append(img)
            return
        if self._writer is None:
            import imageio_ffmpeg

            self._writer = imageio_ffmpeg.write_frames(
                str(self._tmp), (img.shape[1], img.shape[0]), fps=self.fps,
                codec="libx264", pix_fmt_out="yuv420p", macro_block_size=1, quality=7)
            self._writer.send(None)
        self._writer.send(img)

    def finish(self) -> Path:
        """Close the encoder and put the movie in place; return its path."""
        if self.gif:
            from PIL import Image

            pics = [Image.fromarray(im) for im in self._images]
            pics[0].save(self._tmp, save_all=True, append_images=pics[1:],
                         duration=int(round(1000 / self.fps)), loop=0)
        elif self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
        atomic_write_bytes(self.path, self._tmp.read_bytes())
        return self.path

    def close(self) -> None:
        """Release the encoder and its temporary file (idempotent)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        self._images = []
        self._tmpdir.cleanup()


def iter_export_movie(views, set_frame, frames, path, fps: float = 10.0):
    """Generator writing a movie of ``views`` while ``set_frame(f)`` steps.

    Renders and encodes on the calling (main) thread: drive it with
    :func:`core.utils.run_with_progress`. The app uses :class:`MovieExport`,
    which encodes on a worker.

    Parameters
    ----------
    views : list of BrainView
    set_frame : callable
        Shows frame ``f`` in every view.
    frames : sequence of int
    path : path-like
        ``.mp4`` (H.264 through imageio-ffmpeg) or ``.gif``.
    fps : float

    Returns
    -------
    path : Path
    """
    path, frames = check_movie_args(path, frames)
    enc = MovieEncoder(path, fps)
    try:
        for k, f in enumerate(frames):
            yield Progress(k, len(frames), f"Frame {k + 1}/{len(frames)}")
            enc.add(render_frame(views, set_frame, f))
        enc.finish()
    finally:
        enc.close()
    yield Progress(len(frames), len(frames), f"Movie written to {path.name}")
    return path


_END = object()     # the renderer has queued every frame
_ABORT = object()   # the export was cancelled: stop without writing


def iter_encode(frames: queue.Queue, n_frames: int, path, fps: float):
    """Worker generator: encode ``n_frames`` frames taken from ``frames``.

    Yields one :class:`Progress` per frame; an ``_ABORT`` item (Cancel)
    stops it without writing anything.
    """
    enc = MovieEncoder(path, fps)
    try:
        while True:
            try:
                img = frames.get(timeout=FRAME_TIMEOUT)
            except queue.Empty:
                raise SpindleScopeError(
                    f"No movie frame arrived for {FRAME_TIMEOUT:g} s: the export "
                    f"was abandoned and nothing was written. Export it again.") from None
            if img is _ABORT:
                yield Progress(enc.n_frames, n_frames, "Cancelled")
                return None
            if img is _END:
                try:
                    if frames.get_nowait() is _ABORT:   # cancelled at the last moment
                        yield Progress(enc.n_frames, n_frames, "Cancelled")
                        return None
                except queue.Empty:
                    pass
                break
            enc.add(img)
            yield Progress(enc.n_frames, n_frames,
                           f"Frame {enc.n_frames}/{n_frames} encoded")
        out = enc.finish()
    finally:
        enc.close()
    yield Progress(n_frames, n_frames, f"Movie written to {Path(path).name}")
    return out


class MovieExport(QObject):
    """Export a movie with a progress dialog and a working Cancel.

    Frames are rendered on the main thread from a zero-interval timer (one
    per event-loop turn, at most :data:`QUEUE_FRAMES` ahead of the encoder);
    they are encoded on a worker thread. Nothing is written at ``path`` until
    the movie is complete.

    Parameters
    ----------
    views : list of BrainView
    set_frame : callable
        Shows frame ``f`` in every view.
    frames : sequence of int
    path : path-like
        ``.mp4`` or ``.gif``.
    fps : float
    parent : QWidget | None
        Owner of the progress dialog.

    Signals
    -------
    finished(Path), failed(exception, details), cancelled()
    """

    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()

    def __init__(self, views, set_frame, frames, path, fps: float = 10.0, parent=None):
        super().__init__(parent)
        self.path, self.frames = check_movie_args(path, frames)
        self.views, self.set_frame, self.fps = list(views), set_frame, float(fps)
        self.n_rendered = 0
        self.n_encoded = 0
        self.done = False
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._render_next)
        self.worker = None
        self.dialog = None
        self._parent = parent

    def start(self) -> MovieExport:
        """Show the progress dialog and start rendering and encoding."""
        from PySide6.QtWidgets import QProgressDialog

        from gui.workers import ProgressWorker

        n = len(self.frames)
        dlg = QProgressDialog(f"Exporting {self.path.name}", "Cancel", 0, n, self._parent)
        dlg.setWindowTitle("Export movie")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setValue(0)
        dlg.canceled.connect(self.cancel)
        dlg.show()
        self.dialog = dlg
        q, path, fps = self._queue, self.path, self.fps
        self.worker = ProgressWorker(lambda: iter_encode(q, n, path, fps))
        self.worker.REPORT_INTERVAL = 0.0
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.start()
        self._timer.start()
        return self

    def _render_next(self):
        if self.done:
            return
        if self._queue.full():      # the encoder is behind: look again shortly
            self._timer.setInterval(10)
            return
        self._timer.setInterval(0)
        if self.n_rendered >= len(self.frames):
            self._timer.stop()
            self._queue.put(_END)
            return
        try:
            img = render_frame(self.views, self.set_frame, self.frames[self.n_rendered])
        except Exception as exc:  # noqa: BLE001 - reported, the encoder is stopped
            import traceback

            self._abort()
            self._finish_ui()
            self.failed.emit(exc, traceback.format_exc())
            return
        self.n_rendered += 1
        self._queue.put(img)

    def _abort(self):
        self._timer.stop()
        if self.worker is not None:
            self.worker.cancel()
        while True:         # make room: the encoder must see the abort next
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_ABORT)

    def cancel(self):
        """Stop rendering and encoding; no file is written."""
        if not self.done:
            self._abort()

    def _on_progress(self, prog):
        self.n_encoded = int(prog.done)
        if self.dialog is not None:
            self.dialog.setValue(int(min(prog.done, prog.total)))
            self.dialog.setLabelText(f"Exporting {self.path.name}\n{prog.message}")

    def _finish_ui(self):
        self.done = True
        self._timer.stop()
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()

    def _on_finished(self, path):
        if path is None:       # the abort arrived after the last step
            return self._on_cancelled()
        self._finish_ui()
        self.finished.emit(path)

    def _on_failed(self, exc, details):
        if self.done:
            return
        self._finish_ui()
        self.failed.emit(exc, details)

    def _on_cancelled(self):
        if self.done:
            return
        self._finish_ui()
        self.cancelled.emit()
