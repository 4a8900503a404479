"""Property-based fuzzing of the spindle-mark readers (issue 14).

Any input — generated tables, raw bytes, mutated valid TSV/CSV/TXT/FIF/EDF
files — ends in :class:`core.utils.SpindleScopeError` or a valid
:class:`~core.scoring.spindles.SpindleSet`, never another exception. Bounded to a few
seconds each; ``SPINDLESCOPE_FUZZ_EXAMPLES`` raises the count for a long run.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.scoring.spindles import STATUS, VISIBILITY, Spindle, SpindleSet
from core.io.marks import read_spindles, write_spindles
from core.utils import SpindleScopeError  # noqa: E402

N = int(os.environ.get("SPINDLESCOPE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=N or 150, deadline=None, derandomize=not N,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
_DIR = Path(tempfile.mkdtemp(prefix="spindlescope-fuzz-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


def _check(path, **kw):
    try:
        got = read_spindles(path, **kw)
    except SpindleScopeError as exc:
        assert str(exc)  # a message, never empty
        return None
    assert isinstance(got, SpindleSet)
    dur = kw.get("duration")
    for s in got:
        assert isinstance(s, Spindle)
        assert math.isfinite(s.onset) and s.onset >= 0
        assert math.isfinite(s.duration) and s.duration > 0
        assert s.status in STATUS and s.visibility in VISIBILITY
        if dur is not None:
            assert s.end <= dur + 0.5
    return got


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**12, 10**12).map(str),
    st.sampled_from(["", "n/a", "nan", "spindle", "Spindle", "artefact", "accepted",
                     "reject", "maybe", "false", "C3,C4", "eeg", "meg", "both",
                     '"', '""', "'", "1e308", "-0", "１", "\u00e9", "\ufeff"]),
    st.text(max_size=12),
)
columns = st.sampled_from(["onset", "duration", "trial_type", "channel", "modality",
                           "visibility", "status", "scorer", "origin", "sample",
                           "frequency", "uid", "", "Onset", " duration "])


@st.composite
def tables(draw):
    header = draw(st.lists(columns, min_size=0, max_size=8))
    n_cols = max(1, len(header))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=n_cols + 2),
                         max_size=8))
    delim = draw(st.sampled_from(["\t", ",", ";", " "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(delim.join(r) for r in [header] + rows)
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    return text.encode(enc, errors="replace")


COUNTS = {}


def _count(name):
    COUNTS[name] = COUNTS.get(name, 0) + 1


@FUZZ
@given(data=tables(), ext=st.sampled_from([".tsv", ".csv"]),
       sfreq=st.one_of(st.none(), st.sampled_from([100.0, 256.0])),
       duration=st.one_of(st.none(), st.sampled_from([60.0, 3600.0])))
def test_generated_tables(data, ext, sfreq, duration):
    _count("tables")
    path = _DIR / f"t{ext}"
    path.write_bytes(data)
    _check(path, sfreq=sfreq, duration=duration)


@FUZZ
@given(data=st.binary(max_size=400),
       ext=st.sampled_from([".tsv", ".csv", ".txt", ".fif", ".edf"]))
def test_raw_bytes(data, ext):
    _count("bytes")
    path = _DIR / f"b{ext}"
    path.write_bytes(data)
    _check(path)


def _valid(ext) -> bytes:
    path = _DIR / f"valid{ext}"
    if not path.exists():
        write_spindles([Spindle(1.0, 0.8, ("C3", "C4"), "eeg", status="rejected"),
                        Spindle(5.5, 1.2, (), "meg", scorer="x"),
                        Spindle(9.25, 0.5, ("MEG0113",), "both", status="candidate")],
                       path)
    return path.read_bytes()


@FUZZ
@given(ext=st.sampled_from([".tsv", ".csv", ".txt", ".fif", ".edf"]),
       edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_mutated_valid_files(ext, edits, cut):
    _count("mutated")
    data = bytearray(_valid(ext))
    for where, byte in edits:
        data[min(len(data) - 1, int(where * len(data)))] = byte
    if cut is not None:
        data = data[:int(cut * len(data))]
    path = _DIR / f"m{ext}"
    path.write_bytes(bytes(data))
    _check(path, duration=3600.0)


def test_valid_files_round_trip():
    # the fuzzed seeds themselves read back whole (the property is not vacuous)
    for ext in (".tsv", ".csv", ".fif", ".edf"):
        _valid(ext)
        got = _check(_DIR / f"valid{ext}", duration=3600.0)
        assert [(round(s.onset, 4), round(s.duration, 4), s.channels, s.visibility, s.status)
                for s in got] \
            == [(1.0, 0.8, ("C3", "C4"), "eeg", "rejected"),
                (5.5, 1.2, (), "meg", "accepted"),
                (9.25, 0.5, ("MEG0113",), "both", "candidate")]
