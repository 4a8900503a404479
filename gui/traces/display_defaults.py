"""Per-type display settings of the trace browser: scale and display band.

One row per channel kind on the page (EEG, EOG, MEG, EMG, ECG, ...): its
scale per division (one channel spacing) and its display high-pass and
low-pass (0 = off), starting from the AASM defaults; stim rows are listed as
never filtered. OK stores them in the settings (remembered across sessions);
while the dialog is open its rows follow setting changes made elsewhere.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
)

from gui.traces.scales import KINDS, kind_filter, per_division


def _spin(value, top, decimals=2, suffix=""):
    spin = QDoubleSpinBox()
    spin.setRange(0.0, top)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setSpecialValueText("off")
    spin.setValue(value or 0.0)
    return spin


class DisplayDefaultsDialog(QDialog):
    """Scale and display band per channel kind.

    Parameters
    ----------
    browser : gui.traces.browser.TraceBrowser
        The browser whose kinds, scales and settings are edited.
    """

    def __init__(self, browser, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Scales and display filters per channel type")
        self.browser = browser
        settings = browser.session.settings
        rec = browser.recording
        nyq = rec.sfreq / 2 if rec is not None else 5000.0
        present = {browser._kind_of.get(i, "misc") for i in browser.order}
        grid = QGridLayout(self)
        for col, text in enumerate(("Type", "Scale per division", "High-pass",
                                    "Low-pass")):
            grid.addWidget(QLabel(f"<b>{text}</b>"), 0, col)
        self.rows = {}
        r = 1
        for kind in KINDS:
            if kind not in present:
                continue
            grid.addWidget(QLabel(kind.upper()), r, 0)
            if kind == "stim":
                grid.addWidget(QLabel("event ticks, never filtered"), r, 1, 1, 3)
                r += 1
                continue
            val, unit = per_division(kind, browser.scalings, browser._units)
            scale = QDoubleSpinBox()
            scale.setRange(1e-6, 1e9)
            scale.setDecimals(3)
            scale.setSuffix(f" {unit}" if unit else "")
            scale.setValue(val)
            hp, lp = kind_filter(kind, settings)
            hp_spin = _spin(hp, nyq, suffix=" Hz")
            lp_spin = _spin(lp, nyq * 2, suffix=" Hz")
            for col, w in enumerate((scale, hp_spin, lp_spin), start=1):
                grid.addWidget(w, r, col)
            self.rows[kind] = (scale, hp_spin, lp_spin)
            r += 1
        grid.addWidget(QLabel("AASM: EEG/EOG 0.3–35 Hz, EMG 10–100 Hz (low-passes above "
                              "Nyquist are capped). Filters change the display only."),
                       r, 0, 1, 4)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, r + 1, 0, 1, 4)
        # while open, the rows follow the settings, whoever changes them
        self.settings = settings
        ev = settings.events
        self._slots = [(getattr(ev, name), self._on_setting)
                       for name in ("scalings", "highpass", "lowpass", "display_filters")]
        for signal, slot in self._slots:
            signal.connect(slot)
        self.finished.connect(self._unfollow)

    def _unfollow(self, *_):
        for signal, slot in self._slots:
            signal.disconnect(slot)
        self._slots = []

    def _on_setting(self, _value):
        """Show the scales and bands the settings (and browser) now hold."""
        b = self.browser
        for kind, (scale, hp_spin, lp_spin) in self.rows.items():
            scale.setValue(per_division(kind, b.scalings, b._units)[0])
            hp, lp = kind_filter(kind, self.settings)
            hp_spin.setValue(hp or 0.0)
            lp_spin.setValue(lp or 0.0)

    def values(self) -> dict:
        """Kind → ``(scale per division in display units, highpass, lowpass)``."""
        return {k: (s.value(), hp.value() or None, lp.value() or None)
                for k, (s, hp, lp) in self.rows.items()}

    def apply(self) -> None:
        """Store the values in the browser and the settings (validated)."""
        self.browser.set_display_defaults(self.values())
