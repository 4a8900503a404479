"""Acceptance tests of the resolution tab (pytest-qt).

A resolution study of MNE and dSPM with EEG+MEG and MEG runs on the worker;
the map, histogram and table show the study's numbers; a difference map is
the contrast of two metric maps; a click shows a source's PSF and CTF, and
MNE's are equal (its resolution matrix is symmetric).
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import gui_env  # noqa: F401
from PySide6.QtCore import QThreadPool, Qt


@pytest.fixture(scope="module")
def computed(qapp, request):
    from pytestqt.qtbot import QtBot

    from core.session.session import Session
    from gui.resolution.resolution_tab import ResolutionTab
    from gui.sources.sources_tab import prepare_demo

    session = Session()
    prepare_demo(session, max_spindles=2)
    tab = ResolutionTab(session)
    tab.resize(1300, 850)
    tab.show()
    for i in range(tab.methods.count()):
        it = tab.methods.item(i)
        it.setCheckState(Qt.CheckState.Checked if it.text() in ("MNE", "dSPM")
                         else Qt.CheckState.Unchecked)
    for i in range(tab.sensors.count()):
        it = tab.sensors.item(i)
        it.setCheckState(Qt.CheckState.Checked if it.data(Qt.ItemDataRole.UserRole)
                         in ("meeg", "meg") else Qt.CheckState.Unchecked)
    done = []
    tab.computed.connect(done.append)
    tab.failed.connect(lambda m: done.append(RuntimeError(m)))
    tab.compute()
    assert tab.running
    QtBot(request).waitUntil(lambda: bool(done), timeout=300_000)
    assert not isinstance(done[0], Exception), done[0]
    yield tab
    assert tab.shutdown(60_000)
    QtBot(request).wait(10)  # deliver queued results (ignored by closed views)
    tab.close()


def test_compute_resolution_map(computed):
    tab = computed
    res = tab.results
    assert sorted(res.keys) == sorted([("MNE", "meeg"), ("dSPM", "meeg"),
                                       ("MNE", "meg"), ("dSPM", "meg")])
    assert QThreadPool.globalInstance().waitForDone(5000)
    assert tab.progress.value() == 100 and not tab.running
    # PSF peak localisation error of MNE with EEG+MEG on the map and histogram
    tab.method.setCurrentText("MNE")
    tab.sensor.setCurrentIndex(tab.sensor.findData("meeg"))
    tab.function.setCurrentText("PSF")
    tab.metric_box.setCurrentIndex(tab.metric_box.findData("peak_err"))
    want = res.get("MNE", "meeg", "psf_peak_err")
    np.testing.assert_allclose(tab.map_view.values, want)
    x, counts = tab.hist_curve.getData()
    assert counts.sum() == np.isfinite(want).sum() == res.n_sources
    img = tab.map_view.image()
    assert img.std() > 10
    # the colour bar: the metric, its unit (cm) and the map's range
    from test_gui_colorbar import assert_colorbar_shown

    assert_colorbar_shown(tab.map_view, img)
    assert tab.map_view.colorbar.title == "peak localisation error (cm)"
    # the summary table holds the study's medians
    rows = {(tab.table.item(r, 0).text(), tab.table.item(r, 1).text(),
             tab.table.item(r, 2).text()): tab.table.item(r, 3).data(
                 Qt.ItemDataRole.UserRole) for r in range(tab.table.rowCount())}
    assert rows[("dSPM", "MEG", "ctf_sd_ext")] == pytest.approx(
        np.median(res.get("dSPM", "meg", "ctf_sd_ext")))
    # the stored summary is JSON-ready
    assert tab.session.results["resolution"][0]["method"] in ("MNE", "dSPM")
    # EEG+MEG has smaller spatial deviation than MEG alone on average
    assert res.get("MNE", "meeg", "psf_sd_ext").mean() < res.get(
        "MNE", "meg", "psf_sd_ext").mean()


def test_difference_map(computed):
    tab = computed
    res = tab.results
    tab.metric_box.setCurrentIndex(tab.metric_box.findData("sd_ext"))
    tab.function.setCurrentText("CTF")
    tab.contrast.setCurrentText("MNE:meeg-meg")
    want = res.get("MNE", "meeg", "ctf_sd_ext") - res.get("MNE", "meg", "ctf_sd_ext")
    np.testing.assert_allclose(tab.map_view.values, want)
    lo, hi = tab.map_view.clim
    assert lo == pytest.approx(-hi)  # symmetric colour range for differences
    assert tab.map_view.colorbar.title == "spatial deviation difference (cm)"
    assert tab.map_view.colorbar.range == pytest.approx((lo, hi))
    tab.contrast.setCurrentText("meeg:dSPM-MNE")
    np.testing.assert_allclose(tab.map_view.values, res.contrast(
        "ctf_sd_ext", ("dSPM", "meeg"), ("MNE", "meeg")))
    tab.contrast.setCurrentIndex(0)


def test_click_source_shows_psf_and_ctf(computed, qtbot):
    from PySide6.QtCore import QPoint

    tab = computed
    tab.method.setCurrentText("MNE")
    tab.sensor.setCurrentIndex(tab.sensor.findData("meg"))
    tab.function.setCurrentText("PSF")
    label = tab.map_view.label
    with qtbot.waitSignal(tab.sigFunctionShown, timeout=120_000) as blocker:
        qtbot.mouseClick(label, Qt.MouseButton.LeftButton,
                         pos=QPoint(label.width() // 2, label.height() // 2))
    source = blocker.args[0]
    R = tab.ws.resolution_matrix("MNE", "meg", 3.0)
    psf = np.abs(R.get_psf(source, norm=True)[:, 0])
    np.testing.assert_allclose(tab.func_view.values, psf)
    assert tab.func_view.values.max() == pytest.approx(1.0)
    before = tab.func_view.image()
    from test_gui_colorbar import assert_colorbar_shown

    assert_colorbar_shown(tab.func_view, before)  # 0..1, threshold 0.05
    assert tab.func_view.colorbar.title == "|PSF| / max (ratio)\ngrey < 0.05"
    with qtbot.waitSignal(tab.sigFunctionShown, timeout=60_000):
        tab.function.setCurrentText("CTF")
    ctf = np.abs(R.get_ctf(source, norm=True)[:, 0])
    np.testing.assert_allclose(tab.func_view.values, ctf)
    np.testing.assert_allclose(ctf, psf, atol=1e-10)  # MNE: R is symmetric
    with qtbot.waitSignal(tab.sigFunctionShown, timeout=120_000):
        tab.method.setCurrentText("dSPM")
    R2 = tab.ws.resolution_matrix("dSPM", "meg", 3.0)
    np.testing.assert_allclose(tab.func_view.values,
                               np.abs(R2.get_ctf(source, norm=True)[:, 0]))
    # dSPM's CTFs are MNE's rescaled: same shape once normalised
    np.testing.assert_allclose(tab.func_view.values, ctf, atol=1e-8)
    assert tab.map_view.image().std() > 10 and before.std() > 10


def test_cached_study_is_not_recomputed(computed, qtbot):
    tab = computed
    first = tab.results
    with qtbot.waitSignal(tab.computed, timeout=2000) as blocker:
        tab.compute()
    assert blocker.args[0] is first and not tab.running


def test_empty_selection_is_a_clear_message(qtbot):
    from core.session.session import Session
    from gui.resolution.resolution_tab import ResolutionTab

    tab = ResolutionTab(Session())
    qtbot.addWidget(tab)
    for i in range(tab.methods.count()):
        tab.methods.item(i).setCheckState(Qt.CheckState.Unchecked)
    tab.compute()
    assert "at least one method" in tab.status.text() and not tab.running
    tab.methods.item(0).setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(tab.failed, timeout=10_000) as blocker:
        tab.compute()
    assert "Open a recording first" in blocker.args[0]
