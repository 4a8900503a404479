"""Autosave: journal + atomic snapshots survive SIGKILL mid-scoring."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.session.autosave import Autosaver
from core.scoring.spindles import Spindle, SpindleSet
from core.scoring.staging import Hypnogram

REPO = Path(__file__).resolve().parent.parent


def test_every_change_is_on_disk_and_recovered(tmp_path):
    sset, hyp = SpindleSet(), Hypnogram.from_duration(300, 30)
    saver = Autosaver(tmp_path, sset, hyp, snapshot_every=3)
    uids = sset.add([Spindle(1.0, 0.5), Spindle(2.0, 0.7, ("C3",), "eeg")])
    sset.edit(uids[0], status="rejected")
    sset.add(Spindle(9.0, 1.0))
    new = sset.merge(uids)
    sset.delete(new)
    sset.undo()
    hyp.set_stage(3, "N2")
    hyp.set_stage(slice(5, 7), "N3")
    # no close(): as if the process died here
    assert Autosaver.has_recovery(tmp_path)
    got, h = Autosaver.recover(tmp_path)
    assert [(s.uid, s.onset, s.duration) for s in got] == \
        [(s.uid, s.onset, s.duration) for s in sset]
    assert got.get(new).channels == ("C3",)
    assert h.stages == hyp.stages and h.stages[3] == "N2"
    saver.close()
    assert not Autosaver.has_recovery(tmp_path)
    assert len(Autosaver.recover(tmp_path)[0]) == 2


def test_half_written_line_is_ignored_and_bad_snapshot_reported(tmp_path):
    sset = SpindleSet()
    saver = Autosaver(tmp_path, sset)
    sset.add(Spindle(1.0, 0.5))
    journal = next(tmp_path.glob("journal-*.jsonl"))
    with open(journal, "a") as fh:
        fh.write('{"t":"sp","k":"add","s":[{"onset":')  # killed mid-write
    got, hyp = Autosaver.recover(tmp_path)
    assert [s.onset for s in got] == [1.0] and hyp is None
    assert Autosaver.recover(tmp_path / "nothing") is None
    saver.close()


def _scored(folder, **kw):
    """A session with 3 marks (one edited) and 2 staged epochs, not closed."""
    sset, hyp = SpindleSet(), Hypnogram.from_duration(300, 30)
    saver = Autosaver(folder, sset, hyp, **kw)
    uids = sset.add([Spindle(1.0, 0.5), Spindle(5.0, 0.7)])
    sset.add(Spindle(9.0, 1.0))
    sset.edit(uids[1], status="rejected")
    hyp.set_stage(2, "N2")
    hyp.set_stage(4, "N3")
    return saver, sset, hyp


def _state(sset, hyp):
    return ([(s.uid, s.onset, s.duration, s.status) for s in sset], list(hyp.stages))


def test_half_written_snapshot_restores_from_the_journal(tmp_path):
    # issue 14, item 3: a damaged snapshot.json cost the whole journal
    saver, sset, hyp = _scored(tmp_path)
    (tmp_path / "snapshot.json").write_text('{"version": 1, "spin')
    assert Autosaver.has_recovery(tmp_path)
    got = Autosaver.recover(tmp_path)
    assert _state(got.spindles, got.hypnogram) == _state(sset, hyp)
    assert got.n_damaged == 1 and got.n_entries == 5 and got.edited
    # a new autosaver keeps the damaged files aside, never deletes them
    saver.close()  # (the old one would otherwise keep writing)
    (tmp_path / "snapshot.json").write_text('{"version": 1, "spin')
    Autosaver(tmp_path, SpindleSet(), Hypnogram.from_duration(300, 30)).close()
    kept = list(tmp_path.glob("kept-*/snapshot.json"))
    assert len(kept) == 1 and kept[0].read_text() == '{"version": 1, "spin'


def test_damaged_lines_are_skipped_and_counted_and_the_rest_replayed(tmp_path):
    # issue 14, item 3: a damaged line dropped every later line; unexpected
    # valid JSON made recovery raise; a bogus stage was accepted (item 6)
    saver, sset, hyp = _scored(tmp_path)
    journal = next(tmp_path.glob("journal-*.jsonl"))
    lines = journal.read_text().splitlines(keepends=True)
    assert len(lines) == 6  # base + 5 changes
    bad = ['{"t":"sp","k":"add","s":[{"onset":1\n',     # truncated mid-line
           '\x00\x00garbage\n',
           '[1, 2, 3]\n',
           '{"t":"st","i":[7],"v":["BOGUS"]}\n',
           '{"t":"st","i":[99999],"v":["N2"]}\n',
           '{"t":"sp","k":"add","s":[{"onset":"x","duration":1,"uid":50}],"r":[]}\n',
           '{"t":"sp","k":"explode","s":[],"r":[]}\n',
           '{"t":"xx"}\n']
    journal.write_text("".join(lines[:3] + bad + lines[3:]))
    got = Autosaver.recover(tmp_path)
    assert got.n_damaged == len(bad) and got.n_entries == 5
    assert _state(got.spindles, got.hypnogram) == _state(sset, hyp)
    assert got.hypnogram.stages[7] == "?"
    saver.close(clean=False)


def test_moved_snapshot_does_not_mix_stale_lines(tmp_path):
    # issue 14, item 4: with snapshot.json moved away, the next session's
    # journal-1 was appended to the stale one and uids collided
    saver, sset, hyp = _scored(tmp_path)
    saver._fh.close()  # crash
    saver._fh = None
    (tmp_path / "snapshot.json").rename(tmp_path.parent / "moved.json")
    fresh, fhyp = SpindleSet(), Hypnogram.from_duration(300, 30)
    new = Autosaver(tmp_path, fresh, fhyp)
    fresh.add(Spindle(100.0, 1.0))
    got = Autosaver.recover(tmp_path)
    assert [(s.uid, s.onset) for s in got.spindles] == [(1, 100.0)]
    assert got.hypnogram.stages == ["?"] * 10
    # the stale journal (with edits) was kept aside, whole
    kept = Autosaver.recover(next(tmp_path.glob("kept-*")))
    assert _state(kept.spindles, kept.hypnogram) == _state(sset, hyp)
    new.close()


def test_unedited_session_offers_nothing_and_edits_carry_over(tmp_path):
    # issue 14, item 6: an opened, untouched session is not work
    sset, hyp = SpindleSet([Spindle(3.0, 1.0)]), Hypnogram(["N2"] * 10, 30)
    saver = Autosaver(tmp_path, sset, hyp, snapshot_every=1)
    assert not Autosaver.has_recovery(tmp_path)
    hyp.set_stage(0, "W")      # an edit, then a new generation (snapshot_every=1)
    assert Autosaver.has_recovery(tmp_path)
    assert Autosaver.recover(tmp_path).n_entries == 0  # only the base line
    saver.close(clean=False)
    # restored work is work even before the next edit
    s2 = Autosaver(tmp_path / "b", SpindleSet(), Hypnogram(["N2"] * 10, 30),
                   edited=True)
    assert Autosaver.has_recovery(tmp_path / "b")
    s2.close()
    assert not Autosaver.has_recovery(tmp_path / "b")


def test_a_failing_journal_reports_and_never_breaks_editing(tmp_path):
    errors = []
    sset = SpindleSet()
    saver = Autosaver(tmp_path, sset, on_error=errors.append)
    saver._fh.close()   # the disk is gone: the next write raises
    uid = sset.add(Spindle(1.0, 0.5))[0]
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert saver.error is errors[0]
    sset.edit(uid, duration=0.6)   # editing goes on; no second report
    assert len(errors) == 1 and sset.get(uid).duration == 0.6


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from core.session.autosave import Autosaver
    from core.scoring.spindles import Spindle, SpindleSet
    from core.scoring.staging import Hypnogram
    sset, hyp = SpindleSet(), Hypnogram.from_duration(8 * 3600, 30)
    Autosaver({folder!r}, sset, hyp, snapshot_every=50, snapshot_interval=0.5)
    i = 0
    while True:
        uid = sset.add(Spindle(i * 2.0, 0.8, ("C3",), "eeg"))[0]
        if i % 3 == 0:
            sset.edit(uid, status="rejected")
        hyp.set_stage(i % hyp.n_epochs, "N2" if i % 2 else "N3")
        print(uid, time.monotonic(), flush=True)
        i += 1
        time.sleep(0.005)
""")


