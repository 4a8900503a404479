"""Scorer display defaults and the fast page path.

The page loader reduces each row towards pixel resolution through an
anti-alias filter before the display filter and computes in float32; these
tests hold it to a reference computed the slow way (scipy zero-phase
Butterworth on the full-rate float64 data, then per-pixel min/max), for
filtered EEG, raw stim codes and NaN gaps, and check the per-type AASM
bands, scales per division and what the settings remember.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import gui_env, window  # noqa: F401

SF = 1000.0
N_PX = 1500
PAGE = (40.0, 70.0)
#: Filtered rows match the reference within this fraction of the row's
#: peak-to-peak range, per pixel point. What is left is mostly peaks falling
#: between the samples of the reduced rate (250 Hz for a 35-Hz low-pass at
#: 1 kHz: picking every 4th sample of the exact reference alone gives 8 %);
#: the -27 dB CIC-2 anti-alias stage and float32 add little. 8 % of a
#: 30-pixel row is about 2 pixels.
TOL = 0.08
#: ... and the median point within 1 % of the range.
TOL_MEDIAN = 0.01


def _pink(rng, n, alpha=1.0):
    f = np.fft.rfftfreq(n, 1 / SF)
    spec = (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    spec[1:] /= f[1:] ** (alpha / 2)
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    return x / x.std()


def _write(path, nan_span=None):
    """1-kHz FIF: 3 EEG (pink noise + 13-Hz spindles + 60-Hz hum), EMG, stim."""
    import mne

    n = int(120 * SF)
    rng = np.random.default_rng(3)
    t = np.arange(n) / SF
    spindle = np.sin(2 * np.pi * 13 * t) * np.exp(-(((t % 15.0) - 7.5) / 0.4) ** 2)
    eeg = [20e-6 * _pink(rng, n) + 15e-6 * spindle + 5e-6 * np.sin(2 * np.pi * 60 * t)
           + 3e-6 * rng.standard_normal(n) for _ in range(3)]
    emg = 5e-6 * rng.standard_normal(n) + 40e-6 * np.sin(2 * np.pi * 1.0 * t)
    stim = np.zeros(n)
    for k, s in enumerate((45.0, 52.3, 52.3005, 61.0)):
        stim[int(s * SF)] = k + 1            # single-sample codes, one pair 0.5 ms apart
    data = np.array(eeg + [emg, stim])
    if nan_span is not None:
        data[1, int(nan_span[0] * SF):int(nan_span[1] * SF)] = np.nan
    info = mne.create_info(["C4", "C3", "O2", "EMG chin", "STI 014"], SF,
                           ["eeg", "eeg", "eeg", "emg", "stim"])
    mne.io.RawArray(data, info, verbose="error").save(path, verbose="error")
    return data


def _reference(data, band, fill_nan=False):
    """Full-rate float64 zero-phase filter, page mean removed, per-pixel min/max."""
    from scipy import signal

    from gui.traces.loader import FILTER_PAD, peak_decimate

    s0, s1 = int(PAGE[0] * SF), int(PAGE[1] * SF)
    pad = int(FILTER_PAD * SF)
    x = np.array(data[:, s0 - pad:s1 + pad], float)
    if fill_nan:
        bad = ~np.isfinite(x)
        x = np.where(bad, np.nanmean(np.where(bad, np.nan, x), axis=1, keepdims=True), x)
    if band is not None:
        sos = signal.butter(2, [band[0], band[1]], "bandpass", fs=SF, output="sos")
        x = signal.sosfiltfilt(sos, x - x[:, pad:-pad].mean(axis=1, keepdims=True), axis=1)
    x = x[:, pad:-pad]
    x = x - x.mean(axis=1, keepdims=True)
    return peak_decimate(np.arange(s0, s1) / SF, x, N_PX)


@pytest.fixture(scope="module")
def psg(tmp_path_factory):
    path = tmp_path_factory.mktemp("dd") / "psg_raw.fif"
    return path, _write(path)


def _page(rec, rows, **kw):
    from gui.traces.loader import PageRequest, compute_page

    return compute_page(rec, PageRequest(1, PAGE[0], PAGE[1], tuple(rows), N_PX, **kw))


def test_filtered_page_matches_full_rate_reference(psg):
    from core.io.recording import open_recording

    path, data = psg
    rec = open_recording(path)
    page = _page(rec, (0, 1, 2), highpass=0.3, lowpass=35.0)
    assert page.timings["reduction"] == 4           # filtered at 250 Hz, not 1 kHz
    assert page.data.dtype == np.float32
    t_ref, ref = _reference(data[:3], (0.3, 35.0))
    np.testing.assert_allclose(page.times, t_ref, atol=1e-9)   # same pixel grid
    assert page.data.shape == ref.shape == (3, 2 * N_PX)
    ptp = np.ptp(ref, axis=1, keepdims=True)
    err = np.abs(page.data - ref) / ptp
    assert err.max() < TOL, err.max()
    assert np.median(err) < TOL_MEDIAN
    # the 60-Hz hum is gone as in the reference, the 13-Hz spindle is kept
    unfilt = _reference(data[:3], None)[1]
    assert np.abs(page.data - unfilt).max() > 5 * np.abs(page.data - ref).max()


def test_stim_rows_are_untouched_codes(psg):
    from core.io.recording import open_recording

    path, data = psg
    rec = open_recording(path)
    page = _page(rec, (0, 4), highpass=0.3, lowpass=35.0, raw_rows=(1,))
    raw_codes = _reference_raw(data[4])
    np.testing.assert_array_equal(page.data[1], raw_codes)      # exact, no mean removed
    assert sorted(set(page.data[1][page.data[1] > 0])) == [1.0, 2.0, 4.0] or \
        sorted(set(page.data[1][page.data[1] > 0])) == [1.0, 3.0, 4.0]
    # two codes 0.5 ms apart share a pixel: its maximum survives
    assert page.data[1].max() == 4.0 and (page.data[1] > 0).sum() == 3


def _reference_raw(row):
    from gui.traces.loader import peak_decimate

    s0, s1 = int(PAGE[0] * SF), int(PAGE[1] * SF)
    return peak_decimate(np.arange(s0, s1) / SF, row[None, s0:s1], N_PX)[1][0]


def test_nan_gap_blanks_its_pixels_and_the_rest_matches(tmp_path):
    from core.io.recording import open_recording

    path = tmp_path / "gap_raw.fif"
    data = _write(path, nan_span=(50.0, 53.0))
    rec = open_recording(path)
    page = _page(rec, (0, 1), highpass=0.3, lowpass=35.0)
    assert page.gap_rows == (1,)
    t = page.times
    gap = np.isnan(page.data[1])
    # exactly the pixels the NaN stretch touches (both points of a pixel)
    assert gap[(t >= 50.05) & (t < 52.95)].all()
    assert not gap[(t < 49.9) | (t > 53.1)].any()
    assert not np.isnan(page.data[0]).any()
    _, ref = _reference(data[:2], (0.3, 35.0), fill_nan=True)
    ptp = np.nanmax(ref, axis=1) - np.nanmin(ref, axis=1)
    # away from the gap (1 s: the filters' settling), the row matches the reference
    far = (t < 49.0) | (t > 54.0)
    err = np.abs(page.data[1, far] - ref[1, far]) / ptp[1]
    assert err.max() < TOL, err.max()
    np.testing.assert_array_less(np.abs(page.data[0] - ref[0]) / ptp[0], TOL)


def test_each_row_gets_its_types_band(psg):
    """EEG 0.3-35 Hz and EMG 10-100 Hz on one page: the 1-Hz EMG sway goes."""
    from core.io.recording import open_recording

    path, data = psg
    rec = open_recording(path)
    page = _page(rec, (0, 3), row_filters=((0.3, 35.0), (10.0, 100.0)))
    _, ref_eeg = _reference(data[0:1], (0.3, 35.0))
    _, ref_emg = _reference(data[3:4], (10.0, 100.0))
    np.testing.assert_array_less(np.abs(page.data[0] - ref_eeg[0]) / np.ptp(ref_eeg), TOL)
    np.testing.assert_array_less(np.abs(page.data[1] - ref_emg[0]) / np.ptp(ref_emg), TOL)
    # the 40-µV 1-Hz sway is out of the EMG band: what is left is the 5-µV noise
    assert np.ptp(page.data[1]) < 50e-6 and np.ptp(_reference(data[3:4], None)[1]) > 80e-6


def test_lowpass_above_nyquist_is_capped():
    from scipy import signal

    from gui.traces.loader import NYQUIST_CAP, _sos

    sos = _sos("band", (10.0, 100.0), 200.0)   # EMG band on a 200-Hz channel
    _, h = signal.sosfreqz(sos.astype(float), worN=[20.0, 90.0, 99.0], fs=200.0)
    assert abs(h[0]) > 0.9 and abs(h[2]) < 0.5    # capped at 90 Hz, not dropped
    assert NYQUIST_CAP * 100 == pytest.approx(90.0)


def test_scorer_defaults_shown_overridable_and_remembered(window, psg, qtbot,  # noqa: F811
                                                          tmp_path):
    from core.session.settings import Settings
    from gui.traces.display_defaults import DisplayDefaultsDialog

    path, _ = psg
    w = window
    s = w.session.settings
    assert s.highpass == 0.3 and s.lowpass == 35.0 and s.display_filters["emg"] == (10, 100)
    with qtbot.waitSignal(w.browser.sigPageDrawn, timeout=10000):
        assert w.open_path(path)
    b = w.browser
    legend = b.legend.text()
    for word in ("EEG 50 µV/div 0.3–35 Hz", "EMG 50 µV/div 10–100 Hz", "STIM events (raw)"):
        assert word in legend, legend
    req = b._page.request
    kinds = [b._kind_of[i] for i in req.idx]
    assert req.row_filters[kinds.index("eeg")] == (0.3, 35.0)
    assert req.row_filters[kinds.index("emg")] == (10.0, 100.0)
    assert kinds.index("stim") in req.raw_rows
    # override EMG and the EEG scale from the dialog
    dlg = DisplayDefaultsDialog(b)
    eeg_scale, _, _ = dlg.rows["eeg"]
    _, emg_hp, emg_lp = dlg.rows["emg"]
    assert eeg_scale.value() == pytest.approx(50.0) and emg_hp.value() == 10.0
    assert "stim" not in dlg.rows
    eeg_scale.setValue(100.0)
    emg_hp.setValue(20.0)
    emg_lp.setValue(0.0)                          # off
    with qtbot.waitSignal(b.sigPageDrawn, timeout=10000):
        dlg.apply()
    assert b.scalings["eeg"] == pytest.approx(50e-6)     # half of 100 µV/div
    assert s.display_filters["emg"] == (20.0, None)
    assert b._page.request.row_filters[kinds.index("emg")] == (20.0, None)
    assert "EEG 100 µV/div" in b.legend.text() and "EMG 50 µV/div > 20 Hz" in b.legend.text()
    # an impossible band is refused with a message, nothing changed
    with pytest.raises(Exception, match="high-pass"):
        b.set_display_defaults({"emg": (100.0, 50.0, 40.0)})
    assert s.display_filters["emg"] == (20.0, None)
    # page length and scales are remembered across sessions
    b.set_duration(20.0)
    b.scale_by(2.0)
    saved = s.save(tmp_path / "settings.json")
    back = Settings.load(saved)
    assert back.page_duration == 20.0
    assert back.scalings["eeg"] == pytest.approx(25e-6)
    assert back.scalings["emg"] == pytest.approx(b.scalings["emg"])
    assert back.display_filters["emg"] == (20.0, None)
    assert back.display_filters["ecg"] == (0.3, 70.0)
