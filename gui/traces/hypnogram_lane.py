"""Hypnogram lane: the classic stage staircase of the whole night.

W on top, then R, N1, N2, N3; unscored epochs are gaps (never drawn as Wake).
Click to jump; the current page is marked.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.utils import relink

from gui.traces.overview_bar import NightLane

#: Row of each stage (unscored has none).
STAGE_LEVEL = {"W": 4, "R": 3, "N1": 2, "N2": 1, "N3": 0}


class HypnogramLane(NightLane):
    """Stage staircase over the night, with the current page marked.

    Parameters
    ----------
    session : core.session.session.Session
        Observed for the hypnogram.
    """

    def __init__(self, session, parent=None):
        super().__init__(90, band_alpha=60, parent=parent)
        self.session = session
        self.getAxis("left").setTicks([[(v, k) for k, v in STAGE_LEVEL.items()], []])
        self.curve = pg.PlotCurveItem(connect="finite",
                                      pen=pg.mkPen((30, 30, 30), width=2))
        self.addItem(self.curve)
        self.rem = pg.PlotCurveItem(connect="finite",
                                    pen=pg.mkPen((220, 60, 70), width=4))
        self.addItem(self.rem)
        self._hyp = None
        session.hypnogram_changed.connect(self._on_hypnogram_changed)
        session.recording_changed.connect(lambda *_: self._on_hypnogram_changed(
            session.hypnogram))
        self._on_hypnogram_changed(session.hypnogram)

    def _on_hypnogram_changed(self, hyp):
        self._hyp = relink(self._hyp, hyp, self._on_stages_edited)
        self._on_stages_edited()

    def _on_stages_edited(self, *args):
        hyp = self._hyp
        if hyp is None or hyp.n_epochs == 0:
            self.curve.setData([0.0], [], stepMode="center")
            self.rem.setData([0.0], [], stepMode="center")
            return
        y = np.array([STAGE_LEVEL.get(s, np.nan) for s in hyp.stages], float)
        x = np.arange(hyp.n_epochs + 1) * hyp.epoch_length
        self.curve.setData(x, y, stepMode="center")
        rem = np.where(y == STAGE_LEVEL["R"], y, np.nan)
        self.rem.setData(x, rem, stepMode="center")
        self.cvb.setRange(xRange=(0, x[-1]), yRange=(-0.5, 4.5), padding=0)
