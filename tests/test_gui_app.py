"""Acceptance tests of the desktop app (pytest-qt, offscreen).

Open the demo recording, page forward and back, mark a spindle by dragging,
undo and redo it, stage an epoch by key, run detection and accept a candidate,
save and reload the session — asserting the models' state each time.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import (demo_recording, drag, gui_env, small_fif,  # noqa: F401
                          window)
from PySide6.QtCore import Qt

from core.session.session import Session


@pytest.fixture
def demo_window(window, demo_recording):
    from core.io.hypnograms import read_hypnogram

    hyp = read_hypnogram(demo_recording.hypnogram) if demo_recording.hypnogram else None
    window._open_recording(demo_recording.raw, hypnogram=hyp)
    window.browser.setFocus()
    window.demo_raw = demo_recording.raw     # what the tests expect to see open
    return window


def test_open_demo_and_page(demo_window, qtbot):
    w = demo_window
    b = w.browser
    rec = w.session.recording
    assert rec is not None and rec.path == demo_recording_path(w)
    assert b.t0 == 0.0 and b.duration == 30.0
    page = b._page
    assert page is not None and page.request.t0 == 0.0
    assert page.data.shape[0] == min(b.n_rows, len(b.order))
    # decimated to about two points per pixel, never the raw 30 s x sfreq
    assert page.data.shape[1] <= 2 * page.request.n_px + 2
    assert np.isfinite(page.data).all() and np.ptp(page.data) > 0
    with qtbot.waitSignal(b.sigPageDrawn, timeout=5000):
        qtbot.keyClick(b, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert b.t0 == 30.0 and b._page.request.t0 == 30.0
    with qtbot.waitSignal(b.sigPageDrawn, timeout=5000):
        qtbot.keyClick(b, Qt.Key.Key_Right)  # quarter page
    assert b.t0 == pytest.approx(37.5)
    with qtbot.waitSignal(b.sigPageDrawn, timeout=5000):
        qtbot.keyClick(b, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert b.t0 == pytest.approx(7.5)
    b.set_time(0.0)
    assert b.t0 == 0.0
    # End lengthens the page, Home shortens it, bounded to 5–60 s
    qtbot.keyClick(b, Qt.Key.Key_End)
    assert b.duration == 35.0
    for _ in range(12):
        qtbot.keyClick(b, Qt.Key.Key_Home)
    assert b.duration == 5.0
    # the overview and the hypnogram lane follow the page
    assert w.overview.band.getRegion() == pytest.approx((b.t0, b.t1))


def demo_recording_path(w):
    """The file the fixture opened (not read back from the session)."""
    return w.demo_raw


def test_mark_spindle_by_drag_then_undo_redo(demo_window, qtbot):
    w, b = demo_window, demo_window.browser
    sp = w.session.spindles
    assert len(sp) == 0
    drag(qtbot, b, 5.0, 6.5, 1.0, 2.0)
    assert len(sp) == 1
    mark = sp[0]
    assert mark.onset == pytest.approx(5.0, abs=0.1)
    assert mark.duration == pytest.approx(1.5, abs=0.1)
    assert mark.channels == () and mark.status == "accepted" and mark.origin == "manual"
    assert b.selected_uid == mark.uid and b.n_drawn_spindles() == 1
    assert w.table.model.rowCount() == 1
    # a channel-specific mark: Shift-drag over rows 0..2
    drag(qtbot, b, 10.0, 11.0, 0.0, 2.0, Qt.KeyboardModifier.ShiftModifier)
    assert len(sp) == 2
    names = b.visible_names()
    assert sp[1].channels == tuple(names[0:3])
    # undo / redo through the Edit menu shortcuts
    w.activateWindow()
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(sp) == 1 and sp[0].uid == mark.uid
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(sp) == 0 and b.n_drawn_spindles() == 0
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert len(sp) == 1 and sp[0].onset == pytest.approx(mark.onset)
    assert w.table.model.rowCount() == 1
    # visibility by key, delete by key
    b.select_spindle(sp[0].uid)
    qtbot.keyClick(b, Qt.Key.Key_M)
    assert sp[0].visibility == "meg"
    qtbot.keyClick(b, Qt.Key.Key_Delete)
    assert len(sp) == 0


def test_move_and_resize_mark_by_drag(demo_window, qtbot):
    w, b = demo_window, demo_window.browser
    uid = b.mark_spindle(5.0, 1.0)
    sp = w.session.spindles
    drag(qtbot, b, 5.5, 7.5, 3.0, 3.0)           # body: move by 2 s
    assert sp.get(uid).onset == pytest.approx(7.0, abs=0.1)
    assert sp.get(uid).duration == pytest.approx(1.0, abs=0.02)
    drag(qtbot, b, 8.0, 8.5, 3.0, 3.0)           # right edge: resize
    assert sp.get(uid).onset == pytest.approx(7.0, abs=0.1)
    assert sp.get(uid).duration == pytest.approx(1.5, abs=0.1)
    assert len(sp) == 1


def test_stage_epoch_by_key(demo_window, qtbot):
    w, b = demo_window, demo_window.browser
    hyp = w.session.hypnogram
    before = list(hyp.stages)
    qtbot.keyClick(b, Qt.Key.Key_2)
    assert hyp.stages[0] == "N2"
    assert b.t0 == 30.0  # advanced to the next epoch
    qtbot.keyClick(b, Qt.Key.Key_R)
    assert hyp.stages[1] == "R" and b.t0 == 60.0
    qtbot.keyClick(b, Qt.Key.Key_0)
    assert hyp.stages[2] == "?"  # unscored stays unscored, never Wake
    assert hyp.stages[3:] == before[3:]
    assert w.session.dirty


def test_run_detection_and_accept_candidate(demo_window, qtbot):
    w, b = demo_window, demo_window.browser
    with qtbot.waitSignal(w.sigDetectionDone, timeout=120000) as blocker:
        w.run_detection("a7", "eeg", staged_only=False)
    uids = blocker.args[0]
    sp = w.session.spindles
    assert len(uids) > 0
    assert all(sp.get(u).status == "candidate" for u in uids)
    assert all(sp.get(u).origin == "a7" for u in uids)
    first = w.review.current_uid
    assert first == min(uids, key=lambda u: sp.get(u).onset)
    assert b.selected_uid == first and b.t0 <= sp.get(first).onset <= b.t1
    b.setFocus()
    qtbot.keyClick(b, Qt.Key.Key_A)
    assert sp.get(first).status == "accepted"
    # the demo has 26 spindles: detection finds several, so review moves on
    assert len(uids) > 1
    second = w.review.current_uid
    assert second != first and sp.get(second).status == "candidate"
    qtbot.keyClick(b, Qt.Key.Key_X)
    assert sp.get(second).status == "rejected"
    # review steps are undoable, last first
    w.undo()
    assert sp.get(second).status == "candidate"
    w.undo()
    assert sp.get(first).status == "candidate"


def test_save_and_reload_session(demo_window, qtbot, tmp_path):
    w, b = demo_window, demo_window.browser
    drag(qtbot, b, 3.0, 4.2, 0.0, 1.0, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(b, Qt.Key.Key_2)
    b.set_time(60.0)
    path = tmp_path / "night.spindlescope.json"
    assert w.save_session(path)
    assert not w.session.dirty
    assert (tmp_path / "night.spindles.tsv").exists()
    assert (tmp_path / "night.hypnogram.tsv").exists()
    saved_marks = [(s.onset, s.duration, s.channels, s.status) for s in w.session.spindles]
    saved_stages = list(w.session.hypnogram.stages)

    w2 = type(w)(w.settings)
    qtbot.addWidget(w2)
    assert w2.open_session(path)
    s2 = w2.session
    assert s2.recording.path == w.session.recording.path
    got = [(s.onset, s.duration, s.channels, s.status) for s in s2.spindles]
    assert len(got) == len(saved_marks) == 1
    for (o, d, c, st), (o2, d2, c2, st2) in zip(got, saved_marks):
        assert (o, d) == pytest.approx((o2, d2), abs=1e-3)
        assert (c, st) == (c2, st2)
    assert s2.hypnogram.stages == saved_stages
    assert w2.browser.t0 == 60.0  # the view is restored
    assert not s2.dirty
    w2.autosave.stop(clean=True)
    # Session.load works headless too
    s3 = Session.load(path)
    assert len(s3.spindles) == len(saved_marks)


def test_open_missing_file_shows_error_dialog(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    import gui.dialogs.common as dialogs

    assert not window.open_path(tmp_path / "nope.edf")
    box = dialogs._OPEN[-1]
    assert isinstance(box, QMessageBox)
    assert "does not exist" in box.informativeText()
    assert "Traceback" in box.detailedText()  # the details are folded away
    assert window.session.recording is None
    box.close()


def test_open_demo_from_the_menu_runs_on_a_worker(window, demo_recording, qtbot):
    window.open_demo()  # File → Open demo recording (cached: returns quickly)
    qtbot.waitUntil(lambda: window.session.recording is not None, timeout=60000)
    rec = window.session.recording
    assert rec.path == demo_recording.raw
    assert set(window.session.hypnogram.stages) <= {"W", "N1", "N2", "N3", "R"}
    assert rec.has("eeg") and rec.has("mag") and rec.has("grad")


def test_ctrl_z_undoes_stages_and_marks_in_order(demo_window, qtbot):
    w, b = demo_window, demo_window.browser
    hyp, sp = w.session.hypnogram, w.session.spindles
    before = list(hyp.stages)
    qtbot.keyClick(b, Qt.Key.Key_3)               # stage epoch 1, go to epoch 2
    uid = b.mark_spindle(40.0, 1.0)
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(sp) == 0 and hyp.stages[0] == "N3"
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert hyp.stages == before
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert hyp.stages[0] == "N3" and len(sp) == 0
    w.redo()
    assert sp.get(uid).onset == 40.0


# -- autosave and recovery (issue 14) ------------------------------------------------

def test_failed_open_keeps_the_autosave_of_the_recording_on_screen(
        demo_window, tmp_path):
    # item 2: the journal was closed before the new file was known to open
    w = demo_window
    saver = w.autosave.saver
    assert saver is not None
    bad = tmp_path / "truncated_raw.fif"
    bad.write_bytes(b"\x00\x00\x00\x01" * 10)
    assert not w.open_path(bad)
    assert w.autosave.saver is saver and w.autosave.folder is not None
    n = saver.n_writes
    w.browser.mark_spindle(40.0, 1.0)
    w.browser.stage_current_epoch("N3")
    assert saver.n_writes == n + 2
    from core.session.autosave import Autosaver

    got = Autosaver.recover(w.autosave.folder)
    assert [s.onset for s in got.spindles] == [40.0]
    assert got.hypnogram.stages[0] == "N3"


def test_untouched_demo_offers_nothing(window, demo_recording, gui_env):
    # item 6: the demo's own hypnogram is not work worth restoring
    from core.io.hypnograms import read_hypnogram

    hyp = read_hypnogram(demo_recording.hypnogram)
    window._open_recording(demo_recording.raw, hypnogram=hyp)
    folder = window.autosave.folder
    window.autosave.saver = None   # crash without an edit
    (folder / "session.lock").write_text('{"pid": 999999999}')
    window.autosave.folder = None
    window._open_recording(demo_recording.raw, hypnogram=hyp)
    assert gui_env["asked"] == []


def _crash_with_work(w, small_fif):
    w._open_recording(small_fif)
    w.browser.mark_spindle(12.0, 1.1, ("EEG002",))
    w.browser.stage_current_epoch("N2")
    folder = w.autosave.folder
    saver = w.autosave.saver
    saver.close(clean=False)  # the journal stays unclean, as after a kill
    w.autosave.saver = None
    w.autosave.folder = None
    (folder / "session.lock").write_text('{"pid": 999999999}')
    return folder


def test_declining_recovery_keeps_a_backup(qtbot, gui_env, small_fif, monkeypatch):
    import gui.dialogs.common
    from core.session.autosave import Autosaver
    from core.session.settings import Settings
    from gui.main_window import MainWindow

    w = MainWindow(Settings())
    qtbot.addWidget(w)
    folder = _crash_with_work(w, small_fif)
    monkeypatch.setattr(gui.dialogs.common, "ask", lambda *a, **k: False)
    w2 = MainWindow(Settings())
    qtbot.addWidget(w2)
    assert w2.open_path(small_fif)
    assert len(w2.session.spindles) == 0
    kept = list(folder.glob("kept-*"))
    assert len(kept) == 1
    got = Autosaver.recover(kept[0])
    assert [s.onset for s in got.spindles] == [12.0] and got.hypnogram.stages[0] == "N2"
    w2.autosave.stop(clean=True)


def test_damaged_journal_lines_are_counted_and_shown(qtbot, gui_env, small_fif):
    from core.session.settings import Settings
    from gui.main_window import MainWindow

    w = MainWindow(Settings())
    qtbot.addWidget(w)
    folder = _crash_with_work(w, small_fif)
    journal = max(folder.glob("journal-*.jsonl"))
    lines = journal.read_text().splitlines(keepends=True)
    lines.insert(1, '{"t":"st","i":[0],"v":["BOGUS"]}\n')
    lines.insert(2, 'garbage\n')
    journal.write_text("".join(lines))
    (folder / "snapshot.json").write_text('{"version": 2, "gen')  # half-written
    notices = []
    w2 = MainWindow(Settings())
    qtbot.addWidget(w2)
    w2.autosave.on_notice = notices.append
    assert w2.open_path(small_fif)
    assert gui_env["asked"] == ["Restore unsaved work?"]
    assert [s.onset for s in w2.session.spindles] == [12.0]
    assert w2.session.hypnogram.stages[0] == "N2"
    assert len(notices) == 1 and "3 damaged autosave entries" in notices[0]
    kept = list(folder.glob("kept-*"))
    assert len(kept) == 1 and (kept[0] / "snapshot.json").read_text() == \
        '{"version": 2, "gen'
    w2.autosave.stop(clean=True)


def test_autosave_off_is_said_in_the_status_bar_and_once_in_a_dialog(
        window, small_fif, monkeypatch):
    w = window
    w._open_recording(small_fif)
    saved = []
    monkeypatch.setattr(w, "save_session_as", lambda: saved.append(True))
    w.autosave.saver._fh.close()   # the journal cannot be written any more
    w.browser.mark_spindle(10.0, 1.0)
    w.browser.mark_spindle(20.0, 1.0)
    assert len(w.session.spindles) == 2          # editing goes on
    assert w.autosave_label.text() == "Autosave OFF"
    assert "Autosave is off" in w.statusBar().currentMessage()
    box = w._autosave_box
    assert box is not None and box.isVisible()
    from gui.dialogs import common as dialogs

    assert sum(b is box for b in dialogs._OPEN) == 1   # one dialog, not one per edit
    save = [b for b in box.buttons() if b.text().startswith("Save session as")]
    save[0].click()
    assert saved == [True]


def test_autosave_folder_unusable_does_not_block_opening(window, small_fif, gui_env):
    # the autosave root is a file: the recording opens, autosave says it is off
    (gui_env["cache"] / "autosave").write_text("not a folder")
    assert window.open_path(small_fif)
    assert window.session.recording is not None
    assert window.autosave.saver is None
    assert window.autosave_label.text() == "Autosave OFF"


def test_screenshot_with_crash_data_never_asks_nor_touches_it(demo_recording, tmp_path):
    # item 1: the recovery question opened modally in the off-screen render
    # and --screenshot hung forever; now it never asks and leaves the data
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from core.session.autosave import Autosaver
    from core.session.session import autosave_folder
    from core.scoring.spindles import Spindle
    from core.io.hypnograms import read_hypnogram

    folder = autosave_folder(demo_recording.raw)
    backup = tmp_path / "before"
    shutil.copytree(folder, backup)
    try:
        for p in folder.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        (folder / "recording.json").write_text(
            json.dumps({"recording": str(Path(demo_recording.raw).resolve())}))
        from core.scoring.spindles import SpindleSet

        sset, hyp = SpindleSet(), read_hypnogram(demo_recording.hypnogram)
        saver = Autosaver(folder, sset, hyp)
        sset.add(Spindle(33.0, 1.0))
        hyp.set_stage(1, "N3")
        saver._fh.close()   # killed: never closed cleanly
        (folder / "session.lock").write_text('{"pid": 999999999}')
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        out = tmp_path / "shot.png"
        env = {**os.environ, "SPINDLESCOPE_CONFIG_DIR": str(tmp_path / "cfg")}
        env.pop("QT_QPA_PLATFORM", None)
        repo = Path(__file__).resolve().parent.parent
        res = subprocess.run([sys.executable, str(repo / "main.py"), "--demo",
                              "--screenshot", str(out), "--size", "800x600"],
                             env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        assert out.stat().st_size > 10_000
        after = {p.name: p.read_bytes() for p in folder.iterdir()}
        assert after == before
        assert Autosaver.has_recovery(folder)
    finally:
        shutil.rmtree(folder)
        shutil.copytree(backup, folder)


def test_time_nan_and_bad_screenshot_path_are_messages(tmp_path, capsys, qapp):
    # item 11: --time nan ended in a traceback
    from gui.app import main as app_main

    for value in ("nan", "inf", "-5"):
        assert app_main(["--time", value, "--screenshot", str(tmp_path / "a.png")]) == 2
        err = capsys.readouterr().err
        assert "--time must be a finite number" in err
    # a folder as the screenshot file: said before anything is computed
    assert app_main(["--screenshot", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_import_of_marks_past_the_recording_is_refused(window, small_fif, tmp_path):
    # item 8: onsets past the end were imported without a word
    w = window
    w._open_recording(small_fif)
    dur = w.session.recording.duration
    p = tmp_path / "late.tsv"
    p.write_text(f"onset\tduration\n10\t1\n{dur + 100}\t1\n")
    from core.utils import SpindleScopeError

    with pytest.raises(SpindleScopeError, match="ends after the recording"):
        w.import_spindles(p)
    assert len(w.session.spindles) == 0


def test_os_errors_read_as_sentences_in_dialogs():
    from gui.dialogs.common import error_text

    text, details = error_text(PermissionError(13, "Permission denied", "/data/n.tsv"))
    assert text.startswith("Permission denied for '/data/n.tsv'") and "PermissionError" in details
    text, _ = error_text(IsADirectoryError(21, "Is a directory", "/data"))
    assert text == "'/data' is a folder where a file was expected."


def test_unit_fix_is_shown_and_reversible_from_the_view_menu(window, qtbot, tmp_path):
    """A recording whose EEG was written in µV as volts is rescaled at opening;
    View ▸ Rescale implausible units says so and undoes it on the drawn page."""
    import mne

    rng = np.random.default_rng(3)
    data = 20e-6 * rng.standard_normal((4, 3000))
    raw = mne.io.RawArray(data * 1e6, mne.create_info(["Fz", "Cz", "Pz", "Oz"], 100.0,
                                                      "eeg"), verbose="error")
    raw.save(tmp_path / "uv_raw.fif", verbose="error")
    b = window.browser
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        window._open_recording(tmp_path / "uv_raw.fif")
    act = window.act_unit_fix
    assert act.isEnabled() and act.isChecked()
    before = np.nanmax(np.abs(b._page.data))
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        act.trigger()                                   # undo the fix
    assert not act.isChecked() and not window.session.recording.unit_fix_applied
    after = np.nanmax(np.abs(b._page.data))
    assert after / before == pytest.approx(1e6, rel=1e-3)
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        act.trigger()                                   # and apply it again
    assert window.session.recording.unit_fix_applied
    assert np.nanmax(np.abs(b._page.data)) == pytest.approx(before, rel=1e-6)
