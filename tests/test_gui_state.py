"""Observable settings, science computed in core and shown as is by the GUI
(issue 12 items 4-5): settings events drive the menu checks; the compare
panel, crash detection and pooled histograms show exactly what core returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from gui_fixtures import gui_env, window  # noqa: F401
from PySide6.QtCore import Qt


# -- observable settings ------------------------------------------------------------
def test_settings_emit_one_event_per_change_and_keep_their_json(tmp_path):
    from core.session.settings import Settings

    s = Settings()
    seen = []
    s.events.sigma_overlay.connect(seen.append)
    s.events.page_duration.connect(lambda v: seen.append(("page", v)))
    s.sigma_overlay = True
    s.sigma_overlay = True          # same value: no event
    s.page_duration = 20.0
    s.sigma_overlay = False
    assert seen == [True, ("page", 20.0), False]
    # copies (and pickles, e.g. to a worker process) hold values, not connections
    import copy
    import pickle

    for dup in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert dup == s and dup is not s
        dup.sigma_overlay = True
        assert seen[-1] is False and s.sigma_overlay is False
    # the JSON is the plain dataclass's: same keys, same values, round trip
    path = s.save(tmp_path / "settings.json")
    data = json.loads(path.read_text())
    assert "events" not in data and data["page_duration"] == 20.0
    assert data["sigma_overlay"] is False and data["schema_version"] == 1
    assert Settings.load(path) == s
    # a file written before (no new keys, an unknown one) still loads
    old = {"page_duration": 10, "sigma_overlay": True, "schema_version": 1, "gone": 3}
    (tmp_path / "old.json").write_text(json.dumps(old))
    got = Settings.load(tmp_path / "old.json")
    assert got.page_duration == 10.0 and got.sigma_overlay is True


def test_shift_s_and_menu_share_the_sigma_setting(window, qtbot):
    b, act = window.browser, window.act_sigma
    assert not act.isChecked() and not window.settings.sigma_overlay
    b.setFocus()
    qtbot.keyClick(b, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert window.settings.sigma_overlay is True
    assert act.isChecked()                       # the menu check follows the key
    qtbot.keyClick(b, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert window.settings.sigma_overlay is False and not act.isChecked()
    act.trigger()                                # and the reverse: the menu
    assert window.settings.sigma_overlay is True and act.isChecked()
    qtbot.keyClick(b, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert window.settings.sigma_overlay is False and not act.isChecked()
    # whoever writes the setting, the check follows
    window.settings.sigma_overlay = True
    assert act.isChecked()


# -- the compare panel shows core's figures -------------------------------------------
def test_compare_panel_shows_core_stage_disagreements(window):
    from core.scoring.agreement import stage_disagreements
    from core.scoring.staging import Hypnogram

    ref = Hypnogram(["W", "N1", "N2", "N2", "N3", "R", "?", "N2"])
    mine = Hypnogram(["W", "N2", "N2", "N3", "N3", "R", "N2", "W"])
    agr, summary, dis = stage_disagreements(ref, mine)
    assert [t for t, _ in dis] == [30.0, 90.0, 210.0]
    assert agr.n_epochs == 7 and agr.accuracy == pytest.approx(4 / 7)
    panel = window.compare
    got = panel.compare_hypnograms(ref, mine, "ref.tsv")
    assert got.accuracy == agr.accuracy and panel.summary == summary
    assert panel.disagreements == dis
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == \
        [text for _, text in dis]


def test_event_disagreements_list_each_unmatched_mark():
    from core.scoring.evaluation import compare, disagreements
    from core.scoring.spindles import Spindle

    ref = [Spindle(10.0, 1.0), Spindle(20.0, 1.0), Spindle(40.0, 0.8)]
    mine = [Spindle(10.1, 1.0), Spindle(30.0, 1.0), Spindle(40.0, 0.8)]
    summary, dis = disagreements(ref, mine, 60.0)
    agr = compare(ref, mine, duration=60.0)
    assert summary["matched"] == agr.tp == 2
    assert summary["F1"] == agr.f1 == pytest.approx(2 / 3)
    assert (summary["theirs"], summary["mine"]) == (3, 3)
    assert dis == [(20.0, "20.00 s (1.00 s): only in the other file"),
                   (30.0, "30.00 s (1.00 s): only in this session")]


# -- crash detection lives in core ----------------------------------------------------
def test_lock_detection_tells_live_from_dead_processes(tmp_path):
    from core.session.autosave import LOCK, crashed, pending_recoveries, remove_lock, write_lock

    folder = tmp_path / "a"
    folder.mkdir()
    assert crashed(folder)                       # no lock: the journal decides
    write_lock(folder)
    assert json.loads((folder / LOCK).read_text()) == {"pid": os.getpid()}
    assert not crashed(folder)                   # this process holds it
    # a process that has exited leaves a dead pid behind
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (folder / LOCK).write_text(json.dumps({"pid": int(proc.stdout)}))
    assert crashed(folder)
    (folder / LOCK).write_text("not json")
    assert crashed(folder)
    remove_lock(folder)
    remove_lock(folder)                          # twice is fine
    assert not (folder / LOCK).exists()
    # a folder without an unclean, edited journal is not offered
    assert pending_recoveries(tmp_path) == []
    assert pending_recoveries(tmp_path / "missing") == []


def test_pending_recoveries_offers_an_edited_crashed_journal(tmp_path):
    from core.session.autosave import Autosaver, pending_recoveries, write_lock
    from core.scoring.spindles import Spindle, SpindleSet
    from core.scoring.staging import Hypnogram

    folder = tmp_path / "rec1"
    folder.mkdir()
    (folder / "recording.json").write_text(json.dumps({"recording": "/data/x.fif"}))
    sp = SpindleSet()
    saver = Autosaver(folder, sp, Hypnogram(["W", "N2"]))
    sp.add(Spindle(5.0, 1.0))
    saver.close(clean=False)                     # as a crash leaves it
    write_lock(folder)
    assert pending_recoveries(tmp_path) == []    # its owner (us) still runs
    (folder / "session.lock").unlink()
    assert pending_recoveries(tmp_path) == [(folder, "/data/x.fif")]


# -- pooled histograms ----------------------------------------------------------------
def test_pair_histograms_pool_spindles_into_densities():
    from types import SimpleNamespace

    from core.report.writers import PAIR_BINS, pair_histograms

    rng = np.random.default_rng(0)
    a = SimpleNamespace(pair_sample={"eeg": rng.uniform(-1, 1, 500), "meg": np.zeros(4)})
    b = SimpleNamespace(pair_sample={"eeg": rng.uniform(0, 1, 300)})
    h = pair_histograms([a, b])
    assert set(h) == {"eeg", "meg"}
    edges, dens = h["eeg"]
    np.testing.assert_array_equal(edges, PAIR_BINS)
    assert np.sum(dens * np.diff(edges)) == pytest.approx(1.0)
    ref, _ = np.histogram(np.concatenate([a.pair_sample["eeg"], b.pair_sample["eeg"]]),
                          bins=PAIR_BINS, density=True)
    np.testing.assert_array_equal(dens, ref)
    assert h["meg"][1][40] == pytest.approx(1 / (PAIR_BINS[1] - PAIR_BINS[0]))


# -- the whole-night lanes share one base ----------------------------------------------
def test_night_lanes_line_up_and_mark_the_page(window, qtbot):
    from gui.traces.overview_bar import NightLane

    lanes = [window.overview, window.hypnogram_lane, window.scorer.spectrogram_lane,
             window.scorer.hypnodensity_lane]
    assert all(isinstance(lane, NightLane) for lane in lanes)
    assert {lane.getAxis("left").width() for lane in lanes} == {80}
    assert [lane.height() for lane in lanes] == [56, 90, 110, 70]
    window.overview.setRange(xRange=(0, 600), padding=0)
    for lane in lanes:
        lane.cvb.setRange(xRange=(0, 600), yRange=(0, 1), padding=0)
        lane.set_window(120.0, 150.0)
        assert lane.marker.getRegion() == pytest.approx((120.0, 150.0))
        assert lane.marker.zValue() == 10 and not lane.marker.movable
    assert window.overview.band is window.overview.marker
    # a click on a lane is a jump to that time
    lane = window.hypnogram_lane
    lane.show()
    qtbot.waitExposed(lane)
    vp = lane.viewport()
    from PySide6.QtCore import QPointF

    pos = lane.mapFromScene(lane.cvb.mapViewToScene(QPointF(300.0, 0.5)))
    with qtbot.waitSignal(lane.sigJump) as sig:
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args[0] == pytest.approx(300.0, abs=600 / max(1, vp.width()) * 2)


# -- one vocabulary ---------------------------------------------------------------------
def test_one_vocabulary_for_sensor_sets_and_visibility(tmp_path):
    import core.detection.detector as detection
    import core.sources.inverse as inverse
    import core.resolution.matrix as resolution
    from core.report.writers import LABELS as REPORT_LABELS
    from core.scoring.spindles import Spindle, SpindleSet
    from core.io.marks import read_spindles, write_spindles
    from core.utils.vocabulary import (SENSOR_LABELS, SENSOR_SETS, SENSOR_TYPES, VISIBILITY,
                                 visibility_of)
    from gui.sources.timecourse_panel import LABELS as PANEL_LABELS

    assert inverse.MODALITIES == SENSOR_SETS == ("eeg", "meg", "meeg")
    assert detection.SENSOR_TYPES == SENSOR_TYPES == ("eeg", "mag", "grad")
    assert not hasattr(detection, "MODALITIES")
    from core.utils.vocabulary import DETECTION_SENSORS

    assert {k: detection._MODALITY_TYPES[k] for k in DETECTION_SENSORS} == {
        "eeg": ("eeg",), "meg": ("mag", "grad"), "mag": ("mag",), "grad": ("grad",),
        "both": ("eeg", "mag", "grad")}
    assert set(resolution.SENSOR_SETS) == set(SENSOR_SETS) | set(SENSOR_TYPES)
    # one label for the combined set, everywhere
    assert resolution.SENSOR_LABELS["meeg"] == inverse.MODALITY_LABEL["meeg"] == \
        PANEL_LABELS["meeg"] == SENSOR_LABELS["meeg"] == "MEG+EEG"
    assert REPORT_LABELS["meeg_max_spread_cm"].startswith("MEG+EEG ")
    assert [visibility_of(v) for v in ("EEG", "meg", "both", "EEG+MEG", "meg+eeg",
                                       "grad", "n/a", None)] == \
        ["eeg", "meg", "both", "both", "both", "meg", "", ""]
    assert VISIBILITY == ("eeg", "meg", "both", "")
    # files: a "visibility" column now; the former "modality" column still reads
    marks = SpindleSet([Spindle(1.0, 0.5, ("C3",), "both"), Spindle(3.0, 0.7, (), "meg")])
    path = tmp_path / "marks.tsv"
    write_spindles(marks, path)
    header = path.read_text().splitlines()[0].split("\t")
    assert "visibility" in header and "modality" not in header
    assert [s.visibility for s in read_spindles(path)] == ["both", "meg"]
    old = tmp_path / "old.tsv"
    old.write_text("onset\tduration\ttrial_type\tchannel\tmodality\n"
                   "1.0\t0.5\tspindle\tC3\tboth\n2.0\t0.6\tspindle\tn/a\teeg+meg\n"
                   "4.0\t0.6\tspindle\tn/a\teeg\n")
    assert [s.visibility for s in read_spindles(old)] == ["both", "both", "eeg"]


def test_qt_signals_have_one_naming_style():
    """Qt signals in gui/ are camelCase (``sigFrameChanged``, ``finished``),
    as Qt's and pyqtgraph's own; snake_case is core's psygnal events."""
    import re
    from pathlib import Path

    import gui

    names = {}
    for path in Path(gui.__file__).parent.rglob("*.py"):
        for name in re.findall(r"^\s+(\w+) = Signal\(", path.read_text(), re.M):
            names[name] = path.name
    assert len(names) >= 30
    snake = {n: f for n, f in names.items() if "_" in n}
    assert snake == {}
    assert {"sigFrameChanged", "sigVertexPicked", "sigRunFinished", "sigJump"} <= set(names)


def test_main_thread_gc_collects_only_on_the_main_thread(qtbot):
    """Automatic collection is off while the guard runs; its timer collects
    cycles on the main thread by the generation thresholds; stop gives
    collection back."""
    import gc
    import threading

    from gui.workers import MainThreadGC

    was = gc.isenabled()
    gc.enable()
    guard = MainThreadGC(interval_ms=20)
    guard._threshold = (-1, -1, -1)   # a full collection due at every tick
    try:
        assert not gc.isenabled()
        threads = []

        class Cycle:
            def __del__(self):
                threads.append(threading.current_thread() is threading.main_thread())

        for _ in range(3):
            a, b = Cycle(), Cycle()
            a.other, b.other = b, a
            del a, b
        qtbot.waitUntil(lambda: len(threads) == 6, timeout=5000)
        assert threads == [True] * 6
    finally:
        guard.stop()
        back = gc.isenabled()
        if not was:
            gc.disable()
    assert back
