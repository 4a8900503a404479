"""Importing marks or stages is one undoable step of the shared history.

Replacing every mark (``Session.replace_spindles``) or every stage
(``Session.replace_hypnogram``) must not wipe the undo history: Ctrl+Z brings
back exactly the previous marks / stages, redo re-applies the import, earlier
edits stay undoable, and the crash-safe autosave journal follows both ways.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import gui_env, small_fif, window  # noqa: F401

from core.session.autosave import Autosaver
from core.session.session import Session
from core.scoring.spindles import Spindle, SpindleSet
from core.io.marks import read_spindles, write_spindles
from core.scoring.staging import Hypnogram
from core.io.hypnograms import read_hypnogram, write_hypnogram


def _state(spindles):
    """Everything a mark holds, uid included, in onset order."""
    return [(s.uid, s.onset, s.duration, s.channels, s.visibility, s.scorer,
             s.origin, s.status, dict(s.properties)) for s in spindles]


def _content(spindles):
    """What a marks file carries (no uid)."""
    return [(round(s.onset, 4), round(s.duration, 4), s.channels, s.visibility,
             s.status) for s in spindles]


def _marks_file(path):
    write_spindles([Spindle(3.0, 0.8, ("EEG001",), "eeg", status="candidate",
                            properties={"frequency": 12.5}),
                    Spindle(8.0, 1.2, status="accepted"),
                    Spindle(15.0, 0.6, ("MEG0011", "MEG0021"), "meg", status="rejected"),
                    Spindle(22.0, 1.0, status="candidate")], path)
    return path


@pytest.fixture
def session(small_fif, monkeypatch, tmp_path):  # noqa: F811
    import core.session.session

    monkeypatch.setattr(core.session.session, "cache_dir", lambda: tmp_path / "cache")
    s = Session()
    s.open_recording(small_fif)           # 300 s: ten 30-s epochs
    return s


def _score(session):
    """Some manual work: stages, marks of several kinds, an edit."""
    hyp, sp = session.hypnogram, session.spindles
    hyp.set_stage(0, "W")
    hyp.set_stage(slice(1, 4), "N2")
    uids = sp.add([Spindle(5.0, 1.0, ("EEG002",), "eeg", scorer="ab",
                           properties={"frequency": 13.0, "note": "clear"}),
                   Spindle(40.0, 0.7, status="candidate", origin="a7")])
    sp.edit(uids[1], status="accepted", visibility="both")
    return uids


# -- spindle set ------------------------------------------------------------------------
def test_replace_all_is_one_undoable_change_with_fresh_uids():
    s = SpindleSet([Spindle(10.0, 1.0, ("C3",), "eeg", properties={"frequency": 12.0}),
                    Spindle(5.0, 0.5, status="candidate")])
    s.add(Spindle(1.0, 0.5))
    before = _state(s)
    seen = []
    s.changed.connect(lambda ch: seen.append((ch.kind, sorted(x.uid for x in ch.spindles),
                                              sorted(ch.removed))))
    new = s.replace_all([Spindle(2.0, 1.0, status="rejected", uid=1), Spindle(7.0, 0.4)])
    assert new == [4, 5]                      # never a uid the set has used
    assert [(x.uid, x.onset, x.status) for x in s] == [(4, 2.0, "rejected"), (5, 7.0, "accepted")]
    assert seen[-1] == ("replace", [4, 5], [1, 2, 3])
    assert s.undo() and _state(s) == before
    assert seen[-1] == ("replace", [1, 2, 3], [4, 5])
    assert s.redo() and [(x.uid, x.onset) for x in s] == [(4, 2.0), (5, 7.0)]
    assert s.undo() and s.undo()               # the replace, then the earlier add
    assert sorted(s.uids) == [1, 2]
    with pytest.raises(Exception, match="Expected a Spindle"):
        s.replace_all([object()])
    assert sorted(s.uids) == [1, 2]            # a refused import changes nothing
    assert SpindleSet().replace_all([]) == []  # empty by empty: no step


# -- session: marks -------------------------------------------------------------------------
def test_import_marks_undo_redo_keeps_earlier_edits(session, tmp_path):
    h, sp = session.history, session.spindles
    uids = _score(session)
    before, stages_before = _state(sp), list(session.hypnogram.stages)
    imported = read_spindles(_marks_file(tmp_path / "other.tsv"))
    replaced = []
    session.spindles_changed.connect(replaced.append)
    new = session.replace_spindles(imported)
    assert session.spindles is sp and not replaced   # in place: no model swap
    assert _content(sp) == _content(imported) and sorted(new) == sorted(sp.uids)
    assert not set(new) & set(uids)
    assert session.dirty and h.can_undo and not h.can_redo

    assert h.undo()                            # Ctrl+Z: exactly the previous marks
    assert _state(sp) == before
    assert session.hypnogram.stages == stages_before
    assert h.redo()                            # Ctrl+Y: the import again, same uids
    assert _content(sp) == _content(imported) and sorted(sp.uids) == sorted(new)
    assert h.undo() and _state(sp) == before
    # the work before the import is still undoable, in order
    assert h.undo() and sp.get(uids[1]).status == "candidate"
    assert sp.get(uids[1]).visibility == ""
    assert h.undo() and len(sp) == 0
    assert h.undo() and session.hypnogram.stages[1:4] == ["?"] * 3
    assert h.undo() and set(session.hypnogram.stages) == {"?"}
    assert not h.undo()
    # and all of it redoes up to the import
    for _ in range(5):
        assert h.redo()
    assert _content(sp) == _content(imported) and not h.can_redo


def test_new_recording_or_session_still_starts_a_fresh_history(session, tmp_path):
    _score(session)
    session.replace_spindles(read_spindles(_marks_file(tmp_path / "m.tsv")))
    assert session.history.can_undo
    path = session.save(tmp_path / "night.spindlescope.json")
    loaded = Session.load(path)
    assert not loaded.history.can_undo and len(loaded.spindles) == 4
    session.set_recording(session.recording)
    assert not session.history.can_undo and not session.history.can_redo


# -- session: stages ---------------------------------------------------------------------------
def test_import_hypnogram_in_place_is_one_stage_step(session, tmp_path):
    h, hyp = session.history, session.hypnogram
    uids = _score(session)
    before = list(hyp.stages)
    path = tmp_path / "hyp.tsv"
    write_hypnogram(Hypnogram(["W", "N1", "N2", "N2", "N3", "N3", "R", "N2", "W", "?"]), path)
    notes = []
    hyp.changed.connect(notes.append)
    got = session.replace_hypnogram(read_hypnogram(path, recording_duration=300.0))
    assert got is hyp and session.hypnogram is hyp     # same object, new stages
    assert hyp.stages == ["W", "N1", "N2", "N2", "N3", "N3", "R", "N2", "W", "?"]
    assert notes == [slice(0, 10)]                     # one notification
    assert h.undo() and hyp.stages == before           # one step back
    assert notes[-1] == slice(0, 10)                   # undone at once, too
    assert h.redo() and hyp.stages[4:7] == ["N3", "N3", "R"]
    assert h.undo() and hyp.stages == before
    assert h.undo() and session.spindles.get(uids[1]).status == "candidate"


def test_import_hypnogram_of_another_epoch_length_swaps_undoably(session, tmp_path):
    h = session.history
    old = session.hypnogram
    uids = _score(session)
    before = list(old.stages)
    swaps = []
    session.hypnogram_changed.connect(swaps.append)
    new = Hypnogram(["N2"] * 30 + ["N3"] * 30, epoch_length=5.0)   # 60 x 5 s = 300 s
    assert session.replace_hypnogram(new) is new and session.hypnogram is new
    assert swaps == [new] and h.can_undo
    new.set_stage(0, "W")                    # an edit of the imported stages
    assert h.undo() and new.stages[0] == "N2"
    assert h.undo()                          # the import
    assert session.hypnogram is old and old.stages == before and swaps[-1] is old
    assert h.undo() and session.spindles.get(uids[1]).status == "candidate"
    assert h.redo() and h.redo()             # the edit, then the import again
    assert session.hypnogram is new and new.stages[:2] == ["N2", "N2"]
    assert h.redo() and new.stages[0] == "W"
    # edits reach only the hypnogram in use
    new.set_stage(59, "R")
    assert old.stages == before
    assert h.undo() and new.stages[59] == "N3"
    with pytest.raises(Exception, match="shorter than the recording"):
        session.replace_hypnogram(Hypnogram(["N2"] * 3))   # 90 s for 300 s
    assert session.hypnogram is new


# -- autosave ---------------------------------------------------------------------------------
@pytest.mark.parametrize("snapshot_every", [1000, 2])
def test_autosave_recovers_pre_import_state_after_undo(session, tmp_path, snapshot_every):
    folder = tmp_path / "autosave"
    saver = Autosaver(folder, session.spindles, session.hypnogram,
                      snapshot_every=snapshot_every)
    _score(session)
    before, stages_before = _state(session.spindles), list(session.hypnogram.stages)
    session.replace_spindles(read_spindles(_marks_file(tmp_path / "m.tsv")))
    session.replace_hypnogram(Hypnogram(["N3"] * 10))
    imported, stages_imported = _state(session.spindles), list(session.hypnogram.stages)
    # crash right after the import: the import is recovered
    got, hyp = Autosaver.recover(folder)
    assert _state(got) == imported and hyp.stages == stages_imported
    assert session.history.undo() and session.history.undo()
    # crash after undoing it (no close(): the process died here)
    assert Autosaver.has_recovery(folder)
    got, hyp = Autosaver.recover(folder)
    assert _state(got) == before and hyp.stages == stages_before
    assert session.history.redo() and session.history.redo()
    got, hyp = Autosaver.recover(folder)
    assert _state(got) == imported and hyp.stages == stages_imported
    saver.close()


# -- GUI ----------------------------------------------------------------------------------------
def test_gui_import_then_ctrl_z_restores_marks_stages_and_views(window, small_fif,  # noqa: F811
                                                                qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from gui.traces.hypnogram_lane import STAGE_LEVEL

    w = window
    assert w._open_recording(small_fif)
    b, sp, hyp = w.browser, w.session.spindles, w.session.hypnogram
    uid = b.mark_spindle(5.0, 1.0)
    cand = sp.add(Spindle(12.0, 0.8, ("EEG003",), "eeg", status="candidate",
                          origin="a7", properties={"frequency": 12.0}))[0]
    hyp.set_stage(slice(0, 3), "N2")
    before, stages_before = _state(sp), list(hyp.stages)
    b.set_time(0.0)
    assert b.n_drawn_spindles() == 2 and w.table.model.rowCount() == 2
    assert [c.uid for c in w.review.candidates()] == [cand]

    marks = _marks_file(tmp_path / "other.tsv")
    assert w.import_spindles(marks, replace=True) == 4
    hyp_path = tmp_path / "hyp.tsv"
    write_hypnogram(Hypnogram(["W", "N1", "R", "N3", "N3", "N2", "N2", "N2", "W", "W"]),
                    hyp_path)
    assert w.import_hypnogram(hyp_path) is hyp and hyp.stages[2] == "R"
    assert w.session.spindles is sp and uid not in sp.uids
    assert w.table.model.rowCount() == 4 and b.n_drawn_spindles() == 4
    assert len(w.review.candidates()) == 2
    assert w.act_undo.isEnabled()

    w.activateWindow()
    b.setFocus()
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert hyp.stages == stages_before and len(sp) == 4    # the stages first
    lane_y = w.hypnogram_lane.curve.getData()[1]
    assert np.allclose(lane_y, [STAGE_LEVEL.get(s, np.nan) for s in stages_before],
                       equal_nan=True)
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _state(sp) == before                             # then the marks
    assert w.table.model.rowCount() == 2 and b.n_drawn_spindles() == 2
    assert [c.uid for c in w.review.candidates()] == [cand]
    # a simulated crash now recovers the pre-import work
    got, rhyp = Autosaver.recover(w.autosave.folder)
    assert _state(got) == before and rhyp.stages == stages_before
    # redo (Ctrl+Shift+Z) re-applies the import
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert _content(sp) == _content(read_spindles(marks))
    assert w.table.model.rowCount() == 4
    # earlier edits stay undoable beyond the import
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _state(sp) == before
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert hyp.stages[:3] == ["?"] * 3 and _state(sp) == before
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert sp.uids == [uid] and sp.get(uid).onset == 5.0
    # Ctrl+Y redoes too (the Windows habit)
    undone = (_state(sp), list(hyp.stages))
    qtbot.keyClick(b, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    redone = (_state(sp), list(hyp.stages))
    assert redone != undone
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (_state(sp), list(hyp.stages)) == undone
    qtbot.keyClick(b, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert (_state(sp), list(hyp.stages)) == redone
