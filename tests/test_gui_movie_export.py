"""Movie export with progress and Cancel (issue 12, item 2): frames rendered
on the main thread from a timer, encoded on a worker; Cancel mid-export
leaves no file (nor temporary files) and closes the dialog; a finished export
holds every frame, in order."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from gui_fixtures import gui_env  # noqa: F401


@pytest.fixture
def view(qapp):
    from gui.widgets.brain_view import BrainView, cortex_surface

    surf = cortex_surface([np.arange(2562), np.arange(2562)], "fsaverage", "pial")
    v = BrainView(surf, "EEG-derived", backend="image", units="dSPM (F-like)")
    v.resize(320, 240)
    v.show()
    v.set_clim(0.0, 1.0)
    yield v
    v.close_view()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The encoder's temporary folders go here (to see that none is left)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _stepper(view, n_frames):
    shown = []

    def set_frame(f):
        view.set_values(np.full(view.surface.n_sources, f / max(1, n_frames - 1)))
        shown.append(f)
    return set_frame, shown


def test_cancel_mid_export_leaves_no_file_and_closes_the_dialog(
        view, qtbot, tmp_path, private_tmp):
    from PySide6.QtWidgets import QPushButton

    from gui.sources.movie_export import QUEUE_FRAMES, MovieExport

    n = 200
    set_frame, shown = _stepper(view, n)
    out = tmp_path / "movie.mp4"
    exp = MovieExport([view], set_frame, range(n), out, fps=10).start()
    assert exp.dialog.isVisible() and exp.dialog.maximum() == n
    qtbot.waitUntil(lambda: exp.n_encoded >= 3, timeout=60_000)
    assert any(private_tmp.iterdir())           # the encoder's private file
    button = exp.dialog.findChild(QPushButton)
    assert button.text() == "Cancel"
    with qtbot.waitSignal(exp.cancelled, timeout=30_000):
        button.click()
    assert exp.done and not exp.dialog.isVisible()
    assert not out.exists()
    assert list(private_tmp.iterdir()) == []   # temporary files removed
    # rendering stopped at the cancel, at most a queue ahead of the encoder
    assert 3 <= len(shown) < n and len(shown) == exp.n_rendered
    assert exp.n_rendered <= exp.n_encoded + QUEUE_FRAMES + 1
    assert not exp._timer.isActive()
    qtbot.waitUntil(lambda: exp.worker.done, timeout=10_000)


def test_finished_export_has_every_frame(view, qtbot, tmp_path, private_tmp):
    import imageio_ffmpeg
    from PIL import Image

    from gui.sources.movie_export import MovieExport

    n = 12
    set_frame, shown = _stepper(view, n)
    out = tmp_path / "movie.mp4"
    exp = MovieExport([view], set_frame, range(0, 2 * n, 2), out, fps=10).start()
    with qtbot.waitSignal(exp.finished, timeout=120_000) as sig:
        pass
    assert sig.args == [out] and out.exists()
    assert shown == list(range(0, 2 * n, 2)) and exp.n_encoded == n
    assert not exp.dialog.isVisible()
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8) for f in reader]
    assert len(frames) == n and tuple(meta["size"]) == (320, 240)
    # the brain brightens frame by frame: the first and last frames differ
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1
    assert list(private_tmp.iterdir()) == []
    # a GIF through the same path
    gif = tmp_path / "movie.gif"
    set_frame, shown = _stepper(view, 5)
    exp = MovieExport([view], set_frame, range(5), gif, fps=5).start()
    with qtbot.waitSignal(exp.finished, timeout=60_000):
        pass
    assert Image.open(gif).n_frames == 5


def test_export_refuses_bad_paths_and_empty_movies(view, tmp_path):
    from core.utils import SpindleScopeError
    from gui.sources.movie_export import MovieExport

    with pytest.raises(SpindleScopeError, match=r"\.mp4 or \.gif"):
        MovieExport([view], lambda f: None, range(3), tmp_path / "m.avi")
    with pytest.raises(SpindleScopeError, match="no frames"):
        MovieExport([view], lambda f: None, [], tmp_path / "m.mp4")


def test_abandoned_encoder_gives_up_and_writes_nothing(tmp_path, private_tmp, monkeypatch):
    """Should the exporting window vanish without cancelling, the encoder
    thread does not wait forever for frames (the queue stays empty here)."""
    import queue

    import gui.sources.movie_export as me
    from core.utils import SpindleScopeError, run_with_progress

    monkeypatch.setattr(me, "FRAME_TIMEOUT", 0.01)
    frames = queue.Queue()
    frames.put(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(SpindleScopeError, match="abandoned"):
        run_with_progress(me.iter_encode(frames, 3, tmp_path / "m.mp4", 10.0))
    assert not (tmp_path / "m.mp4").exists() and list(private_tmp.iterdir()) == []
