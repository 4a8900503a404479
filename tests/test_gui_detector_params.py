"""The detector dialog edits every parameter of the chosen detector.

Published defaults shown, changed fields in bold and kept per detector,
invalid values refused with a message in the dialog, the parameters reach the
detector run on the worker and are remembered in the settings.
"""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest
from gui_fixtures import gui_env, small_fif, window  # noqa: F401

from core.detection.detector import DETECTORS, make_params
from core.session.settings import Settings


@pytest.fixture
def dialog(qtbot, gui_env):  # noqa: F811
    from gui.dialogs.common import DetectionDialog

    dlg = DetectionDialog(list(DETECTORS), ["eeg"], "a7",
                          {"yasa": {"rms": 2.0}})
    qtbot.addWidget(dlg)
    return dlg


def _editor(form, name):
    from PySide6.QtWidgets import QWidget

    return form.findChild(QWidget, name)


def test_form_shows_published_defaults(dialog):
    form = dialog.form
    assert form.method == "a7"
    shown = form.raw_values()
    assert set(shown) == {f.name for f in fields(DETECTORS["a7"])}
    default = asdict(DETECTORS["a7"]())
    for k, v in shown.items():
        if isinstance(v, float):
            assert v == pytest.approx(default[k]), k
    assert shown["abs_pow"] == pytest.approx(1.25) and shown["corr"] == pytest.approx(0.69)
    assert shown["broad"] == (None, 30.0) and shown["duration"] == (0.3, 2.5)
    assert form.overrides() == {}
    assert form.params() == DETECTORS["a7"]()


def test_changed_field_is_bold_and_restorable(dialog):
    form = dialog.form
    _editor(form, "corr").setValue(0.75)
    _editor(form, "context_classifier").setChecked(True)
    assert form.overrides() == {"corr": 0.75, "context_classifier": True}
    bold = {}
    from PySide6.QtWidgets import QFormLayout

    for row in range(form._form.rowCount()):
        lab = form._form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
        name = form._form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget().objectName()
        bold[name] = lab.font().bold()
    assert bold["corr"] and bold["context_classifier"] and not bold["rel_pow"]
    assert form.params().corr == 0.75
    dialog.defaults_button.click()
    assert form.overrides() == {}


def test_switching_detector_keeps_both(dialog):
    form = dialog.form
    _editor(form, "rel_pow").setValue(2.0)
    dialog.method.setCurrentText("yasa")
    assert form.method == "yasa"
    assert set(form.raw_values()) == {f.name for f in fields(DETECTORS["yasa"])}
    assert form.overrides() == {"rms": 2.0}          # from the settings
    dialog.method.setCurrentText("a7")
    assert form.overrides() == {"rel_pow": 2.0}      # typed before switching
    assert dialog.params() == {"a7": {"rel_pow": 2.0}, "yasa": {"rms": 2.0}}
    assert dialog.values() == ("a7", "eeg", True, {"rel_pow": 2.0})


def test_invalid_values_keep_the_dialog_open(dialog, qtbot):
    dialog.open()
    pair = _editor(dialog.form, "duration")
    from PySide6.QtWidgets import QDoubleSpinBox

    lo, hi = pair.findChildren(QDoubleSpinBox)
    lo.setValue(3.0)                                 # min above max (2.5)
    dialog.accept()
    assert dialog.isVisible() and dialog.result() == 0
    assert "duration" in dialog.error.text().lower()
    lo.setValue(0.5)
    assert dialog.error.text() == ""
    dialog.accept()
    assert not dialog.isVisible() and dialog.result() == 1


def test_parameters_reach_the_detector_and_settings(window, small_fif, qtbot):  # noqa: F811
    from gui.dialogs import common as dialogs

    w = window
    assert w.open_path(small_fif)
    # defaults: the 1-s 13-Hz bursts every 25 s are found
    with qtbot.waitSignal(w.sigDetectionDone, timeout=60000) as blocker:
        w.run_detection("a7", "eeg", staged_only=False)
    n_default = len(blocker.args[0])
    assert n_default >= 5
    # at most 0.6 s: the bursts (about 0.8-1 s long at these thresholds) go
    short = {"duration": [0.3, 0.6]}
    with qtbot.waitSignal(w.sigDetectionDone, timeout=60000) as blocker:
        w.run_detection("a7", "eeg", staged_only=False, params=short)
    durs = [w.session.spindles.get(u).duration for u in blocker.args[0]]
    assert all(d <= 0.6 + 1e-9 for d in durs)
    assert len(durs) < n_default
    # the dialog remembers accepted parameters in the settings
    dlg = w.detect_dialog()
    dlg.form.set_method("a7", {"corr": 0.8})
    with qtbot.waitSignal(w.sigDetectionDone, timeout=60000):
        dlg.accept()
    assert w.settings.detector_params == {"a7": {"corr": 0.8}}
    again = Settings.from_dict(w.settings.to_dict())
    assert again.detector_params == {"a7": {"corr": 0.8}}
    assert make_params("a7", **again.detector_params["a7"]).corr == 0.8
    # invalid parameters passed programmatically: a message, no run, no crash
    shown = []
    orig = dialogs.show_error
    dialogs.show_error = lambda parent, msg, exc=None, details=None: shown.append(str(exc))
    try:
        assert w.run_detection("a7", "eeg", False, params={"corr": "high"}) is None
    finally:
        dialogs.show_error = orig
    assert shown and "corr" in shown[0]


def test_nonsense_saved_parameters_are_dropped():
    s = Settings.from_dict({"detector_params": {"a7": {"corr": "x"},
                                                "yasa": {"rms": 2.5},
                                                "nope": {}}})
    assert s.detector_params == {"yasa": {"rms": 2.5}}
    assert Settings.from_dict({"detector_params": [1, 2]}).detector_params == {}
