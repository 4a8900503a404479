"""The scorer's workstation in the GUI: montages, spectrogram lane, automatic
staging with its hypnodensity and proposals, hypnogram agreement."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from gui.traces.loader import peak_decimate
from tests.gui_fixtures import gui_env, window  # noqa: F401

NAMES = ["F3", "F4", "C3", "C4", "O1", "O2", "M1", "M2", "E1", "E2", "Chin"]
TYPES = ["eeg"] * 8 + ["eog", "eog", "emg"]
SF = 200.0


@pytest.fixture
def psg_fif(tmp_path):
    rng = np.random.default_rng(7)
    n = int(300 * SF)
    t = np.arange(n) / SF
    data = 10e-6 * rng.standard_normal((len(NAMES), n))
    data[6] += 30e-6 * np.sin(2 * np.pi * 0.7 * t)      # a slow wave on M1 only
    data[3, (t > 100) & (t < 160)] += 25e-6 * np.sin(2 * np.pi * 13 * t[(t > 100) & (t < 160)])
    raw = mne.io.RawArray(data, mne.create_info(NAMES, SF, TYPES), verbose="error")
    path = tmp_path / "psg_raw.fif"
    raw.save(path, verbose="error")
    return path


def _open(qtbot, window, path):  # noqa: F811
    window.settings.highpass = window.settings.lowpass = None   # raw traces
    with qtbot.waitSignal(window.browser.sigPageDrawn, timeout=20000):
        assert window.open_path(path)
    return window.session.recording


#: Pages are read and computed in float32: 10 pV on signals of tens of µV.
F32 = dict(rtol=1e-5, atol=1e-11)


def _expected(rec, page, combo):
    """Peak-decimated page of ``sum(w * channel)``, mean removed."""
    req = page.request
    s0, s1 = int(round(req.t0 * rec.sfreq)), int(round(req.t1 * rec.sfreq))
    x = sum(w * rec.get_samples(s0, s1, [rec.ch_names.index(n)])[0] for n, w in combo)
    x = x - x.mean()
    return peak_decimate(np.arange(s0, s1) / rec.sfreq, x[None], req.n_px)[1][0]


def test_switching_montages_changes_drawn_data(qtbot, window, psg_fif):  # noqa: F811
    rec = _open(qtbot, window, psg_fif)
    b, bar = window.browser, window.scorer.montage_bar
    names = [bar.combo.itemText(i) for i in range(bar.combo.count())]
    assert names[:2] == ["As recorded", "Sleep (AASM)"] and "Linked mastoids" in names
    # no choice made yet: a recording with the AASM derivations opens on them
    assert bar.current() == "Sleep (AASM)" and window.settings.montage == ""
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        bar.set_montage("As recorded")
    assert b.montage is None and window.settings.montage == "As recorded"
    c4 = _expected(rec, b._page, [("C4", 1.0)])
    np.testing.assert_allclose(b._page.data[b.visible_names().index("C4")], c4, **F32)
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        bar.set_montage("Sleep (AASM)")
    assert b.visible_names() == ["F4-M1", "F3-M2", "C4-M1", "C3-M2", "O2-M1", "O1-M2",
                                 "E1-M2", "E2-M2", "Chin EMG"]
    page = b._page
    row = b.visible_names().index("C4-M1")
    expect = _expected(rec, page, [("C4", 1.0), ("M1", -1.0)])
    np.testing.assert_allclose(page.data[row], expect, **F32)
    # the slow wave of M1 is in C4-M1 and not in C3-M2
    assert np.std(page.data[row]) > 1.3 * np.std(page.data[b.visible_names().index("C3-M2")])
    # what is drawn is that row, at the EEG gain, on its line
    poly = b.traces._polys[row][1]
    ys = np.array([poly.at(i).y() for i in range(poly.size())])
    gain = 0.5 / b.scalings["eeg"]
    np.testing.assert_allclose(ys, row - expect * gain, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(page.data[b.visible_names().index("E1-M2")],
                               _expected(rec, page, [("E1", 1.0), ("M2", -1.0)]),
                               **F32)
    assert window.settings.montage == "Sleep (AASM)"
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        bar.set_montage("Average reference")
    eeg = [n for n, t in zip(NAMES, TYPES) if t == "eeg"]
    combo = [(n, (1.0 if n == "C3" else 0.0) - 1.0 / len(eeg)) for n in eeg]
    np.testing.assert_allclose(b._page.data[b.visible_names().index("C3-avg")],
                               _expected(rec, b._page, combo), **F32)
    # a user montage, saved in the settings
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        bar.add_user_montage("Mine", ["O2-(M1+M2)", "C4"])
    assert b.visible_names() == ["O2-(M1+M2)", "C4"]
    np.testing.assert_allclose(b._page.data[0], _expected(
        rec, b._page, [("O2", 1.0), ("M1", -0.5), ("M2", -0.5)]), **F32)
    assert window.settings.user_montages == {"Mine": ["O2-(M1+M2)", "C4"]}
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        bar.set_montage("As recorded")
    assert b.visible_names()[:3] == ["F3", "F4", "C3"] and b.montage is None


def test_spectrogram_lane_equals_mne_multitaper(qtbot, window, psg_fif, tmp_path,  # noqa: F811
                                                 monkeypatch):
    from mne.time_frequency import psd_array_multitaper

    monkeypatch.setenv("SPINDLESCOPE_CACHE_DIR", str(tmp_path / "cache"))

    rec = _open(qtbot, window, psg_fif)
    tools = window.scorer
    worker = tools.run_spectrogram("C4-M1")
    with qtbot.waitSignal(worker.finished, timeout=60000):
        pass
    lane = tools.spectrogram_lane
    x = (rec.get_samples(0, rec.n_times, [3])[0] - rec.get_samples(0, rec.n_times, [6])[0])
    segs = x[: 10 * 6000].reshape(10, 6000)
    psd, freqs = psd_array_multitaper(segs, SF, fmin=0.5, fmax=25.0, bandwidth=1.0,
                                      adaptive=False, normalization="full", verbose="error")
    np.testing.assert_allclose(lane.image.image, 10 * np.log10(psd * 1e12), rtol=1e-9)
    # sigma trace: the 13-Hz stretch (100-160 s: windows 3-5) is highest
    sig = lane.sigma.getData()[1]
    assert set(np.argsort(sig)[-2:]) <= {3, 4, 5}
    # clicking the lane jumps there
    lane.resize(1000, 110)
    scene = lane.cvb.mapViewToScene(QPointF(200.0, 0.6))
    with qtbot.waitSignal(window.browser.sigWindowChanged, timeout=5000):
        qtbot.mouseClick(lane.viewport(), Qt.MouseButton.LeftButton,
                         pos=lane.mapFromScene(scene))
    b = window.browser
    assert b.t0 == pytest.approx(200.0 - b.duration / 2, abs=3.0)
    # opened again, the lane comes back from the cache without computing
    lane.clear_spectrogram()
    assert len(list((tmp_path / "cache" / "spectrograms").glob("*.npz"))) == 1
    assert tools.show_cached_spectrogram(rec, "C4-M1") is not None
    np.testing.assert_allclose(lane.image.image, 10 * np.log10(psd * 1e12), rtol=1e-9)


def test_staging_sleep_edf_fills_unscored_and_shows_probabilities(
        qtbot, window, shared_data):  # noqa: F811
    from core.detection.autostage import PROBA_STAGES
    from gui.traces.hypnodensity_lane import PROPOSED_ALPHA, STACK
    from gui.traces.overview_bar import STAGE_COLORS

    path = shared_data / "formats" / "edf" / "short_psg.edf"
    if not path.exists():
        pytest.skip("short_psg.edf absent")
    window.open_path(path)
    b, tools = window.browser, window.scorer
    hyp = window.session.hypnogram
    assert hyp.n_epochs == 10 and set(hyp.stages) == {"?"}
    b.set_time(60.0)
    qtbot.keyClick(b, Qt.Key.Key_3)            # the scorer scores epoch 3 as N3
    assert hyp.stages[2] == "N3"
    assert tools.panel.values() == ("EEG Fpz-Cz", "EOG horizontal", "Chin EMG")
    worker = tools.run_staging(*tools.panel.values())
    with qtbot.waitSignal(worker.finished, timeout=240000):
        pass
    res = tools.proposals.result
    assert res.n_epochs == 10 and res.proba.shape == (10, 5)
    assert hyp.stages == ["?", "?", "N3"] + ["?"] * 7     # proposals only, nothing written
    np.testing.assert_array_equal(tools.proposals.open_epochs(hyp),
                                  [0, 1, 3, 4, 5, 6, 7, 8, 9])
    # the hypnodensity: each epoch's column split in proportion to its probabilities
    img = tools.hypnodensity_lane.density.image
    assert img.shape == (10, 100, 4)
    for i in range(10):
        for s in STACK:
            px = np.all(img[i, :, :3] == STAGE_COLORS[s], axis=1).sum()
            assert abs(px - 100 * res.proba[i, PROBA_STAGES.index(s)]) <= 1.01
    # the strip: scorer's epoch solid, proposals pale
    strip = tools.hypnodensity_lane.strip_rgba
    assert tuple(strip[2, 0]) == STAGE_COLORS["N3"] + (255,)
    for i in (0, 1, 3, 9):
        assert tuple(strip[i, 0]) == STAGE_COLORS[res.stages[i]] + (PROPOSED_ALPHA,)
    overview = window.overview.stage_image.image
    assert overview.shape == (10, 2, 4) and overview[0, 0, 3] == 110 and overview[2, 0, 3] == 255
    assert "Epoch" in tools.panel.epoch_label.text()
    # Y accepts the current epoch's proposal and moves on; a scored epoch is kept
    b.set_time(60.0)
    window.activateWindow()   # the progress dialog had the focus
    qtbot.waitUntil(lambda: b.hasFocus(), timeout=5000)
    qtbot.keyClick(b, Qt.Key.Key_Y)
    assert hyp.stages[2] == "N3" and b.current_epoch() == 3
    qtbot.keyClick(b, Qt.Key.Key_Y)
    assert hyp.stages[3] == res.stages[3] and b.current_epoch() == 4
    # Shift+Y accepts all: one undoable step
    qtbot.keyClick(b, Qt.Key.Key_Y, Qt.KeyboardModifier.ShiftModifier)
    expect = list(res.stages)
    expect[2] = "N3"
    assert hyp.stages == expect
    assert tools.panel.accept_all.isEnabled() is False
    qtbot.keyClick(b, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert hyp.stages[3] == res.stages[3] and hyp.stages[0] == "?" and hyp.stages[9] == "?"
    # agreement with the classifier in the compare panel
    agr = tools.compare_with_proposals()
    assert agr.n_epochs == 2 and agr.accuracy == pytest.approx(
        (res.stages[2] == "N3") / 2 + 0.5)
    assert "accuracy" in window.compare.summary


def test_compare_panel_hypnogram_agreement(qtbot, window, psg_fif, tmp_path):  # noqa: F811
    from core.scoring.staging import Hypnogram
    from core.io.hypnograms import write_hypnogram

    _open(qtbot, window, psg_fif)
    hyp = window.session.hypnogram
    mine = ["W", "N1", "N2", "N2", "N3", "N3", "R", "R", "N2", "W"]
    hyp.set_stages(mine, 0)
    theirs = ["W", "N2", "N2", "N2", "N3", "N2", "R", "W", "N2", "?"]
    write_hypnogram(Hypnogram(theirs), tmp_path / "theirs.tsv")
    agr = window.scorer.compare_hypnogram_file(tmp_path / "theirs.tsv")
    # by hand over 9 epochs: agree on 0, 2, 3, 4, 6, 8 -> 6/9
    assert agr.n_epochs == 9 and agr.accuracy == pytest.approx(6 / 9)
    s = window.compare.summary
    assert s["accuracy"] == pytest.approx(6 / 9)
    assert s["F1 N2"] == pytest.approx(2 * 3 / (6 + 0 + 2))   # TP 3, FP 0, FN 2 (1, 5)
    assert [t for t, _ in window.compare.disagreements] == [30.0, 150.0, 210.0]
    assert "confusion" in window.compare.label.text()
