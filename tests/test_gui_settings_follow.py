"""Observable settings: a change from anywhere (code, dialog, key, menu)
updates every widget showing it, and a change in a widget updates the setting."""

from __future__ import annotations

import pytest

from tests.gui_fixtures import gui_env, small_fif, window  # noqa: F401
from tests.test_gui_scorer import psg_fif  # noqa: F401


def _open(qtbot, window, path):  # noqa: F811
    with qtbot.waitSignal(window.browser.sigPageDrawn, timeout=20000):
        assert window.open_path(path)
    return window.browser


def _checked_page(window):  # noqa: F811
    return [sec for sec, a in window.page_actions.items() if a.isChecked()]


def test_page_length_and_rows_follow_the_settings(qtbot, window, small_fif):  # noqa: F811
    b, s = _open(qtbot, window, small_fif), window.settings
    assert b.duration == s.page_duration == 30.0 and _checked_page(window) == [30]
    # code -> browser and menu
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        s.page_duration = 10.0
    assert b.duration == 10.0 and b.t1 - b.t0 == pytest.approx(10.0)
    assert _checked_page(window) == [10]
    s.page_duration = 15.0            # not in the menu: nothing checked
    assert b.duration == 15.0 and _checked_page(window) == []
    # menu -> setting and browser
    window.page_actions[20].trigger()
    assert s.page_duration == 20.0 == b.duration and _checked_page(window) == [20]
    # browser (the keys' setter) -> setting and menu
    b.set_duration(5)
    assert s.page_duration == 5.0 and _checked_page(window) == [5]
    # channels per page
    s.n_channels = 3
    assert b.n_rows == 3
    b.set_n_rows(7)
    assert s.n_channels == 7


def test_scales_and_filters_follow_the_settings(qtbot, window, small_fif):  # noqa: F811
    b, s = _open(qtbot, window, small_fif), window.settings
    eeg = b.scalings["eeg"]
    before = b.legend.text()
    s.scalings = {**s.scalings, "eeg": eeg * 4}
    assert b.scalings["eeg"] == eeg * 4
    assert b.legend.text() != before and "EEG" in b.legend.text()
    b.scale_by(2.0)                   # the browser's key -> the setting
    assert s.scalings["eeg"] == pytest.approx(eeg * 2)
    # a filter set in code: the next page drawn is filtered so, the legend says it
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000) as blocker:
        s.lowpass = 20.0
    assert blocker.args[0].request.lowpass == 20.0
    assert "20" in b.legend.text()
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000) as blocker:
        s.sigma_overlay = True
    assert blocker.args[0].request.sigma_band == tuple(s.sigma_band)
    assert window.act_sigma.isChecked()
    # the menu -> the setting and the page
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000) as blocker:
        window.act_sigma.trigger()
    assert s.sigma_overlay is False and blocker.args[0].request.sigma_band is None
    # the browser's filter setter (the filter dialog's path) -> the setting and page
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000) as blocker:
        b.set_filters(1.0, 30.0, None)
    assert (s.highpass, s.lowpass) == (1.0, 30.0)
    assert (blocker.args[0].request.highpass, blocker.args[0].request.lowpass) == (1.0, 30.0)


def test_montage_follows_the_setting(qtbot, window, psg_fif):  # noqa: F811
    b = _open(qtbot, window, psg_fif)
    bar, s = window.scorer.montage_bar, window.settings
    assert bar.current() == "Sleep (AASM)"
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        s.montage = "As recorded"
    assert bar.current() == "As recorded" and b.montage is None
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        bar.combo.setCurrentText("Linked mastoids")
    assert s.montage == "Linked mastoids" and b.montage is not None
    # a user montage added in code is listed at once
    s.user_montages = {"Mine": ["C4-M1", "C3-M2"]}
    names = [bar.combo.itemText(i) for i in range(bar.combo.count())]
    assert "Mine" in names
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        s.montage = "Mine"
    assert bar.current() == "Mine" and b.visible_names()[:2] == ["C4-M1", "C3-M2"]


def test_display_dialog_rows_follow_the_settings(qtbot, window, psg_fif):  # noqa: F811
    from gui.traces.display_defaults import DisplayDefaultsDialog

    b, s = _open(qtbot, window, psg_fif), window.settings
    dlg = DisplayDefaultsDialog(b)
    qtbot.addWidget(dlg)
    _scale, hp, lp = dlg.rows["emg"]
    assert (hp.value(), lp.value()) == (10.0, 100.0)
    s.display_filters = {**s.display_filters, "emg": (20.0, 90.0)}
    assert (hp.value(), lp.value()) == (20.0, 90.0)
    eeg_scale = dlg.rows["eeg"][0].value()
    s.scalings = {**s.scalings, "eeg": b.scalings["eeg"] * 2}
    assert dlg.rows["eeg"][0].value() == pytest.approx(2 * eeg_scale, rel=1e-3)
    s.highpass = 0.5   # EEG follows the general band
    assert dlg.rows["eeg"][1].value() == 0.5
    # the dialog's values -> the settings
    lp.setValue(80.0)
    dlg.apply()
    assert s.display_filters["emg"] == (20.0, 80.0)
    dlg.reject()   # closed: it no longer follows
    s.display_filters = {**s.display_filters, "emg": (5.0, 50.0)}
    assert (hp.value(), lp.value()) == (20.0, 80.0)
