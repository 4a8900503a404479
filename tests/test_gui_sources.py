"""Acceptance tests of the source workspace tab (pytest-qt).

The demo analysis runs through the GUI on its first spindles (a worker thread
with progress); its numbers must equal those of ``main.py analyze`` on the
same spindles (run as a subprocess, in parallel). A run is cancelled midway;
30 movie frames play; a click on the cortex shows that source's time courses;
the EEG and MEG brain images are non-blank and differ. The pyvistaqt
(QOpenGLWidget) back end is checked in a subprocess on the X server of
pytest-xvfb, because this process runs Qt's offscreen platform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gui_fixtures import gui_env  # noqa: F401
from PySide6.QtCore import QThreadPool

REPO = Path(__file__).resolve().parent.parent
N_SPINDLES = 2


@pytest.fixture(scope="module")
def demo():
    from core.session.simulate import demo_paths

    return demo_paths()


@pytest.fixture(scope="module")
def cli_run(demo, tmp_path_factory):
    """``main.py analyze`` on the first spindles, started in the background."""
    folder = tmp_path_factory.mktemp("cli")
    cmd = [sys.executable, str(REPO / "main.py"), "analyze", str(demo.raw),
           "--spindles", str(demo.spindles), "--max-spindles", str(N_SPINDLES),
           "--hypnogram", str(demo.hypnogram),
           "--forward", str(demo.forward), "--out", str(folder / "out"),
           "--no-stc", "--no-report"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    yield proc, folder / "out" / "summary.json"
    if proc.poll() is None:
        proc.kill()


@pytest.fixture(scope="module")
def analysed(qapp, demo, cli_run, request):
    """A SourcesTab whose demo analysis (N_SPINDLES) ran through the worker."""
    from core.session.session import Session
    from gui.sources.sources_tab import SourcesTab, prepare_demo

    session = Session()
    prepare_demo(session, max_spindles=N_SPINDLES)
    tab = SourcesTab(session)
    tab.resize(1400, 900)
    tab.show()
    messages = []
    finished = []
    tab.sigRunFinished.connect(finished.append)
    tab.sigRunFailed.connect(lambda m: finished.append(RuntimeError(m)))
    tab.panel.show_inputs(tab.ws)
    tab.run()
    assert tab.running
    tab.worker.progress.connect(lambda p: messages.append(p.message))
    deadline = 300_000
    from pytestqt.qtbot import QtBot

    QtBot(request).waitUntil(lambda: bool(finished), timeout=deadline)
    assert not isinstance(finished[0], Exception), finished[0]
    yield tab
    assert tab.shutdown(60_000)
    tab.close()


def test_demo_run_matches_cli_summary(analysed, cli_run):
    tab = analysed
    proc, summary_path = cli_run
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    cli = json.loads(summary_path.read_text())
    assert cli["n_spindles"] == N_SPINDLES == len(tab.result.spindles)
    shown = tab.synchrony.table_values()
    gui = tab.result.summary()
    from core.sources.synchrony_figures import FIGURES

    # the GUI and the CLI call the same core function: the pooled figures,
    # nulls, intervals and p-values are identical for the same spindle set
    from gui.sources.synchrony_panels import ROWS

    assert {k for k, _ in ROWS} <= set(FIGURES) and len(ROWS) >= 16
    for key, _ in ROWS:
        assert shown[key] == pytest.approx(cli[key], rel=1e-9, abs=1e-12), key
    for key in FIGURES:
        assert gui[key] == pytest.approx(cli[key], rel=1e-9, abs=1e-12), key
        for suffix in ("_null", "_excess", "_p"):
            assert gui[key + suffix] == pytest.approx(cli[key + suffix], rel=1e-9,
                                                      abs=1e-12), key + suffix
        # resampled intervals re-sum thousands of terms: BLAS thread counts in
        # the GUI worker and the CLI process change the last bits (seen: 5e-10)
        np.testing.assert_allclose(gui[key + "_ci"], cli[key + "_ci"], rtol=1e-7,
                                   atol=1e-9, err_msg=key)
    assert cli["timecourse"] == gui["timecourse"] == "norm"
    row = [r for r in range(tab.synchrony.table.rowCount())
           if tab.synchrony.table.item(r, 0).text().startswith("EEG within")][0]
    assert tab.synchrony.table.item(row, 1).text().startswith(f"{cli['eeg_within_r']:.3f}")
    assert tab.synchrony.table.item(row, 2).text() == f"{cli['eeg_within_r_null']:.3f}"
    assert tab.synchrony.table.item(row, 5).text() == "0.64"
    assert "norm of the three" in tab.synchrony.signals.text()
    # the null is drawn on the bars and on the spectra
    nx, ny = tab.synchrony.null_marks.getData()
    assert ny[0] == pytest.approx(cli["eeg_within_r_null"])
    # the pairwise-correlation histograms are exactly core's (the report's too)
    from core.report.writers import pair_histograms

    hists = pair_histograms(tab.result.spindles)
    assert set(hists) == {"eeg", "meg", "meeg"}
    for mod, (edges, dens) in hists.items():
        hx, hy = tab.synchrony.hist_curves[mod].getData()
        np.testing.assert_array_equal(hx, edges)
        np.testing.assert_array_equal(hy, dens)
    x, y = tab.synchrony.null_curves["multitaper"].getData()
    assert len(x) > 3 and x.min() >= 10.0 - 1e-9 and x.max() <= 15.0 + 1e-9
    # per-spindle figures too, and the workspace stored the summary in the session
    for key in ("between_r", "coherence_mvdr"):
        np.testing.assert_allclose(np.array(gui[key + "_values"], float),
                                   np.array(cli[key + "_values"], float), rtol=1e-9)
    assert tab.session.results["sources"]["eeg_within_r"] == pytest.approx(
        cli["eeg_within_r"])
    # one spindle's figures
    tab.synchrony.selector.setCurrentIndex(2)
    assert tab.synchrony.table_values()["coherence_welch"] == pytest.approx(
        cli["coherence_welch_values"][1], rel=1e-9)
    tab.synchrony.selector.setCurrentIndex(0)
    # the worker is gone, the panel says so
    assert QThreadPool.globalInstance().waitForDone(5000)
    assert not tab.running and tab.panel.progress.value() == 100
    assert "2 spindles analysed" in tab.panel.status.text()


def test_results_kept_until_inputs_change(analysed, qtbot):
    tab = analysed
    result = tab.result
    tab.panel.snr.setValue(2.0)
    assert tab.apply_inputs()
    assert tab.ws.sources is None and tab.result is None
    assert tab.synchrony.table_values()["eeg_within_r"] is None
    tab.panel.snr.setValue(3.0)
    with qtbot.waitSignal(tab.sigRunFinished, timeout=1000):
        tab.run()  # cached: no worker
    assert tab.worker.done and tab.result is result
    assert "up to date" in tab.panel.status.text()


def test_play_30_movie_frames(analysed, qtbot):
    tab = analysed
    tab.controls.set_spindles(tab.result.spindles)
    sp = tab.result.spindles[0]
    frames = []
    tab.controls.sigFrameChanged.connect(frames.append)
    before = tab.views["meg"].image()
    tab.controls.start()
    qtbot.waitUntil(lambda: len(frames) >= 30, timeout=60_000)
    tab.controls.stop()
    assert not tab.controls.timer.isActive()
    assert frames[:30] == sorted(frames[:30]) and len(set(frames[:30])) == 30
    f = tab.controls.frame
    for mod in ("eeg", "meg"):
        np.testing.assert_allclose(tab.views[mod].values, sp.stcs[mod].data[:, f])
        # the surface scalars are the sources' values (nearest-source map)
        surf = tab.views[mod].surface
        idx = np.concatenate([h[2] for h in surf.hemis])
        vv = tab.views[mod].vertex_values()
        lo, hi = tab._clims[mod]
        assert tab.views[mod].clim == pytest.approx((lo, hi))  # the spindle's range
        assert hi == pytest.approx(np.percentile(sp.stcs[mod].data, 99.5))
        keep = ~np.isnan(vv)
        np.testing.assert_allclose(vv[keep], sp.stcs[mod].data[idx, f][keep])
    assert np.abs(tab.views["meg"].image().astype(int) - before).mean() > 0.05


def test_click_vertex_shows_time_courses(analysed, qtbot):
    from PySide6.QtCore import QPoint, Qt

    tab = analysed
    tab.controls.set_spindles(tab.result.spindles)
    tab.controls.spindle.setCurrentIndex(1)
    sp = tab.result.spindles[1]
    view = tab.views["eeg"]
    label = view.label
    with qtbot.waitSignal(view.sigVertexPicked, timeout=5000) as blocker:
        qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(
            label.width() // 2, label.height() // 2))
    source = blocker.args[0]
    assert tab.timecourse.source == source
    for mod in ("eeg", "meg", "meeg"):
        t, y = tab.timecourse.values(mod)
        np.testing.assert_allclose(y, sp.stcs[mod].data[source])
        np.testing.assert_allclose(t, sp.stcs[mod].times)
    # the pick lands on the source under the cursor: it projects back there
    x, yd = view.source_display_position(source)
    w, h = view.plotter.window_size
    assert abs(x - w / 2) < 0.1 * w and abs(yd - h / 2) < 0.1 * h


def test_brain_screenshots_non_blank_and_different(analysed):
    tab = analysed
    tab.controls.spindle.setCurrentIndex(0)
    tab.controls.set_frame(tab.controls.n_frames // 2)
    eeg, meg = tab.views["eeg"].image(), tab.views["meg"].image()
    assert eeg.shape == meg.shape and eeg.ndim == 3
    for img in (eeg, meg):
        assert img.std() > 10  # not blank
        assert (np.abs(img.astype(int) - 255).sum(axis=2) > 30).mean() > 0.1  # a brain
    assert np.abs(eeg.astype(int) - meg).mean() > 1.0
    # linked cameras: the same view of the same surface in both
    assert tab.views["eeg"].camera is tab.views["meg"].camera
    full = tab.grab().toImage()
    assert full.width() > 800


def test_display_maps_threshold_and_views(analysed):
    tab = analysed
    c = tab.controls
    c.display.setCurrentText("EEG–MEG correlation map")
    c.spindle.setCurrentIndex(c.spindle.count() - 1)  # mean over spindles
    np.testing.assert_allclose(tab.views["eeg"].values,
                               tab.result.mean_map("between_r_map"))
    c.display.setCurrentText("dSPM movie")
    c.spindle.setCurrentIndex(0)
    c.threshold.setValue(50.0)
    lo, hi = tab._clims["eeg"]
    vv = tab.views["eeg"].vertex_values()
    assert np.isnan(vv).any() and np.nanmin(vv) >= lo + 0.5 * (hi - lo) - 1e-12
    c.threshold.setValue(0.0)
    lateral = tab.views["eeg"].image()
    c.view.setCurrentText("dorsal")
    assert tab.views["meg"].view == "dorsal"  # linked
    assert np.abs(tab.views["eeg"].image().astype(int) - lateral).mean() > 1.0
    c.surface.setCurrentText("inflated")
    assert tab.views["eeg"].surface.surface == "inflated"
    c.surface.setCurrentText("pial")
    c.view.setCurrentText("lateral")
    c.third.setChecked(True)
    assert tab.views["meeg"].isVisible()
    np.testing.assert_allclose(tab.views["meeg"].values, tab.frame_values("meeg"))
    c.third.setChecked(False)


def test_colour_bars_linked_scale_and_maxima_path(analysed, tmp_path):
    """Both views show a colour bar with the inverse method's units and the
    view's range; the linked scale gives both one range; the snapshot holds
    the bars; the path is the analysis's cycle maxima of the spindle shown."""
    from PIL import Image
    from test_gui_colorbar import assert_colorbar_shown

    from core.sources.dynamics import cycle_maxima
    from gui.sources.max_path import cycle_frequency

    tab = analysed
    c = tab.controls
    c.display.setCurrentText("dSPM movie")
    c.spindle.setCurrentIndex(1)
    c.threshold.setValue(20.0)
    method = tab.result.config.inverse.method
    for mod in ("eeg", "meg"):
        view = tab.views[mod]
        assert_colorbar_shown(view, view.image())
        lo, hi = tab._clims[mod]
        assert view.colorbar.title.startswith(method)
        assert view.colorbar.threshold == pytest.approx(lo + 0.2 * (hi - lo))
    assert tab.views["eeg"].clim != tab.views["meg"].clim
    own = dict(tab._clims)
    c.linked.setChecked(True)
    assert tab.views["eeg"].clim == tab.views["meg"].clim == (
        min(own["eeg"][0], own["meg"][0]), max(own["eeg"][1], own["meg"][1]))
    assert_colorbar_shown(tab.views["meg"], tab.views["meg"].image())
    c.linked.setChecked(False)
    assert tab.views["eeg"].clim == pytest.approx(own["eeg"])
    c.threshold.setValue(0.0)
    snap = np.asarray(Image.open(tab.snapshot(tmp_path / "bars.png")))[..., :3]
    x = 0
    for view in tab.visible_views():
        w = view.image().shape[1]
        assert_colorbar_shown(view, snap[:, x:x + w])
        x += w
    # the path of the maximum: the analysis's maxima, cycle by cycle
    sp = tab.result.spindles[1]
    freq = cycle_frequency(tab.result.config)
    width = int(round(tab.result.sfreq / freq))
    for mod in ("eeg", "meg"):
        path = tab.paths[mod]
        mx = sp.maps[f"{mod}_maxima"]
        np.testing.assert_array_equal(path.maxima, mx)
        np.testing.assert_array_equal(
            path.maxima, cycle_maxima(sp.stcs[mod].data, tab.result.sfreq, freq))
        surf = tab.views[mod].surface
        np.testing.assert_allclose(path.positions, [
            surf.hemis[h][0][v] for h, v in map(surf.vertex_of_source, mx)])
        assert path.visible
    c.set_frame(2 * width + 1)
    assert tab.paths["meg"].cycle == 2
    assert tab.paths["meg"].current_source == int(sp.maps["meg_maxima"][2])
    c.display.setCurrentText("EEG–MEG correlation map")
    assert not tab.paths["eeg"].visible
    assert tab.views["eeg"].colorbar.title == "EEG–MEG correlation r"
    c.display.setCurrentText("dSPM movie")
    assert tab.paths["eeg"].visible


