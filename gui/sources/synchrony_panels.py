"""Correlation and coherence panels of a source analysis (Dehghani et al. 2010).

Within-modality mean correlations (EEG, MEG, MEG+EEG) with their nulls and
95 % intervals, the distribution of pairwise correlations, EEG–MEG coherence
spectra pooled over spindles (multitaper, Welch, MVDR) with their
length-matched spindle-free nulls (dashed) over the analysis band, and a
table of every figure with its null, excess, interval and permutation p beside
the paper's — pooled over spindles, or one spindle against its own null
segment. A line states which signal the correlations and the coherence use.
Export as CSV, PNG and SVG.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QHBoxLayout, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.report.writers import PAPER_VALUES, pair_histograms
from core.utils.safe_io import write_via_temp
from core.utils import atomic_open

from gui.sources.timecourse_panel import COLORS, LABELS

#: Rows of the table: key in the summary, label.
ROWS = (("eeg_within_r", "EEG within-modality mean r"),
        ("meg_within_r", "MEG within-modality mean r"),
        ("meeg_within_r", "MEG+EEG within-modality mean r"),
        ("eeg_within_abs_r", "EEG within-modality mean |r|"),
        ("meg_within_abs_r", "MEG within-modality mean |r|"),
        ("between_r", "EEG–MEG r at the same source"),
        ("between_abs_r", "EEG–MEG |r| at the same source"),
        ("coherence_multitaper", "EEG–MEG coherence (multitaper, pooled)"),
        ("coherence_welch", "EEG–MEG coherence (Welch, pooled)"),
        ("coherence_mvdr", "EEG–MEG coherence (MVDR, pooled)"),
        ("eeg_max_displacement_cm", "EEG maximum: move per cycle (cm)"),
        ("meg_max_displacement_cm", "MEG maximum: move per cycle (cm)"),
        ("eeg_max_hemi_change", "EEG maximum: hemisphere changes"),
        ("meg_max_hemi_change", "MEG maximum: hemisphere changes"),
        ("eeg_max_spread_cm", "EEG maxima: spread (cm)"),
        ("meg_max_spread_cm", "MEG maxima: spread (cm)"))
COLUMNS = ("measure", "value", "null", "excess [95 % CI]", "p", "paper")
SPEC_PENS = {"multitaper": (44, 160, 44), "welch": (31, 119, 180), "mvdr": (214, 39, 40)}
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

    Use :meth:`set_result` with an :class:`core.sources.analysis.AnalysisResult` and
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
        self.null_marks = pg.ScatterPlotItem(x=[], y=[], symbol="t1", size=14,
                                             brush=None, pen=pg.mkPen("k", width=2),
                                             name="null")
        self.within.addItem(self.null_marks)
        self.ci_bars = pg.ErrorBarItem(x=np.arange(3.0), y=np.zeros(3), top=np.zeros(3),
                                       bottom=np.zeros(3), beam=0.2,
                                       pen=pg.mkPen("k", width=1.5))
        self.within.addItem(self.ci_bars)
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
        self.spec_curves, self.null_curves = {}, {}
        for est, color in SPEC_PENS.items():
            self.spec_curves[est] = self.spectra.plot([], [], name=est,
                                                      pen=pg.mkPen(color, width=2))
            self.null_curves[est] = self.spectra.plot(
                [], [], name=f"{est} null", pen=pg.mkPen(color, width=1,
                                                         style=Qt.PenStyle.DashLine))
        self.spectra.setXRange(0, 40)
        self.signals = QLabel("")
        self.signals.setWordWrap(True)
        self.table = QTableWidget(len(ROWS), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (key, label) in enumerate(ROWS):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            paper = PAPER_VALUES.get(key)
            item = QTableWidgetItem("–" if paper is None else f"{paper:.2f}")
            item.setData(VALUE_ROLE, paper)
            self.table.setItem(r, 5, item)
            for c in range(1, 5):
                self.table.setItem(r, c, QTableWidgetItem("–"))
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
        lay.addWidget(self.signals)
        lay.addLayout(grid)
        lay.addLayout(buttons)

    # -- data -------------------------------------------------------------------
    def set_result(self, result):
        self.result = result
        self.summary = result.summary() if result is not None else None
        self.selector.blockSignals(True)
        self.selector.clear()
        if result is not None:
            self.selector.addItem(f"all {len(result.spindles)} spindles (pooled, "
                                  "with nulls and 95 % intervals)")
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
            self.null_marks.setData([], [])
            self.ci_bars.setData(x=np.arange(3.0), y=np.zeros(3), top=np.zeros(3),
                                 bottom=np.zeros(3))
            for c in (list(self.hist_curves.values()) + list(self.spec_curves.values())
                      + list(self.null_curves.values())):
                c.setData([], [])
            for r in range(len(ROWS)):
                for c in range(1, 5):
                    self.table.item(r, c).setText("–")
                self.table.item(r, 1).setData(VALUE_ROLE, None)
            self.signals.setText("")
            return
        summ = self.summary
        self.signals.setText(
            f"Correlations use the {summ['correlation_signal']}; coherence uses the "
            f"{summ['coherence_signal']}, pooled over spindles. Null: "
            "length-matched spindle-free N2 segments through the same pipeline.")
        spindles = res.spindles if index is None else [res.spindles[index]]
        vals = self.values()
        keys = ("eeg_within_r", "meg_within_r", "meeg_within_r")
        heights = [vals.get(k) if vals.get(k) is not None and np.isfinite(vals.get(k))
                   else 0.0 for k in keys]
        self.bars.setOpts(height=heights)
        nulls = [vals.get(k + "_null") for k in keys]
        xs = [i for i, n in enumerate(nulls) if n is not None and np.isfinite(n)]
        self.null_marks.setData(xs, [nulls[i] for i in xs])
        cis = [vals.get(k + "_ci") for k in keys]
        top = np.array([ci[1] - h if ci else 0.0 for ci, h in zip(cis, heights)])
        bottom = np.array([h - ci[0] if ci else 0.0 for ci, h in zip(cis, heights)])
        self.ci_bars.setData(x=np.arange(3.0), y=np.array(heights), top=top,
                             bottom=bottom)
        hists = pair_histograms(spindles, tuple(self.hist_curves))
        for mod, curve in self.hist_curves.items():
            if mod in hists:
                curve.setData(*hists[mod])
            else:
                curve.setData([], [])
        # pooled spectra (a single spindle's spectrum is mostly bias: the
        # pooled one is drawn with the spindle's figures)
        for est, curve in self.spec_curves.items():
            spec = res.spectra.get(est)
            if spec is None:
                curve.setData([], [])
                self.null_curves[est].setData([], [])
                continue
            curve.setData(spec["freqs"], spec["observed"])
            if "null" in spec:
                self.null_curves[est].setData(spec["freqs"], spec["null"])
            else:
                self.null_curves[est].setData([], [])
        lo, hi = res.config.coherence_band
        self.band.setRegion((lo, hi))
        flo, fhi = res.config.spectrum_range(res.sfreq)
        self.spectra.setXRange(flo, fhi, padding=0.02)
        for r, (key, _) in enumerate(ROWS):
            item = self.table.item(r, 1)
            v = vals.get(key)
            ok = v is not None and np.isfinite(v)
            if index is None and ok and key + "_ci" in vals:
                lo_, hi_ = vals[key + "_ci"]
                item.setText(f"{v:.3f} [{lo_:.3f}, {hi_:.3f}]")
            elif ok:
                item.setText(f"{v:.3f}")
            else:
                item.setText("too short" if key.startswith("coherence") and v is not None
                             else "–")
            item.setData(VALUE_ROLE, v if ok else None)
            null = vals.get(key + "_null")
            self.table.item(r, 2).setText(
                "–" if null is None or not np.isfinite(null) else f"{null:.3f}")
            if ok and null is not None and np.isfinite(null):
                text = f"{v - null:+.3f}"
                if index is None and key + "_excess_ci" in vals:
                    elo, ehi = vals[key + "_excess_ci"]
                    text += f" [{elo:+.3f}, {ehi:+.3f}]"
            else:
                text = "–"
            self.table.item(r, 3).setText(text)
            p = vals.get(key + "_p")
            self.table.item(r, 4).setText("–" if p is None else f"{p:.3g}")

    def values(self) -> dict:
        """The figures shown: pooled summary, or one spindle's figures."""
        if self.result is None:
            return {}
        if self.spindle is None:
            return dict(self.summary)
        sp = self.result.spindles[self.spindle]
        out = dict(sp.figures)
        out.update({k + "_null": v for k, v in sp.null_figures.items()})
        return out

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
            with atomic_open(path, "w", newline="") as fid:
                w = csv.writer(fid)
                w.writerow(["measure", "value", "null", "excess", "ci_low", "ci_high",
                            "excess_ci_low", "excess_ci_high", "p", "paper",
                            "timecourse"])
                vals = self.table_values()
                full = self.values()

                def num(x):
                    return "" if x is None or not np.isfinite(x) else repr(float(x))
                for key, _ in ROWS:
                    v = vals[key]
                    null = full.get(key + "_null")
                    ci = full.get(key + "_ci") or [None, None]
                    eci = full.get(key + "_excess_ci") or [None, None]
                    w.writerow([key, num(v), num(null),
                                num(v - null) if v is not None and null is not None
                                else "", num(ci[0]), num(ci[1]), num(eci[0]),
                                num(eci[1]), num(full.get(key + "_p")),
                                PAPER_VALUES.get(key, ""),
                                self.summary.get("timecourse", "")])
            out.append(path)
            path = folder / f"coherence_spectra_{tag}.csv"
            with atomic_open(path, "w", newline="") as fid:
                w = csv.writer(fid)
                w.writerow(["estimator", "freq_hz", "coherence", "null"])
                for est, curve in self.spec_curves.items():
                    x, y = curve.getData()
                    _, yn = self.null_curves[est].getData()
                    if x is None or len(x) == 0:
                        continue
                    yn = yn if yn is not None and len(yn) == len(x) else [np.nan] * len(x)
                    for f, c, n in zip(x, y, yn):
                        w.writerow([est, f"{f:g}", repr(float(c)), repr(float(n))])
            out.append(path)
        for name, widget in (("within", self.within), ("pairwise", self.hist),
                             ("coherence", self.spectra)):
            item = widget.getPlotItem()
            if "png" in formats:
                path = folder / f"{name}_{tag}.png"
                write_via_temp(path, lambda tmp, item=item: ImageExporter(item).export(str(tmp)))
                out.append(path)
            if "svg" in formats:
                path = folder / f"{name}_{tag}.svg"
                write_via_temp(path, lambda tmp, widget=widget: _export_svg(widget, tmp))
                out.append(path)
        return out

    def _export_dialog(self, fmt):
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, f"Export {fmt.upper()} to folder")
        if folder:
            self.export(folder, (fmt,))
