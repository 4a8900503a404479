"""Channel-specific spindle marks are drawn on their own channel rows only.

A mark on EEG001 and EEG004 covers rows 0 and 3, not rows 1–2 between them;
a mark whose channels are all off the page of rows is a thin strip in the
plot margin; every rectangle of a mark moves, resizes, selects and deletes
the one spindle; a whole-recording mark still spans all rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import (click, drag, gui_env, hover, plot_point, small_fif,  # noqa: F401
                          window)
from PySide6.QtCore import QPointF, Qt

N_ROWS = 8  # EEG001-006, MEG0011, MEG0021 on the first page (15 channels)


@pytest.fixture
def browser(window, small_fif, qtbot):
    window._open_recording(small_fif)
    b = window.browser
    b.set_n_rows(N_ROWS)
    b.loader.wait(10000)
    b.setFocus()
    return b


def image_array(widget):
    """Grab ``widget`` → array, shape (height, width, 3), uint8."""
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


def patch_colour(arr, b, t, y, half=3):
    """Median colour of a small square of the viewport at (t s, row y)."""
    p = plot_point(b, t, y)
    x, y = p.x(), p.y()
    return np.median(arr[y - half:y + half + 1, x - half:x + half + 1].reshape(-1, 3), 0)


def spans(item):
    return [(r.top(), r.bottom()) for r in item.rects()]


def test_non_adjacent_channels_get_one_rectangle_each(browser, qtbot):
    b = browser
    names = b.visible_names()
    assert names[:4] == ["EEG001", "EEG002", "EEG003", "EEG004"]
    uid = b.mark_spindle(10.0, 2.0, ("EEG001", "EEG004"))
    b.select_spindle(None)
    (item,) = b.spindle_items(uid)
    assert not item.off_page
    assert spans(item) == [(-0.5, 0.5), (2.5, 3.5)]
    assert all((r.left(), r.right()) == (10.0, 12.0) for r in item.rects())
    # the rows in between are not part of the item, for painting or the mouse
    shape = item.shape()
    for row, inside in ((0, True), (1, False), (2, False), (3, True), (4, False)):
        assert shape.contains(QPointF(11.0, row)) is inside
    assert "EEG001, EEG004" in item.toolTip()

    # on screen: rows 0 and 3 tinted, rows 1 and 2 white (traces hidden to see the fill)
    b.traces.hide()
    b.sigma_traces.hide()
    arr = image_array(b.plot.viewport())
    marked = [patch_colour(arr, b, 11.0, r) for r in (0, 3)]
    between = [patch_colour(arr, b, 11.0, r) for r in (1, 2)]
    outside = patch_colour(arr, b, 20.0, 1)
    for c in between:
        np.testing.assert_array_equal(c, outside)      # untouched background
        assert c.min() >= 250
        for m in marked:
            assert np.abs(c - m).max() > 20            # differs from the marked rows
    np.testing.assert_array_equal(marked[0], marked[1])
    # colour as before: the accepted fill at its alpha over white
    from gui.traces.spindle_items import spindle_color

    mark = b.session.spindles.get(uid)
    assert mark.status == "accepted"
    col = spindle_color(mark)
    a = col.alpha() / 255
    expect = [255 * (1 - a) + v * a for v in (col.red(), col.green(), col.blue())]
    np.testing.assert_allclose(marked[0], expect, atol=3)


def test_adjacent_channels_make_one_run(browser):
    b = browser
    uid = b.mark_spindle(10.0, 1.0, ("EEG004", "EEG002", "EEG003", "MEG0021"))
    (item,) = b.spindle_items(uid)
    # rows 1-3 contiguous, row 7 (MEG0021) apart; channel order on the page decides
    assert spans(item) == [(0.5, 3.5), (6.5, 7.5)]
    # a channel not in the recording does not draw and does not hide the rest
    uid2 = b.mark_spindle(20.0, 1.0, ("Cz", "EEG006"))
    (item2,) = b.spindle_items(uid2)
    assert spans(item2) == [(4.5, 5.5)] and not item2.off_page


def test_whole_recording_mark_spans_all_rows(browser):
    b = browser
    uid = b.mark_spindle(10.0, 1.0)
    (item,) = b.spindle_items(uid)
    assert spans(item) == [(-0.5, N_ROWS - 0.5)] and not item.off_page
    assert item.toolTip() == ""
    b.scroll_rows(N_ROWS)
    (item,) = b.spindle_items(uid)
    assert spans(item) == [(-0.5, N_ROWS - 0.5)] and not item.off_page


def test_off_page_channels_show_a_strip(browser, qtbot):
    b = browser
    eeg = b.mark_spindle(10.0, 1.5, ("EEG001", "EEG003"))
    grad = b.mark_spindle(14.0, 1.0, ("MEG0032",))  # row 11: below the first page
    b.select_spindle(None)
    (g,) = b.spindle_items(grad)
    assert g.off_page and spans(g) == [(N_ROWS - 0.5, N_ROWS - 0.3)]
    assert "below" in g.toolTip()
    # Shift+Down: the next page of channels; the EEG mark's rows scroll off the top
    qtbot.keyClick(b, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert b.first_row == 15 - N_ROWS and "EEG003" not in b.visible_names()
    (e,) = b.spindle_items(eeg)
    assert e.off_page and spans(e) == [(-0.7, -0.5)]
    assert "above" in e.toolTip()
    (g,) = b.spindle_items(grad)
    assert not g.off_page and spans(g) == [(b.visible_names().index("MEG0032") - 0.5,
                                            b.visible_names().index("MEG0032") + 0.5)]
    # the strip lies inside the visible view range and is painted
    y_top, y_bottom = b.vb.viewRange()[1]
    assert y_top <= -0.7 and -0.5 <= y_bottom
    b.traces.hide()
    b.sigma_traces.hide()
    arr = image_array(b.plot.viewport())
    tinted = patch_colour(arr, b, 10.75, -0.6, half=1)
    assert np.abs(tinted - patch_colour(arr, b, 12.5, -0.6, half=1)).max() > 20
    # the strip selects and moves the mark like any other rectangle
    vp = b.plot.viewport()
    click(qtbot, vp, plot_point(b, 10.75, -0.6))
    assert b.selected_uid == eeg
    drag(qtbot, b, 10.75, 12.75, -0.6, -0.6)
    sp = b.session.spindles.get(eeg)
    assert sp.onset == pytest.approx(12.0, abs=0.1) and sp.duration == pytest.approx(1.5)
    assert sp.channels == ("EEG001", "EEG003")
    # hidden channels (group not shown) also give the top strip
    b.set_shown_groups(["mag", "grad", "eog"])
    (e,) = b.spindle_items(eeg)
    assert e.off_page and spans(e) == [(-0.7, -0.5)] and "not shown" in e.toolTip()


def test_any_rectangle_moves_resizes_selects_and_deletes_the_mark(browser, qtbot):
    b = browser
    sp = b.session.spindles
    uid = b.mark_spindle(10.0, 1.0, ("EEG001", "EEG004"))
    b.select_spindle(None)
    # drag the lower rectangle (row 3) by +2 s: the spindle moves, both rectangles follow
    drag(qtbot, b, 10.5, 12.5, 3.0, 3.0)
    assert len(sp) == 1 and b.selected_uid == uid
    assert sp.get(uid).onset == pytest.approx(12.0, abs=0.1)
    assert sp.get(uid).duration == pytest.approx(1.0, abs=0.02)
    assert sp.get(uid).channels == ("EEG001", "EEG004")
    (item,) = b.spindle_items(uid)
    onset = sp.get(uid).onset
    assert [(r.left(), r.top()) for r in item.rects()] == [(onset, -0.5), (onset, 2.5)]
    # drag the upper rectangle back by -1 s
    drag(qtbot, b, onset + 0.5, onset - 0.5, 0.0, 0.0)
    assert sp.get(uid).onset == pytest.approx(onset - 1.0, abs=0.1)
    onset = sp.get(uid).onset
    # resize from the right edge of the lower rectangle
    drag(qtbot, b, onset + 1.0, onset + 1.6, 3.0, 3.0)
    assert sp.get(uid).onset == pytest.approx(onset, abs=1e-9)
    assert sp.get(uid).duration == pytest.approx(1.6, abs=0.1)
    # the hover cursor: hand on the body, resize arrows at an edge
    vp = b.plot.viewport()
    (item,) = b.spindle_items(uid)
    hover(qtbot, vp, plot_point(b, onset + 0.5, 3.0))
    assert item.cursor().shape() == Qt.CursorShape.OpenHandCursor
    hover(qtbot, vp, plot_point(b, onset, 3.0))
    assert item.cursor().shape() == Qt.CursorShape.SizeHorCursor
    # a drag on the uncovered row between them draws a new mark, not a move
    drag(qtbot, b, onset + 0.2, onset + 0.9, 1.0, 1.0)
    assert len(sp) == 2 and sp.get(uid).onset == pytest.approx(onset, abs=1e-9)
    new = b.selected_uid
    assert new != uid
    b.session.spindles.delete(new)
    # click on the lower rectangle selects the mark; Delete removes it
    b.select_spindle(None)
    click(qtbot, vp, plot_point(b, onset + 0.5, 3.0))   # hover first, as a hand does
    assert b.selected_uid == uid
    (item,) = b.spindle_items(uid)
    assert item._selected
    qtbot.keyClick(b, Qt.Key.Key_Delete)
    assert len(sp) == 0 and b.spindle_items() == []
