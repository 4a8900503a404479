"""Correlation and coherence panels of a source analysis (Dehghani et al. 2010).

Within-modality mean correlations (EEG, MEG, MEG+EEG), the distribution of
pairwise correlations, EEG–MEG coherence spectra (Welch and MVDR) with the
10–15 Hz band marked, and a table of our figures beside the paper's — per
spindle or pooled over spindles. Export as CSV, PNG and SVG.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QHBoxLayout, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.report import PAPER_VALUES

from .timecourse_panel import COLORS, LABELS

#: Rows of the table: key in the summary, label.
ROWS = (("eeg_within_r", "EEG within-modality mean r"),
        ("meg_within_r", "MEG within-modality mean r"),
        ("meeg_within_r", "MEG+EEG within-modality mean r"),
        ("between_r", "EEG–MEG r at the same source"),
        ("coherence_welch", "EEG–MEG coherence 10–15 Hz (Welch)"),
        ("coherence_mvdr", "EEG–MEG coherence 10–15 Hz (MVDR)"))
VALUE_ROLE = Qt.ItemDataRole.UserRole


def _plot(title, xlabel, ylabel):
    w = pg.PlotWidget(background="w", title=title)
    w.setLabel("bottom", xlabel)
    w.setLabel("left", ylabel)
    w.showGrid(x=True, y=True, alpha=0.3)
    for axis in ("left", "bottom"):
        w.getAxis(axis).enableAutoSIPrefix(False)
    return w


def _export_svg(widget, path):
    """Vector export through QSvgGenerator (pyqtgraph's SVGExporter fails on
    some paths drawn by PySide6 6.x)."""
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    gen.setFileName(str(path))
    size = widget.size()
    gen.setSize(QSize(size.width(), size.height()))
    gen.setViewBox(QRect(0, 0, size.width(), size.height()))
    gen.setTitle(widget.getPlotItem().titleLabel.text or "SpindleScope plot")
    painter = QPainter(gen)
    try:
        widget.render(painter)
    finally:
        painter.end()


class SynchronyPanels(QWidget):
    """Plots and table of the synchrony figures.

    Use :meth:`set_result` with an :class:`core.sources.AnalysisResult` and
    :meth:`set_spindle` (index, or None for pooled values).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result = None
        self.spindle = None
        self.within = _plot("Within-modality mean correlation", "", "mean r")
        self.within.getAxis("bottom").setTicks([[(0, "EEG"), (1, "MEG"), (2, "MEG+EEG")]])
        self.bars = pg.BarGraphItem(x=[0, 1, 2], height=[0, 0, 0], width=0.6,
                                    brushes=[pg.mkBrush(COLORS[m]) for m in
                                             ("eeg", "meg", "meeg")])
        self.within.addItem(self.bars)
        self.paper_marks = pg.ScatterPlotItem(x=[0, 1], y=[PAPER_VALUES["eeg_within_r"],
                                                          PAPER_VALUES["meg_within_r"]],
                                              symbol="d", size=12, brush="k",
                                              name="paper")
        self.within.addItem(self.paper_marks)
        self.hist = _plot("Pairwise correlations of source time courses", "r",
                          "density")
        self.hist.addLegend(offset=(5, 5))
        self.hist_curves = {m: self.hist.plot([], [], name=LABELS[m], stepMode="center",
                                              pen=pg.mkPen(COLORS[m], width=2))
                            for m in ("eeg", "meg", "meeg")}
        self.spectra = _plot("EEG–MEG coherence", "frequency (Hz)", "coherence")
        self.spectra.addLegend(offset=(5, 5))
        self.band = pg.LinearRegionItem((10.0, 15.0), movable=False,
                                        brush=pg.mkBrush(255, 200, 0, 60))
        self.spectra.addItem(self.band)
        self.spec_curves = {
            "welch": self.spectra.plot([], [], name="Welch",
                                       pen=pg.mkPen((31, 119, 180), width=2)),
            "mvdr": self.spectra.plot([], [], name="MVDR",
                                      pen=pg.mkPen((214, 39, 40), width=2))}
        self.spectra.setXRange(0, 40)
        self.table = QTableWidget(len(ROWS), 3)
        self.table.setHorizontalHeaderLabels(["measure", "ours", "paper"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (key, label) in enumerate(ROWS):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            paper = PAPER_VALUES.get(key)
            item = QTableWidgetItem("–" if paper is None else f"{paper:.2f}")
            item.setData(VALUE_ROLE, paper)
            self.table.setItem(r, 2, item)
            self.table.setItem(r, 1, QTableWidgetItem("–"))
        self.table.resizeColumnToContents(0)
        buttons = QHBoxLayout()
        self.selector = QComboBox()
        self.selector.currentIndexChanged.connect(self._on_selector)
        buttons.addWidget(QLabel("Figures of"))
        buttons.addWidget(self.selector)
        for text, fmt in (("Export CSV…", "csv"), ("Export PNG…", "png"),
                          ("Export SVG…", "svg")):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, f=fmt: self._export_dialog(f))
            buttons.addWidget(b)
        buttons.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(self.within, 0, 0)
        grid.addWidget(self.hist, 0, 1)
        grid.addWidget(self.spectra, 1, 0)
        grid.addWidget(self.table, 1, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addLayout(buttons)

    # -- data -------------------------------------------------------------------
    def set_result(self, result):
        self.result = result
        self.summary = result.summary() if result is not None else None
        self.selector.blockSignals(True)
        self.selector.clear()
        if result is not None:
            self.selector.addItem(f"all {len(result.spindles)} spindles (pooled)")
            for s in result.spindles:
                self.selector.addItem(f"spindle #{s.index + 1} at {s.onset:.1f} s")
        self.selector.blockSignals(False)
        self.set_spindle(None)

    def _on_selector(self, i):
        self.set_spindle(None if i <= 0 else i - 1)

    def set_spindle(self, index: int | None):
        """Show one spindle's figures (index) or the pooled means (None)."""
        self.spindle = index
        res = self.result
        want = 0 if index is None else index + 1
        if self.selector.currentIndex() != want and want < self.selector.count():
            self.selector.blockSignals(True)
            self.selector.setCurrentIndex(want)
            self.selector.blockSignals(False)
        if res is None:
            self.bars.setOpts(height=[0, 0, 0])
            for c in list(self.hist_curves.values()) + list(self.spec_curves.values()):
                c.setData([], [])
            for r in range(len(ROWS)):
                self.table.item(r, 1).setText("–")
                self.table.item(r, 1).setData(VALUE_ROLE, None)
            return
        spindles = res.spindles if index is None else [res.spindles[index]]
        vals = self.values()
        self.bars.setOpts(height=[vals.get(k) or 0.0 for k in
                                  ("eeg_within_r", "meg_within_r", "meeg_within_r")])
        bins = np.linspace(-1, 1, 81)
        for mod, curve in self.hist_curves.items():
            samples = [s.pair_sample[mod] for s in spindles if mod in s.pair_sample]
            if not samples:
                curve.setData([], [])
                continue
            h, _ = np.histogram(np.concatenate(samples), bins=bins, density=True)
            curve.setData(bins, h)
        for est in ("welch", "mvdr"):
            sp = [s.spectra for s in spindles if f"{est}_spectrum" in s.spectra]
            if sp:
                self.spec_curves[est].setData(sp[0][f"{est}_freqs"], np.mean(
                    [s[f"{est}_spectrum"] for s in sp], axis=0))
            else:
                self.spec_curves[est].setData([], [])
        lo, hi = res.config.coherence_band
        self.band.setRegion((lo, hi))
        for r, (key, _) in enumerate(ROWS):
            item = self.table.item(r, 1)
            v = vals.get(key)
            sd = vals.get(key + "_sd")
            if v is None:
                item.setText("–")
            elif index is None and sd is not None:
                item.setText(f"{v:.3f} ± {sd:.3f}")
            else:
                item.setText(f"{v:.3f}")
            item.setData(VALUE_ROLE, v)

    def values(self) -> dict:
        """The figures shown: pooled summary, or one spindle's figures."""
        if self.result is None:
            return {}
        if self.spindle is None:
            return dict(self.summary)
        return dict(self.result.spindles[self.spindle].figures)

    def table_values(self) -> dict:
        """{key: value} read back from the table (None where absent)."""
        return {key: self.table.item(r, 1).data(VALUE_ROLE)
                for r, (key, _) in enumerate(ROWS)}

    # -- export -------------------------------------------------------------------
    def export(self, folder, formats=("csv", "png", "svg")) -> list[Path]:
        """Write the table and spectra (CSV) and the three plots (PNG, SVG)."""
        from pyqtgraph.exporters import ImageExporter

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        tag = "pooled" if self.spindle is None else f"spindle{self.spindle + 1}"
        if "csv" in formats:
            path = folder / f"synchrony_{tag}.csv"
            with open(path, "w", newline="") as fid:
                w = csv.writer(fid)
                w.writerow(["measure", "ours", "paper"])
                vals = self.table_values()
                for key, _ in ROWS:
                    v = vals[key]
                    w.writerow([key, "" if v is None else repr(float(v)),
                                PAPER_VALUES.get(key, "")])
            out.append(path)
            path = folder / f"coherence_spectra_{tag}.csv"
            with open(path, "w", newline="") as fid:
                w = csv.writer(fid)
                w.writerow(["estimator", "freq_hz", "coherence"])
                for est, curve in self.spec_curves.items():
                    x, y = curve.getData()
                    for f, c in zip(x if x is not None else [], y if y is not None else []):
                        w.writerow([est, f"{f:g}", repr(float(c))])
            out.append(path)
        for name, widget in (("within", self.within), ("pairwise", self.hist),
                             ("coherence", self.spectra)):
            item = widget.getPlotItem()
            if "png" in formats:
                path = folder / f"{name}_{tag}.png"
                ImageExporter(item).export(str(path))
                out.append(path)
            if "svg" in formats:
                path = folder / f"{name}_{tag}.svg"
                _export_svg(widget, path)
                out.append(path)
        return out

    def _export_dialog(self, fmt):
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, f"Export {fmt.upper()} to folder")
        if folder:
            self.export(folder, (fmt,))
