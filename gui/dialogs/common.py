"""Dialogs: errors (details folded away), questions, About, display filters,
channel selection, detector choice.

Error dialogs are non-blocking (``open()``), so a failing worker never freezes
the window and tests never hang on a modal loop. Questions go through
:func:`ask`, which tests replace.
"""

from __future__ import annotations

import platform
import traceback
from importlib import metadata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFormLayout, QLabel, QMessageBox,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout)

from core.utils import SpindleScopeError

_OPEN: list = []  # non-modal dialogs kept alive


def error_text(exc) -> tuple[str, str]:
    """(short message, details) for an exception.

    A :class:`SpindleScopeError` is a message meant for the user; anything
    else is unexpected and named by its type.
    """
    if isinstance(exc, SpindleScopeError):
        text = str(exc)
    elif isinstance(exc, OSError):
        from core.utils.safe_io import os_error_message

        msg = os_error_message(exc)
        text = msg[0].upper() + msg[1:]
    elif isinstance(exc, MemoryError):
        text = ("Not enough memory for this. Close other programs, or work on a "
                "shorter period or fewer channels.")
    else:
        text = (f"An unexpected error occurred ({type(exc).__name__}: {exc}). "
                "Your marks are autosaved; please report this with the details.")
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text, details


def show_error(parent, message: str, exc=None, details: str | None = None):
    """Show an error: a clear message, the technical details folded away.

    Parameters
    ----------
    parent : QWidget | None
        Owner of the dialog.
    message : str
        What failed, in the user's words ("Opening the recording failed.").
    exc : Exception | str | None
        The cause; its message is shown, its traceback goes in the details.
    details : str | None
        Details to use instead of the exception's traceback.

    Returns
    -------
    box : QMessageBox
        The (non-blocking) dialog.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("SpindleScope")
    box.setText(message)
    if exc is not None:
        if isinstance(exc, BaseException):
            info, tb = error_text(exc)
        else:
            info, tb = str(exc), ""
        box.setInformativeText(info)
        det = details or tb
        if det:
            box.setDetailedText(det)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.finished.connect(lambda *_: _OPEN.remove(box) if box in _OPEN else None)
    _OPEN.append(box)
    box.open()
    return box


def show_autosave_off(parent, text: str, on_save):
    """Say that autosave is off (non-blocking) and offer to save elsewhere.

    Parameters
    ----------
    parent : QWidget | None
        Owner of the dialog.
    text : str
        Why autosave stopped.
    on_save : callable
        Called (no argument) when the user picks "Save session as…".

    Returns
    -------
    box : QMessageBox
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("SpindleScope")
    box.setText("Autosave is off.")
    box.setInformativeText(text)
    save = box.addButton("Save session as…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    save.clicked.connect(lambda *_: on_save())
    box.finished.connect(lambda *_: _OPEN.remove(box) if box in _OPEN else None)
    _OPEN.append(box)
    box.open()
    return box


def _offscreen() -> bool:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() is not None and \
        QGuiApplication.platformName() == "offscreen"


def ask(parent, title: str, question: str, default_yes: bool = True) -> bool:
    """Ask a yes/no question (blocking). Tests monkeypatch this function.

    On the off-screen platform nobody can answer: nothing is shown and the
    answer is "no" (a modal question there would hang forever).
    """
    if _offscreen():
        from core.utils import logger

        logger.warning("Not asking %r on the off-screen platform; answering no.", title)
        return False
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    ans = QMessageBox.question(parent, title, question, yes | no,
                               yes if default_yes else no)
    return ans == yes


def ask_save_changes(parent, what: str = "this session") -> str:
    """Ask whether to save unsaved work: ``"save"``, ``"discard"`` or ``"cancel"``.

    Blocking; tests replace this function.
    """
    B = QMessageBox.StandardButton
    ans = QMessageBox.question(parent, "Unsaved changes",
                               f"Save the changes to {what} before going on?",
                               B.Save | B.Discard | B.Cancel, B.Save)
    return {B.Save: "save", B.Discard: "discard"}.get(ans, "cancel")


def versions() -> dict:
    """Versions of the app and of the libraries it stands on."""
    from PySide6 import QtCore

    from core import __version__

    out = {"SpindleScope": __version__, "Python": platform.python_version(),
           "Qt": QtCore.qVersion()}
    for label, dist in (("PySide6", "PySide6"), ("MNE", "mne"), ("pyqtgraph", "pyqtgraph"),
                        ("NumPy", "numpy"), ("VTK", "vtk"), ("PyVista", "pyvista")):
        try:
            out[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            try:
                out[label] = metadata.version(dist + "-Essentials")
            except metadata.PackageNotFoundError:
                out[label] = "not installed"
    return out


def about_text() -> str:
    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in versions().items())
    return ("<h3>SpindleScope</h3><p>Stage sleep, mark spindles and compare their "
            "EEG and MEG cortical sources.</p><table>" + rows + "</table>")


def show_about(parent):
    box = QMessageBox(parent)
    box.setWindowTitle("About SpindleScope")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text())
    _OPEN.append(box)
    box.finished.connect(lambda *_: _OPEN.remove(box) if box in _OPEN else None)
    box.open()
    return box


