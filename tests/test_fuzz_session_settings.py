"""Property-based fuzzing of the session and settings readers (issue 14).

:meth:`core.session.session.Session.load` ends in :class:`core.utils.SpindleScopeError`
or a loaded session for any file; :meth:`core.session.settings.Settings.load` always
returns valid settings (defaults for a bad file, which is kept aside).
Bounded to a few seconds each; ``SPINDLESCOPE_FUZZ_EXAMPLES`` raises the
count for a long run.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from core.session.session import Session  # noqa: E402
from core.session.settings import Settings  # noqa: E402
from core.scoring.spindles import Spindle  # noqa: E402
from core.io.marks import write_spindles  # noqa: E402
from core.utils import SpindleScopeError  # noqa: E402

N = int(os.environ.get("SPINDLESCOPE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=N or 100, deadline=None, derandomize=not N,
                suppress_health_check=[HealthCheck.too_slow])
_DIR = Path(tempfile.mkdtemp(prefix="spindlescope-fuzz-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=10),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids,
                                                              max_size=4),
    max_leaves=12)


def _valid_session() -> dict:
    base = _DIR / "valid"
    base.mkdir(exist_ok=True)
    write_spindles([Spindle(1.0, 0.5), Spindle(3.0, 0.7, status="rejected")],
                   base / "s.spindles.tsv")
    return {"schema_version": 1, "app": "SpindleScope", "recording": None,
            "spindles": {"relative": "s.spindles.tsv",
                         "path": str(base / "s.spindles.tsv")},
            "hypnogram": None, "epoch_length": 30.0, "view": {"t0": 12.0},
            "results": {"compare": {"F1": 0.5}}}


FIELDS = ["schema_version", "recording", "spindles", "hypnogram", "epoch_length",
          "view", "results", "app"]


def _load(path):
    try:
        s = Session.load(path)
    except SpindleScopeError as exc:
        assert str(exc)
        return None
    assert isinstance(s.view, dict) and isinstance(s.results, dict)
    t0 = s.view.get("t0")
    assert t0 is None or (isinstance(t0, (int, float)) and math.isfinite(t0))
    for sp in s.spindles:
        assert sp.duration > 0 and math.isfinite(sp.onset)
    return s


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
       drop=st.lists(st.sampled_from(FIELDS), max_size=2))
def test_sessions_with_wrong_field_values(changes, drop):
    data = _valid_session()
    data.update(changes)
    for k in drop:
        data.pop(k, None)
    path = _DIR / "valid" / "s.spindlescope.json"
    path.write_text(json.dumps(data))
    _load(path)


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), json_values.map(
    lambda v: json.dumps(v).encode())))
def test_sessions_from_any_bytes(data):
    path = _DIR / "any.spindlescope.json"
    path.write_bytes(data)
    _load(path)


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=5),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_mutated_session_files(edits, cut):
    data = bytearray(json.dumps(_valid_session(), indent=2).encode())
    for where, byte in edits:
        data[min(len(data) - 1, int(where * len(data)))] = byte
    if cut is not None:
        data = data[:int(cut * len(data))]
    path = _DIR / "valid" / "m.spindlescope.json"
    path.write_bytes(bytes(data))
    _load(path)


def test_the_valid_seed_session_loads():
    path = _DIR / "valid" / "seed.spindlescope.json"
    path.write_text(json.dumps(_valid_session()))
    s = _load(path)
    assert [(sp.onset, sp.status) for sp in s.spindles] == \
        [(1.0, "accepted"), (3.0, "rejected")]
    assert s.view == {"t0": 12.0} and s.results["compare"]["F1"] == 0.5


SETTING_KEYS = ["schema_version", "page_duration", "n_channels", "scalings", "highpass",
                "lowpass", "notch", "sigma_overlay", "sigma_band", "epoch_length",
                "scorer", "default_visibility", "detector", "detector_params",
                "recent_files", "autosave", "window_geometry"]


def _settings_ok(path):
    s = Settings.load(path)
    assert isinstance(s, Settings)
    s2 = Settings.from_dict(s.to_dict())   # what loads is valid and saves again
    assert s2 == s
    assert isinstance(s.autosave, bool) and isinstance(s.scorer, str)
    return s


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(SETTING_KEYS), json_values, max_size=4))
def test_settings_with_wrong_field_values(changes):
    data = Settings().to_dict()
    data.update(changes)
    path = _DIR / "settings.json"
    path.write_text(json.dumps(data))
    _settings_ok(path)


@FUZZ
@given(data=st.binary(max_size=300))
def test_settings_from_any_bytes(data):
    path = _DIR / "settings.json"
    path.write_bytes(data)
    _settings_ok(path)
