"""A form for every parameter of a spindle detector.

Built from the detector's parameter dataclass (:data:`core.detection.detector.DETECTORS`)
so that a new parameter appears without GUI changes: numbers get spin boxes,
(low, high) pairs two spin boxes, switches a check box, choices a combo box.
Labels and tooltips come from :data:`core.detection.detector.PARAM_HELP`. Changed
fields are shown in bold; "Restore published defaults" resets them. Values are
checked by :func:`core.detection.detector.make_params`, the same check the CLI's
``detect --set`` uses.
"""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QLabel, QSpinBox, QWidget)

#: Fields whose (low, high) edges may be switched off (shown as "off" at 0).
_OPTIONAL_EDGES = ("broad",)
#: Choices of string fields.
_CHOICES = {"abs_mode": ("auto", "absolute", "adaptive")}


def _spin(value, decimals=3, lo=-1e6, hi=1e6, off=False):
    spin = QDoubleSpinBox()
    spin.setDecimals(decimals)
    spin.setRange(0.0 if off else lo, hi)
    spin.setSingleStep(0.05 if abs(value or 0) < 5 else 0.5)
    if off:
        spin.setSpecialValueText("off")
    spin.setValue(0.0 if value is None else float(value))
    spin.setKeyboardTracking(False)
    return spin


class ParamForm(QWidget):
    """Editable parameters of one detector.

    Parameters
    ----------
    method : str
        A key of :data:`core.detection.detector.DETECTORS`.
    overrides : dict | None
        Parameters changed from the published defaults.
    """

    changed = Signal()

    def __init__(self, method="a7", overrides=None, parent=None):
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._editors = {}
        self.method = ""
        self.set_method(method, overrides)

    # -- building --------------------------------------------------------------------
    def set_method(self, method, overrides=None):
        """Show the parameters of ``method`` (published defaults + overrides)."""
        from core.detection.detector import DETECTORS, PARAM_HELP, make_params

        while self._form.rowCount():
            self._form.removeRow(0)
        self._editors.clear()
        self.method = method
        try:
            params = make_params(method, **(overrides or {}))
        except ValueError:  # a stale override: start from the defaults
            params = make_params(method)
        self._defaults = DETECTORS[method]()
        for f in fields(DETECTORS[method]):
            label, help_text = PARAM_HELP.get(f.name, (f.name, ""))
            editor, getter, setter = self._editor(f.name, getattr(self._defaults, f.name))
            setter(getattr(params, f.name))
            self._editors[f.name] = (getter, setter)
            lab = QLabel(label)
            lab.setToolTip(f"{f.name}: {help_text}")
            editor.setToolTip(f"{f.name}: {help_text}")
            editor.setObjectName(f.name)
            self._form.addRow(lab, editor)
        self._mark_changed()

    def _editor(self, name, default):
        """(widget, getter, setter) for one field, by the type of its default."""
        if isinstance(default, bool):
            box = QCheckBox()
            box.toggled.connect(self._on_edit)
            return box, box.isChecked, lambda v: box.setChecked(bool(v))
        if name in _CHOICES:
            combo = QComboBox()
            combo.addItems(list(_CHOICES[name]))
            combo.currentTextChanged.connect(self._on_edit)
            return combo, combo.currentText, combo.setCurrentText
        if isinstance(default, int):
            spin = QSpinBox()
            spin.setRange(1, 100)
            spin.setValue(default)
            spin.valueChanged.connect(self._on_edit)
            return spin, spin.value, lambda v: spin.setValue(int(v))
        if isinstance(default, tuple) or name in _OPTIONAL_EDGES:
            off = name in _OPTIONAL_EDGES
            w = QWidget()
            lay = QHBoxLayout(w)
            lay.setContentsMargins(0, 0, 0, 0)
            lo, hi = _spin(None, 2, off=off), _spin(None, 2, off=off)
            for s in (lo, hi):
                s.valueChanged.connect(self._on_edit)
                lay.addWidget(s)

            def get():
                vals = [s.value() for s in (lo, hi)]
                if off:
                    vals = [v or None for v in vals]
                return tuple(vals)

            def put(v):
                v = (None, None) if v is None else v
                lo.setValue(0.0 if v[0] is None else float(v[0]))
                hi.setValue(0.0 if v[1] is None else float(v[1]))
            return w, get, put
        spin = _spin(default)
        spin.valueChanged.connect(self._on_edit)
        return spin, spin.value, lambda v: spin.setValue(float(v))

    # -- values --------------------------------------------------------------------
    def raw_values(self) -> dict:
        """Every field as shown (not checked)."""
        return {k: get() for k, (get, _set) in self._editors.items()}

    def overrides(self) -> dict:
        """The fields that differ from the published defaults (unchecked)."""
        from core.detection.detector import param_overrides

        return param_overrides(type(self._defaults)(**self.raw_values()))

    def params(self):
        """The checked parameter object; raises SpindleScopeError if invalid."""
        from core.detection.detector import make_params

        return make_params(self.method, **self.overrides())

    def restore_defaults(self):
        """Put every field back to the detector's published default."""
        for k, (_get, put) in self._editors.items():
            put(getattr(self._defaults, k))
        self._mark_changed()

    # -- feedback --------------------------------------------------------------------
    def _on_edit(self, *args):
        self._mark_changed()
        self.changed.emit()

    def _mark_changed(self):
        changed = set(self.overrides()) if self._editors else set()
        for row in range(self._form.rowCount()):
            item = self._form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field_item = self._form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if item is None or field_item is None:
                continue
            lab, name = item.widget(), field_item.widget().objectName()
            font = lab.font()
            font.setBold(name in changed)
            lab.setFont(font)
