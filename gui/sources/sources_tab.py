"""The source workspace tab: head model and inverse, cortical movies, synchrony.

:class:`SourcesTab` observes the session's :class:`core.session.workspace.SourceWorkspace`
(house rule 2): the panel on the left edits its inputs, *Run* computes the
per-spindle EEG / MEG / MEG+EEG sources on a worker thread (progress bar and a
Cancel that closes the core generator between steps), and a finished result is
stored in the workspace's cache, keyed by a hash of every input, so it is
recomputed only when an input changed.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QSplitter,
                               QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from core.session.pipeline import INVERSE_METHODS, SOURCE_SPACINGS, TEMPLATE_SPACINGS, TIMECOURSES
from core.utils import run_with_progress
from core.session.workspace import workspace_for

from gui.widgets.brain_view import BrainView, cortex_surface
from gui.widgets.colorbar import linked_clims, view_units
from gui.sources.max_path import MaximumPath, show_paths
from gui.sources.movie_controls import MovieControls
from gui.sources.synchrony_panels import SynchronyPanels
from gui.sources.timecourse_panel import LABELS, TimecoursePanel


def _file_row(placeholder, pattern="", folder=False):
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    btn = QPushButton("…")
    btn.setMaximumWidth(28)

    def browse():
        path = (QFileDialog.getExistingDirectory(w, placeholder) if folder else
                QFileDialog.getOpenFileName(w, placeholder, "", pattern)[0])
        if path:
            edit.setText(path)

    btn.clicked.connect(browse)
    lay.addWidget(edit)
    lay.addWidget(btn)
    w.edit = edit
    return w


#: The time-course settings as the panel names them.
TIMECOURSE_TEXT = dict(zip(TIMECOURSES, ("norm (unsigned)", "normal (signed)",
                                          "envelope (Hilbert)")))

class InversePanel(QGroupBox):
    """Head model, noise covariance and inverse settings; Run and Cancel."""

    def __init__(self, parent=None):
        super().__init__("Head model and inverse", parent)
        form = QFormLayout(self)
        self.head = QComboBox()
        self.head.addItems(["fsaverage template", "forward file", "subject's own MRI"])
        self.spacing = QComboBox()
        self.spacing.addItems(list(TEMPLATE_SPACINGS))
        self.forward = _file_row("forward solution (-fwd.fif)", "FIF (*.fif *.fif.gz)")
        self.subjects_dir = _file_row("subjects folder", folder=True)
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("subject")
        self.trans = _file_row("trans (-trans.fif)", "FIF (*.fif)")
        self.bem = _file_row("BEM solution (-bem-sol.fif)", "FIF (*.fif)")
        # as ``analyze --src / --spacing``: a source-space file, or a spacing
        self.src = _file_row("source space (-src.fif; empty: set up)", "FIF (*.fif)")
        self.source_spacing = QComboBox()
        self.source_spacing.setEditable(True)   # any MNE spacing
        self.source_spacing.addItems(list(SOURCE_SPACINGS))
        self.head_pages = QStackedWidget()
        for rows in ([("Spacing", self.spacing)], [("Forward", self.forward)],
                     [("Subjects", self.subjects_dir), ("Subject", self.subject),
                      ("Trans", self.trans), ("BEM", self.bem), ("Sources", self.src),
                      ("Spacing", self.source_spacing)]):
            page = QWidget()
            f = QFormLayout(page)
            f.setContentsMargins(0, 0, 0, 0)
            for label, w in rows:
                f.addRow(label, w)
            self.head_pages.addWidget(page)
        self.head.currentIndexChanged.connect(self._on_head_kind)
        self._on_head_kind(0)
        self.noise = QComboBox()
        self.noise.addItems(["spindle-free N2 (auto)", "diagonal", "file"])
        self.noise_file = _file_row("-cov.fif, empty-room or baseline")
        self.method = QComboBox()
        self.method.addItems(list(INVERSE_METHODS))
        self.snr = QDoubleSpinBox()
        self.snr.setRange(0.1, 100.0)
        self.snr.setValue(3.0)
        self.lambda_label = QLabel()
        self.snr.valueChanged.connect(self._on_snr)
        self.orientation = QComboBox()
        self.orientation.addItems(["loose", "fixed"])
        self.loose = QDoubleSpinBox()
        self.loose.setRange(0.0, 1.0)
        self.loose.setSingleStep(0.05)
        self.loose.setValue(0.2)
        self.orientation.currentTextChanged.connect(
            lambda t: self.loose.setEnabled(t == "loose"))
        self.max_spindles = QSpinBox()
        self.max_spindles.setRange(0, 100000)
        self.max_spindles.setSpecialValueText("all")
        from core.report.writers import METHOD_NOTE

        self.method_note = QLabel("dSPM = MNE = sLORETA for synchrony (ⓘ)")
        self.method_note.setToolTip(METHOD_NOTE)
        self.method_note.setStyleSheet("color: #555;")
        self.timecourse = QComboBox()
        for key, text in TIMECOURSE_TEXT.items():
            self.timecourse.addItem(text, key)
        self.timecourse.setToolTip(
            "Signal the correlations use: norm of the three loose-orientation "
            "components, signed normal component, or Hilbert envelope of the "
            "normal component. Coherence always uses the signed normal component.")
        self.run = QPushButton("Run")
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("No results yet.")
        self.status.setWordWrap(True)
        form.addRow("Head model", self.head)
        form.addRow(self.head_pages)
        form.addRow("Noise cov.", self.noise)
        form.addRow("", self.noise_file)
        form.addRow("Method", self.method)
        form.addRow("SNR", self.snr)
        form.addRow("", self.lambda_label)
        form.addRow("Orientation", self.orientation)
        form.addRow("Loose", self.loose)
        form.addRow("", self.method_note)
        form.addRow("Time course", self.timecourse)
        form.addRow("Spindles", self.max_spindles)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run)
        buttons.addWidget(self.cancel)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)
        self._on_snr(self.snr.value())

    def _on_head_kind(self, index):
        """Show the page of the head-model kind, sized to its own rows."""
        from PySide6.QtWidgets import QSizePolicy

        for i in range(self.head_pages.count()):
            page = self.head_pages.widget(i)
            page.setSizePolicy(QSizePolicy.Policy.Preferred,
                               QSizePolicy.Policy.Preferred if i == index
                               else QSizePolicy.Policy.Ignored)
        self.head_pages.setCurrentIndex(index)
        self.head_pages.adjustSize()

    def _on_snr(self, snr):
        self.lambda_label.setText(f"λ² = 1/SNR² = {1.0 / snr ** 2:.4f}")

    def inputs(self) -> dict:
        """Keyword arguments of :meth:`SourceWorkspace.update`."""
        kind = ("template", "forward", "subject")[self.head.currentIndex()]
        head = {"kind": kind, "spacing": self.spacing.currentText()}
        if kind == "forward":
            head["forward"] = self.forward.edit.text() or None
        elif kind == "subject":
            head.update(subjects_dir=self.subjects_dir.edit.text() or None,
                        subject=self.subject.text() or None,
                        trans=self.trans.edit.text() or None,
                        bem=self.bem.edit.text() or None,
                        src=self.src.edit.text() or None,
                        source_spacing=self.source_spacing.currentText().strip() or "oct6")
        nkind = ("auto", "diagonal", "file")[self.noise.currentIndex()]
        noise = {"kind": nkind, "path": self.noise_file.edit.text() or None
                 if nkind == "file" else None}
        inverse = {"method": self.method.currentText(), "snr": self.snr.value(),
                   "loose": self.loose.value(),
                   "orientation": self.orientation.currentText()}
        n = self.max_spindles.value()
        return {"head": head, "noise": noise, "inverse": inverse,
                "max_spindles": n or None, "timecourse": self.timecourse.currentData()}

    def show_inputs(self, ws):
        """Reflect the workspace's inputs in the widgets."""
        h = ws.head
        self.head.setCurrentIndex(("template", "forward", "subject").index(h.kind))
        self.spacing.setCurrentText(h.spacing)
        self.forward.edit.setText(h.forward or "")
        self.subjects_dir.edit.setText(h.subjects_dir or "")
        self.subject.setText(h.subject or "")
        self.trans.edit.setText(h.trans or "")
        self.bem.edit.setText(h.bem or "")
        self.src.edit.setText(h.src or "")
        self.source_spacing.setCurrentText(h.source_spacing)
        self.noise.setCurrentIndex(("auto", "diagonal", "file").index(ws.noise.kind))
        self.noise_file.edit.setText(ws.noise.path or "")
        inv = ws.config.inverse
        self.method.setCurrentText(inv.method)
        self.snr.setValue(inv.snr)
        self.loose.setValue(inv.loose)
        self.orientation.setCurrentText(inv.orientation)
        self.timecourse.setCurrentIndex(list(TIMECOURSE_TEXT).index(ws.config.timecourse))
        self.max_spindles.setValue(ws.max_spindles or 0)