def test_exports(analysed, tmp_path):
    from PIL import Image

    tab = analysed
    tab.controls.spindle.setCurrentIndex(0)
    snap = tab.snapshot(tmp_path / "brains.png")
    img = np.asarray(Image.open(snap))
    assert img.shape[1] == sum(v.image().shape[1] for v in tab.visible_views())
    tab.controls.speed.setCurrentText("1×")  # 8 samples per frame at 200 Hz
    gif = tab.export_movie(tmp_path / "movie.gif", max_frames=6)
    assert Image.open(gif).n_frames == 6
    mp4 = tab.export_movie(tmp_path / "movie.mp4")  # the whole spindle
    n = tab.controls.n_frames
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(reader)
    assert sum(1 for _ in reader) == len(range(0, n, 8)) and meta["size"][0] > 100
    files = tab.synchrony.export(tmp_path / "sync")
    names = {f.name for f in files}
    assert {"synchrony_pooled.csv", "within_pooled.png", "coherence_pooled.svg"} <= names
    rows = (tmp_path / "sync" / "synchrony_pooled.csv").read_text().splitlines()
    vals = tab.synchrony.table_values()
    got = {r.split(",")[0]: r.split(",")[1] for r in rows[1:]}
    assert float(got["between_r"]) == vals["between_r"]
    assert "<svg" in (tmp_path / "sync" / "coherence_pooled.svg").read_text()[:500]


