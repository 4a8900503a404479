"""Session: Qt-free model with signals; JSON save/load with references."""

from __future__ import annotations

import json
import shutil

import pytest
from gui_fixtures import small_fif  # noqa: F401  (pure mne writer, no Qt)

from core.session.session import Session, autosave_folder
from core.scoring.spindles import Spindle
from core.utils import SpindleScopeError


@pytest.fixture
def session(small_fif, monkeypatch, tmp_path):
    import core.session.session

    monkeypatch.setattr(core.session.session, "cache_dir", lambda: tmp_path / "cache")
    s = Session()
    s.open_recording(small_fif)
    return s


def test_signals_and_dirty_flag(session):
    got = {"rec": [], "dirty": []}
    session.recording_changed.connect(lambda r: got["rec"].append(r))
    session.dirty_changed.connect(lambda d: got["dirty"].append(d))
    assert session.hypnogram.n_epochs == 10 and set(session.hypnogram.stages) == {"?"}
    assert not session.dirty
    session.spindles.add(Spindle(10.0, 1.0))
    assert session.dirty and got["dirty"] == [True]
    session.set_recording(session.recording)
    assert got["rec"] == [session.recording] and not session.dirty
    session.hypnogram.set_stage(3, "N2")
    assert session.dirty


def test_save_load_round_trip_with_references(session, tmp_path):
    session.spindles.add([Spindle(20.0, 1.0, channels=("EEG001",), visibility="eeg",
                                  scorer="ab"),
                          Spindle(45.0, 0.8, status="candidate", origin="a7",
                                  properties={"frequency": 13.1})])
    session.hypnogram.set_stage(slice(0, 4), "N2")
    session.view["t0"] = 90.0
    session.set_result("note", {"n": 2})
    out = session.save(tmp_path / "s1" / "night")
    assert out.name == "night.spindlescope.json"
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1
    assert data["recording"]["path"] == str(session.recording.path.resolve())
    assert data["spindles"]["relative"] == "night.spindles.tsv"
    assert not session.dirty

    back = Session.load(out)
    assert back.recording.path == session.recording.path
    assert [(s.onset, s.duration, s.channels, s.visibility, s.status, s.origin)
            for s in back.spindles] == [
        (20.0, 1.0, ("EEG001",), "eeg", "accepted", "manual"),
        (45.0, 0.8, (), "", "candidate", "a7")]
    assert back.spindles[1].properties["frequency"] == pytest.approx(13.1)
    assert back.hypnogram.stages[:5] == ["N2"] * 4 + ["?"]
    assert back.view == {"t0": 90.0} and back.results == {"note": {"n": 2}}
    assert not back.dirty