class SourcesTab(QWidget):
    """Head model and inverse panel, linked EEG/MEG cortical movies, time
    courses at a clicked vertex, correlation and coherence panels.

    Parameters
    ----------
    session : core.session.session.Session
    parent : QWidget | None
    backend : 'qt' | 'image' | None
        Brain-view back end (see :mod:`gui.widgets.brain_view`).

    Signals
    -------
    sigRunFinished(object), sigRunCancelled(), sigRunFailed(str)
    """

    sigRunFinished = Signal(object)
    sigRunCancelled = Signal()
    sigRunFailed = Signal(str)

    def __init__(self, session, parent=None, backend=None):
        super().__init__(parent)
        self.session = session
        self.ws = workspace_for(session)
        self.backend = backend
        self.worker = None
        self._busy = False
        self.result = None
        self.views: dict = {}
        self.paths: dict = {}  # modality -> MaximumPath
        self._surface_kind = "pial"
        self.panel = InversePanel()
        self.panel.show_inputs(self.ws)
        self.panel.run.clicked.connect(self.run)
        self.panel.cancel.clicked.connect(self.cancel)
        self.controls = MovieControls()
        self.timecourse = TimecoursePanel()
        self.synchrony = SynchronyPanels()
        self.view_row = QWidget()
        self.view_layout = QHBoxLayout(self.view_row)
        self.view_layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("Run the source analysis to see the EEG- and "
                                  "MEG-derived cortical movies.")
        self.view_layout.addWidget(self.placeholder)
        snap = QPushButton("Snapshot…")
        snap.clicked.connect(self._snapshot_dialog)
        movie = QPushButton("Export movie…")
        movie.clicked.connect(self._movie_dialog)
        exp = QHBoxLayout()
        exp.addStretch(1)
        exp.addWidget(snap)
        exp.addWidget(movie)
        movies = QWidget()
        mlay = QVBoxLayout(movies)
        split = QSplitter()
        split.setOrientation(split.orientation().Vertical)
        split.addWidget(self.view_row)
        split.addWidget(self.timecourse)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 200])
        mlay.addWidget(split)
        mlay.addWidget(self.controls)
        mlay.addLayout(exp)
        self.tabs = QTabWidget()
        self.tabs.addTab(movies, "Cortical movies")
        self.tabs.addTab(self.synchrony, "Correlation and coherence")
        outer = QSplitter()
        left = QWidget()
        llay = QVBoxLayout(left)
        llay.setContentsMargins(0, 0, 0, 0)
        llay.addWidget(self.panel)
        llay.addStretch(1)
        outer.addWidget(left)
        outer.addWidget(self.tabs)
        outer.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(outer)
        self.controls.sigFrameChanged.connect(self._on_frame_changed)
        self.controls.sigSpindleChanged.connect(self._on_spindle_changed)
        self.controls.sigAppearanceChanged.connect(self._on_appearance_changed)
        self.controls.sigSurfaceChanged.connect(self._on_surface_changed)
        self.controls.sigThirdViewToggled.connect(self._on_third_view)
        self.ws.sources_changed.connect(self._on_sources_changed)
        self._on_sources_changed(self.ws.sources)
        # never widen the main window: squeeze (the splitters keep it usable)
        self.setMinimumSize(480, 360)

    # -- running ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._busy

    def apply_inputs(self) -> bool:
        """Send the panel's inputs to the workspace; False (and a message) on
        an invalid input."""
        from core.utils import SpindleScopeError

        try:
            self.ws.update(**self.panel.inputs())
        except SpindleScopeError as exc:
            self._set_status(str(exc), error=True)
            return False
        return True

    def run(self):
        """Compute the sources of the current inputs on a worker (unless cached)."""
        from gui.workers import ProgressWorker

        if self.running or not self.apply_inputs():
            return
        if self.ws.sources is not None:
            self._set_status("Results are up to date (inputs unchanged).")
            self._on_sources_changed(self.ws.sources)
            self.sigRunFinished.emit(self.ws.sources)
            return
        # the Session's pipeline (as ``analyze``); inputs frozen at start()
        self.worker = ProgressWorker(self.session.iter_analyze)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self._busy = True
        self.panel.run.setEnabled(False)
        self.panel.cancel.setEnabled(True)
        self.panel.progress.setValue(0)
        self._set_status("Starting…")
        self.worker.start()

    def cancel(self):
        if self.running:
            self.worker.cancel()
            self._set_status("Cancelling (after the current step)…")

    def _end_run(self):
        self._busy = False
        self.panel.run.setEnabled(True)
        self.panel.cancel.setEnabled(False)

    def _on_progress(self, prog):
        if prog.total:
            self.panel.progress.setValue(int(100 * min(prog.done, prog.total) / prog.total))
        self._set_status(prog.message)

    def _on_finished(self, value):
        key, result = value
        self._end_run()
        self.panel.progress.setValue(100)
        self.ws.store(value)  # main thread: result and cache entries
        if key != self.ws.sources_key():
            self._set_status("The inputs changed during the run: run again.")
        else:
            self._set_status(f"{len(result.spindles)} spindles analysed "
                             f"({result.config.inverse.method}, "
                             f"{sum(len(v) for v in result.vertices)} sources).")
        self.sigRunFinished.emit(result)

    def _on_failed(self, exc, details):
        from core.utils import SpindleScopeError

        self._end_run()
        self.panel.progress.setValue(0)
        msg = str(exc) if isinstance(exc, SpindleScopeError) else (
            f"The source analysis failed: {type(exc).__name__}: {exc}")
        self._set_status(msg, error=True)
        self.sigRunFailed.emit(msg)

    def _on_cancelled(self):
        self._end_run()
        self.panel.progress.setValue(0)
        self._set_status("Cancelled: no new results.")
        self.sigRunCancelled.emit()

    def _set_status(self, text, error=False):
        self.panel.status.setStyleSheet("color: #b00020;" if error else "")
        self.panel.status.setText(text)

    def shutdown(self, msecs: int = 60000) -> bool:
        """Stop playback, cancel a run, wait for it and release the render
        windows (call from the main window's closeEvent)."""
        self.controls.stop()
        self.cancel()
        if getattr(self, "_movie_export", None) is not None:
            self._movie_export.cancel()   # its encoder waits for frames: release it
        ok = self.wait(msecs)
        for v in self.views.values():
            v.close_view()
        return ok

    def wait(self, msecs: int = 60000) -> bool:
        """Wait for the worker threads (e.g. before closing)."""
        return QThreadPool.globalInstance().waitForDone(msecs)

    # -- showing results ------------------------------------------------------------
    def _on_sources_changed(self, result):
        self.result = result
        self.controls.stop()
        if result is None:
            self.synchrony.set_result(None)
            self.controls.set_spindles([])
            self.timecourse.set_source(None, None)
            for v in self.views.values():
                v.setVisible(False)
            self.placeholder.setVisible(True)
            return
        self._ensure_views(result)
        self.synchrony.set_result(result)
        self.controls.set_spindles(result.spindles)

    def _surface(self, result, kind):
        ws = self.ws
        sd = ws.head.subjects_dir if ws.head.kind == "subject" else None
        return cortex_surface(result.vertices, result.subject or "fsaverage", kind,
                              subjects_dir=sd, src=ws.source_space())

    def _ensure_views(self, result):
        surf = self._surface(result, self._surface_kind)
        same = all(v.surface.n_sources == surf.n_sources and
                   v.surface.vertices[0].shape == surf.vertices[0].shape and
                   np.array_equal(v.surface.vertices[0], surf.vertices[0])
                   for v in self.views.values())
        if self.views and not same:
            for v in self.views.values():
                v.close_view()
                v.setParent(None)
            self.views, self.paths = {}, {}
        self.placeholder.setVisible(False)
        if self.views:
            for mod, v in self.views.items():
                v.setVisible(mod != "meeg" or self.controls.third.isChecked())
            return
        mods = [m for m in ("eeg", "meg", "meeg") if m in result.config.modalities]
        first = None
        for mod in mods:
            view = BrainView(surf, f"{LABELS[mod]}-derived", backend=self.backend,
                             camera=None if first is None else first.camera)
            view.sigVertexPicked.connect(self._on_vertex_picked)
            self.paths[mod] = MaximumPath(view)
            self.view_layout.addWidget(view, 1)
            self.views[mod] = view
            first = first or view
        for a in self.views.values():
            for b in self.views.values():
                if a is not b:
                    a.link(b)
        if "meeg" in self.views:
            self.views["meeg"].setVisible(self.controls.third.isChecked())

    def _current(self):
        """(spindle, index) shown; spindle None for the pooled view."""
        if self.result is None:
            return None, None
        i = self.controls.spindle_index
        return (None, -1) if i < 0 else (self.result.spindles[i], i)

    def _on_spindle_changed(self, index):
        sp, i = self._current()
        if sp is not None:
            stc = next(iter(sp.stcs.values()), None)
            n = stc.data.shape[1] if stc is not None else 1
            self.controls.set_timing(n, self.result.sfreq,
                                     stc.tmin if stc is not None else sp.onset)
        else:
            self.controls.set_timing(1, self.result.sfreq, 0.0)
        self._apply_clims()
        if self.timecourse.source is not None:
            self._on_vertex_picked(self.timecourse.source, mark=False)
        self._draw()

    def _apply_clims(self):
        """Colour ranges of the spindle (or map) shown, one per view."""
        self._clims = self._compute_clims()
        if self.controls.linked.isChecked():
            self._clims = linked_clims(self._clims)
        for mod, view in self.views.items():
            view.colorbar.set_label(view_units(self.result, mod, self.controls.map_key))
            view.set_clim(*self._clims.get(mod, (0.0, 1.0)))
        show_paths(self)

    def _compute_clims(self):
        sp, _ = self._current()
        key = self.controls.map_key
        out = {}
        for mod in self.views:
            data = self._static_values(mod) if (sp is None or key) else \
                sp.stcs[mod].data if mod in sp.stcs else None
            if data is None:
                continue
            lo, hi = np.nanpercentile(data, [1, 99.5])
            out[mod] = (-max(abs(lo), abs(hi)), max(abs(lo), abs(hi))) if lo < 0 \
                else (0.0, float(hi))
        return out

    def _static_values(self, mod):
        """Per-source values of the map / pooled display for a view."""
        res = self.result
        sp, _ = self._current()
        key = self.controls.map_key
        if key is not None:
            # coherence maps exist pooled over spindles only (one spindle's
            # coherence is mostly small-sample bias)
            if sp is None or key not in sp.maps:
                return res.mean_map(key) if key in res.maps or all(
                    key in s.maps for s in res.spindles) else None
            return sp.maps[key]
        vals = [s.stcs[mod].data.mean(axis=1) for s in res.spindles if mod in s.stcs]
        return np.mean(vals, axis=0) if vals else None

    def frame_values(self, mod: str) -> np.ndarray | None:
        """What the view of ``mod`` shows now (per source)."""
        sp, _ = self._current()
        if sp is None or self.controls.map_key is not None:
            return self._static_values(mod)
        stc = sp.stcs.get(mod)
        return None if stc is None else stc.data[:, self.controls.frame]

    def _draw(self):
        for mod, view in self.views.items():
            if not view.isVisible() and mod == "meeg":
                continue
            vals = self.frame_values(mod)
            if vals is None:
                continue
            lo, hi = self._clims.get(mod, (0.0, 1.0))
            frac = self.controls.threshold_fraction
            view._threshold = lo + frac * (hi - lo) if frac > 0 else None
            view.set_values(vals)

    def _on_frame_changed(self, frame):
        sp, _ = self._current()
        if sp is not None:
            self.timecourse.set_time(self.controls.tmin + frame / self.controls.sfreq)
            for path in self.paths.values():
                path.set_frame(frame)
        if sp is not None and self.controls.map_key is None:
            self._draw()

    def _on_appearance_changed(self):
        if not self.views or self.result is None:
            return
        self._apply_clims()
        key = self.controls.map_key
        for mod, view in self.views.items():
            view.set_cmap(self.controls.cmap.currentText())
            title = view.title if key is None else self.controls.display.currentText()
            view._title_actor.SetText(2, title) if hasattr(
                view._title_actor, "SetText") else None
        first = next(iter(self.views.values()))
        view, hemi = self.controls.view.currentText(), self.controls.hemi.currentText()
        if (first.view, first.hemi) != (view, hemi):
            first.set_view(view, hemi)
        self._draw()

    def _on_surface_changed(self, kind):
        self._surface_kind = kind
        if not self.views or self.result is None:
            return
        surf = self._surface(self.result, kind)
        for view in self.views.values():
            view.set_surface(surf)

    def _on_third_view(self, on):
        if "meeg" in self.views:
            self.views["meeg"].setVisible(on)
            if on:
                self._draw()

    def _on_vertex_picked(self, source, mark=True):
        sp, i = self._current()
        if mark:
            for v in self.views.values():
                h, vert = v.surface.vertex_of_source(source)
                v._mark(v.surface.hemis[h][0][vert])
        stcs = sp.stcs if sp is not None else None
        self.timecourse.set_source(source, stcs, f"source {source}" + (
            "" if sp is None else f", spindle #{i + 1}"))

    # -- export -------------------------------------------------------------------
    def visible_views(self) -> list:
        return [v for v in self.views.values() if v.isVisible()]

    def snapshot(self, path):
        from gui.sources.movie_export import snapshot

        return snapshot(self.visible_views(), path)

    def export_movie(self, path, fps=10.0, progress=None, max_frames=None):
        """Write the current spindle's movie (MP4 or GIF) at the playback
        speed (one movie frame per timer tick); blocking."""
        from gui.sources.movie_export import iter_export_movie

        frames = range(0, max(1, self.controls.n_frames), max(1, int(round(
            self.controls.step))))[:max_frames]
        return run_with_progress(iter_export_movie(
            self.visible_views(), self.controls.set_frame, frames, path, fps),
            progress)

    def _snapshot_dialog(self):
        path = QFileDialog.getSaveFileName(self, "Snapshot", "brains.png",
                                           "PNG (*.png)")[0]
        if path:
            self.snapshot(path)

    def _movie_dialog(self):
        path = QFileDialog.getSaveFileName(self, "Export movie", "spindle.mp4",
                                           "MP4 (*.mp4);;GIF (*.gif)")[0]
        if path:
            self.start_movie_export(path)

    def start_movie_export(self, path, fps=10.0, max_frames=None):
        """Export the current spindle's movie with a progress dialog and
        Cancel (frames rendered here, encoded on a worker); returns the
        running :class:`gui.sources.movie_export.MovieExport`."""
        from gui.dialogs.common import show_error
        from gui.sources.movie_export import MovieExport

        frames = range(0, max(1, self.controls.n_frames), max(1, int(round(
            self.controls.step))))[:max_frames]
        export = MovieExport(self.visible_views(), self.controls.set_frame, frames,
                             path, fps, parent=self)
        export.failed.connect(lambda exc, details: show_error(
            self, "Exporting the movie failed.", exc, details))
        self._movie_export = export
        return export.start()


