"""Overview bar: the whole night at a glance, click to jump.

Top half: hypnogram colours per epoch; bottom half: spindle density (accepted
and candidate marks per bin). The current page is a draggable band.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal

from core.utils import relink

#: Colour of each stage in overview strips.
STAGE_COLORS = {"W": (240, 200, 60), "N1": (150, 210, 240), "N2": (60, 130, 220),
                "N3": (20, 50, 140), "R": (220, 80, 90), "?": (225, 225, 225)}
DENSITY_BIN = 60.0  # seconds


class ClickViewBox(pg.ViewBox):
    """A view box that reports left clicks and drags as jumps in time."""

    sigJump = Signal(float)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigJump.emit(self.mapSceneToView(ev.scenePos()).x())
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigJump.emit(self.mapSceneToView(ev.scenePos()).x())
        else:
            ev.ignore()

    def wheelEvent(self, ev, axis=None):
        ev.ignore()


class NightLane(pg.PlotWidget):
    """Base of the whole-night strips stacked over the traces (overview bar,
    hypnogram, hypnodensity and spectrogram lanes): a white plot whose left
    axis is 80 px wide (so their times line up), no bottom labels, no
    mouse zoom, a click or drag reported as a jump, and the current page
    drawn as a red band (:attr:`marker`, moved by :meth:`set_window`).

    Parameters
    ----------
    height : int
        Fixed height in pixels.
    band_alpha : int
        Opacity (0-255) of the page band's fill.
    parent : QWidget | None

    Signals
    -------
    sigJump(t)
        The user clicked at ``t`` seconds (the browser centres there).
    """

    sigJump = Signal(float)

    def __init__(self, height: int, band_alpha: int = 40, parent=None):
        self.cvb = ClickViewBox()
        super().__init__(parent=parent, viewBox=self.cvb, background="w")
        self.setFixedHeight(int(height))
        self.hideButtons()
        self.getAxis("left").setWidth(80)
        self.getAxis("bottom").setStyle(showValues=False)
        self.getAxis("bottom").setHeight(4)
        self.marker = pg.LinearRegionItem(brush=(255, 0, 0, int(band_alpha)),
                                          movable=False, pen=pg.mkPen((200, 0, 0)))
        self.marker.setZValue(10)
        self.addItem(self.marker)
        self.cvb.sigJump.connect(self.sigJump)

    def set_window(self, t0: float, t1: float):
        """Mark the page shown in the browser (``t0``–``t1`` s)."""
        self.marker.setRegion((t0, t1))


class OverviewBar(NightLane):
    """Whole-recording strip with hypnogram, spindle density and page band.

    Parameters
    ----------
    session : core.session.session.Session
        Observed for recording, hypnogram and spindle changes.

    Signals
    -------
    sigJump(t)
        The user clicked at ``t`` seconds (the browser centres there).
    """

    def __init__(self, session, parent=None):
        super().__init__(56, band_alpha=50, parent=parent)
        self.session = session
        self.getAxis("left").setTicks([[(0.78, "stages"), (0.25, "spindles")], []])
        self.stage_image = pg.ImageItem()
        self.addItem(self.stage_image)
        self.density = pg.PlotCurveItem(fillLevel=0,
                                        brush=(40, 140, 70, 160),
                                        pen=pg.mkPen((40, 140, 70), width=1))
        self.addItem(self.density)
        self.band = self.marker   # the page band
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._update_density)
        self._models = (None, None)
        self.proposals = None   # core.detection.autostage.StageProposals drawn pale
        session.recording_changed.connect(self._on_recording_changed)
        session.spindles_changed.connect(self._on_models_changed)
        session.hypnogram_changed.connect(self._on_models_changed)
        self._on_recording_changed(session.recording)

    def _on_recording_changed(self, recording):
        self._on_models_changed()
        if recording is not None:
            self.cvb.setRange(xRange=(0, recording.duration), yRange=(0, 1), padding=0)

    def _on_models_changed(self, *args):
        old_sp, old_hyp = self._models
        self._models = (relink(old_sp, self.session.spindles, self._on_spindles_edited),
                        relink(old_hyp, self.session.hypnogram, self._on_stages_edited))
        self._update_stages()
        self._update_density()

    def _on_spindles_edited(self, *args):
        self._timer.start()  # coalesce bursts of edits

    def _on_stages_edited(self, *args):
        self._update_stages()

    def _update_stages(self):
        hyp, rec = self.session.hypnogram, self.session.recording
        if hyp is None or rec is None or hyp.n_epochs == 0:
            self.stage_image.clear()
            return
        rgba = np.array([STAGE_COLORS.get(s, STAGE_COLORS["?"]) + (255,)
                         for s in hyp.stages], np.ubyte)[:, None, :]
        props = self.proposals   # automatic staging, not accepted yet
        if props is not None:
            rgba = np.repeat(rgba, 2, axis=1)   # lower half: the proposal, pale
            for i in props.open_epochs(hyp):
                rgba[i, 0] = STAGE_COLORS[props.result.stages[i]] + (110,)
        self.stage_image.setImage(rgba, levels=None, autoLevels=False)
        self.stage_image.setRect(QRectF(0, 0.55, hyp.n_epochs * hyp.epoch_length, 0.45))

    def _update_density(self):
        rec = self.session.recording
        if rec is None:
            self.density.setData([0.0], [], stepMode="center")
            return
        edges = np.arange(0, rec.duration + DENSITY_BIN, DENSITY_BIN)
        onsets = np.fromiter((s.onset for s in self.session.spindles
                              if s.status != "rejected"), float)
        counts = np.histogram(onsets, edges)[0].astype(float)
        if counts.max(initial=0) > 0:
            counts = counts / counts.max() * 0.5
        self.density.setData(edges, counts, stepMode="center")

    def set_proposals(self, proposals):
        """Show automatic-staging proposals pale under unscored epochs (None: off)."""
        self.proposals = proposals
        self._update_stages()
