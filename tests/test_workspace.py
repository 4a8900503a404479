"""The Qt-free source workspace: inputs, keys, cache, signals, errors."""

from __future__ import annotations

import numpy as np
import pytest

from core.session.session import Session
from core.scoring.spindles import Spindle, SpindleSet
from core.utils import SpindleScopeError
from core.session.workspace import HeadModelChoice, NoiseChoice, SourceWorkspace, workspace_for


@pytest.fixture
def session(tmp_path):
    import mne

    info = mne.create_info(["EEG1", "EEG2", "MAG1"], 100.0, ["eeg", "eeg", "mag"])
    raw = mne.io.RawArray(np.random.default_rng(0).standard_normal((3, 6000)) * 1e-6,
                          info, verbose="error")
    path = tmp_path / "tiny_raw.fif"
    raw.save(path, verbose="error")
    s = Session()
    s.open_recording(path)
    s.set_spindles(SpindleSet([Spindle(30.0, 1.0), Spindle(10.0, 1.2),
                               Spindle(20.0, 0.8, status="rejected"),
                               Spindle(40.0, 0.9, status="candidate")]))
    return s


class FakeResult:
    def summary(self):
        return {"n_spindles": 2, "eeg_within_r": 0.5}


def test_spindles_exclude_rejected_sorted_and_limited(session):
    ws = SourceWorkspace(session)
    assert ws.spindles() == [(10.0, 1.2), (30.0, 1.0), (40.0, 0.9)]
    ws.set_max_spindles(2)
    assert ws.spindles() == [(10.0, 1.2), (30.0, 1.0)]
    with pytest.raises(SpindleScopeError, match="at least 1"):
        ws.set_max_spindles(0)


def test_keys_follow_inputs_and_cache_is_reused(session):
    ws = SourceWorkspace(session)
    seen = []
    ws.sources_changed.connect(seen.append)
    k0 = ws.sources_key()
    assert ws.sources_key() == k0  # deterministic
    ws.store_sources(k0, FakeResult())
    assert ws.sources is not None and seen[-1] is ws.sources
    assert session.results["sources"]["eeg_within_r"] == 0.5
    assert session.results["sources"]["paper"]["eeg_within_r"] == 0.64
    ws.set_inverse(snr=1.0)
    k1 = ws.sources_key()
    assert k1 != k0 and ws.sources is None and seen[-1] is None
    ws.set_inverse(snr=3.0)  # back to the first inputs: the cached result returns
    assert ws.sources_key() == k0 and seen[-1] is ws.sources is not None
    ws.update(inverse={"method": "sLORETA"}, band=(11.0, 16.0))
    assert ws.sources_key() not in (k0, k1)
    assert ws.config.inverse.method == "sLORETA" and ws.config.band == (11.0, 16.0)


def test_editing_spindles_changes_the_key(session):
    ws = SourceWorkspace(session)
    k0 = ws.sources_key()
    n_signals = []
    ws.settings_changed.connect(lambda: n_signals.append(1))
    session.spindles.add([Spindle(50.0, 1.0)])
    assert ws.sources_key() != k0 and n_signals
    # replacing the set re-wires the edit signal
    session.set_spindles(SpindleSet([Spindle(5.0, 1.0)]))
    k1 = ws.sources_key()
    session.spindles.add([Spindle(55.0, 1.0)])
    assert ws.sources_key() != k1


def test_head_and_noise_choices_are_validated(session):
    ws = SourceWorkspace(session)
    with pytest.raises(SpindleScopeError, match="forward-solution file"):
        ws.set_head_model(kind="forward")
    with pytest.raises(SpindleScopeError, match="missing: trans, bem"):
        HeadModelChoice(kind="subject", subjects_dir="/x", subject="s")
    with pytest.raises(SpindleScopeError, match="'kind' parameter"):
        HeadModelChoice(kind="sphere")
    with pytest.raises(SpindleScopeError, match="noise-covariance file"):
        NoiseChoice("file")
    with pytest.raises(SpindleScopeError, match="method"):
        ws.set_inverse(method="LCMV")
    k0 = ws.sources_key()
    ws.set_head_model(kind="template", spacing="ico5")
    assert ws.sources_key() != k0
    assert ws.head.label() == "fsaverage template (ico5)"


def test_no_recording_gives_clear_errors():
    s = Session()
    ws = workspace_for(s)
    assert workspace_for(s) is ws  # one workspace per session
    assert ws.sources is None
    with pytest.raises(SpindleScopeError, match="Open a recording first"):
        next(ws.iter_sources())


def test_missing_sensors_fail_before_slow_steps(session):
    ws = SourceWorkspace(session)
    with pytest.raises(SpindleScopeError, match="sensor positions"):
        next(ws.iter_sources())  # EEG channels without a montage
