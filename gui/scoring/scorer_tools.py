"""The scorer's tools wired into the main window (one call from it).

:class:`ScorerTools` adds the montage toolbar, the spectrogram and
hypnodensity lanes above the traces, the automatic-staging dock, the Analysis
menu entries (automatic staging, whole-night spectrogram, hypnogram agreement)
and the Y / Shift+Y keys that accept proposals. Long work runs on a worker
(:func:`gui.workers.run_task`); only the done-callbacks here, on the main
thread, change the session or the widgets.
"""

from __future__ import annotations

import warnings

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog

from core.utils import SpindleScopeError

from gui.dialogs import common as dialogs
from gui.scoring.autostage_panel import AutostagePanel
from gui.traces.hypnodensity_lane import HypnodensityLane
from gui.traces.montage_toolbar import MontageToolbar
from gui.traces.spectrogram_lane import SpectrogramLane
from gui.workers import run_task

# YASA's bundled classifiers hold a LabelEncoder pickled by scikit-learn 0.24;
# core.detection.autostage silences the warning around its use, but a page read on
# another thread (its own catch_warnings) can restore the filters meanwhile:
# in the app the filter is set once, before any worker starts.
warnings.filterwarnings("ignore", "Trying to unpickle estimator", UserWarning, "sklearn")

HYPNO_FILTER = "Hypnograms (*.tsv *.csv *.txt *.fif *.edf);;All files (*)"


