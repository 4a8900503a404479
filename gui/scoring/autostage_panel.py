"""Automatic staging panel: choose the rows, run YASA, accept its proposals.

The classifier runs on a worker with progress and Cancel (:mod:`gui.workers`);
its stages become proposals that fill only unscored epochs, drawn pale in the
hypnodensity lane and the overview until accepted: Y accepts the proposal of
the current epoch and moves to the next open one, Shift+Y accepts them all
(one step that Ctrl+Z undoes).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from core.detection.autostage import PROBA_STAGES
from core.io.montage import default_rows

NONE = "(none)"


class AutostagePanel(QWidget):
    """Rows for the classifier, run button, proposal counts and accept buttons.

    Signals
    -------
    sigRun(eeg, eog, emg)
        Stage with these rows (eog / emg None to leave out).
    sigAcceptEpoch(), sigAcceptAll()
    """

    sigRun = Signal(str, object, object)
    sigAcceptEpoch = Signal()
    sigAcceptAll = Signal()

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.eeg, self.eog, self.emg = QComboBox(), QComboBox(), QComboBox()
        for c in (self.eeg, self.eog, self.emg):
            c.setEditable(True)   # a derivation such as C4-M1 may be typed
        form = QFormLayout()
        form.addRow("EEG", self.eeg)
        form.addRow("EOG", self.eog)
        form.addRow("EMG", self.emg)
        self.run_button = QPushButton("Stage automatically (YASA)")
        self.run_button.clicked.connect(self._on_run)
        self.status = QLabel("YASA's classifier (Vallat & Walker 2021) proposes a "
                             "stage for every unscored 30-s epoch; the scorer's "
                             "stages are never changed.")
        self.status.setWordWrap(True)
        self.epoch_label = QLabel("")
        self.epoch_label.setWordWrap(True)
        self.accept_epoch = QPushButton("Accept epoch (Y)")
        self.accept_all = QPushButton("Accept all (Shift+Y)")
        self.accept_epoch.clicked.connect(self.sigAcceptEpoch)
        self.accept_all.clicked.connect(self.sigAcceptAll)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_epoch)
        buttons.addWidget(self.accept_all)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.run_button)
        lay.addWidget(self.status)
        lay.addLayout(buttons)
        lay.addWidget(self.epoch_label)
        lay.addStretch(1)
        session.recording_changed.connect(self._on_recording_changed)
        self._on_recording_changed(session.recording)
        self.show_counts(None)

    def _on_recording_changed(self, rec):
        for c in (self.eeg, self.eog, self.emg):
            c.clear()
        self.run_button.setEnabled(rec is not None)
        if rec is None:
            return
        try:
            found = default_rows(rec.ch_names, rec.ch_types)
        except Exception:  # noqa: BLE001 - no EEG: staging is not possible
            self.run_button.setEnabled(False)
            return
        names = list(rec.ch_names)
        self.eeg.addItems([found["eeg"]] + [n for n in names if n != found["eeg"]])
        for combo, key in ((self.eog, "eog"), (self.emg, "emg")):
            first = [found[key]] if found[key] else []
            combo.addItems(first + [NONE] + [n for n in names if n not in first])

    def values(self):
        """(eeg, eog, emg) chosen; None for a row left out."""
        def get(c):
            t = c.currentText().strip()
            return None if not t or t == NONE else t
        return get(self.eeg), get(self.eog), get(self.emg)

    def _on_run(self):
        eeg, eog, emg = self.values()
        if eeg:
            self.sigRun.emit(eeg, eog, emg)

    def show_counts(self, n_open, n_epochs=None):
        """Say how many proposals wait for acceptance."""
        on = bool(n_open)
        self.accept_epoch.setEnabled(on)
        self.accept_all.setEnabled(on)
        if n_open is None:
            return
        self.status.setText(f"{n_open} of {n_epochs} epochs hold a proposal to "
                            f"accept (pale in the lanes).")

    def show_epoch(self, epoch, stage, proposed, proba):
        """The current epoch's stage, proposal and probabilities."""
        if proba is None:
            self.epoch_label.setText("")
            return
        probs = "  ".join(f"{s} {p:.2f}" for s, p in zip(PROBA_STAGES, proba))
        what = (f"proposed {proposed}" if proposed else
                f"scored {stage}" if stage != "?" else "unscored")
        self.epoch_label.setText(f"Epoch {epoch + 1}: {what}\n{probs}")
