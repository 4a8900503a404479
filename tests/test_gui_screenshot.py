"""``--screenshot`` renders the window off-screen; the traces are really drawn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from gui_fixtures import demo_recording, gui_env, small_fif, window  # noqa: F401

REPO = Path(__file__).resolve().parent.parent


def image_array(img):
    """QImage → array, shape (height, width, 3), uint8."""
    from PySide6.QtGui import QImage, QPixmap

    if isinstance(img, QPixmap):
        img = img.toImage()
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


def colour_fraction(arr, rgb, tol=40):
    d = np.abs(arr.astype(int) - np.array(rgb)[None, None, :]).max(-1)
    return float((d <= tol).mean())


def plot_area(window, arr):
    b = window.browser
    vb_rect = b.vb.sceneBoundingRect().toRect()
    top_left = b.plot.mapTo(window, b.plot.mapFromScene(vb_rect.topLeft()))
    x0, y0 = top_left.x(), top_left.y()
    return arr[y0:y0 + vb_rect.height(), x0:x0 + vb_rect.width()]


def test_window_grab_shows_traces(window, small_fif, qtbot):
    from gui.traces.browser import GROUP_COLORS

    before = image_array(window.grab())
    assert colour_fraction(plot_area(window, before), GROUP_COLORS["eeg"]) < 1e-4
    with qtbot.waitSignal(window.browser.sigPageDrawn, timeout=10000):
        window._open_recording(small_fif)
    arr = plot_area(window, image_array(window.grab()))
    assert arr.shape[0] > 300 and arr.shape[1] > 500
    eeg = colour_fraction(arr, GROUP_COLORS["eeg"])
    mag = colour_fraction(arr, GROUP_COLORS["mag"])
    assert eeg > 0.01 and mag > 0.002  # trace-coloured pixels across the plot
    # the traces span the page: every tenth of the width has EEG ink
    cols = np.array_split(np.arange(arr.shape[1]), 10)
    d = np.abs(arr.astype(int) - np.array(GROUP_COLORS["eeg"])).max(-1) <= 40
    assert all(d[:, c].any() for c in cols)
    # the background stays mostly white
    assert colour_fraction(arr, (255, 255, 255), tol=10) > 0.5


def test_screenshot_command(small_fif, tmp_path, gui_env, qapp):
    from PySide6.QtGui import QImage

    from gui.app import main

    out = tmp_path / "shot.png"
    assert main([str(small_fif), "--screenshot", str(out), "--size", "1200x800"]) == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)
    arr = image_array(img)
    assert colour_fraction(arr, (25, 55, 120)) > 0.005
    assert main([str(tmp_path / "missing.fif"), "--screenshot", str(out)]) == 2


def test_demo_screenshot(demo_recording, tmp_path, gui_env, qapp):
    from PySide6.QtGui import QImage

    from gui.app import main

    out = tmp_path / "demo.png"
    assert main(["--demo", "--screenshot", str(out)]) == 0
    arr = image_array(QImage(str(out)))
    assert colour_fraction(arr, (25, 55, 120)) > 0.005


def test_version_flag():
    out = subprocess.run([sys.executable, "main.py", "--version"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("SpindleScope ")
