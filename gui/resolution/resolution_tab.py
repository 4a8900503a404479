"""The resolution tab: resolution metrics of inverse methods on the cortex.

Choose methods, sensor sets and SNR, compute a resolution study
(:func:`core.resolution.matrix.iter_resolution_study`) on a worker thread, and look
at one metric of PSFs or CTFs as a whole-brain map with its histogram, at
method and sensor-set difference maps, and at the summary table. Clicking a
source on the map shows its PSF or CTF on the second brain.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.resolution.matrix import METHODS, SENSOR_LABELS, SENSOR_SETS
from core.resolution.metrics import METRIC_UNITS
from core.utils import run_with_progress
from core.session.workspace import workspace_for

from gui.widgets.brain_view import BrainView, cortex_surface

METRIC_LABELS = {"peak_err": "peak localisation error", "sd_ext": "spatial deviation",
                 "peak_amp": "peak amplitude", "cog_err": "centre-of-gravity error",
                 "maxrad_ext": "maximum radius", "sum_amp": "overall amplitude"}
COMPUTED_METRICS = ("peak_err", "sd_ext", "peak_amp")


def _checklist(items, checked):
    w = QListWidget()
    for key, label in items:
        it = QListWidgetItem(label)
        it.setData(Qt.ItemDataRole.UserRole, key)
        it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        it.setCheckState(Qt.CheckState.Checked if key in checked else
                         Qt.CheckState.Unchecked)
        w.addItem(it)
    w.setMaximumHeight(22 * len(items) + 6)
    return w


def _checked(w):
    return [w.item(i).data(Qt.ItemDataRole.UserRole) for i in range(w.count())
            if w.item(i).checkState() == Qt.CheckState.Checked]


class ResolutionTab(QWidget):
    """Resolution metrics: maps, histogram, difference maps, PSF/CTF on click.

    Parameters
    ----------
    session : core.session.session.Session
    parent : QWidget | None
    backend : 'qt' | 'image' | None
        Brain-view back end.

    Signals
    -------
    computed(object), cancelled(), failed(str), sigFunctionShown(int)
    """

    computed = Signal(object)
    cancelled = Signal()
    failed = Signal(str)
    sigFunctionShown = Signal(int)

    def __init__(self, session, parent=None, backend=None):
        super().__init__(parent)
        self.session = session
        self.ws = workspace_for(session)
        self.backend = backend
        self.results = None
        self.worker = None
        self.psf_worker = None
        self._busy = False
        self._psf_busy = False
        self._psf_pending = None
        self.map_view = self.func_view = None
        self.shown = None  # values on the map view
        self._picked = None  # source whose PSF/CTF is shown
        self.methods = _checklist([(m, m) for m in METHODS], ("MNE", "dSPM", "sLORETA"))
        self.sensors = _checklist([(s, SENSOR_LABELS[s]) for s in SENSOR_SETS],
                                  ("meeg", "meg"))
        self.snr = QDoubleSpinBox()
        self.snr.setRange(0.1, 100.0)
        self.snr.setValue(3.0)
        self.compute_btn = QPushButton("Compute")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.status = QLabel("Choose methods and sensor sets, then Compute.")
        self.status.setWordWrap(True)
        self.compute_btn.clicked.connect(self.compute)
        self.cancel_btn.clicked.connect(self.cancel)
        box = QGroupBox("Resolution analysis")
        form = QFormLayout(box)
        form.addRow("Methods", self.methods)
        form.addRow("Sensor sets", self.sensors)
        form.addRow("SNR", self.snr)
        row = QHBoxLayout()
        row.addWidget(self.compute_btn)
        row.addWidget(self.cancel_btn)
        form.addRow(row)
        form.addRow(self.progress)
        form.addRow(self.status)
        self.method = QComboBox()
        self.sensor = QComboBox()
        self.function = QComboBox()
        self.function.addItems(["PSF", "CTF"])
        self.metric_box = QComboBox()
        for m in COMPUTED_METRICS:
            self.metric_box.addItem(f"{METRIC_LABELS[m]} ({METRIC_UNITS[m]})", m)
        self.contrast = QComboBox()
        self.contrast.addItem("none (metric map)")
        show = QGroupBox("Show")
        sform = QFormLayout(show)
        sform.addRow("Method", self.method)
        sform.addRow("Sensors", self.sensor)
        sform.addRow("Function", self.function)
        sform.addRow("Metric", self.metric_box)
        sform.addRow("Difference", self.contrast)
        for w in (self.method, self.sensor, self.function, self.metric_box, self.contrast):
            w.currentIndexChanged.connect(self._on_display_changed)
        left = QWidget()
        llay = QVBoxLayout(left)
        llay.setContentsMargins(0, 0, 0, 0)
        llay.addWidget(box)
        llay.addWidget(show)
        llay.addStretch(1)
        self.views_row = QWidget()
        self.views_layout = QHBoxLayout(self.views_row)
        self.views_layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("The whole-brain map appears here; click a source "
                                  "to see its point-spread or cross-talk function.")
        self.views_layout.addWidget(self.placeholder)
        self.hist = pg.PlotWidget(background="w", title="Histogram")
        self.hist.getAxis("left").enableAutoSIPrefix(False)
        self.hist.getAxis("bottom").enableAutoSIPrefix(False)
        self.hist.setLabel("left", "sources")
        self.hist_curve = self.hist.plot([], [], stepMode="center", fillLevel=0,
                                         brush=(31, 119, 180, 120),
                                         pen=pg.mkPen((31, 119, 180), width=2))
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["method", "sensors", "metric", "median",
                                              "IQR", "mean"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        bottom = QSplitter()
        bottom.addWidget(self.hist)
        bottom.addWidget(self.table)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.views_row)
        right.addWidget(bottom)
        right.setSizes([520, 260])
        outer = QSplitter()
        outer.addWidget(left)
        outer.addWidget(right)
        outer.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(outer)
        self.ws.resolution_changed.connect(self._on_results_changed)
        # never widen the main window: squeeze (the splitters keep it usable)
        self.setMinimumSize(480, 360)

    # -- computing ---------------------------------------------------------------
    def selection(self) -> dict:
        return {"methods": tuple(_checked(self.methods)),
                "sensors": tuple(_checked(self.sensors)), "snr": self.snr.value(),
                "functions": ("psf", "ctf"), "metrics": COMPUTED_METRICS}

    @property
    def running(self) -> bool:
        return self._busy

    def compute(self):
        """Compute the study on a worker (or show the cached one)."""
        from core.utils import SpindleScopeError

        from gui.workers import ProgressWorker

        if self.running:
            return
        sel = self.selection()
        if not sel["methods"] or not sel["sensors"]:
            self._status("Choose at least one method and one sensor set.", True)
            return
        try:
            cached = self.ws.resolution(**sel)
        except SpindleScopeError as exc:
            self._status(str(exc), True)
            return
        if cached is not None:
            self._on_results_changed(cached)
            self.computed.emit(cached)
            return
        # the Session's pipeline (as ``resolution``); inputs frozen at start()
        self.worker = ProgressWorker(lambda: self.session.iter_resolution(**sel))
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self._busy = True
        self.compute_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.progress.setValue(0)
        self.worker.start()

    def cancel(self):
        if self.running:
            self.worker.cancel()

    def shutdown(self, msecs: int = 60000) -> bool:
        """Cancel a run, wait for the workers, release the render windows."""
        from PySide6.QtCore import QThreadPool

        self.cancel()
        ok = QThreadPool.globalInstance().waitForDone(msecs)
        for v in (self.map_view, self.func_view):
            if v is not None:
                v.close_view()
        return ok

    def _on_progress(self, prog):
        if prog.total:
            self.progress.setValue(int(100 * min(prog.done, prog.total) / prog.total))
        self._status(prog.message)

    def _done(self):
        self._busy = False
        self.compute_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)

    def _on_finished(self, value):
        res = value.result
        self._done()
        self.progress.setValue(100)
        self.ws.store(value)  # main thread: result and cache entries
        self._status(f"{len(res.keys)} resolution matrices analysed "
                     f"({res.n_sources} sources).")
        self.computed.emit(res)

    def _on_failed(self, exc, details):
        from core.utils import SpindleScopeError

        self._done()
        msg = str(exc) if isinstance(exc, SpindleScopeError) else \
            f"The resolution analysis failed: {type(exc).__name__}: {exc}"
        self._status(msg, True)
        self.failed.emit(msg)

    def _on_cancelled(self):
        self._done()
        self.progress.setValue(0)
        self._status("Cancelled: no new results.")
        self.cancelled.emit()

    def _status(self, text, error=False):
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setText(text)

    # -- showing --------------------------------------------------------------------
    def _on_results_changed(self, res):
        self.results = res
        for combo in (self.method, self.sensor, self.contrast):
            combo.blockSignals(True)
        self.method.clear()
        self.sensor.clear()
        while self.contrast.count() > 1:
            self.contrast.removeItem(1)
        if res is not None:
            self.method.addItems(res.methods)
            for s in res.sensor_sets:
                self.sensor.addItem(SENSOR_LABELS[s], s)
            for label in res.default_contrasts():
                self.contrast.addItem(label)
        for combo in (self.method, self.sensor, self.contrast):
            combo.blockSignals(False)
        self._fill_table()
        if res is None:
            return
        self._ensure_views(res)
        self._on_display_changed()

    def _ensure_views(self, res):
        if self.map_view is not None and self.map_view.surface.n_sources == res.n_sources:
            return
        for v in (self.map_view, self.func_view):
            if v is not None:
                v.close_view()
                v.setParent(None)
        ws = self.ws
        surf = cortex_surface(res.vertices, res.subject or "fsaverage", "pial",
                              subjects_dir=ws.head.subjects_dir if ws.head.kind ==
                              "subject" else None, src=ws.source_space())
        self.placeholder.setVisible(False)
        self.map_view = BrainView(surf, "metric map", backend=self.backend)
        self.func_view = BrainView(surf, "click a source on the map",
                                   camera=self.map_view.camera, backend=self.backend)
        self.map_view.link(self.func_view)
        self.func_view.link(self.map_view)
        self.map_view.sigVertexPicked.connect(self.show_function)
        self.views_layout.addWidget(self.map_view, 1)
        self.views_layout.addWidget(self.func_view, 1)

    def current_name(self) -> str:
        return f"{self.function.currentText().lower()}_{self.metric_box.currentData()}"

    def current_map(self) -> np.ndarray | None:
        """Values on the map: a metric, or a difference of two."""
        res = self.results
        if res is None or not self.method.currentText():
            return None
        name = self.current_name()
        if self.contrast.currentIndex() > 0:
            a, b = res.default_contrasts()[self.contrast.currentText()]
            return res.contrast(name, a, b)
        return res.get(self.method.currentText(), self.sensor.currentData(), name)

    def _on_display_changed(self, *args):
        vals = self.current_map()
        if vals is None or self.map_view is None:
            return
        self.shown = vals
        finite = vals[np.isfinite(vals)]
        lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
        diff = self.contrast.currentIndex() > 0
        if diff:
            m = max(abs(lo), abs(hi))
            lo, hi = -m, m
        self.map_view.set_cmap("RdBu_r" if diff else "viridis")
        unit = METRIC_UNITS[self.metric_box.currentData()]
        self.map_view.colorbar.set_label(
            f"{METRIC_LABELS[self.metric_box.currentData()]}"
            f"{' difference' if diff else ''} ({unit})")
        self.map_view.set_clim(lo, hi)
        self.map_view.set_values(vals)
        unit = METRIC_UNITS[self.metric_box.currentData()]
        label = (self.contrast.currentText() if diff else
                 f"{self.method.currentText()} / {self.sensor.currentText()}")
        self.map_view._title_actor.SetText(2, f"{self.function.currentText()} "
                                              f"{self.metric_box.currentText()}\n{label}")
        counts, edges = np.histogram(finite, bins=60)
        self.hist_curve.setData(edges, counts)
        self.hist.setLabel("bottom", f"{METRIC_LABELS[self.metric_box.currentData()]}"
                                     f"{' difference' if diff else ''} ({unit})")
        if self._picked is not None and self.func_view is not None:
            self.show_function(self._picked)

    def _fill_table(self):
        rows = self.results.summary() if self.results is not None else []
        rows = [r for r in rows if r["metric"] in ("psf_peak_err", "psf_sd_ext",
                                                   "ctf_peak_err", "ctf_sd_ext",
                                                   "psf_peak_amp", "ctf_peak_amp")]
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = [r["method"], SENSOR_LABELS[r["sensors"]], r["metric"],
                     f"{r['median']:.3f} {r['unit']}", f"{r['iqr']:.3f}",
                     f"{r['mean']:.3f}"]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j >= 3:
                    item.setData(Qt.ItemDataRole.UserRole,
                                 r[("median", "iqr", "mean")[j - 3]])
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()

    # -- PSF / CTF of a clicked source ----------------------------------------------
    def show_function(self, source: int):
        """Compute (on a worker, once per method and sensor set) the resolution
        matrix and show the PSF or CTF of ``source`` on the second brain."""
        from gui.workers import ProgressWorker

        self._picked = int(source)
        method, sensors = self.method.currentText(), self.sensor.currentData()
        if not method:
            return
        if self._psf_busy:  # shown when the current one is done
            self._psf_pending = int(source)
            return
        snr = self.results.params.get("snr", 3.0) if self.results else 3.0
        func = self.function.currentText()

        def gen():
            # the inputs are frozen here, on the main thread; the worker
            # reads only that snapshot and returns the matrix for the main
            # thread to cache (it shares no cache with a running study)
            matrix = self.ws.iter_resolution_matrix(method, sensors, snr)

            def run():
                computed = yield from matrix
                R = computed.result
                get = R.get_psf if func == "PSF" else R.get_ctf
                return computed, (source, func, method, sensors,
                                  np.abs(get(source, norm=True)[:, 0]))
            return run()

        self._psf_busy = True
        self.psf_worker = ProgressWorker(gen)
        self.psf_worker.finished.connect(self._on_function)
        self.psf_worker.failed.connect(self._on_psf_failed)
        self._status(f"Computing the {func} of source {source}…")
        self.psf_worker.start()

    def _on_psf_failed(self, exc, details):
        self._psf_busy = False
        self._psf_pending = None
        self._status(f"The {self.function.currentText()} could not be computed: "
                     f"{exc}", True)

    def _on_function(self, value):
        self._psf_busy = False
        computed, (source, func, method, sensors, vals) = value
        self.ws.store(computed)
        if self._psf_pending is not None or (func, method, sensors) != (
                self.function.currentText(), self.method.currentText(),
                self.sensor.currentData()):
            # the choice changed meanwhile: compute what is asked now
            pending = self._psf_pending if self._psf_pending is not None else source
            self._psf_pending = None
            self.show_function(pending)
            return
        v = self.func_view
        v.set_cmap("hot")
        v.colorbar.set_label(f"|{func}| / max (ratio)")
        v.set_clim(0.0, 1.0)
        v._threshold = 0.05  # near-zero leakage shown as the bare cortex
        v.set_values(vals)
        h, vert = v.surface.vertex_of_source(source)
        v._mark(v.surface.hemis[h][0][vert])
        v._title_actor.SetText(2, f"{func} of source {source} ({method} / "
                                  f"{SENSOR_LABELS[sensors]}), |normalised|")
        self._status(f"{func} of source {source} shown.")
        self.sigFunctionShown.emit(source)


def run_for_screenshot(tab: ResolutionTab, demo=True, methods=("MNE", "dSPM", "sLORETA"),
                       sensors=("meeg", "meg"), progress=None):
    """Compute (blocking) and show a resolution study for ``--screenshot``.

    Returns
    -------
    results : ResolutionResults
    """
    from PySide6.QtCore import QCoreApplication

    from gui.sources.sources_tab import prepare_demo

    if demo:
        prepare_demo(tab.session)
    for w, keys in ((tab.methods, methods), (tab.sensors, sensors)):
        for i in range(w.count()):
            it = w.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.data(Qt.ItemDataRole.UserRole)
                             in keys else Qt.CheckState.Unchecked)
    sel = tab.selection()
    res = tab.ws.resolution(**sel)
    if res is None:
        computed = run_with_progress(tab.ws.iter_resolution(**sel), progress)
        tab.ws.store(computed)
        res = computed.result
    tab.function.setCurrentText("PSF")
    tab.metric_box.setCurrentIndex(1)  # spatial deviation
    w, h = tab.map_view.plotter.window_size
    tab.map_view.blockSignals(True)  # the PSF is computed here, blocking
    src = tab.map_view.pick_display(w / 2, h / 2)
    tab.map_view.blockSignals(False)
    src = int(np.nanargmin(tab.shown)) if src is None else src
    tab._picked = src
    R = tab.ws.resolution_matrix(tab.method.currentText(), tab.sensor.currentData(),
                                 sel["snr"])
    tab._on_function((src, "PSF", tab.method.currentText(), tab.sensor.currentData(),
                      np.abs(R.get_psf(src, norm=True)[:, 0])))
    tab.progress.setValue(100)
    for _ in range(3):
        QCoreApplication.processEvents()
    return res