def test_cancel_midway(analysed, qtbot):
    tab = analysed
    tab.panel.method.setCurrentText("sLORETA")  # new inputs: no cached result
    seen = []
    tab.run()
    assert tab.running and tab.result is None
    tab.worker.progress.connect(lambda p: seen.append(p.message))
    qtbot.waitUntil(lambda: any(m.startswith("Inverse operator") for m in seen),
                    timeout=120_000)
    with qtbot.waitSignal(tab.sigRunCancelled, timeout=120_000):
        tab.cancel()
        assert "Cancelling" in tab.panel.status.text()
    assert QThreadPool.globalInstance().waitForDone(2000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert not any(m.startswith("Spindle") for m in seen)  # stopped early
    assert tab.result is None and tab.ws.sources is None
    assert not any(v.isVisible() for v in tab.views.values())
    assert tab.synchrony.table_values()["between_r"] is None
    assert tab.session.results["sources"]["method"] == "dSPM"  # the finished run's
    assert "Cancelled" in tab.panel.status.text()
    assert tab.panel.run.isEnabled() and not tab.panel.cancel.isEnabled()
    # responsive: the event loop runs a timer promptly
    with qtbot.waitSignal(tab.controls.timer.timeout, timeout=1000):
        tab.controls.timer.start(10)
    tab.controls.timer.stop()
    tab.panel.method.setCurrentText("dSPM")


def test_errors_are_shown_not_raised(qtbot):
    from core.session.session import Session
    from gui.sources.sources_tab import SourcesTab

    tab = SourcesTab(Session())
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.sigRunFailed, timeout=10_000) as blocker:
        tab.run()
    assert "Open a recording first" in blocker.args[0]
    assert "Open a recording first" in tab.panel.status.text()
    tab.panel.head.setCurrentIndex(1)  # forward file, none chosen
    tab.run()
    assert "forward-solution file" in tab.panel.status.text() and not tab.running


