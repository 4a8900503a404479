"""Trace browser internals: peak decimation, stale pages, many marks, filters,
workers with Cancel, crash recovery, scorer comparison, screenshots."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from gui_fixtures import gui_env, small_fif, window  # noqa: F401
from PySide6.QtCore import Qt

from core.scoring.spindles import Spindle
from core.utils import Progress


def test_peak_decimation_keeps_extremes():
    from gui.traces.loader import peak_decimate

    rng = np.random.default_rng(1)
    times = np.arange(30_000) / 1000.0
    data = rng.standard_normal((3, times.size))
    data[1, 12_345] = 40.0  # a single-sample spike must survive
    for n_px in (997, 1000, 1500):
        t, d = peak_decimate(times, data, n_px)
        assert d.shape[1] <= 2 * n_px + 2 and t.size == d.shape[1]
        assert np.all(np.diff(t) >= 0) and t[0] == 0.0 and t[-1] <= times[-1]
        np.testing.assert_array_equal(d.max(1), data.max(1))
        np.testing.assert_array_equal(d.min(1), data.min(1))
    # short data pass through untouched
    t, d = peak_decimate(times[:100], data[:, :100], 1000)
    assert d is data[:, :100] or np.array_equal(d, data[:, :100])


def test_page_reads_only_visible_window(small_fif):
    from core.io.recording import open_recording
    from gui.traces.loader import PageRequest, compute_page

    rec = open_recording(small_fif)
    calls = []
    orig = rec.read_into   # one read per page, straight into a float32 buffer
    rec.read_into = lambda s0, s1, idx, out: (
        calls.append((s0, s1, list(idx), out.dtype)) or orig(s0, s1, idx, out))
    page = compute_page(rec, PageRequest(1, 60.0, 90.0, (0, 3), 500, highpass=0.3,
                                         lowpass=35.0, sigma_band=(11.0, 16.0)))
    (s0, s1, idx, dtype), = calls
    assert idx == [0, 3] and dtype == np.float32
    # 2 s of filter pad, rounded to whole pixels (about 30 s / 500 px)
    per = int(round((page.times[2] - page.times[0]) * rec.sfreq))
    assert np.ceil(30.0 * rec.sfreq / 500) <= per < 1.2 * np.ceil(30.0 * rec.sfreq / 500)
    assert int((60.0 - 2.0) * rec.sfreq) - per < s0 <= int((60.0 - 2.0) * rec.sfreq)
    assert int((90.0 + 2.0) * rec.sfreq) - per < s1 <= int((90.0 + 2.0) * rec.sfreq) + per
    assert page.data.shape == page.sigma.shape == (2, page.times.size)
    assert 60.0 <= page.times[0] and page.times[-1] < 90.0
    # the 13-Hz burst at 70 s shows in the sigma band, not before it
    burst = (page.times > 70.2) & (page.times < 70.8)
    quiet = (page.times > 62) & (page.times < 68)
    assert np.abs(page.sigma[0, burst]).max() > 5 * np.abs(page.sigma[0, quiet]).max()


def test_stale_requests_are_dropped(qtbot, small_fif):
    from core.io.recording import open_recording
    from gui.traces.loader import PageLoader, PageRequest

    rec = open_recording(small_fif)
    loader = PageLoader(sync_limit=0)  # force the worker path
    got = []
    loader.loaded.connect(lambda p: got.append(p.request.rid))
    with qtbot.waitSignal(loader.loaded, timeout=10000):
        for rid in range(1, 6):
            loader.request(rec, PageRequest(rid, 10.0 * rid, 10.0 * rid + 30, (0, 1, 2), 800))
    loader.wait()
    # the worker is done, so every signal it sent is queued: deliver them all
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()
    assert got == [5]  # only the latest reaches the screen


def test_thousands_of_spindles_do_not_slow_paging(window, small_fif, qtbot):
    w = window
    w._open_recording(small_fif)
    b = w.browser
    rng = np.random.default_rng(0)
    onsets = np.sort(rng.uniform(0, 295, 10_000))
    w.session.spindles.add([Spindle(float(o), 0.8, status="candidate", origin="a7")
                            for o in onsets])
    assert len(w.session.spindles) == 10_000
    times = []
    for k in range(9):
        tic = time.perf_counter()
        b.set_time(30.0 * k)
        times.append(time.perf_counter() - tic)
        n_vis = len(w.session.spindles.in_window(b.t0, b.t1))
        assert b.n_drawn_spindles() == n_vis
    # items are pooled: never more than the busiest page needed
    assert len(b._spindle_pool) < 3000
    assert np.median(times) < 0.5
    w.undo()
    assert len(w.session.spindles) == 0 and b.n_drawn_spindles() == 0


def test_keys_scale_channels_and_filters(window, small_fif, qtbot):
    w = window
    w._open_recording(small_fif)
    b = w.browser
    b.setFocus()
    eeg0 = b.scalings["eeg"]
    qtbot.keyClick(b, Qt.Key.Key_Plus)
    assert b.scalings["eeg"] == pytest.approx(eeg0 / 1.25)
    qtbot.keyClick(b, Qt.Key.Key_Equal)
    assert b.scalings["eeg"] == eeg0
    b.set_n_rows(5)
    assert b.visible_names() == ["EEG001", "EEG002", "EEG003", "EEG004", "EEG005"]
    qtbot.keyClick(b, Qt.Key.Key_Down)
    assert b.visible_names()[0] == "EEG002"
    qtbot.keyClick(b, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert b.visible_names()[0] == "MEG0011"  # EEG001-006, then MAG
    qtbot.keyClick(b, Qt.Key.Key_PageUp)
    assert b.n_rows == 10
    b.set_shown_groups(["mag", "grad"])
    b.first_row = 0
    b.refresh()
    assert all(n.startswith("MEG") for n in b.visible_names())
    assert "MAG" in b.legend.text() and "fT" in b.legend.text()
    with qtbot.waitSignal(b.sigPageDrawn):
        b.set_sigma_overlay(True)
    assert b._page.sigma is not None and b.sigma_traces.n_points() > 0
    with pytest.raises(Exception, match="high-pass"):
        b.set_filters(highpass=30.0, lowpass=10.0)


def test_worker_reports_progress_and_cancels(qtbot):
    from gui.workers import ProgressWorker

    closed = []
    gate = threading.Event()

    def slow():
        try:
            for i in range(1000):
                yield Progress(i, 1000, "step")
                if i == 5:   # held until the GUI thread has pressed Cancel
                    assert gate.wait(10)
            return "done"
        finally:
            closed.append(True)

    worker = ProgressWorker(slow)
    worker.REPORT_INTERVAL = 0.0     # every step reported
    seen = []

    def on_progress(p):
        seen.append(p.done)
        if p.done >= 5:
            worker.cancel()
            gate.set()
    worker.progress.connect(on_progress)
    with qtbot.waitSignal(worker.cancelled, timeout=10000):
        worker.start()
    # the generator stopped at the first step after Cancel, and was closed
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()
    assert closed == [True] and seen[:6] == list(range(6)) and max(seen) <= 6

    def fails():
        yield Progress(0, 1, "x")
        raise ValueError("broken input")

    worker = ProgressWorker(fails)
    with qtbot.waitSignal(worker.failed, timeout=10000) as blocker:
        worker.start()
    exc, details = blocker.args
    assert isinstance(exc, ValueError) and "broken input" in details


def test_crash_recovery_is_offered_and_restores(qtbot, gui_env, small_fif):
    from core.session.settings import Settings
    from gui.main_window import MainWindow

    w1 = MainWindow(Settings())
    qtbot.addWidget(w1)
    w1._open_recording(small_fif)
    assert w1.autosave.saver is not None
    w1.browser.mark_spindle(12.0, 1.1, ("EEG002",))
    w1.browser.stage_current_epoch("N2")
    folder = w1.autosave.folder
    # simulate a crash: the journal is never closed and the lock names a dead process
    w1.autosave.saver = None
    (folder / "session.lock").write_text('{"pid": 999999999}')

    from gui.dialogs.recovery import pending_recoveries

    pending = pending_recoveries()
    assert [str(f) for f, _ in pending] == [str(folder)]
    assert pending[0][1] == str(small_fif.resolve())

    w2 = MainWindow(Settings())
    qtbot.addWidget(w2)
    assert w2.open_path(pending[0][1])
    assert gui_env["asked"] == ["Restore unsaved work?"]
    sp = list(w2.session.spindles)
    assert [(s.onset, s.duration, s.channels) for s in sp] == [(12.0, 1.1, ("EEG002",))]
    assert w2.session.hypnogram.stages[0] == "N2"
    # a clean exit leaves nothing to recover
    w2.close()
    assert pending_recoveries() == []


def test_compare_with_other_scorer(window, small_fif, tmp_path, qtbot):
    from core.io.marks import write_spindles

    w = window
    w._open_recording(small_fif)
    b = w.browser
    for on in (20.0, 45.0, 70.0):
        b.mark_spindle(on, 1.0)
    theirs = tmp_path / "theirs.tsv"
    write_spindles([Spindle(20.1, 0.9), Spindle(45.0, 1.0), Spindle(150.0, 1.0)], theirs)
    summary = w.compare.compare_file(theirs)
    assert summary["matched"] == 2 and summary["F1"] == pytest.approx(2 / 3)
    # sample-wise kappa by hand: 3 s marked here, 2.9 s there, 1.9 s in both,
    # over 300 s -> po = 0.993, pe = 0.98053, kappa = 0.6405
    assert summary["kappa"] == pytest.approx(0.6405, abs=0.005)
    assert w.compare.list.count() == 2  # 70 s only mine, 150 s only theirs
    # the panel shows exactly what core computes, nothing of its own
    from core.scoring.evaluation import disagreements
    from core.io.marks import read_spindles

    core_summary, core_dis = disagreements(read_spindles(theirs),
                                           w.session.spindles.accepted(),
                                           w.session.recording.duration)
    assert w.compare.summary == core_summary == summary
    assert w.compare.disagreements == core_dis
    assert [w.compare.list.item(i).text() for i in range(2)] == [t for _, t in core_dis]
    assert w.session.results["compare"]["F1"] == pytest.approx(2 / 3)
    item = w.compare.list.item(1)
    w.compare._on_item_clicked(item)
    assert b.t0 <= 150.0 <= b.t1


def test_next_and_previous_pages_are_prefetched(window, small_fif, qtbot):
    w = window
    w._open_recording(small_fif)
    b = w.browser
    b.set_time(60.0)

    def settle():  # prefetching starts once the user pauses (80 ms)
        qtbot.waitUntil(lambda: not b._prefetch_timer.isActive(), timeout=5000)
        assert b.loader.wait(10000)

    settle()
    hits = b.loader.cache.hits
    for step in (b.page_forward, b.page_back, b.page_back):
        settle()
        with qtbot.waitSignal(b.sigPageDrawn, timeout=5000):
            step()
    assert b.loader.cache.hits == hits + 3 and b.t0 == 30.0
    # what is drawn is what a fresh computation gives
    from gui.traces.loader import compute_page

    fresh = compute_page(w.session.recording, b._page.request)
    np.testing.assert_allclose(fresh.data, b._page.data)


def test_prefetched_page_is_drawn_at_once_and_a_computed_one_painted_once(
        window, small_fif, qtbot, monkeypatch):  # noqa: F811
    """A prefetched page lands within the key press (no thread round trip);
    while a page is computed the plot keeps the old one (no paint of old
    traces at the new time), for at most PAINT_HOLD_MS."""
    import gui.traces.loader as loader_mod
    from gui.traces.browser import PAINT_HOLD_MS

    w = window
    w._open_recording(small_fif)
    b = w.browser
    b.loader.sync_limit = 0                  # every page goes to the worker
    qtbot.waitUntil(lambda: b._page is not None, timeout=5000)
    qtbot.waitUntil(lambda: not b._prefetch_timer.isActive(), timeout=5000)
    assert b.loader.wait(10000)
    drawn = []
    b.sigPageDrawn.connect(drawn.append)
    b.page_forward()                          # prefetched: drawn before returning
    assert len(drawn) == 1 and drawn[0].request.t0 == b.t0 == 30.0
    assert b.plot.updatesEnabled()

    gate = threading.Event()
    real = loader_mod.compute_page
    monkeypatch.setattr(loader_mod, "compute_page",
                        lambda *a, **kw: (gate.wait(10), real(*a, **kw))[1])
    b.set_time(120.0)                         # not cached: computed on the worker
    assert not b.plot.updatesEnabled()        # old traces are not repainted at 120 s
    gate.set()
    qtbot.waitUntil(lambda: len(drawn) == 2, timeout=5000)
    assert drawn[1].request.t0 == 120.0 and b.plot.updatesEnabled()

    gate.clear()
    b.set_time(200.0)
    assert not b.plot.updatesEnabled()
    t = time.perf_counter()
    qtbot.waitUntil(b.plot.updatesEnabled, timeout=5000)   # a slow page: released
    assert PAINT_HOLD_MS / 1000 * 0.8 <= time.perf_counter() - t < 3.0
    assert len(drawn) == 2                    # still computing
    gate.set()
    qtbot.waitUntil(lambda: len(drawn) == 3, timeout=5000)
    assert drawn[2].request.t0 == 200.0


def test_progress_dialog_cancel_stops_the_task(window, qtbot):
    from gui.workers import run_task

    done, cancelled = [], []

    def endless():
        i = 0
        while True:
            yield Progress(i, 10**6, f"step {i}")
            i += 1

    worker = run_task(window, "Endless", endless, done.append,
                      on_cancel=lambda: cancelled.append(True))
    seen = []
    worker.progress.connect(seen.append)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=5000)
    assert worker.dialog.maximum() == 10**6 and "step" in worker.dialog.labelText()
    from PySide6.QtWidgets import QPushButton

    button = worker.dialog.findChild(QPushButton)
    assert button.text() == "Cancel"
    with qtbot.waitSignal(worker.cancelled, timeout=5000):
        button.click()
    assert cancelled == [True] and done == []
    assert not worker.dialog.isVisible()


def test_about_lists_versions():
    from gui.dialogs.common import about_text, versions

    v = versions()
    for key in ("SpindleScope", "MNE", "Qt", "VTK", "PySide6"):
        assert key in v and v[key]
    assert v["Qt"].startswith("6.") and v["MNE"].startswith("1.")
    assert "VTK" in about_text()


def test_workspace_tabs_are_the_real_ones(window):
    from gui.resolution.resolution_tab import ResolutionTab
    from gui.sources.sources_tab import SourcesTab

    labels = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert labels == ["Traces", "Sources", "Resolution"]
    assert isinstance(window.tabs.widget(1), SourcesTab)
    assert isinstance(window.tabs.widget(2), ResolutionTab)
    assert window.tabs.widget(1) is window.sources_tab


def test_untouched_crashed_session_is_not_offered(qtbot, gui_env, small_fif):
    from core.session.settings import Settings
    from gui.main_window import MainWindow
    from gui.dialogs.recovery import pending_recoveries

    w = MainWindow(Settings())
    qtbot.addWidget(w)
    w._open_recording(small_fif)
    folder = w.autosave.folder
    w.autosave.saver = None  # crash before any edit
    (folder / "session.lock").write_text('{"pid": 999999999}')
    assert pending_recoveries() == []
    assert not w.autosave.offer(folder) and gui_env["asked"] == []


def test_unsaved_work_is_offered_for_saving(window, small_fif, gui_env, tmp_path):
    w = window
    w._open_recording(small_fif)
    w.browser.mark_spindle(10.0, 1.0)
    assert w.session.dirty
    gui_env["save_answers"].append("cancel")
    assert not w._open_recording(small_fif)           # cancel keeps the session
    assert len(w.session.spindles) == 1
    w.session.path = tmp_path / "kept.spindlescope.json"
    gui_env["save_answers"].append("save")
    assert w._open_recording(small_fif)               # saved, then reopened fresh
    assert (tmp_path / "kept.spindles.tsv").exists() and len(w.session.spindles) == 0
    assert gui_env["asked"].count("Unsaved changes") == 2


def test_real_dreams_psg_is_browsable(window, dreams_dir, qtbot):
    """Real data: the DREAMS excerpt-3 PSG (50 Hz, units written "UV")."""
    w = window
    assert w.open_path(dreams_dir / "excerpt3.edf")
    b = w.browser
    rec = w.session.recording
    assert rec.sfreq == 50.0 and rec.duration == 1800.0
    names = b.visible_names()
    assert names[:3] == rec.groups["eeg"][:3]  # EEG first, then EOG...
    page = b._page
    eeg = page.data[: len(rec.groups["eeg"])]
    # µV-range EEG after the unit repair (not 1e6 too large), band-passed
    amp = np.median(np.ptp(eeg, axis=1))
    assert 5e-6 < amp < 1e-3
    assert page.times[-1] < 30.0 and page.data.shape[1] <= 2 * page.request.n_px + 2
    with qtbot.waitSignal(b.sigPageDrawn, timeout=5000):
        b.set_time(900.0)
    assert b._page.request.t0 == 900.0
    assert w.hypnogram_lane._hyp.n_epochs == 60


def test_spindle_table_sorts_filters_and_jumps(window, small_fif, qtbot):
    w = window
    w._open_recording(small_fif)
    sp = w.session.spindles
    sp.add([Spindle(200.0, 0.5, status="candidate", origin="a7", scorer="det"),
            Spindle(20.0, 1.5, scorer="ab"),
            Spindle(120.0, 0.9, channels=("EEG003",), scorer="ab")])
    t = w.table
    assert t.model.rowCount() == 3 and t.proxy.rowCount() == 3
    onsets = [float(t.proxy.index(r, 0).data()) for r in range(3)]
    assert onsets == sorted(onsets)
    t.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # by duration
    assert [float(t.proxy.index(r, 1).data()) for r in range(3)] == [1.5, 0.9, 0.5]
    t.status.setCurrentText("candidate")
    assert t.proxy.rowCount() == 1
    t.status.setCurrentText("all")
    t.search.setText("EEG003")
    assert t.proxy.rowCount() == 1
    qtbot.waitUntil(lambda: t.count.text() == "1 / 3", timeout=2000)
    idx = t.proxy.index(0, 0)
    with qtbot.waitSignal(t.sigJump):
        t.view.clicked.emit(idx)
    b = w.browser
    assert b.t0 <= 120.0 <= b.t1 and sp.get(b.selected_uid).onset == 120.0


def test_screenshot_of_a_saved_session(window, small_fif, tmp_path, qapp):
    from gui.app import main

    window._open_recording(small_fif)
    window.browser.mark_spindle(25.0, 1.0)
    path = window.session.save(tmp_path / "s.spindlescope.json")
    out = tmp_path / "s.png"
    assert main([str(path), "--screenshot", str(out), "--time", "10"]) == 0
    assert out.stat().st_size > 10_000


# ---------------------------------------------------------------------------
# Every channel kind on its own scale, labels, stim ticks, NaN gaps (issue 13)
# ---------------------------------------------------------------------------

def _plot_image(browser):
    from test_gui_screenshot import image_array

    return image_array(browser.plot.grab())


def _row_band(browser, row, t0, t1, half=0.5):
    """Pixel box (y0, y1, x0, x1) of a row's band (± ``half`` spacing)."""
    a = plot_point_(browser, t0, row - half)
    b = plot_point_(browser, t1, row + half)
    return a.y(), b.y(), a.x(), b.x()


