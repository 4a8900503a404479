"""SIGKILL stress of Session.save and of the autosave journal (issue 14).

A child process saves (or journals) without pause; the parent kills it with
SIGKILL after a random number of reported steps, so the kill lands at an
arbitrary point of the next write — inside the atomic writer, between the
marks file and the session file, during a snapshot. After every kill the
files are read back and compared with the state the child was known to have
reached: it must be that state or the next one, whole; never a truncated
file, never fewer marks. Rounds reuse the same folder, so most kills hit a
re-save. Bounded to a few seconds per test.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.session.autosave import Autosaver
from core.session.session import Session
from core.scoring.spindles import Spindle, SpindleSet
from core.scoring.staging import Hypnogram

REPO = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("SPINDLESCOPE_KILL_ROUNDS", "6"))

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")


_MEMO = {}


def _marks(i):
    """The marks of save number ``i``: consecutive saves differ in count and
    content (built once per kind, so the child spends its time writing)."""
    j = i % 7
    if j not in _MEMO:
        _MEMO[j] = [Spindle(k * 2.0 + j * 1e-3, 0.5 + (k % 5) * 0.1,
                            ("C3",) if k % 3 else (),
                            status=("accepted", "rejected", "candidate")[k % 3])
                    for k in range(1500 + j * 400)]
    return _MEMO[j]


SAVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from core.session.session import Session
    from core.scoring.spindles import SpindleSet
    sys.path.insert(0, {tests!r})
    from test_kill_stress import _marks
    s = Session()
    i = {start}
    sets = [SpindleSet(_marks(j)) for j in range(7)]
    while True:
        s.set_spindles(sets[i % 7])
        s.view = {{"t0": float(i)}}
        s.save({path!r})
        print(i, flush=True)
        i += 1
""")


def _kill_after(code, n_lines, jitter=0.0):
    """Run ``code``, SIGKILL it after its ``n_lines``-th report (plus up to
    ``jitter`` s, so the kill lands anywhere in the next step: fault
    injection, not synchronisation — the check does not depend on it)."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            text=True)
    last = None
    try:
        for _ in range(n_lines):
            line = proc.stdout.readline()
            assert line, "the child died on its own"
            last = int(line)
        if jitter:
            time.sleep(random.uniform(0, jitter))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return last


def _key(spindles):
    return [(round(s.onset, 4), round(s.duration, 4), s.channels, s.status)
            for s in spindles]


def test_session_save_survives_sigkill(tmp_path):
    rng = random.Random(14)
    path = tmp_path / "night.spindlescope.json"
    start, mid_write, seen = 0, 0, set()
    for _ in range(ROUNDS):
        code = SAVER.format(repo=str(REPO), tests=str(Path(__file__).parent),
                            start=start, path=str(path))
        last = _kill_after(code, rng.randint(1, 4), jitter=0.03)
        tmps = {p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")}
        mid_write += len(tmps - seen)
        seen |= tmps
        s = Session.load(path)
        got = _key(s.spindles)
        # the marks file is whole: exactly one saved version, the last reported
        # one or a later one (a fast child saves again before the kill lands)
        versions = [k for k in range(last, last + 200) if got == _key(_marks(k))]
        assert versions, got
        k = versions[0]
        assert float(last) <= s.view["t0"] <= float(k + 2)
        start = int(max(k, s.view["t0"])) + 3
    # the evidence that kills landed inside a write (a temporary file left)
    print(f"kills inside a write: {mid_write} of {ROUNDS}")


def _ops(sset, hyp, n):
    """The first ``n`` scoring steps (the child runs the same ones)."""
    for i in range(n):
        _op(sset, hyp, i)


def _op(sset, hyp, i):
    r = i % 5
    if r in (0, 1):
        sset.add(Spindle(i * 3.0, 0.5 + (i % 4) * 0.1, ("C3",), "eeg"))
    elif r == 2:
        sset.edit(sset.uids[-1], status="rejected", duration=0.9)
    elif r == 3:
        hyp.set_stage(i % hyp.n_epochs, ("W", "N1", "N2", "N3", "R")[i % 5])
    elif len(sset) > 3:
        sset.delete(sset.uids[0])
    else:
        hyp.set_stage(slice(i % 50, i % 50 + 3), "N2")


JOURNAL = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    sys.path.insert(0, {tests!r})
    from core.session.autosave import Autosaver
    from core.scoring.spindles import SpindleSet
    from core.scoring.staging import Hypnogram
    from test_kill_stress import _op
    sset, hyp = SpindleSet(), Hypnogram.from_duration(3600, 30)
    Autosaver({folder!r}, sset, hyp, snapshot_every=7, snapshot_interval=1e9)
    i = 0
    while True:
        _op(sset, hyp, i)
        print(i, flush=True)
        i += 1
""")


def test_journal_survives_sigkill(tmp_path):
    rng = random.Random(41)
    for r in range(ROUNDS):
        folder = tmp_path / f"round{r}"
        code = JOURNAL.format(repo=str(REPO), tests=str(Path(__file__).parent),
                              folder=str(folder))
        last = _kill_after(code, rng.randint(5, 120))
        got = Autosaver.recover(folder)
        assert got is not None and got.n_damaged == 0
        mine = ([(s.uid, *k) for s, k in zip(got.spindles, _key(got.spindles))],
                got.hypnogram.stages)
        # the recovered state is exactly the state after some whole number of
        # steps, at least every reported one (a fast child runs more steps
        # between its last report and the kill landing)
        sset, hyp = SpindleSet(), Hypnogram.from_duration(3600, 30)
        _ops(sset, hyp, last + 1)
        matched = None
        for n in range(last + 1, last + 2000):
            state = ([(s.uid, *k) for s, k in zip(sset, _key(sset))],
                     list(hyp.stages))
            if (mine[0], list(mine[1])) == state:
                matched = n
                break
            _op(sset, hyp, n)
        assert matched is not None, (last, mine)