QT_SCRIPT = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget
app = QApplication([])
from gui.widgets.brain_view import BrainView, cortex_surface
surf = cortex_surface([np.arange(2562), np.arange(2562)], "fsaverage", "pial")
w = QWidget(); lay = QHBoxLayout(w)
a = BrainView(surf, "EEG"); b = BrainView(surf, "MEG", camera=a.camera)
a.link(b); b.link(a)
lay.addWidget(a); lay.addWidget(b); w.resize(800, 400); w.show()
for _ in range(5): app.processEvents()
rng = np.random.default_rng(0)
base = rng.random(5124)
t0 = time.perf_counter()
for i in range(30):
    a.set_values(np.roll(base, i)); b.set_values(np.roll(base, -i) ** 3)
    app.processEvents()
fps = 30 / (time.perf_counter() - t0)
ia, ib = a.image(), b.image()
x, y = a.source_display_position(int(np.argmax(base)))
picked = []
a.sigVertexPicked.connect(picked.append)
a.pick_display(x, y)
print(json.dumps({"backend": a.backend, "fps": fps, "std": [float(ia.std()), float(ib.std())],
                  "diff": float(np.abs(ia.astype(int) - ib).mean()), "picked": picked,
                  "same_camera": a.camera is b.camera, "n_vertices": surf.n_vertices}))
