"""Spindle marks: set operations, undo/redo, notifications, file formats."""

import numpy as np
import pytest

from core.scoring.spindles import Spindle, SpindleSet
from core.io.marks import read_spindles, write_spindles
from core.utils import SpindleScopeError


def _set():
    return SpindleSet([Spindle(10.0, 1.0, ("C3",), "eeg"), Spindle(5.0, 0.5),
                       Spindle(20.0, 2.0, ("MEG0111",), "meg", origin="a7",
                               status="candidate")])


def test_add_orders_by_onset_and_assigns_uids():
    s = _set()
    assert not s.can_undo
    assert s.add(Spindle(1.0, 0.5)) == [4] and s.can_undo
    s.undo()
    assert [x.onset for x in s] == [5.0, 10.0, 20.0]
    assert sorted(s.uids) == [1, 2, 3]
    assert len(s.accepted()) == 2
    assert s.get(1).end == 11.0


def test_edit_delete_merge_undo_redo_and_signals():
    s = _set()
    seen = []
    s.changed.connect(lambda ch: seen.append((ch.kind, [x.uid for x in ch.spindles],
                                              list(ch.removed))))
    s.edit(1, onset=30.0, status="rejected")
    assert [x.onset for x in s] == [5.0, 20.0, 30.0]
    assert s.get(1).status == "rejected"
    s.delete(2)
    assert len(s) == 2
    new = s.merge([1, 3])
    m = s.get(new)
    assert (m.onset, m.end) == (20.0, 31.0)
    assert m.visibility == "both" and set(m.channels) == {"C3", "MEG0111"}
    assert len(s) == 1
    assert [k for k, *_ in seen] == ["edit", "delete", "merge"]
    assert sorted(seen[-1][2]) == [1, 3]
    assert s.undo() and len(s) == 2 and {x.uid for x in s} == {1, 3}
    assert s.undo() and len(s) == 3
    assert s.undo() and s.get(1).onset == 10.0 and s.get(1).status == "accepted"
    assert not s.can_undo and s.can_redo
    assert s.redo() and s.get(1).onset == 30.0
    assert s.redo() and len(s) == 2
    assert s.redo() and len(s) == 1 and s.get(new).duration == 11.0
    assert not s.redo()
    # undo emits too
    n = len(seen)
    s.undo()
    assert len(seen) == n + 1


def test_in_window_uses_longest_duration():
    s = SpindleSet([Spindle(0.0, 10.0), Spindle(12.0, 1.0), Spindle(30.0, 1.0)])
    assert [x.onset for x in s.in_window(9.0, 12.5)] == [0.0, 12.0]
    assert s.in_window(13.5, 29.0) == []


def test_invalid_spindles_are_refused():
    with pytest.raises(SpindleScopeError, match="duration"):
        Spindle(1.0, -0.5)
    with pytest.raises(SpindleScopeError, match="visibility"):
        Spindle(1.0, 0.5, visibility="ecog")
    with pytest.raises(SpindleScopeError, match="uid"):
        SpindleSet().get(7)


@pytest.mark.parametrize("ext", [".tsv", ".csv", ".fif", ".edf", ".txt"])
def test_roundtrip_formats(tmp_path, ext):
    s = _set()
    s.get(1).properties["frequency"] = 12.5
    path = tmp_path / f"sp{ext}"
    write_spindles(s, path)
    back = read_spindles(path)
    assert len(back) == 3
    np.testing.assert_allclose([x.onset for x in back], [5.0, 10.0, 20.0], atol=1e-3)
    np.testing.assert_allclose([x.duration for x in back], [0.5, 1.0, 2.0], atol=1e-3)
    if ext != ".txt":
        assert back[1].channels == ("C3",)
        assert back[2].visibility == "meg" and back[2].status == "candidate"
    if ext in (".tsv", ".csv"):
        assert back[1].properties["frequency"] == pytest.approx(12.5)
        assert back[2].origin == "a7"


def test_bids_events_filtering_and_no_trial_type(tmp_path):
    p = tmp_path / "ev.tsv"
    p.write_text("onset\tduration\ttrial_type\tfrequency\n"
                 "1.0\t0.8\tSpindle\t13\n2.0\t1.0\tK-complex\tn/a\n"
                 "4.0\t0.6\tsleep spindle\t12\n")
    s = read_spindles(p)
    assert [x.onset for x in s] == [1.0, 4.0]
    assert s[0].properties["frequency"] == 13
    p2 = tmp_path / "plain.csv"
    p2.write_text("onset,duration\n3,1\n")
    assert len(read_spindles(p2)) == 1


def test_bad_events_files_have_clear_messages(tmp_path):
    p = tmp_path / "nodur.tsv"
    p.write_text("onset\ttrial_type\n1.0\tspindle\n")
    with pytest.raises(SpindleScopeError, match=r"nodur.tsv lacks the column\(s\) 'duration'"):
        read_spindles(p)
    p = tmp_path / "neg.tsv"
    p.write_text("onset\tduration\n1.0\t0.5\n2.0\t-0.5\n")
    with pytest.raises(SpindleScopeError, match=r"neg.tsv, line 3: duration -0.5 s is not positive"):
        read_spindles(p)
    p = tmp_path / "text.csv"
    p.write_text("onset,duration\nabc,1\n")
    with pytest.raises(SpindleScopeError, match=r"text.csv, line 2: the 'onset' value 'abc'"):
        read_spindles(p)
    with pytest.raises(SpindleScopeError, match="format"):
        read_spindles(tmp_path / "x.xyz")


def test_dreams_scoring(dreams_dir):
    s = read_spindles(dreams_dir / "Visual_scoring1_excerpt1.txt")
    assert len(s) == 52
    assert s[0].onset == pytest.approx(282.24) and s[0].duration == pytest.approx(0.72)


@pytest.mark.parametrize("ext", [".edf", ".fif", ".tsv"])
def test_channel_specific_marks_roundtrip(tmp_path, ext):
    s = SpindleSet([Spindle(1.0, 0.5, ("C3", "C4"), "eeg"), Spindle(3.0, 0.7)])
    write_spindles(s, tmp_path / f"m{ext}")
    back = read_spindles(tmp_path / f"m{ext}")
    assert [(x.onset, x.channels) for x in back] == [(1.0, ("C3", "C4")), (3.0, ())]


def test_unreadable_spindle_file_names_permissions(tmp_path, monkeypatch):
    # issue 14, items 11-12: a file without read permission ended in a raw
    # PermissionError (the tests run as root, so the denial is simulated)
    import core.scoring.checks

    p = tmp_path / "marks.tsv"
    p.write_text("onset\tduration\n1\t1\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(core.scoring.checks, "open", denied, raising=False)
    with pytest.raises(SpindleScopeError, match="permission denied. Check the file's"):
        read_spindles(p)
