"""Hypnodensity lane: the classifier's stage probabilities per epoch.

Stacked bands (W, R, N1, N2, N3 from top, the colours of the overview bar)
fill each 30-s epoch in proportion to the probability YASA gives it. A strip
on top shows what the hypnogram holds: the scorer's stages in full colour and
proposals still to accept pale and hatched by a dot, so the two never look
alike. Click to jump.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from core.detection.autostage import PROBA_STAGES
from core.utils import relink

from gui.traces.overview_bar import STAGE_COLORS, NightLane

#: Stacking order from the top.
STACK = ("W", "R", "N1", "N2", "N3")
STRIP_Y = (0.86, 1.0)
DENSITY_Y = (0.0, 0.82)
PROPOSED_ALPHA = 90


def stack_image(proba) -> np.ndarray:
    """RGBA image (n_epochs, n_px, 4) of stacked probabilities, 100 px per epoch."""
    n_px = 100
    out = np.zeros((len(proba), n_px, 4), np.ubyte)
    order = [PROBA_STAGES.index(s) for s in STACK]
    p = np.asarray(proba)[:, order]
    edges = np.round(np.cumsum(p, axis=1) * n_px).astype(int)   # from the top
    for i in range(len(proba)):
        start = 0
        for k, s in enumerate(STACK):
            stop = min(n_px, edges[i, k])
            # pyqtgraph images have y upwards: the top of the lane is the end
            out[i, n_px - stop:n_px - start] = STAGE_COLORS[s] + (255,)
            start = stop
    return out


class HypnodensityLane(NightLane):
    """Per-epoch stage probabilities and the scored / proposed strip.

    Parameters
    ----------
    session : core.session.session.Session
        Observed for the hypnogram.
    """

    def __init__(self, session, parent=None):
        super().__init__(70, parent=parent)
        self.session = session
        self.getAxis("left").setTicks([[(0.93, "stages"), (0.41, "hypnodensity")], []])
        self.density = pg.ImageItem()
        self.addItem(self.density)
        self.strip = pg.ImageItem()
        self.addItem(self.strip)
        self.proposals = None
        self.strip_rgba = None
        self._hyp = None
        session.hypnogram_changed.connect(self._on_hypnogram_changed)
        self._on_hypnogram_changed(session.hypnogram)

    def _on_hypnogram_changed(self, hyp):
        self._hyp = relink(self._hyp, hyp, self._update_strip)
        self._update_strip()

    def set_proposals(self, proposals):
        """Show a :class:`core.detection.autostage.StageProposals` (None clears)."""
        self.proposals = proposals
        if proposals is None:
            self.density.clear()
        else:
            res = proposals.result
            self.density.setImage(stack_image(res.proba), autoLevels=False, levels=None)
            self.density.setRect(QRectF(0, DENSITY_Y[0], res.n_epochs * res.epoch_length,
                                        DENSITY_Y[1] - DENSITY_Y[0]))
        self._update_strip()

    def _update_strip(self, *args):
        hyp = self._hyp
        if hyp is None or hyp.n_epochs == 0:
            self.strip.clear()
            self.strip_rgba = None
            return
        rgba = np.zeros((hyp.n_epochs, 4, 4), np.ubyte)
        for i, s in enumerate(hyp.stages):
            prop = self.proposals.proposed(hyp, i) if self.proposals else None
            if s != "?":
                rgba[i] = STAGE_COLORS[s] + (255,)
            elif prop is not None:
                rgba[i] = STAGE_COLORS[prop] + (PROPOSED_ALPHA,)
                rgba[i, 1:3] = (255, 255, 255, 255)   # a white notch: not accepted yet
            else:
                rgba[i] = STAGE_COLORS["?"] + (255,)
        self.strip_rgba = rgba
        self.strip.setImage(rgba, autoLevels=False, levels=None)
        self.strip.setRect(QRectF(0, STRIP_Y[0], hyp.duration, STRIP_Y[1] - STRIP_Y[0]))
        self.cvb.setRange(xRange=(0, hyp.duration), yRange=(0, 1), padding=0)