def plot_point_(browser, t, row):
    from gui_fixtures import plot_point

    return plot_point(browser, t, row)


def _colour_mask(arr, rgb, tol=60):
    return np.abs(arr.astype(int) - np.array(rgb)[None, None, :]).max(-1) <= tol


def _psg_fif(path, nan_span=None, eeg_sd=20e-6):
    """A Sleep-EDF-like PSG: 2 EEG, EOG, resp (a.u.), EMG, temperature, trigger."""
    import mne

    sf, n = 100.0, 6000
    rng = np.random.default_rng(5)
    t = np.arange(n) / sf
    names = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "Resp oro-nasal",
             "EMG submental", "Temp rectal", "Event marker"]
    data = np.array([
        eeg_sd * rng.standard_normal(n), eeg_sd * rng.standard_normal(n),
        60e-6 * rng.standard_normal(n),
        800.0 * np.sin(2 * np.pi * 0.25 * t),                 # arbitrary units
        8e-6 * rng.standard_normal(n),
        37.0 + 0.05 * np.sin(2 * np.pi * 0.01 * t),
        np.zeros(n)])
    for s in (5.0, 12.0, 21.0):
        data[6, int(s * sf):int(s * sf) + 5] = 1.0
    if nan_span is not None:
        data[1, int(nan_span[0] * sf):int(nan_span[1] * sf)] = np.nan
    info = mne.create_info(names, sf, "misc")
    mne.io.RawArray(data, info, verbose="error").save(path, verbose="error")
    return names


