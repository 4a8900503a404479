"""Property-based fuzzing of autosave recovery (issue 14).

Whatever happens to a journal folder — bytes flipped, lines cut, JSON of any
shape inserted, the snapshot damaged or gone — :meth:`Autosaver.recover`
returns what it can (valid marks and stages, damaged entries counted) or
None, never raises; and every intact line before and after a damaged one is
replayed.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.session.autosave import Autosaver  # noqa: E402
from core.scoring.spindles import STATUS, Spindle, SpindleSet  # noqa: E402
from core.scoring.staging import STAGES, Hypnogram  # noqa: E402

N = int(os.environ.get("SPINDLESCOPE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=N or 60, deadline=None, derandomize=not N,
                suppress_health_check=[HealthCheck.too_slow])
_DIR = Path(tempfile.mkdtemp(prefix="spindlescope-fuzz-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


def _seed() -> Path:
    """A crashed session folder: 4 marks (edited, one deleted), 3 stages."""
    seed = _DIR / "seed"
    if not seed.exists():
        sset, hyp = SpindleSet(), Hypnogram.from_duration(600, 30)
        saver = Autosaver(seed, sset, hyp, snapshot_every=1000)
        uids = sset.add([Spindle(1.0, 0.5), Spindle(4.0, 0.7, ("C3",), "eeg")])
        sset.add([Spindle(8.0, 1.0), Spindle(12.0, 0.6)])
        sset.edit(uids[1], status="rejected")
        sset.delete(uids[0])
        for i, st_ in ((1, "N2"), (2, "N3"), (5, "R")):
            hyp.set_stage(i, st_)
        saver._fh.close()
        saver._fh = None
    return seed


def _fresh(name) -> Path:
    dest = _DIR / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(_seed(), dest)
    return dest


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["t", "k", "s", "r", "i", "v", "uid", "onset", "duration",
                         "spindles", "hypnogram", "stages", "generation", "x"]),
        kids, max_size=5),
    max_leaves=10)


def _valid(got):
    if got is None:
        return
    assert got.n_damaged >= 0 and got.n_entries >= 0
    for s in got.spindles:
        assert s.duration > 0 and s.status in STATUS
    if got.hypnogram is not None:
        assert all(v in STAGES for v in got.hypnogram.stages)


@FUZZ
@given(inserts=st.lists(st.tuples(st.integers(1, 12), json_values), max_size=4))
def test_unexpected_records_are_skipped_and_the_rest_replayed(inserts):
    folder = _fresh("ins")
    journal = max(folder.glob("journal-*.jsonl"))
    lines = journal.read_text().splitlines(keepends=True)
    for at, value in sorted(inserts, key=lambda t: -t[0]):
        lines.insert(min(at, len(lines)), json.dumps(value) + "\n")
    journal.write_text("".join(lines))
    got = Autosaver.recover(folder)
    _valid(got)
    # every intact line still counts: the seed's state is there whole unless
    # an inserted record was itself a valid change
    ref = Autosaver.recover(_seed())
    if got.n_entries == ref.n_entries:
        assert [(s.uid, s.onset, s.status) for s in got.spindles] == \
            [(s.uid, s.onset, s.status) for s in ref.spindles]
        assert got.hypnogram.stages == ref.hypnogram.stages


@FUZZ
@given(target=st.sampled_from(["journal", "snapshot"]),
       edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)), drop_snapshot=st.booleans())
def test_damaged_files_never_raise(target, edits, cut, drop_snapshot):
    folder = _fresh("dmg")
    path = max(folder.glob("journal-*.jsonl")) if target == "journal" \
        else folder / "snapshot.json"
    data = bytearray(path.read_bytes())
    for where, byte in edits:
        data[min(len(data) - 1, int(where * len(data)))] = byte
    if cut is not None:
        data = data[:int(cut * len(data))]
    path.write_bytes(bytes(data))
    if drop_snapshot and target == "journal":
        (folder / "snapshot.json").unlink()
    got = Autosaver.recover(folder)
    _valid(got)
    Autosaver.has_recovery(folder)
    # a new autosaver in that folder keeps whatever was there aside
    Autosaver(folder, SpindleSet(), Hypnogram.from_duration(600, 30)).close()