"""


def test_qt_interactor_views_under_x(tmp_path):
    """pyvistaqt's QtInteractor renders two linked views on an X server."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server (DISPLAY unset): run under pytest-xvfb")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    script = tmp_path / "qt_views.py"
    script.write_text(QT_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(REPO)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["backend"] == "qt" and out["same_camera"]
    assert out["n_vertices"] == 20484
    assert min(out["std"]) > 10 and out["diff"] > 1.0
    assert len(out["picked"]) == 1 and 0 <= out["picked"][0] < 5124
    assert out["fps"] > 1.0


def test_surface_of_a_subject_without_surface_files():
    """A subject's forward file without FreeSurfer surfaces: the source
    space's own white surface is drawn; sources map to their vertices."""
    from gui.widgets.brain_view import CortexSurface

    rr = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], float) * 0.01
    tris = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3], [1, 2, 4]])
    src = [{"rr": rr, "tris": tris}, {"rr": rr + [0.05, 0, 0], "tris": tris}]
    surf = CortexSurface([np.array([0, 4]), np.array([1])], subject="nobody",
                         surface="pial", src=src)
    assert surf.n_sources == 3 and surf.n_vertices == 10
    np.testing.assert_array_equal(surf.hemis[0][2], [0, 0, 0, 0, 1])  # nearest source
    np.testing.assert_array_equal(surf.hemis[1][2], [2] * 5)
    np.testing.assert_allclose(surf.hemis[0][0], rr * 1000)  # mm
    assert surf.vertex_of_source(1) == (0, 4) and surf.vertex_of_source(2) == (1, 1)
    with pytest.raises(FileNotFoundError, match="no source space"):
        CortexSurface([np.array([0])] * 2, subject="nobody")