def test_psg_kinds_have_own_scales_ticks_and_labels(window, tmp_path, qtbot):
    names = _psg_fif(tmp_path / "psg_raw.fif")
    w = window
    w.session.settings.highpass = None
    w.session.settings.lowpass = None
    with qtbot.waitSignal(w.browser.sigPageDrawn, timeout=10000):
        assert w.open_path(tmp_path / "psg_raw.fif")
    b = w.browser
    rec = w.session.recording
    assert rec.ch_types == ["eeg", "eeg", "eog", "resp", "emg", "temperature", "stim"]
    # every kind its own scale and unit in the legend
    legend = b.legend.text()
    # (per division; EMG keeps its AASM band, its 100-Hz low-pass capped below
    # the 50-Hz Nyquist frequency; the general filters were turned off)
    for word in ("EEG 50 µV/div unfiltered", "EOG", "RESP", "EMG 50 µV/div 10–45 Hz",
                 "TEMP", "STIM events"):
        assert word in legend, legend
    assert b.scalings["resp"] > 100 and b.scalings["temp"] < 1   # not one "other" scale
    # every row labelled, top to bottom
    labels = b.row_labels()
    assert [lab.split("  [")[0] for lab in labels] == names
    arr = _plot_image(b)      # grab() renders the scene now
    for row, kind in enumerate(["eeg", "eeg", "eog", "resp", "emg", "temp"]):
        y0, y1, x0, x1 = _row_band(b, row, b.t0 + 3, b.t1 - 1)
        band = arr[max(0, y0 - 2):y1 + 2, x0:x1]
        hit = _colour_mask(band, b.pens[kind].color().getRgb()[:3])
        assert hit.any(), kind                   # drawn in its row...
        rows_hit = np.flatnonzero(hit.any(axis=1))
        # ...and within about one channel spacing (never covering the page)
        spacing = (y1 - y0)
        assert rows_hit.max() - rows_hit.min() <= 1.6 * spacing, kind
    # the trigger row: a few ticks, not a trace
    y0, y1, x0, x1 = _row_band(b, 6, b.t0 + 9, b.t1 - 1)   # right of the label
    ticks = (arr[y0:y1, x0:x1].max(-1) < 40).any(axis=0)
    assert 2 <= ticks.sum() <= 8          # events at 12 s and 21 s, 1-2 px each
    # each label is drawn (dark text pixels at the left edge of every row)
    for row in range(7):
        y0, y1, x0, _ = _row_band(b, row, b.t0, b.t0 + 1)
        assert (arr[y0:y1, x0:x0 + 40].max(-1) < 90).any(), row


