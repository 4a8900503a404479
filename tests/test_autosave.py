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

from core.autosave import Autosaver
from core.spindles import Spindle, SpindleSet
from core.staging import Hypnogram
from core.utils import SpindleScopeError

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
    Autosaver(tmp_path, sset)
    sset.add(Spindle(1.0, 0.5))
    journal = next(tmp_path.glob("journal-*.jsonl"))
    with open(journal, "a") as fh:
        fh.write('{"t":"sp","k":"add","s":[{"onset":')  # killed mid-write
    got, hyp = Autosaver.recover(tmp_path)
    assert [s.onset for s in got] == [1.0] and hyp is None
    (tmp_path / "snapshot.json").write_text('{"version": 1, "spin')
    with pytest.raises(SpindleScopeError, match="damaged"):
        Autosaver.recover(tmp_path)
    assert Autosaver.recover(tmp_path / "nothing") is None


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from core.autosave import Autosaver
    from core.spindles import Spindle, SpindleSet
    from core.staging import Hypnogram
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