def test_moved_folder_resolves_relative_paths(session, tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    rec = shutil.copy(session.recording.path, folder / "rec_raw.fif")
    session.set_recording(type(session.recording)(session.recording.raw, rec))
    session.spindles.add(Spindle(5.0, 1.0))
    session.save(folder / "a.spindlescope.json")
    moved = shutil.move(str(folder), str(tmp_path / "moved"))
    back = Session.load(f"{moved}/a.spindlescope.json")
    assert back.recording.path.parent.name == "moved" and len(back.spindles) == 1


def test_load_errors_are_clear(session, tmp_path):
    with pytest.raises(SpindleScopeError, match="does not exist"):
        Session.load(tmp_path / "none.spindlescope.json")
    bad = tmp_path / "bad.spindlescope.json"
    bad.write_text("{")
    with pytest.raises(SpindleScopeError, match="not valid JSON"):
        Session.load(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(SpindleScopeError, match="not a SpindleScope session"):
        Session.load(bad)
    p = session.save(tmp_path / "x.spindlescope.json")
    data = json.loads(p.read_text())
    data["recording"] = {"path": str(tmp_path / "gone.fif"), "relative": "gone.fif"}
    p.write_text(json.dumps(data))
    with pytest.raises(SpindleScopeError, match="recording .* is missing"):
        Session.load(p)
    from core.scoring.staging import Hypnogram

    with pytest.raises(SpindleScopeError, match="hypnogram is shorter than the recording: 3 epochs of 30 s = 90 s"):
        session.set_hypnogram(Hypnogram(["W"] * 3))


def test_autosave_folder_is_stable_per_recording(session, tmp_path):
    a = autosave_folder(session.recording.path)
    assert a == autosave_folder(str(session.recording.path)) == session.autosave_folder()
    assert a != autosave_folder(tmp_path / "other.fif")
    assert json.loads((a / "recording.json").read_text())["recording"] == str(
        session.recording.path.resolve())


def test_one_history_for_marks_and_stages(session):
    h = session.history
    assert not h.can_undo
    session.hypnogram.set_stage(0, "N2")
    uid = session.spindles.add(Spindle(5.0, 1.0))[0]
    session.hypnogram.set_stage(slice(1, 3), "N3")
    session.spindles.edit(uid, visibility="eeg")
    assert h.undo() and session.spindles.get(uid).visibility == ""
    assert h.undo() and session.hypnogram.stages[:4] == ["N2", "?", "?", "?"]
    assert h.undo() and len(session.spindles) == 0
    assert h.undo() and session.hypnogram.stages[0] == "?"
    assert not h.undo()
    assert h.redo() and h.redo() and session.hypnogram.stages[0] == "N2"
    assert len(session.spindles) == 1
    # a new edit drops the redo branch
    session.hypnogram.set_stage(5, "R")
    assert not h.can_redo
    # replacing the marks starts over
    from core.scoring.spindles import SpindleSet

    session.set_spindles(SpindleSet())
    assert not h.can_undo


@pytest.mark.parametrize("field,value,msg", [
    ("schema_version", "1", "'schema_version' should be a positive integer"),
    ("recording", 5, "'recording' should be a file reference"),
    ("view", [1, 2], "'view' should be an object"),
    ("epoch_length", "thirty", "'epoch_length' should be a number"),
    ("results", "none", "'results' should be an object"),
    ("view", {"t0": "later"}, "view\\['t0'\\]"),
])
def test_session_json_with_wrong_types(session, tmp_path, field, value, msg):
    # issue 14, item 11: these ended in TypeError / AttributeError tracebacks
    p = session.save(tmp_path / "x.spindlescope.json")
    data = json.loads(p.read_text())
    data[field] = value
    p.write_text(json.dumps(data))
    with pytest.raises(SpindleScopeError, match=msg):
        Session.load(p)


def test_session_files_go_through_the_atomic_writer(session, tmp_path, monkeypatch):
    # issue 14, item 5: the marks TSV was rewritten in place; the JSON used a
    # fixed '.tmp' name without fsync
    import core.session.session
    import core.io.marks
    import core.utils

    written = []
    real_open = core.utils.atomic_open

    def spy(path, *a, **k):
        written.append(path.name)
        return real_open(path, *a, **k)

    monkeypatch.setattr(core.io.marks, "atomic_open", spy)
    real_text = core.session.session.atomic_write_text
    monkeypatch.setattr(core.session.session, "atomic_write_text",
                        lambda p, t: written.append(p.name) or real_text(p, t))
    session.spindles.add(Spindle(5.0, 1.0))
    path = session.save(tmp_path / "night")
    assert written == ["night.spindles.tsv", "night.spindlescope.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(Session.load(path).spindles) == 1


def test_one_history_no_second_stack():
    """The session's spindle set keeps no undo stack of its own: its steps
    live in the session's one history (mixed with stage edits, in order), and
    a set taken out of the session gets its own history back."""
    from core.scoring.spindles import Spindle, SpindleSet
    from core.scoring.staging import Hypnogram

    s = Session()
    s.set_hypnogram(Hypnogram.from_duration(300, 30))
    sset = s.spindles
    uid = sset.add(Spindle(10.0, 0.8, ("C3",)))[0]
    s.hypnogram.set_stage(2, "N2")
    sset.edit(uid, status="rejected")
    assert (sset.can_undo, sset._undo) == (False, [])
    assert [e[0] for e in s.history._undo] == ["sp", "st", "sp"]
    assert s.history.undo() and sset.get(uid).status == "accepted"
    assert s.history.undo() and s.hypnogram.stages[2] == "?"
    assert s.history.undo() and len(sset) == 0
    assert not s.history.undo()
    assert s.history.redo() and len(sset) == 1 and not sset.can_redo
    assert s.history.redo() and s.history.redo()
    assert (sset.get(uid).status, s.hypnogram.stages[2]) == ("rejected", "N2")
    # replaced: the old set stands alone again, with a history of its own
    s.set_spindles(SpindleSet())
    sset.add(Spindle(20.0, 0.5))
    assert sset.can_undo and sset.undo() and len(sset) == 1
    assert not s.history.can_undo