def test_sigkill_keeps_every_mark_older_than_two_seconds(tmp_path):
    folder = tmp_path / "session"
    proc = subprocess.Popen([sys.executable, "-c", CHILD.format(repo=str(REPO),
                                                                folder=str(folder))],
                            stdout=subprocess.PIPE, text=True)
    marks = []
    try:
        # wait (on the child's own reports) until it has scored for > 2.5 s
        for line in proc.stdout:
            uid, t = line.split()
            marks.append((int(uid), float(t)))
            if marks[-1][1] - marks[0][1] > 2.5 and len(marks) > 50:
                break
        kill_time = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    older = {u for u, t in marks if t < kill_time - 2.0}
    assert len(older) > 20
    got, hyp = Autosaver.recover(folder)
    uids = {s.uid for s in got}
    assert older <= uids
    # each recovered mark is intact (edits included)
    for s in got:
        assert s.duration == pytest.approx(0.8) and s.channels == ("C3",)
        assert s.status == ("rejected" if (s.uid - 1) % 3 == 0 else "accepted")
    # stages made before the kill are there too
    n_done = max(older)
    assert hyp.stages[n_done - 1] == ("N2" if (n_done - 1) % 2 else "N3")
    assert json.loads((folder / "snapshot.json").read_text())["clean"] is False


def test_restart_on_a_clean_or_unedited_folder_reads_only_the_snapshot_head(
        tmp_path, monkeypatch):
    # a new autosaver must not parse (and replay) a big session it is about to
    # replace: a clean close, or a session never edited, is dropped from the
    # first bytes of snapshot.json
    props = {"frequency": 12.5, "amplitude": float("nan")}
    sset = SpindleSet([Spindle(i * 0.5, 0.3, properties=props) for i in range(200)])
    hyp = Hypnogram.from_duration(300, 30)
    Autosaver(tmp_path, sset, hyp).close()
    calls = []
    monkeypatch.setattr(Autosaver, "recover",
                        staticmethod(lambda f: calls.append(f) or None))
    first = Autosaver(tmp_path, sset, hyp)       # after a clean close
    first._fh.close()                            # then killed before any edit
    first._fh = None
    second = Autosaver(tmp_path, sset, hyp)      # never edited, not closed
    assert calls == [] and not list(tmp_path.glob("kept-*"))
    second._fh.close()
    second._fh = None
    monkeypatch.undo()
    got = Autosaver.recover(tmp_path)
    assert len(got.spindles) == 200 and got.spindles[0].properties["amplitude"] != \
        got.spindles[0].properties["amplitude"]   # NaN kept as NaN
