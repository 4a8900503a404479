"""The Compare dock's marks control: which marks count, passed to Session.compare."""

from __future__ import annotations

import pytest
from gui_fixtures import gui_env, small_fif, window  # noqa: F401

from core.io.marks import write_spindles
from core.scoring.spindles import Spindle
from core.session.pipeline import COMPARE_MARKS


def test_marks_control_picks_the_marks_compared(window, small_fif, tmp_path, qtbot):  # noqa: F811
    w = window
    w._open_recording(small_fif)
    sset = w.session.spindles
    for onset, status in ((20.0, "accepted"), (45.0, "candidate"), (70.0, "rejected"),
                          (100.0, "accepted")):
        sset.add(Spindle(onset, 1.0, status=status))
    theirs = tmp_path / "theirs.tsv"
    write_spindles([Spindle(t, 1.0) for t in (20.0, 45.0, 70.0, 100.0)], theirs)
    panel = w.compare
    # core's choices, in core's order; the default is core's default
    assert [panel.marks_box.itemData(i) for i in range(panel.marks_box.count())] \
        == list(COMPARE_MARKS)
    assert panel.marks() == "not-rejected"
    summary = panel.compare_file(theirs)
    assert (summary["mine"], summary["matched"]) == (3, 3)
    assert summary["recall"] == pytest.approx(3 / 4)
    assert w.session.results["compare"]["marks"] == "not-rejected"
    # changing the control re-compares the same file under the new rule
    panel.marks_box.setCurrentIndex(COMPARE_MARKS.index("accepted"))
    assert (panel.summary["mine"], panel.summary["matched"]) == (2, 2)
    assert w.session.results["compare"]["marks"] == "accepted"
    panel.set_marks("all")
    assert (panel.summary["mine"], panel.summary["matched"]) == (4, 4)
    assert panel.summary["F1"] == pytest.approx(1.0)
    # the panel shows exactly what Session.compare selects
    _agr, _ref, mine = w.session.compare(theirs, marks="accepted")
    assert [s.onset for s in mine] == [20.0, 100.0]
    # an explicit rule sets the control
    assert panel.compare_file(theirs, marks="accepted")["mine"] == 2
    assert panel.marks() == "accepted"
    from core.utils import SpindleScopeError

    with pytest.raises(SpindleScopeError, match="marks"):
        panel.set_marks("some")
    panel.clear()
    assert panel._last_file is None