def prepare_demo(session, max_spindles=None):
    """Open the demo in ``session`` (if no recording is open) with its
    hypnogram and spindles, and use the demo's forward model, as
    ``main.py analyze --demo`` does."""
    from core.session.simulate import demo_paths
    from core.io.marks import read_spindles
    from core.io.hypnograms import read_hypnogram

    paths = demo_paths()
    from pathlib import Path

    rec = session.recording
    if rec is None or rec.path is None or \
            Path(rec.path).resolve() != Path(paths.raw).resolve():
        rec = session.open_recording(paths.raw)
        session.set_hypnogram(read_hypnogram(paths.hypnogram,
                                             recording_duration=rec.duration))
    if len(session.spindles) == 0:
        session.set_spindles(read_spindles(paths.spindles))
    ws = workspace_for(session)
    ws.update(head={"kind": "forward", "forward": str(paths.forward)},
              max_spindles=max_spindles)
    return paths


def run_for_screenshot(tab: SourcesTab, demo=True, max_spindles=None, progress=None):
    """Compute (blocking) and show results in ``tab`` for ``--screenshot``.

    With ``demo`` the demo recording, spindles and forward model are used.
    Then the first spindle is shown mid-way, with the time courses of the
    source of largest EEG value picked.

    Returns
    -------
    result : core.sources.analysis.AnalysisResult
    """
    from PySide6.QtCore import QCoreApplication

    if demo:
        prepare_demo(tab.session, max_spindles)
        tab.panel.show_inputs(tab.ws)
    if tab.ws.sources is None:
        tab.ws.store(run_with_progress(tab.ws.iter_sources(), progress))
    result = tab.ws.sources
    tab.controls.third.setChecked(False)
    tab.controls.threshold.setValue(30.0)
    tab.controls.spindle.setCurrentIndex(0)
    sp = result.spindles[0]
    if "eeg" in sp.stcs:  # the frame of the EEG peak, the strongest left source
        eeg = sp.stcs["eeg"].data
        tab.controls.set_frame(int(np.argmax(eeg.mean(axis=0))))
        n_lh = len(result.vertices[0])
        if "eeg" in tab.views:
            tab.views["eeg"].pick_source(int(np.argmax(eeg[:n_lh, tab.controls.frame])))
    tab.panel.progress.setValue(100)
    tab._set_status(f"{len(result.spindles)} spindles analysed.")
    for _ in range(3):
        QCoreApplication.processEvents()
    return result
