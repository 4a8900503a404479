"""The main window: menus, the Traces / Sources / Resolution tabs, docks.

The window owns one :class:`core.session.session.Session` and wires views to it; the
views observe the session (house rule 2). File operations and long analyses
end in dialogs with a clear message on error, never in a traceback.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow,
                               QTabWidget, QVBoxLayout, QWidget)

from core.io.formats import FOLDER_SUFFIXES, FORMATS, NoSignalsError
from core.io.recording import GROUPS
from core.session.session import SESSION_SUFFIX, Session
from core.session.settings import Settings

from gui.dialogs import common as dialogs
from gui.scoring.compare_panel import ComparePanel
from gui.traces.hypnogram_lane import HypnogramLane
from gui.traces.overview_bar import OverviewBar
from gui.resolution.resolution_tab import ResolutionTab
from gui.sources.sources_tab import SourcesTab
from gui.dialogs.recovery import AutosaveController
from gui.scoring.review_panel import ReviewPanel
from gui.scoring.spindle_table import SpindleTable
from gui.traces.browser import TraceBrowser, format_time
from gui.workers import run_task

RECORDING_FILTER = (
    "Recordings (" + " ".join(f"*{e}" for e in FORMATS if e.startswith("."))
    + " *.EEG *.res4 *.meg4 *.dap *.rs3 *.cdt.dpa);;"
    "CTF/EGI/MEF folders: pick a file inside, or File ▸ Open recording folder (*.ds *.mff);;"
    "All files (*)")
MARKS_FILTER = "Spindle marks (*.tsv *.csv *.fif *.edf *.txt);;All files (*)"
HYPNO_FILTER = "Hypnograms (*.tsv *.csv *.txt *.xml *.hyp *.fif *.edf);;All files (*)"
SESSION_FILTER = f"SpindleScope sessions (*{SESSION_SUFFIX});;All files (*)"


class MainWindow(QMainWindow):
    """SpindleScope's main window.

    Parameters
    ----------
    settings : Settings | None
        Preferences (loaded from the config folder when None).
    """

    sigDetectionDone = Signal(object)

    def __init__(self, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings if settings is not None else Settings.load()
        self.session = Session(self.settings)
        self.setWindowTitle("SpindleScope")
        self.resize(1400, 900)

        # central tabs
        self.browser = TraceBrowser(self.session)
        self.overview = OverviewBar(self.session)
        self.hypnogram_lane = HypnogramLane(self.session)
        traces = QWidget()
        lay = QVBoxLayout(traces)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.overview)
        lay.addWidget(self.hypnogram_lane)
        lay.addWidget(self.browser, 1)
        # the source workspace: cheap to build, its 3D views appear with the
        # first result
        self.sources_tab = SourcesTab(self.session)
        self.resolution_tab = ResolutionTab(self.session)
        self.tabs = QTabWidget()
        self.tabs.addTab(traces, "Traces")
        self.tabs.addTab(self.sources_tab, "Sources")
        self.tabs.addTab(self.resolution_tab, "Resolution")
        self.setCentralWidget(self.tabs)

        # docks
        self.table = SpindleTable(self.session)
        self.review = ReviewPanel(self.session)
        self.compare = ComparePanel(self.session)
        self.docks = {}
        for name, widget in (("Spindles", self.table), ("Review", self.review),
                             ("Compare", self.compare)):
            dock = QDockWidget(name, self)
            dock.setObjectName(f"dock_{name.lower()}")
            dock.setWidget(widget)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["Spindles"], self.docks["Review"])
        self.tabifyDockWidget(self.docks["Review"], self.docks["Compare"])
        self.docks["Spindles"].raise_()

        self.pos_label = QLabel()
        self.info_label = QLabel()
        self.statusBar().addPermanentWidget(self.pos_label, 1)
        self.statusBar().addPermanentWidget(self.info_label)

        self.autosave = AutosaveController(self.session, self)
        self.autosave_label = QLabel()
        self.statusBar().addPermanentWidget(self.autosave_label)
        self.autosave.on_problem = self._on_autosave_problem
        self.autosave.on_notice = self._on_autosave_notice
        self._build_menus()

        # wiring: views talk through the session or through explicit jumps
        self.browser.sigWindowChanged.connect(self._on_window_changed)
        self.browser.sigStatus.connect(self.pos_label.setText)
        self.note_label = QLabel()          # e.g. NaN stretches drawn as gaps
        self.note_label.setObjectName("browserNote")
        self.statusBar().addPermanentWidget(self.note_label)
        self.browser.sigNote.connect(self.note_label.setText)
        self.browser.sigError.connect(self._on_browser_error)
        self.browser.sigReviewKey.connect(self.review.handle)
        self.overview.sigJump.connect(self.browser.center_on)
        self.hypnogram_lane.sigJump.connect(self.browser.center_on)
        self.table.sigJump.connect(self.browser.show_spindle)
        self.review.sigShow.connect(self.browser.show_spindle)
        self.compare.sigJump.connect(self.browser.center_on)
        self.session.recording_changed.connect(self._on_recording_changed)
        self.session.dirty_changed.connect(self._on_dirty_changed)
        self.session.path_changed.connect(lambda *_: self._update_title())
        self.session.history.changed.connect(self._update_undo)
        self._update_undo()
        from gui.scoring.scorer_tools import ScorerTools

        self.scorer = ScorerTools(self)   # montages, spectrogram, automatic staging
        self._follow_settings()
        _warm_up_imports()
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(
                self.settings.window_geometry.encode("ascii")))

    # -- settings events -----------------------------------------------------------
    def _follow_settings(self):
        """Widgets that show a setting follow its event (whoever changes it)."""
        ev = self.settings.events
        self._setting_slots = [(ev.sigma_overlay, self._on_sigma_setting),
                               (ev.page_duration, self._on_page_setting)]
        for signal, slot in self._setting_slots:
            signal.connect(slot)

    def _unfollow_settings(self):
        for signal, slot in getattr(self, "_setting_slots", ()):
            signal.disconnect(slot)
        self._setting_slots = []
        self.browser.settings_link.disconnect()

    def _on_sigma_setting(self, on):
        self.act_sigma.setChecked(bool(on))

    def _on_page_setting(self, seconds):
        for sec, act in self.page_actions.items():   # none checked: not listed
            act.setChecked(sec == float(seconds))

    # -- menus ------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, checkable=False, checked=False):
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if checkable:
            act.setCheckable(True)
            act.setChecked(checked)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self):
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&Open recording…", self.open_recording_dialog, QKeySequence.StandardKey.Open)
        self._action(f, "Open recording &folder… (CTF .ds, EGI .mff, BTi)",
                     self.open_recording_folder_dialog)
        self._action(f, "Open &demo recording", self.open_demo)
        self.recent_menu = f.addMenu("Recent files")
        self._update_recent_menu()
        f.addSeparator()
        self._action(f, "Open &session…", self.open_session_dialog)
        self._action(f, "Open &cohort results…", lambda: self.open_cohort())
        self.act_save = self._action(f, "&Save session", self.save_session, QKeySequence.StandardKey.Save)
        self._action(f, "Save session &as…", self.save_session_as, QKeySequence("Ctrl+Shift+S"))
        f.addSeparator()
        self._action(f, "Import spindles…", self.import_spindles_dialog)
        self._action(f, "Replace spindles with file…",
                     lambda: self.import_spindles_dialog(replace=True))
        self._action(f, "Export spindles…", self.export_spindles_dialog)
        self._action(f, "Import hypnogram…", self.import_hypnogram_dialog)
        self._action(f, "Export hypnogram…", self.export_hypnogram_dialog)
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        e = mb.addMenu("&Edit")
        self.act_undo = self._action(e, "&Undo", self.undo, QKeySequence("Ctrl+Z"))
        self.act_redo = self._action(e, "&Redo", self.redo, QKeySequence("Ctrl+Shift+Z"))
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        e.addSeparator()
        self._action(e, "Delete selected mark (Del)", self.browser.delete_selected)
        vis = e.addMenu("Selected mark visible in")
        for label, v in (("EEG (E)", "eeg"), ("MEG (M)", "meg"), ("Both (B)", "both"),
                         ("Unknown", "")):
            self._action(vis, label, lambda _=False, v=v: self.browser.set_selected_visibility(v))
        st = e.addMenu("Stage current epoch")
        for label, stage in (("Wake (W)", "W"), ("N1 (1)", "N1"), ("N2 (2)", "N2"),
                             ("N3 (3)", "N3"), ("REM (R)", "R"), ("Unscored (0)", "?")):
            self._action(st, label, lambda _=False, s=stage: self.browser.stage_current_epoch(s))

        v = mb.addMenu("&View")
        self._action(v, "Display &filters…", self.filters_dialog)
        self.act_sigma = self._action(v, "Sigma overlay (11–16 Hz)",
                                      lambda on: self.browser.set_sigma_overlay(on),
                                      checkable=True, checked=self.settings.sigma_overlay)
        self._action(v, "&Channels…", self.channels_dialog)
        self.act_unit_fix = self._action(
            v, "Rescale implausible units", self.set_unit_fix, checkable=True)
        self.act_unit_fix.setEnabled(False)
        groups = v.addMenu("Channel groups")
        self.group_actions = {}
        for g in GROUPS:
            self.group_actions[g] = self._action(groups, g.upper(), self._on_groups_toggled,
                                                 checkable=True, checked=True)
        page = v.addMenu("Page length")
        grp = QActionGroup(self)
        grp.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.page_actions = {}
        for sec in (5, 10, 20, 30, 60):
            a = self._action(page, f"{sec} s", lambda _=False, s=sec: self.browser.set_duration(s),
                             checkable=True, checked=sec == self.browser.duration)
            grp.addAction(a)
            self.page_actions[sec] = a
        self._action(v, "Next page", self.browser.page_forward, QKeySequence("Ctrl+Right"))
        self._action(v, "Previous page", self.browser.page_back, QKeySequence("Ctrl+Left"))

        a = mb.addMenu("&Analysis")
        self._action(a, "&Detect spindles…", self.detect_dialog, QKeySequence("Ctrl+D"))
        self._action(a, "&Review candidates", self.start_review, QKeySequence("Ctrl+R"))
        self._action(a, "&Compare with another scorer's file…", self.compare_dialog)
        self._action(a, "Hypnogram statistics", self.show_statistics)

        h = mb.addMenu("&Help")
        self._action(h, "Keys", self.show_keys, QKeySequence.StandardKey.HelpContents)
        self._action(h, "&About SpindleScope", lambda: dialogs.show_about(self))

    def _update_recent_menu(self):
        self.recent_menu.clear()
        for path in self.settings.recent_files:
            act = QAction(path, self.recent_menu)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
            self.recent_menu.addAction(act)
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    # -- session observation -------------------------------------------------------
    def _on_recording_changed(self, rec):
        if rec is not None:
            g = ", ".join(f"{len(v)} {k}" for k, v in rec.groups.items() if v)
            self.info_label.setText(f"{rec.path.name if rec.path else ''} · "
                                    f"{format_time(rec.duration)} at {rec.sfreq:g} Hz · {g}")
            self.info_label.setToolTip("\n".join(rec.report.warnings))
        fixed = rec is not None and bool(rec.report.rescaled)
        self.act_unit_fix.setEnabled(fixed)
        self.act_unit_fix.setChecked(fixed and rec.unit_fix_applied)
        self.act_unit_fix.setToolTip(
            "\n".join(f"{n}: ×{f:g}" for n, f in rec.report.rescaled.items())
            if fixed else "No channel type was rescaled when the file was opened.")
        if fixed:
            self.statusBar().showMessage(
                f"{len(rec.report.rescaled)} channel(s) rescaled to plausible units "
                f"(View ▸ Rescale implausible units undoes it).", 15000)
        self._update_title()
        self.compare.clear()

    def set_unit_fix(self, on: bool):
        """Apply or undo the unit fix decided when the recording was opened."""
        rec = self.session.recording
        if rec is None or not rec.report.rescaled:
            return
        rec.set_unit_fix(bool(on))
        self.act_unit_fix.setChecked(rec.unit_fix_applied)
        self.browser.loader.cache.clear()
        self.browser.refresh()
        self.statusBar().showMessage(
            f"Unit fix {'applied to' if on else 'undone for'} "
            f"{len(rec.report.rescaled)} channel(s).", 10000)

    def _update_undo(self, *args):
        h = self.session.history
        self.act_undo.setEnabled(h.can_undo)
        self.act_redo.setEnabled(h.can_redo)

    def _on_dirty_changed(self, dirty):
        self._update_title()

    def _update_title(self):
        rec = self.session.recording
        name = rec.path.name if rec is not None and rec.path else "no recording"
        if self.session.path:
            name = f"{self.session.path.name} ({name})"
        self.setWindowTitle(f"SpindleScope – {name}{' *' if self.session.dirty else ''}")

    def _on_window_changed(self, t0, t1):
        self.overview.set_window(t0, t1)
        self.hypnogram_lane.set_window(t0, t1)
        hyp = self.session.hypnogram
        if hyp is not None:
            ep = self.browser.current_epoch()
            self.pos_label.setText(f"{format_time(t0)} – {format_time(t1)} · epoch "
                                   f"{ep + 1}/{hyp.n_epochs}")

    def _on_browser_error(self, message, exc):
        dialogs.show_error(self, message, exc)

    def _on_groups_toggled(self, *args):
        self.browser.set_shown_groups([g for g, a in self.group_actions.items() if a.isChecked()])

    # -- file operations -------------------------------------------------------------
    def _guard(self, what, func, *args, **kwargs):
        """Run ``func``; on error show a dialog and return None."""
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # any failure ends in a clear dialog
            dialogs.show_error(self, f"{what} failed.", exc)
            return None

    def open_path(self, path) -> bool:
        """Open a recording or a session file (errors shown as dialogs)."""
        path = Path(path)
        if path.name.endswith(SESSION_SUFFIX):
            return self.open_session(path)
        try:
            ok = self._open_recording(path)
        except NoSignalsError as exc:
            return self._offer_import_annotations(path, exc)
        except Exception as exc:  # any failure ends in a clear dialog
            dialogs.show_error(self, "Opening the recording failed.", exc)
            return False
        return bool(ok)

    def _offer_import_annotations(self, path, exc) -> bool:
        """A file with no signals: offer it as hypnogram or marks of the
        recording on screen (or say what it is when none is open)."""
        if self.session.recording is None:
            dialogs.show_error(self, "Opening the recording failed.", exc)
            return False
        kind = ask_import_kind(self, Path(path).name, str(exc))
        if kind == "hypnogram":
            return self._guard("Importing the hypnogram", self.import_hypnogram, path) is not None
        if kind == "marks":
            return self._guard("Importing marks", self.import_spindles, path) is not None
        return False

    def maybe_save(self) -> bool:
        """Offer to save unsaved work; False when the user cancels."""
        if self.session.recording is None or not self.session.dirty:
            return True
        name = self.session.path.name if self.session.path else "this session"
        answer = dialogs.ask_save_changes(self, name)
        if answer == "cancel":
            return False
        if answer == "save":
            return self.save_session()
        return True

    def _open_recording(self, path, hypnogram=None, spindles=None):
        from core.io.recording import open_recording

        if not self.maybe_save():
            return False
        # open first: a file that fails to open leaves the recording on
        # screen with its autosave running (issue 14, item 2)
        rec = open_recording(path)
        self.autosave.stop()
        self.session.path = None
        self.session.view = {}
        self.session.set_recording(rec, hypnogram=hypnogram, spindles=spindles)
        self.settings.add_recent(path)
        self._update_recent_menu()
        self.autosave.start(offer_recovery=True)
        return True

    def _on_autosave_problem(self, text):
        """Autosave stopped: say so in the status bar, and once in a dialog
        that offers to save the session somewhere."""
        self.autosave_label.setText("Autosave OFF")
        self.autosave_label.setStyleSheet("color: #b00020; font-weight: bold")
        self.autosave_label.setToolTip(text)
        self.statusBar().showMessage(text)
        if getattr(self, "_autosave_box", None) is None:
            self._autosave_box = dialogs.show_autosave_off(self, text,
                                                           self.save_session_as)

    def _on_autosave_notice(self, text):
        self.statusBar().showMessage(text, 15000)
        dialogs.show_error(self, "Autosaved work", text).setIcon(
            dialogs.QMessageBox.Icon.Information)

    def open_recording_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", "", RECORDING_FILTER)
        if path:
            path = Path(path)
            # a file picked inside a CTF .ds / EGI .mff folder opens the folder
            if path.parent.suffix.lower() in FOLDER_SUFFIXES:
                path = path.parent
            self.open_path(path)

    def open_recording_folder_dialog(self):
        """Pick a folder recording (CTF ``.ds``, EGI ``.mff``, BTi/4D)."""
        path = QFileDialog.getExistingDirectory(self, "Open recording folder", "")
        if path:
            self.open_path(path)

    def open_demo(self, blocking: bool = False):
        """Open the built-in demo (built on a worker the first time)."""
        from core.session import simulate

        if blocking:
            return self._guard("Opening the demo", self._open_demo_paths,
                               simulate.demo_paths())
        run_task(self, "Preparing the demo recording", lambda: simulate.iter_demo(),
                 lambda paths: self._guard("Opening the demo", self._open_demo_paths, paths))

    def _open_demo_paths(self, paths):
        from core.io.hypnograms import read_hypnogram

        hyp = None
        if getattr(paths, "hypnogram", None) and Path(paths.hypnogram).exists():
            hyp = read_hypnogram(paths.hypnogram)
        self._open_recording(paths.raw, hypnogram=hyp)
        self.demo_paths = paths
        return True

    def open_session(self, path) -> bool:
        if not self.maybe_save():
            return False
        self.autosave.stop()
        session = self._guard("Opening the session", Session.load, path, settings=self.settings)
        if session is None:
            return False
        self.adopt_session(session)
        self.settings.add_recent(path)
        self._update_recent_menu()
        self.autosave.start(offer_recovery=False)
        return True

    def adopt_session(self, session, keep_path: bool = True):
        """Take over a loaded session's recording, marks, stages, view, results
        and proposals (Open session and ``--screenshot SESSION.json`` alike)."""
        self.session.path = session.path if keep_path else None
        self.session.view = dict(session.view)
        self.session.set_recording(session.recording, hypnogram=session.hypnogram,
                                   spindles=session.spindles)
        self.session.results = dict(session.results)
        self.session.set_proposals(session.proposals)
        self.session._set_dirty(False)
        self.session.path_changed.emit(self.session.path)

    def open_cohort(self, folder=None):
        """Show a ``batch`` derivatives folder in a cohort window (or None)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Open cohort results (DERIV)")
            if not folder:
                return None
        from core.batch.results import load_cohort

        from gui.sources.cohort_view import CohortView

        view = self._guard("Opening the cohort results",
                           lambda: CohortView(load_cohort(folder)))
        if view is not None:
            self.cohort_view = view
            view.show()
        return view

    def open_session_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", SESSION_FILTER)
        if path:
            self.open_session(path)

    def save_session(self, path=None) -> bool:
        path = path or self.session.path
        if not path:
            return self.save_session_as()
        out = self._guard("Saving the session", self.session.save, path)
        if out is not None:
            self.statusBar().showMessage(f"Session saved to {out}", 5000)
        return out is not None

    def save_session_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "", SESSION_FILTER)
        return self.save_session(path) if path else False

    def import_spindles(self, path, replace=False):
        """Add the marks of ``path`` (or, with ``replace``, put them in place
        of all current marks); either way one step that Ctrl+Z undoes."""
        from core.io.marks import read_spindles

        rec = self.session.recording
        new = read_spindles(path, sfreq=rec.sfreq if rec else None,
                            duration=rec.duration if rec else None)
        if replace:
            self.session.replace_spindles(new)
        else:
            self.session.spindles.add(list(new))
        return len(new)

    def import_spindles_dialog(self, replace=False):
        """Add the marks of a file (or replace all marks: one undoable step)."""
        title = "Replace spindles with file" if replace else "Import spindles"
        path, _ = QFileDialog.getOpenFileName(self, title, "", MARKS_FILTER)
        if path:
            n = self._guard("Importing spindles", self.import_spindles, path, replace)
            if n is not None:
                verb = "Replaced the marks by" if replace else "Imported"
                self.statusBar().showMessage(
                    f"{verb} {n} marks from {path} (Ctrl+Z undoes)", 5000)

    def export_spindles_dialog(self):
        from core.io.marks import write_spindles

        path, _ = QFileDialog.getSaveFileName(self, "Export spindles", "", MARKS_FILTER)
        if path:
            self._guard("Exporting spindles", write_spindles, self.session.spindles, path)

    def import_hypnogram(self, path):
        """Put the stages of ``path`` in place of all stages; one step that
        Ctrl+Z undoes. Returns the session's hypnogram."""
        from core.io.hypnograms import read_hypnogram_for

        rec = self.session.recording
        hyp = read_hypnogram_for(path, rec)
        hyp = self.session.replace_hypnogram(hyp)
        self.autosave.start(offer_recovery=False)
        return hyp

    def import_hypnogram_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import hypnogram", "", HYPNO_FILTER)
        if path:
            self._guard("Importing the hypnogram", self.import_hypnogram, path)

    def export_hypnogram_dialog(self):
        from core.io.hypnograms import write_hypnogram

        if self.session.hypnogram is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export hypnogram", "", HYPNO_FILTER)
        if path:
            self._guard("Exporting the hypnogram", write_hypnogram,
                        self.session.hypnogram, path)

    # -- edit ------------------------------------------------------------------------
    def undo(self):
        """Undo the last edit of marks or stages (Ctrl+Z)."""
        self.session.history.undo()

    def redo(self):
        """Redo (Ctrl+Shift+Z or Ctrl+Y)."""
        self.session.history.redo()

    # -- view ------------------------------------------------------------------------
    def filters_dialog(self):
        rec = self.session.recording
        dlg = dialogs.FilterDialog(self.settings, rec.sfreq if rec else 1000.0, self)

        def apply():
            hp, lp, notch, sigma = dlg.values()
            self._guard("Setting the display filters", self.browser.set_filters, hp, lp, notch)
            self.browser.set_sigma_overlay(sigma)   # the menu check follows the setting
        dlg.accepted.connect(apply)
        dlg.open()
        return dlg

    def channels_dialog(self):
        rec = self.session.recording
        if rec is None:
            return None
        dlg = dialogs.ChannelDialog(rec, self.browser.excluded, self)
        dlg.accepted.connect(lambda: self.browser.set_excluded(dlg.excluded()))
        dlg.open()
        return dlg

    def show_keys(self):
        from gui.traces.browser import __doc__ as doc_browser
        from gui.scoring.review_panel import __doc__ as doc_review

        box = dialogs.QMessageBox(self)
        box.setWindowTitle("Keys")
        box.setText((doc_browser.split("Keys", 1)[-1] + "\n\nReview:"
                     + doc_review.split("Keys", 1)[-1]).strip())
        box.open()
        self._keys_box = box

    # -- analysis ----------------------------------------------------------------------
    def detect_dialog(self):
        from core.io.montage import available_montages
        from core.session.pipeline import DETECT_METHODS

        rec = self.session.recording
        if rec is None:
            dialogs.show_error(self, "Open a recording first.")
            return None
        has_eeg, has_meg = rec.has("eeg"), rec.has("mag") or rec.has("grad")
        groups = ((["eeg"] if has_eeg else []) + (["meg"] if has_meg else [])
                  + [g for g in ("mag", "grad") if rec.has(g)]
                  + (["both"] if has_eeg and has_meg else []))
        if not groups:
            dialogs.show_error(self, "This recording has no EEG or MEG channel to "
                                     "detect spindles on.")
            return None
        montages = available_montages(rec.ch_names, rec.ch_types,
                                      self.settings.user_montages)
        dlg = dialogs.DetectionDialog(DETECT_METHODS, groups, self.settings.detector,
                                      self.settings.detector_params, self,
                                      montages=montages)

        def accepted():
            self.settings.detector_params = dlg.params()
            self.run_detection(*dlg.values(), montage=dlg.montage_name())

        dlg.accepted.connect(accepted)
        dlg.open()
        return dlg

    def run_detection(self, method="a7", modality="eeg", staged_only=True, params=None,
                      montage=None):
        """Run a detector on a worker through :meth:`core.session.session.Session.iter_detect`
        (the ``detect`` command's pipeline); its events join the set as candidates.

        ``params``: parameters changed from the detector's published defaults;
        ``montage``: detect on a montage's rows (None: channels as recorded).
        """
        from core.session.pipeline import DetectOptions

        options = self._guard("Checking the detector parameters", DetectOptions,
                              method=method, modality=modality, staged_only=staged_only,
                              params=dict(params or {}), montage=montage)
        if options is None:
            return None
        self.settings.detector = method

        def make():  # called on the main thread: the inputs are frozen here
            return self.session.iter_detect(options)

        def done(result):
            # main thread: the only place the session changes
            uids = self.session.add_detection(result)
            self.statusBar().showMessage(
                f"{method}: {len(uids)} candidate(s) on {len(result.channels)} channel(s) "
                f"({result.montage}).",
                8000)
            self.sigDetectionDone.emit(uids)
            if uids:
                self.docks["Review"].raise_()
                self.review.start()

        return run_task(self, f"Detecting spindles ({method})", make, done)

    def start_review(self):
        self.docks["Review"].raise_()
        self.review.start()

    def compare_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Compare with", "", MARKS_FILTER)
        if path:
            self._guard("Comparing", self.compare.compare_file, path)
            self.docks["Compare"].raise_()

    def show_statistics(self):
        hyp = self.session.hypnogram
        if hyp is None:
            return
        stats = self._guard("Computing hypnogram statistics", hyp.statistics)
        if stats is None:
            return
        lines = [f"{k}: {v:.1f}" if isinstance(v, float) else f"{k}: {v}"
                 for k, v in stats.items()]
        box = dialogs.QMessageBox(self)
        box.setWindowTitle("Hypnogram statistics")
        box.setText("\n".join(lines))
        box.open()
        self._stats_box = box

    # -- closing ---------------------------------------------------------------------
    def closeEvent(self, ev):
        if not self.maybe_save():
            ev.ignore()
            return
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64()).decode("ascii")
        try:
            self.settings.validate().save()
        except Exception as exc:  # settings are a convenience; never block closing
            from core.utils import logger

            logger.warning("Could not save settings: %s", exc)
        self.browser.loader.wait(5000)
        self.sources_tab.shutdown(5000)
        self.resolution_tab.shutdown(5000)
        self.autosave.stop(clean=True)
        self._unfollow_settings()
        super().closeEvent(ev)


def _warm_up_imports():
    """Import the readers and filters in the background while the user picks
    a file (they cost seconds on a cold start)."""
    import threading

    def work():
        try:
            import mne.io  # noqa: F401
            import scipy.signal  # noqa: F401
        except Exception:  # pragma: no cover - a failure shows up at use
            pass

    threading.Thread(target=work, name="warm-up-imports", daemon=True).start()


def ask_import_kind(parent, name: str, message: str) -> str:
    """Ask how to import a file that holds no signals (blocking).

    Returns ``"hypnogram"``, ``"marks"`` or ``"cancel"``; tests replace it.
    """
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("No signals in this file")
    box.setText(message)
    box.setInformativeText(f"Import {name!r} into the recording on screen?")
    hyp = box.addButton("As hypnogram", QMessageBox.ButtonRole.AcceptRole)
    marks = box.addButton("As marks", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return "hypnogram" if clicked is hyp else "marks" if clicked is marks else "cancel"