class ScorerTools(QObject):
    """Montages, whole-night spectrogram, automatic staging for a main window.

    Parameters
    ----------
    window : gui.main_window.MainWindow
        The window to extend (its session, browser, lanes, menus, docks).
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.browser = window.browser
        self.proposals = None
        self.result_hypnogram = None
        # montage toolbar
        self.montage_bar = MontageToolbar(self.session, self.browser, window)
        self.montage_bar.sigError.connect(lambda m, e: dialogs.show_error(window, m, e))
        window.addToolBar(self.montage_bar)
        # lanes under the overview bar
        self.spectrogram_lane = SpectrogramLane()
        self.hypnodensity_lane = HypnodensityLane(self.session)
        lay = window.tabs.widget(0).layout()
        at = lay.indexOf(window.hypnogram_lane) + 1
        lay.insertWidget(at, self.hypnodensity_lane)
        lay.insertWidget(at, self.spectrogram_lane)
        for lane in (self.spectrogram_lane, self.hypnodensity_lane):
            lane.sigJump.connect(self.browser.center_on)
        # dock
        self.panel = AutostagePanel(self.session)
        dock = QDockWidget("Staging", window)
        dock.setObjectName("dock_staging")
        dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        window.tabifyDockWidget(window.docks["Compare"], dock)
        window.docks["Staging"] = dock
        window.docks["Spindles"].raise_()
        self.panel.sigRun.connect(self.run_staging)
        self.panel.sigAcceptEpoch.connect(self.accept_epoch)
        self.panel.sigAcceptAll.connect(self.accept_all)
        # menus and keys
        menu = next(a.menu() for a in window.menuBar().actions()
                    if a.text().replace("&", "") == "Analysis")
        menu.addSeparator()
        self.act_stage = window._action(menu, "Stage &automatically (YASA)…",
                                        self._raise_staging)
        self.act_spectrogram = window._action(menu, "Whole-night &spectrogram…",
                                              self.spectrogram_dialog)
        self.act_compare_file = window._action(menu, "Compare hypnogram with file…",
                                               self.compare_hypnogram_dialog)
        self.act_compare_auto = window._action(menu, "Compare hypnogram with automatic "
                                                     "staging", self.compare_with_proposals)
        self.act_accept = QAction("Accept proposed stage of this epoch", window)
        self.act_accept.setShortcut(QKeySequence("Y"))
        self.act_accept.triggered.connect(self.accept_epoch)
        self.act_accept_all = QAction("Accept all proposed stages", window)
        self.act_accept_all.setShortcut(QKeySequence("Shift+Y"))
        self.act_accept_all.triggered.connect(self.accept_all)
        for act in (self.act_accept, self.act_accept_all):
            menu.addAction(act)
        self.session.recording_changed.connect(self._on_recording_changed)
        self.session.hypnogram_changed.connect(self._on_hypnogram_replaced)
        self.session.proposals_changed.connect(self._on_session_proposals)
        self.browser.sigWindowChanged.connect(self._on_window_changed)
        self._hyp = None
        self._on_hypnogram_replaced(self.session.hypnogram)

    # -- observation ----------------------------------------------------------
    def _on_recording_changed(self, rec):
        self.set_proposals(None)
        self.spectrogram_lane.clear_spectrogram()
        if rec is not None:
            self.show_cached_spectrogram(rec)

    def show_cached_spectrogram(self, rec, row=None):
        """Draw the spectrogram computed for this recording before, if cached."""
        from core.detection.spectrogram import night_spectrogram
        from core.utils import logger, run_with_progress

        band = tuple(self.session.settings.sigma_band)
        try:
            spec = run_with_progress(night_spectrogram(rec, row, sigma_band=band,
                                                       cache_only=True))
        except SpindleScopeError as exc:   # e.g. no EEG: nothing to show
            logger.info("No cached spectrogram: %s", exc)
            return None
        if spec is not None:
            self.spectrogram_lane.set_spectrogram(spec, rec.duration)
        return spec

    def _on_hypnogram_replaced(self, hyp):
        from core.utils import relink

        self._hyp = relink(self._hyp, hyp, self._on_stages_edited)
        self._on_stages_edited()

    def _on_stages_edited(self, *args):
        hyp = self.session.hypnogram
        if self.proposals is not None and hyp is not None:
            self.panel.show_counts(len(self.proposals.open_epochs(hyp)), hyp.n_epochs)
        self._show_epoch()

    def _on_window_changed(self, t0, t1):
        self.spectrogram_lane.set_window(t0, t1)
        self.hypnodensity_lane.set_window(t0, t1)
        self._show_epoch()

    def _show_epoch(self):
        hyp, props = self.session.hypnogram, self.proposals
        if hyp is None or props is None or self.session.recording is None:
            self.panel.show_epoch(0, "?", None, None)
            return
        ep = self.browser.current_epoch()
        proba = props.result.proba[ep] if ep < props.result.n_epochs else None
        self.panel.show_epoch(ep, hyp.stages[ep], props.proposed(hyp, ep), proba)

    def _raise_staging(self):
        self.window.docks["Staging"].raise_()
        self.panel.run_button.setFocus()

    # -- automatic staging ----------------------------------------------------
    def run_staging(self, eeg=None, eog=None, emg=None):
        """Run YASA on a worker; its stages become proposals."""
        from core.detection.autostage import EPOCH, autostage

        rec, hyp = self.session.recording, self.session.hypnogram
        if rec is None:
            dialogs.show_error(self.window, "Open a recording first.")
            return None
        if hyp is not None and abs(hyp.epoch_length - EPOCH) > 1e-6:
            dialogs.show_error(self.window, "Automatic staging needs 30-s epochs.",
                               SpindleScopeError(
                                   f"The hypnogram has {hyp.epoch_length:g}-s epochs; "
                                   f"YASA's classifier scores 30-s epochs."))
            return None
        return run_task(self.window, "Automatic staging (YASA)",
                        lambda: autostage(rec, eeg, eog if eog else False,
                                          emg if emg else False),
                        self._staging_done)

    def _on_session_proposals(self, result):
        """The session's proposals (new, loaded, restored or cleared)."""
        from core.detection.autostage import StageProposals

        self.set_proposals(None if result is None else StageProposals(result))

    def _staging_done(self, result):
        # main thread: the session keeps the proposals (saved with it and
        # journalled by autosave); this view follows its signal
        self.session.set_proposals(result)
        self.browser.setFocus()   # Y / Shift+Y accept from the traces
        hyp = self.session.hypnogram
        n = len(self.proposals.open_epochs(hyp)) if hyp is not None else 0
        self.window.statusBar().showMessage(
            f"YASA proposed stages for {n} unscored epoch(s): Y accepts one, "
            f"Shift+Y all.", 8000)

    def set_proposals(self, proposals):
        self.proposals = proposals
        self.hypnodensity_lane.set_proposals(proposals)
        self.window.overview.set_proposals(proposals)
        hyp = self.session.hypnogram
        if proposals is None or hyp is None:
            self.panel.show_counts(None)
        else:
            self.panel.show_counts(len(proposals.open_epochs(hyp)), hyp.n_epochs)
        self._show_epoch()

    def accept_epoch(self):
        """Accept the proposal of the current epoch and go to the next open one."""
        hyp, props = self.session.hypnogram, self.proposals
        if hyp is None or props is None:
            return False
        ep = self.browser.current_epoch()
        ok = props.accept(hyp, ep)
        nxt = props.next_open(hyp, ep)
        if nxt is not None:
            self.browser.set_time(nxt * hyp.epoch_length)
        return ok

    def accept_all(self):
        """Accept every open proposal (one undoable step)."""
        hyp, props = self.session.hypnogram, self.proposals
        if hyp is None or props is None:
            return 0
        return props.accept_all(hyp)

    # -- spectrogram ----------------------------------------------------------
    def spectrogram_dialog(self):
        from core.io.montage import default_rows

        rec = self.session.recording
        if rec is None:
            dialogs.show_error(self.window, "Open a recording first.")
            return None
        try:
            first = default_rows(rec.ch_names, rec.ch_types)["eeg"]
        except SpindleScopeError as exc:
            dialogs.show_error(self.window, "No whole-night spectrogram.", exc)
            return None
        items = [first] + [n for n in rec.ch_names if n != first]
        row, ok = QInputDialog.getItem(self.window, "Whole-night spectrogram",
                                       "Channel or derivation (e.g. C4-M1):", items, 0, True)
        return self.run_spectrogram(row) if ok and row else None

    def run_spectrogram(self, row=None):
        """Compute (or read from the cache) the spectrogram on a worker."""
        from core.detection.spectrogram import night_spectrogram

        rec = self.session.recording
        band = tuple(self.session.settings.sigma_band)
        return run_task(self.window, "Whole-night spectrogram (cached per recording)",
                        lambda: night_spectrogram(rec, row, sigma_band=band),
                        lambda spec: self.spectrogram_lane.set_spectrogram(
                            spec, rec.duration))

    # -- agreement --------------------------------------------------------------
    def compare_hypnogram_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self.window, "Compare hypnogram with",
                                              "", HYPNO_FILTER)
        if path:
            self.compare_hypnogram_file(path)

    def compare_hypnogram_file(self, path):
        """Agreement of the session's stages with the hypnogram in ``path``."""
        from pathlib import Path

        from core.io.hypnograms import read_hypnogram_for

        rec, hyp = self.session.recording, self.session.hypnogram
        try:
            if hyp is None:
                raise SpindleScopeError("Open a recording with a hypnogram first.")
            ref = read_hypnogram_for(path, rec)
            agr = self.window.compare.compare_hypnograms(ref, hyp, Path(path).name)
        except Exception as exc:  # noqa: BLE001 - a clear dialog, never a traceback
            dialogs.show_error(self.window, "Comparing hypnograms failed.", exc)
            return None
        self.window.docks["Compare"].raise_()
        return agr

    def compare_with_proposals(self):
        """Agreement of the session's stages with YASA's."""
        hyp = self.session.hypnogram
        if self.proposals is None or hyp is None:
            dialogs.show_error(self.window, "Run the automatic staging first.")
            return None
        try:
            agr = self.window.compare.compare_hypnograms(
                self.proposals.result.hypnogram(), hyp, "YASA")
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self.window, "Comparing hypnograms failed.", exc)
            return None
        self.window.docks["Compare"].raise_()
        return agr