def test_nan_stretch_blanks_only_its_channel(window, tmp_path, qtbot):
    _psg_fif(tmp_path / "gap_raw.fif", nan_span=(10.0, 14.0), eeg_sd=4e-6)
    w = window
    with qtbot.waitSignal(w.browser.sigPageDrawn, timeout=10000):
        assert w.open_path(tmp_path / "gap_raw.fif")
    b = w.browser
    page = b._page
    assert page.gap_rows == (1,)
    inside = (page.times > 10.2) & (page.times < 13.8)
    assert np.isnan(page.data[1][inside]).all()
    assert np.isfinite(page.data[0]).all() and np.isfinite(page.data[2]).all()
    assert "EEG Pz-Oz" in w.note_label.text() and "gaps" in w.note_label.text()
    arr = _plot_image(b)      # grab() renders the scene now
    eeg = b.pens["eeg"].color().getRgb()[:3]
    for row, blank in ((0, False), (1, True), (2, False)):
        y0, y1, x0, x1 = _row_band(b, row, 10.5, 13.5, half=0.12)
        kind = "eog" if row == 2 else "eeg"
        colour = b.pens[kind].color().getRgb()[:3] if row == 2 else eeg
        drawn = _colour_mask(arr[y0:y1, x0:x1], colour).any(axis=0).mean()
        if blank:
            assert drawn == 0.0
        else:
            assert drawn > 0.9
    # outside the stretch the channel is drawn as usual
    y0, y1, x0, x1 = _row_band(b, 1, 3.0, 9.5)
    assert _colour_mask(arr[y0:y1, x0:x1], eeg).any(axis=0).mean() > 0.9


