"""Montage toolbar: switch the rows the trace browser shows.

A combo box lists the built-in montages that give rows on the open recording
(:data:`core.io.montage.PRESETS`: as recorded, the AASM sleep montage, reference
schemes, a bipolar chain, channel presets) and the user's montages from the
settings; "Edit…" adds or changes a user montage (one derivation per line,
``C4-M1``, ``Cz-(M1+M2)``, ``Fz-avg``). The scorer's choice is remembered in
the settings; until there is one, a recording with the AASM derivations opens
on the sleep montage. The browser derives the rows of each page only.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QToolBar)

from core.io.montage import (AS_RECORDED, available_montages, compile_for,
                          has_sleep_derivations, validate_user_montages)

SLEEP = "Sleep (AASM)"


class UserMontageDialog(QDialog):
    """Name and derivations (one per line) of a user montage."""

    def __init__(self, name="", rows=(), parent=None):
        super().__init__(parent)
        self.setWindowTitle("User montage")
        self.name = QLineEdit(name)
        self.rows = QPlainTextEdit("\n".join(rows))
        self.rows.setPlaceholderText("C4-M1\nC3-M2\nCz-(M1+M2)\nFz-avg")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QFormLayout(self)
        lay.addRow("Name", self.name)
        lay.addRow("Derivations\n(one per line)", self.rows)
        lay.addRow(buttons)

    def values(self):
        rows = [r.strip() for r in self.rows.toPlainText().splitlines() if r.strip()]
        return self.name.text().strip(), rows


class MontageToolbar(QToolBar):
    """Choose the montage of the trace browser.

    Parameters
    ----------
    session : core.session.session.Session
        Observed for the recording; its settings hold the choice.
    browser : gui.traces.browser.TraceBrowser
        Told the compiled montage.

    Signals
    -------
    sigMontageChanged(str)
        The montage now shown.
    """

    sigMontageChanged = Signal(str)
    sigError = Signal(str, object)

    def __init__(self, session, browser, parent=None):
        super().__init__("Montage", parent)
        self.setObjectName("toolbar_montage")
        self.session = session
        self.browser = browser
        self.addWidget(QLabel(" Montage "))
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(22)
        self.combo.setToolTip("Rows shown by the trace browser (derived page by page)")
        self.addWidget(self.combo)
        self.act_edit = self.addAction("Edit…", self.edit_user_montage)
        self.act_edit.setToolTip("Add or change a user montage (saved in the settings)")
        self.combo.currentTextChanged.connect(self._on_chosen)
        session.recording_changed.connect(self._on_recording_changed)
        self._on_recording_changed(session.recording)
        # a montage chosen anywhere (menu, dialog, code) is the one shown
        session.settings.events.montage.connect(self._on_montage_setting)
        session.settings.events.user_montages.connect(self._on_user_montages_setting)

    @property
    def settings(self):
        return self.session.settings

    def _on_recording_changed(self, rec):
        self.combo.blockSignals(True)
        self.combo.clear()
        if rec is not None:
            self.combo.addItems(available_montages(rec.ch_names, rec.ch_types,
                                                   self.settings.user_montages))
        self.combo.blockSignals(False)
        self.combo.setEnabled(rec is not None)
        if rec is None:
            return
        wanted = self.settings.montage
        if not wanted:   # no choice yet: a scorer's page where the derivations exist
            wanted = SLEEP if has_sleep_derivations(rec.ch_names, rec.ch_types) else AS_RECORDED
        self._remember = False
        try:
            self.set_montage(wanted if self.combo.findText(wanted) >= 0 else AS_RECORDED)
        finally:
            self._remember = True

    def _on_montage_setting(self, name):
        if not name or not shiboken6.isValid(self) or self.session.recording is None:
            return   # "": no choice yet (the recording's default stays)
        if name != self.current() and self.combo.findText(name) >= 0:
            self.set_montage(name)

    def _on_user_montages_setting(self, _montages):
        if shiboken6.isValid(self) and self.session.recording is not None:
            self._on_recording_changed(self.session.recording)   # list them

    def current(self) -> str:
        return self.combo.currentText()

    def set_montage(self, name: str):
        """Show montage ``name`` (as listed in the combo box)."""
        if self.combo.currentText() == name:
            self._on_chosen(name)
        else:
            self.combo.setCurrentText(name)

    def _on_chosen(self, name):
        rec = self.session.recording
        if rec is None or not name:
            return
        try:
            m = None if name == AS_RECORDED else compile_for(
                rec, name, self.settings.user_montages)
        except Exception as exc:  # noqa: BLE001 - shown as a dialog
            self.sigError.emit(f"The montage {name!r} cannot be shown.", exc)
            return
        if getattr(self, "_remember", True):   # the scorer's choice, not a default
            self.settings.montage = name
        self.browser.set_montage(m)
        self.sigMontageChanged.emit(name)

    def add_user_montage(self, name, rows):
        """Store a user montage in the settings and show it."""
        user = dict(self.settings.user_montages)
        user[name] = list(rows)
        user = validate_user_montages(user)
        rec = self.session.recording
        if rec is not None:
            compile_for(rec, name, user)   # its channels exist: say so now if not
        self.settings.user_montages = user
        self._on_recording_changed(rec)
        self.set_montage(name)

    def edit_user_montage(self):
        name = self.current()
        rows = self.settings.user_montages.get(name, [])
        dlg = UserMontageDialog(name if rows else "", rows, self)

        def accepted():
            try:
                self.add_user_montage(*dlg.values())
            except Exception as exc:  # noqa: BLE001 - shown as a dialog
                self.sigError.emit("The user montage was not saved.", exc)

        dlg.accepted.connect(accepted)
        dlg.open()
        return dlg