TAB_SCRIPT = r"""
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
import mne
from core.session.session import Session
from core.sources.analysis import AnalysisConfig, AnalysisResult, SpindleSources
from gui.sources.sources_tab import SourcesTab

rng = np.random.default_rng(1)
verts = [np.arange(2562), np.arange(2562)]
spindles = []
for k in range(2):
    n = 60
    stcs = {m: mne.SourceEstimate(rng.random((5124, n)) * (3 if m == "eeg" else 1),
                                  [v.copy() for v in verts], tmin=10.0 * (k + 1),
                                  tstep=1 / 200, subject="fsaverage")
            for m in ("eeg", "meg", "meeg")}
    figs = {"eeg_within_r": 0.6, "meg_within_r": 0.1, "meeg_within_r": 0.2,
            "between_r": 0.05, "coherence_welch": 0.5, "coherence_mvdr": 0.4}
    maps = {"between_r_map": rng.random(5124), "coherence_welch_map": rng.random(5124),
            "coherence_mvdr_map": rng.random(5124)}
    f = np.arange(0.0, 61.0)
    spectra = {"welch_freqs": f, "welch_spectrum": rng.random(61),
               "mvdr_freqs": f, "mvdr_spectrum": rng.random(61)}
    sample = {m: rng.uniform(-1, 1, 500) for m in ("eeg", "meg", "meeg")}
    spindles.append(SpindleSources(k, 10.0 * (k + 1), 0.3, stcs, figs, maps, spectra,
                                   sample))
result = AnalysisResult(AnalysisConfig(), spindles, 200.0, verts, "fsaverage")
tab = SourcesTab(Session())
tab.resize(1300, 800)
tab.show()
QTest.qWaitForWindowExposed(tab)
tab._on_sources_changed(result)
app.processEvents()
frames = []
tab.controls.sigFrameChanged.connect(frames.append)
tab.controls.speed.setCurrentText("1×")
tab.controls.start()
while len(frames) < 30:
    app.processEvents()
tab.controls.stop()
views = tab.views
backend = views["eeg"].backend
ok_values = bool(np.allclose(views["meg"].values,
                             spindles[0].stcs["meg"].data[:, tab.controls.frame]))
eeg, meg = views["eeg"].image(), views["meg"].image()
inter = views["eeg"].plotter.interactor
c = QPoint(inter.width() // 2, inter.height() // 2)
QTest.mouseClick(inter, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
for _ in range(5):
    app.processEvents()
src = tab.timecourse.source
tc_ok = src is not None and bool(np.allclose(tab.timecourse.values("eeg")[1],
                                             spindles[0].stcs["eeg"].data[src]))
sys.path.insert(0, sys.argv[1] + "/tests")
from test_gui_colorbar import assert_colorbar_shown
from core.sources.dynamics import cycle_maxima
from gui.sources.max_path import cycle_frequency
bar_ok = True
try:
    assert_colorbar_shown(views["eeg"], eeg)
    assert_colorbar_shown(views["meg"], meg)
except AssertionError as exc:
    bar_ok = repr(exc)
tab.controls.linked.setChecked(True)
linked = [list(views["eeg"].clim), list(views["meg"].clim)]
freq = cycle_frequency(result.config)
mx = cycle_maxima(spindles[0].stcs["eeg"].data, 200.0, freq)
width = int(round(200.0 / freq))
path = tab.paths["eeg"]
path_ok = bool(np.array_equal(path.maxima, mx)) and path.current_source == int(
    mx[min(tab.controls.frame // width, len(mx) - 1)])
img = tab.grab().toImage()
print(json.dumps({"bar": bar_ok, "linked": linked, "path": path_ok,
                  "backend": backend, "frames": len(frames), "values": ok_values,
                  "std": [float(eeg.std()), float(meg.std())],
                  "diff": float(np.abs(eeg.astype(int) - meg).mean()),
                  "picked": src, "timecourse": tc_ok, "grab": [img.width(), img.height()]}))
tab.shutdown()
"""


def test_sources_tab_with_qt_interactor_under_x(tmp_path):
    """The tab itself with QtInteractor views: plays, picks by a real click."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server (DISPLAY unset): run under pytest-xvfb")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    script = tmp_path / "qt_tab.py"
    script.write_text(TAB_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(REPO)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["backend"] == "qt" and out["frames"] >= 30 and out["values"]
    assert min(out["std"]) > 10 and out["diff"] > 1.0
    assert out["picked"] is not None and out["timecourse"]
    assert out["grab"][0] >= 1000
    assert out["bar"] is True, out["bar"]  # colour bars in QtInteractor pictures
    assert out["linked"][0] == out["linked"][1]
    assert out["linked"][0][1] > 2.9  # the EEG's larger range (values up to 3)
    assert out["path"]
