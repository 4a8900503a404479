"""Automatic-staging proposals are kept by the Session: saved with the session
file and the autosave journal, and restored (also into the main window)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import gui_env, small_fif, window  # noqa: F401


def _proposals(n=10, seed=0):
    from core.detection.autostage import StagingResult

    rng = np.random.default_rng(seed)
    proba = rng.random((n, 5))
    proba /= proba.sum(axis=1, keepdims=True)
    stages = [("W", "N1", "N2", "N3", "R")[i] for i in proba.argmax(axis=1)]
    return StagingResult(stages, proba, {"eeg": "EEG001", "eog": None, "emg": None},
                         "clf.joblib")


def _same(a, b):
    assert b is not None and b.stages == a.stages and b.channels == a.channels
    assert b.model == a.model and b.epoch_length == a.epoch_length
    np.testing.assert_allclose(b.proba, a.proba, atol=1e-6)


def test_session_file_round_trip(small_fif, tmp_path):  # noqa: F811
    from core.session.session import Session

    s = Session()
    s.open_recording(small_fif)
    got = []
    s.proposals_changed.connect(got.append)
    props = _proposals()
    s.set_proposals(props)
    assert got == [props] and s.dirty
    path = s.save(tmp_path / "night")
    loaded = Session.load(path)
    _same(props, loaded.proposals)
    assert not loaded.dirty
    # a new recording drops them
    loaded.open_recording(small_fif)
    assert loaded.proposals is None


def test_damaged_proposals_are_named(small_fif, tmp_path):  # noqa: F811
    import json

    from core.session.session import Session
    from core.utils import SpindleScopeError

    s = Session()
    s.open_recording(small_fif)
    s.set_proposals(_proposals())
    path = s.save(tmp_path / "night")
    data = json.loads(path.read_text())
    data["proposals"]["proba"] = [[1, 2]]
    path.write_text(json.dumps(data))
    with pytest.raises(SpindleScopeError, match="proposals"):
        Session.load(path)


def test_autosave_journal_and_snapshot(tmp_path):
    from core.session.autosave import Autosaver
    from core.scoring.spindles import SpindleSet
    from core.scoring.staging import Hypnogram

    hyp = Hypnogram(["?"] * 10)
    sp = SpindleSet()
    props = _proposals()
    saver = Autosaver(tmp_path / "a", sp, hyp)
    saver.set_proposals(props)              # journalled
    got = Autosaver.recover(tmp_path / "a")  # as after a crash
    assert got.edited and not got.clean
    _same(props, got.proposals)
    saver.set_proposals(None)
    assert Autosaver.recover(tmp_path / "a").proposals is None
    saver.close()
    # in the snapshot (the base state) too
    saver = Autosaver(tmp_path / "b", sp, hyp, proposals=props)
    saver.snapshot()
    _same(props, Autosaver.recover(tmp_path / "b").proposals)
    saver.close()
    _same(props, Autosaver.recover(tmp_path / "b").proposals)


def test_window_shows_and_restores_proposals(window, small_fif, tmp_path):  # noqa: F811
    w = window
    w._open_recording(small_fif)
    n = w.session.hypnogram.n_epochs
    props = _proposals(n)
    w.session.set_proposals(props)
    assert w.scorer.proposals is not None and w.scorer.proposals.result is props
    assert w.overview.proposals is w.scorer.proposals
    saver = w.autosave.saver
    assert saver is not None and saver.proposals["stages"] == props.stages
    path = w.session.save(tmp_path / "night")
    w.session.set_proposals(None)
    assert w.scorer.proposals is None
    assert w.open_session(path)
    assert w.scorer.proposals is not None
    _same(props, w.scorer.proposals.result)
    _same(props, w.session.proposals)


def test_screenshot_of_a_session_keeps_view_results_proposals(window, small_fif,  # noqa: F811
                                                              tmp_path, monkeypatch, qapp):
    from gui.app import main
    from gui.main_window import MainWindow

    w = window
    w._open_recording(small_fif)
    w.browser.set_time(120.0)
    assert w.session.view["t0"] == 120.0
    w.session.set_result("compare", {"F1": 0.5})
    props = _proposals(w.session.hypnogram.n_epochs)
    w.session.set_proposals(props)
    path = w.session.save(tmp_path / "s")
    seen = []
    adopt = MainWindow.adopt_session

    def spy(self, session, keep_path=True):   # the real method, observed
        adopt(self, session, keep_path)
        seen.append((self.browser.t0, dict(self.session.results), self.session.proposals,
                     self.session.path))

    monkeypatch.setattr(MainWindow, "adopt_session", spy)
    out = tmp_path / "s.png"
    assert main([str(path), "--screenshot", str(out)]) == 0
    assert out.stat().st_size > 10_000
    (t0, results, proposals, spath), = seen
    assert t0 == 120.0 and results["compare"] == {"F1": 0.5} and spath is None
    _same(props, proposals)
