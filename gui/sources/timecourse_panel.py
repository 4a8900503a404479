"""EEG-, MEG- and MEG+EEG-derived source time courses at a clicked vertex."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.utils.vocabulary import SENSOR_SETS, sensor_label

COLORS = {"eeg": (31, 119, 180), "meg": (214, 39, 40), "meeg": (44, 160, 44)}
LABELS = {m: sensor_label(m) for m in SENSOR_SETS}


class TimecoursePanel(QWidget):
    """A pyqtgraph plot of the time courses of one source.

    Attributes
    ----------
    curves : dict of str -> PlotDataItem
        One curve per modality ('eeg', 'meg', 'meeg').
    source : int | None
        The source shown.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setLabel("left", "dSPM value")
        self.plot.addLegend(offset=(5, 5))
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.curves = {}
        for mod in ("eeg", "meg", "meeg"):
            self.curves[mod] = self.plot.plot([], [], name=LABELS[mod],
                                              pen=pg.mkPen(COLORS[mod], width=2))
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen((90, 90, 90), width=1))
        self.plot.addItem(self.cursor)
        self.source = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.setMinimumHeight(140)

    def set_source(self, source: int | None, stcs: dict | None, title: str = ""):
        """Show the time courses of ``source`` from ``{modality: stc}``."""
        self.source = source
        for mod, curve in self.curves.items():
            stc = (stcs or {}).get(mod)
            if stc is None or source is None:
                curve.setData([], [])
                curve.setVisible(False)
                continue
            curve.setData(np.asarray(stc.times), np.asarray(stc.data[source]))
            curve.setVisible(True)
        self.plot.setTitle(title or ("" if source is None else f"source {source}"))

    def set_time(self, t: float):
        self.cursor.setValue(float(t))

    def values(self, modality: str) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) of a modality's curve."""
        x, y = self.curves[modality].getData()
        return (np.asarray([]) if x is None else x), (np.asarray([]) if y is None else y)