def _freq_spin(value, maximum=1000.0):
    spin = QDoubleSpinBox()
    spin.setRange(0.0, maximum)
    spin.setDecimals(2)
    spin.setSpecialValueText("off")
    spin.setValue(value or 0.0)
    return spin


def _ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK / Cancel buttons wired to the dialog's accept and reject."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class FilterDialog(QDialog):
    """Display filters: band-pass, notch and the sigma overlay."""

    def __init__(self, settings, sfreq=1000.0, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Display filters")
        nyq = sfreq / 2
        self.highpass = _freq_spin(settings.highpass, nyq)
        self.lowpass = _freq_spin(settings.lowpass, nyq)
        self.notch = _freq_spin(settings.notch, nyq)
        self.sigma = QCheckBox(f"Sigma overlay ({settings.sigma_band[0]:g}–"
                               f"{settings.sigma_band[1]:g} Hz)")
        self.sigma.setChecked(settings.sigma_overlay)
        form = QFormLayout(self)
        form.addRow("High-pass (Hz)", self.highpass)
        form.addRow("Low-pass (Hz)", self.lowpass)
        form.addRow("Notch (Hz)", self.notch)
        form.addRow(self.sigma)
        form.addRow(QLabel("Filters change the display only, never the data."))
        buttons = _ok_cancel(self)
        form.addRow(buttons)

    def montage_name(self):
        """The montage chosen, None for the channels as recorded."""
        from core.io.montage import AS_RECORDED

        name = self.montage.currentText()
        return None if name in ("", AS_RECORDED) else name

    def values(self):
        def v(spin):
            return spin.value() or None
        return v(self.highpass), v(self.lowpass), v(self.notch), self.sigma.isChecked()


class ChannelDialog(QDialog):
    """Pick the channels shown, grouped by type."""

    def __init__(self, recording, excluded, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Channels")
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        for group, names in recording.groups.items():
            if not names:
                continue
            top = QTreeWidgetItem(self.tree, [f"{group.upper()} ({len(names)})"])
            top.setFlags(top.flags() | Qt.ItemFlag.ItemIsAutoTristate
                         | Qt.ItemFlag.ItemIsUserCheckable)
            for n in names:
                it = QTreeWidgetItem(top, [n])
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                it.setCheckState(0, Qt.CheckState.Unchecked if n in excluded
                                 else Qt.CheckState.Checked)
        buttons = _ok_cancel(self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tree)
        lay.addWidget(buttons)

    def excluded(self) -> set:
        out = set()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                it = top.child(j)
                if it.checkState(0) != Qt.CheckState.Checked:
                    out.add(it.text(0))
        return out


class DetectionDialog(QDialog):
    """Choose a detector, the channel group, the stages searched and the
    detector's parameters (published defaults unless changed)."""

    def __init__(self, detectors, groups, last="", params=None, parent=None,
                 montages=()):
        from PySide6.QtWidgets import QPushButton, QScrollArea

        from core.io.montage import AS_RECORDED

        from gui.scoring.detector_params import ParamForm

        super().__init__(parent)
        self.setWindowTitle("Detect spindles")
        self._saved = {k: dict(v) for k, v in (params or {}).items()}
        self.method = QComboBox()
        self.method.addItems(list(detectors))
        if last in detectors:
            self.method.setCurrentText(last)
        self.group = QComboBox()
        self.group.addItems(list(groups))
        # the montage detected on (as ``detect --montage``)
        self.montage = QComboBox()
        self.montage.addItems([AS_RECORDED] + [m for m in montages if m != AS_RECORDED])
        self.n2_only = QCheckBox("Only in N2/N3 epochs (when staged)")
        self.n2_only.setChecked(True)
        method = self.method.currentText()
        self.form = ParamForm(method, self._saved.get(method), self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setMinimumHeight(260)
        self.defaults_button = QPushButton("Restore published defaults")
        self.defaults_button.clicked.connect(self.form.restore_defaults)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.method.currentTextChanged.connect(self._switch_method)
        self.form.changed.connect(lambda: self.error.setText(""))
        form = QFormLayout(self)
        form.addRow("Detector", self.method)
        form.addRow("Channels", self.group)
        form.addRow("Montage", self.montage)
        form.addRow(self.n2_only)
        form.addRow(QLabel("Parameters (bold: changed from the published defaults)"))
        form.addRow(scroll)
        form.addRow(self.defaults_button)
        form.addRow(self.error)
        buttons = _ok_cancel(self)
        form.addRow(buttons)

    def _switch_method(self, method):
        # keep what was typed for the other detector while the dialog is open
        self._saved[self.form.method] = self.form.overrides()
        self.form.set_method(method, self._saved.get(method))
        self.error.setText("")

    def accept(self):
        """Close only with parameters the detector accepts."""
        try:
            self.form.params()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        super().accept()

    def params(self) -> dict:
        """Overrides of every detector touched (method -> changed fields)."""
        out = dict(self._saved)
        out[self.form.method] = self.form.overrides()
        return {k: v for k, v in out.items() if v}

    def montage_name(self):
        """The montage chosen, None for the channels as recorded."""
        from core.io.montage import AS_RECORDED

        name = self.montage.currentText()
        return None if name in ("", AS_RECORDED) else name

    def values(self):
        """(method, channel group, N2/N3 only, parameter overrides)."""
        return (self.method.currentText(), self.group.currentText(),
                self.n2_only.isChecked(), self.form.overrides())
