"""Fixtures of the GUI tests (imported by tests/test_gui_*.py).

Sets ``QT_QPA_PLATFORM=offscreen`` before any QApplication exists, points the
settings and autosave folders at temporary folders and replaces blocking
questions by a recorded "yes".
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def write_small_fif(path, duration=300.0, sfreq=200.0, seed=0):
    """A small MEG+EEG FIF (6 EEG, 4 MAG, 4 GRAD, 1 EOG) with 13-Hz bursts
    on the EEG every 25 s (1 s long, starting at 20 s)."""
    import mne

    rng = np.random.default_rng(seed)
    names = ([f"EEG{i:03d}" for i in range(1, 7)] + [f"MEG{i:03d}1" for i in range(1, 5)]
             + [f"MEG{i:03d}2" for i in range(1, 5)] + ["EOG061"])
    types = ["eeg"] * 6 + ["mag"] * 4 + ["grad"] * 4 + ["eog"]
    info = mne.create_info(names, sfreq, types)
    n = int(duration * sfreq)
    t = np.arange(n) / sfreq
    scale = np.array([10e-6] * 6 + [200e-15] * 4 + [40e-13] * 4 + [30e-6])
    data = rng.standard_normal((len(names), n)) * scale[:, None]
    for on in np.arange(20.0, duration - 5, 25.0):
        m = (t >= on) & (t < on + 1.0)
        data[:6, m] += 60e-6 * np.sin(2 * np.pi * 13 * t[m]) * np.hanning(m.sum())
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.save(path, overwrite=True, verbose="error")
    return Path(path)


@dataclass
class RecordingPaths:
    raw: Path
    hypnogram: Path | None
    spindles: Path | None


@pytest.fixture(scope="session")
def small_fif(tmp_path_factory) -> Path:
    return write_small_fif(tmp_path_factory.mktemp("rec") / "small_raw.fif")


@pytest.fixture(scope="session")
def demo_recording(tmp_path_factory) -> RecordingPaths:
    """The built-in demo (built once, cached). A demo that cannot be built is
    a failure of the product's first promise, never replaced by a stand-in."""
    from core.session.simulate import demo_paths

    p = demo_paths()
    return RecordingPaths(p.raw, p.hypnogram, p.spindles)


@pytest.fixture
def gui_env(tmp_path, monkeypatch):
    """Temporary config and autosave folders; questions answered "yes"."""
    import core.session.session
    import gui.dialogs.common
    import gui.dialogs.recovery

    cfg = tmp_path / "config"
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("SPINDLESCOPE_CONFIG_DIR", str(cfg))
    monkeypatch.setattr(core.session.session, "cache_dir", lambda: cache)
    monkeypatch.setattr(gui.dialogs.recovery, "cache_dir", lambda: cache)
    asked = []

    def fake_ask(parent, title, question, default_yes=True):
        asked.append(title)
        return True

    monkeypatch.setattr(gui.dialogs.common, "ask", fake_ask)
    save_answers = []  # "save" / "discard" / "cancel" to give, in order

    def fake_save_changes(parent, what="this session"):
        asked.append("Unsaved changes")
        return save_answers.pop(0) if save_answers else "discard"

    monkeypatch.setattr(gui.dialogs.common, "ask_save_changes", fake_save_changes)
    return {"config": cfg, "cache": cache, "asked": asked, "save_answers": save_answers}


@pytest.fixture
def window(qtbot, gui_env):
    """A shown main window with default settings."""
    from core.session.settings import Settings
    from gui.main_window import MainWindow

    w = MainWindow(Settings())
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.browser.loader.wait(10000)
    w.autosave.stop(clean=True)


def plot_point(browser, t, row):
    """Viewport pixel of time ``t`` (s) on channel row ``row`` of a browser."""
    from PySide6.QtCore import QPointF

    scene = browser.vb.mapViewToScene(QPointF(t, row))
    return browser.plot.mapFromScene(scene)


@contextmanager
def synthetic_mouse():
    """Every synthetic mouse event counts, without waiting.

    pyqtgraph drops mouse moves closer together than its rate limit and Qt
    turns a press soon after a release into a double click; both are timing
    rules for a hand. Inside this block the rate limit is off and the
    double-click interval is 0 (restored on exit).
    """
    import pyqtgraph as pg
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtGui import QGuiApplication

    # windows closed with deleteLater() (an earlier window, a screenshot run)
    # go now, as a pause would let them: they must not take the events
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    hints = QGuiApplication.styleHints()
    interval, rate = hints.mouseDoubleClickInterval(), pg.getConfigOption("mouseRateLimit")
    hints.setMouseDoubleClickInterval(0)
    pg.setConfigOption("mouseRateLimit", -1)
    try:
        yield
    finally:
        hints.setMouseDoubleClickInterval(interval)
        pg.setConfigOption("mouseRateLimit", rate)


def hover(qtbot, widget, pos):
    """Move the mouse over ``widget`` to ``pos`` (delivered at once)."""
    with synthetic_mouse():
        qtbot.mouseMove(widget, pos)


def click(qtbot, widget, pos, button=None, modifier=None):
    """Hover, then click at ``pos`` (never taken as a double click)."""
    from PySide6.QtCore import Qt

    with synthetic_mouse():
        qtbot.mouseMove(widget, pos)
        qtbot.mouseClick(widget, button or Qt.MouseButton.LeftButton,
                         modifier or Qt.KeyboardModifier.NoModifier, pos)


def drag(qtbot, browser, t0, t1, row0, row1, modifier=None):
    """Drag with the left button on the browser's plot from (t0,row0) to (t1,row1)
    (hover first, as a hand does: items claim drags on hover)."""
    from PySide6.QtCore import Qt

    mods = modifier or Qt.KeyboardModifier.NoModifier
    with synthetic_mouse():
        vp = browser.plot.viewport()
        p0, p1 = plot_point(browser, t0, row0), plot_point(browser, t1, row1)
        qtbot.mouseMove(vp, p0)
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, mods, p0)
        qtbot.mouseMove(vp, (p0 + p1) / 2)
        qtbot.mouseMove(vp, p1)
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, mods, p1)