def test_file_without_signals_is_offered_as_hypnogram(window, small_fif, tmp_path,
                                                      qtbot, monkeypatch):
    import edfio

    import gui.main_window as mw

    w = window
    with qtbot.waitSignal(w.browser.sigPageDrawn, timeout=10000):
        assert w.open_path(small_fif)
    n = w.session.hypnogram.n_epochs
    ann = [edfio.EdfAnnotation(i * 30.0, 30.0, "Sleep stage 2") for i in range(n)]
    edfio.Edf([], annotations=ann).write(tmp_path / "x-Hypnogram.edf")
    asked = []
    monkeypatch.setattr(mw, "ask_import_kind",
                        lambda parent, name, msg: asked.append(msg) or "hypnogram")
    assert w.open_path(tmp_path / "x-Hypnogram.edf")
    assert "no signals" in asked[0]
    assert w.session.recording.path == small_fif          # recording kept
    assert set(w.session.hypnogram.stages) == {"N2"}


def test_real_sleep_edf_psg_rows_labelled_and_typed(window, qtbot):
    from conftest import data_dir

    path = data_dir() / "formats" / "edf" / "short_psg.edf"
    if not path.is_file():
        pytest.skip("formats/edf/short_psg.edf absent")
    w = window
    with qtbot.waitSignal(w.browser.sigPageDrawn, timeout=10000):
        assert w.open_path(path)
    b = w.browser
    assert len(b.row_labels()) == 7
    assert [lab.split("  [")[1].rstrip("]") for lab in b.row_labels()] == \
        ["EEG", "EEG", "EOG", "RESP", "EMG", "TEMP", "STIM"]
    for word in ("RESP", "EMG", "TEMP", "STIM events"):
        assert word in b.legend.text()
