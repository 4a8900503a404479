"""Cohort results (File ▸ Open cohort results…): what ``batch`` wrote in DERIV.

The participants table (a row per recording and per subject), the group
statistics of every figure (subject mean ± SD, pooled value with its
interval, null, excess and p), the single-recording synchrony panels fed
with every spindle of the cohort, and the group maps on the fsaverage
cortex (a :class:`~gui.widgets.brain_view.BrainView`, as in the Sources tab).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSplitter, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from core.batch.results import load_cohort, map_values

from gui.sources.synchrony_panels import SynchronyPanels

STAT_COLUMNS = ("figure", "subjects", "spindles", "subject mean ± SD", "pooled [95 % CI]",
                "null", "excess [95 % CI]", "p")


def _fmt(v) -> str:
    try:
        return f"{float(v):.3f}"
    except (TypeError, ValueError):
        return str(v)


class CohortView(QWidget):
    """Group results of a cohort.

    Parameters
    ----------
    cohort : CohortResults | None
        From :func:`core.batch.results.load_cohort` (or use :meth:`load`).
    backend : 'qt' | 'image' | None
        Back end of the brain view (see :class:`~gui.widgets.brain_view.BrainView`).
    """

    def __init__(self, cohort=None, parent=None, backend=None):
        super().__init__(parent)
        self.setWindowTitle("SpindleScope: cohort results")
        self.resize(1200, 800)
        self.cohort = None
        self.backend = backend
        self.brain = None
        self.header = QLabel("No cohort loaded.")
        self.header.setWordWrap(True)
        self.participants = QTableWidget(0, 0)
        self.participants.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.stats = QTableWidget(0, len(STAT_COLUMNS))
        self.stats.setHorizontalHeaderLabels(list(STAT_COLUMNS))
        self.stats.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.panels = SynchronyPanels()
        self.map_choice = QComboBox()
        self.map_choice.currentIndexChanged.connect(self._on_map_changed)
        self.map_label = QLabel("")
        self.map_box = QVBoxLayout()
        maps = QWidget()
        row = QHBoxLayout()
        row.addWidget(QLabel("Group map (mean over subjects, fsaverage)"))
        row.addWidget(self.map_choice, 1)
        lay_maps = QVBoxLayout(maps)
        lay_maps.addLayout(row)
        lay_maps.addWidget(self.map_label)
        lay_maps.addLayout(self.map_box, 1)
        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(self.stats)
        tables.addWidget(self.participants)
        self.tabs = QTabWidget()
        self.tabs.addTab(tables, "Participants and statistics")
        self.tabs.addTab(self.panels, "Pooled figures")
        self.tabs.addTab(maps, "Group maps")
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.tabs, 1)
        if cohort is not None:
            self.set_cohort(cohort)

    def load(self, folder):
        """Read a derivatives folder and show it."""
        self.set_cohort(load_cohort(folder))

    def set_cohort(self, cohort):
        self.cohort = cohort
        s = cohort.summary
        self.header.setText(
            f"{cohort.folder}: {s.get('n_recordings', 0)} recordings of "
            f"{s.get('n_subjects', 0)} subjects, {s.get('n_spindles', 0)} spindles; "
            f"{s.get('n_errors', len(cohort.errors))} failed"
            + (" (" + ", ".join(e.get("recording", "?") for e in cohort.errors) + ")"
               if cohort.errors else "") + ".")
        # participants table
        self.participants.clear()
        self.participants.setColumnCount(len(cohort.columns))
        self.participants.setRowCount(len(cohort.participants))
        self.participants.setHorizontalHeaderLabels(cohort.columns)
        for r, row in enumerate(cohort.participants):
            for c, col in enumerate(cohort.columns):
                val = row.get(col, "")
                try:
                    text = f"{float(val):.4g}" if col not in ("subject", "session",
                                                               "recording") else val
                except (TypeError, ValueError):
                    text = val
                self.participants.setItem(r, c, QTableWidgetItem(text))
        self.participants.resizeColumnsToContents()
        # statistics
        figs = s.get("figures", {})
        self.stats.setRowCount(len(figs))
        for r, (fig, st) in enumerate(figs.items()):
            ci = st.get("pooled_ci", [np.nan, np.nan])
            cells = [fig, str(st.get("n_subjects", "")), str(st.get("n_spindles", "")),
                     f"{_fmt(st['subject_mean'])} ± {_fmt(st['subject_sd'])}",
                     f"{_fmt(st['pooled'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]"]
            if "excess" in st:
                eci = st["excess_ci"]
                cells += [_fmt(st["pooled_null"]),
                          f"{_fmt(st['excess'])} [{_fmt(eci[0])}, {_fmt(eci[1])}]",
                          f"{st['p']:.4g}"]
            else:
                cells += ["n/a", "n/a", "n/a"]
            for c, text in enumerate(cells):
                self.stats.setItem(r, c, QTableWidgetItem(text))
        self.stats.resizeColumnsToContents()
        # pooled panels: the single-recording view with every spindle
        self.panels.set_result(cohort.pooled_result(self._spacing()))
        # maps
        self.map_choice.blockSignals(True)
        self.map_choice.clear()
        for key in s.get("maps", {}):
            self.map_choice.addItem(key)
        self.map_choice.blockSignals(False)
        if self.map_choice.count():
            self._on_map_changed(0)
        else:
            self.map_label.setText("No group map (the recordings' maps could not be "
                                   "brought to fsaverage, or none was analysed).")

    def _spacing(self) -> str:
        recs = self.cohort.recordings.values() if self.cohort else []
        n = next((r.get("n_sources") for r in recs), None)
        return "ico5" if n and n > 10_000 else "ico4"

    def _on_map_changed(self, index):
        if self.cohort is None or index < 0:
            return
        from gui.widgets.brain_view import BrainView, cortex_surface

        key = self.map_choice.itemText(index)
        stc = self.cohort.read_map(key)
        vals = map_values(stc)
        finite = vals[np.isfinite(vals)]
        surf = cortex_surface(stc.vertices, subject="fsaverage", surface="inflated")
        if self.brain is None or self.brain.surface is not surf:
            if self.brain is not None:
                self.brain.close_view()
                self.brain.setParent(None)
            self.brain = BrainView(surf, "group mean", backend=self.backend)
            self.map_box.addWidget(self.brain, 1)
        from gui.widgets.colorbar import map_unit

        self.brain.colorbar.set_label(f"{map_unit(key)}, group mean")
        if finite.size:
            lo, hi = np.percentile(finite, [2, 98])
            self.brain.set_clim(float(lo), float(max(hi, lo + 1e-9)))
        self.brain.set_values(vals)
        self.map_label.setText(
            f"{key}: {finite.size} of {vals.size} sources with values, median "
            f"{np.median(finite) if finite.size else float('nan'):.3f}, range "
            f"{finite.min() if finite.size else float('nan'):.3f}–"
            f"{finite.max() if finite.size else float('nan'):.3f}.")

    def closeEvent(self, ev):  # noqa: N802 (Qt naming)
        if self.brain is not None:
            self.brain.close_view()
        super().closeEvent(ev)
