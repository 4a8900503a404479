"""core.io.montage: derivations found from names, applied per page, user montages."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from core.io.montage import (PRESETS, available_montages, compile_for, compile_montage,
                          default_rows, single_row, validate_user_montages)
from core.io.recording import Recording
from core.utils import SpindleScopeError

NAMES = ["EEG F3-REF", "EEG F4-REF", "C3", "C4", "Cz", "O1", "O2", "A1", "A2",
         "LOC", "ROC", "EMG Chin", "ECG"]
TYPES = ["eeg"] * 9 + ["eog", "eog", "emg", "ecg"]


@pytest.fixture
def psg():
    rng = np.random.default_rng(3)
    info = mne.create_info(NAMES, 200.0, TYPES)
    data = 1e-5 * rng.standard_normal((len(NAMES), 200 * 60))
    t = np.arange(200 * 60) / 200.0
    burst = (t >= 20) & (t < 21.5)   # a 13-Hz spindle on C4 only
    data[3, burst] += 60e-6 * np.sin(2 * np.pi * 13 * t[burst]) * np.hanning(burst.sum())
    return Recording(mne.io.RawArray(data, info, verbose="error"))


def col(rec, name):
    return rec.get_samples(1000, 3000, [rec.ch_names.index(name)])[0]


def test_aasm_derivations_and_backups_found_from_names(psg):
    m = compile_for(psg, "Sleep (AASM)")
    assert m.names == ("F4-M1", "F3-M2", "C4-M1", "C3-M2", "O2-M1", "O1-M2",
                       "E1-M2", "E2-M2", "Chin EMG")
    assert m.groups[-3:] == ("eog", "eog", "other")
    rows = list(range(len(m)))
    data = m.read_rows(psg, 1000, 3000, rows)
    np.testing.assert_allclose(data[0], col(psg, "EEG F4-REF") - col(psg, "A1"))
    np.testing.assert_allclose(data[3], col(psg, "C3") - col(psg, "A2"))
    np.testing.assert_allclose(data[6], col(psg, "LOC") - col(psg, "A2"))
    np.testing.assert_allclose(data[8], col(psg, "EMG Chin"))
    assert default_rows(psg.ch_names, psg.ch_types) == {
        "eeg": "C4-M1", "eog": "E1-M2", "emg": "Chin EMG"}


def test_reference_schemes_apply_per_page(psg):
    eeg = [n for n, t in zip(NAMES, TYPES) if t == "eeg"]
    X = np.array([col(psg, n) for n in eeg])
    avg = compile_for(psg, "Average reference")
    np.testing.assert_allclose(avg.read_rows(psg, 1000, 3000, range(len(avg))),
                               X - X.mean(0), atol=1e-18)
    # only the page's rows are read: two rows of the average need all EEG
    read, mat = avg.rows_for([2, 3])
    assert len(read) == len(eeg) and mat.shape == (2, len(eeg))
    linked = compile_for(psg, "Linked mastoids")
    k = linked.names.index("Cz-M1M2")
    np.testing.assert_allclose(linked.read_rows(psg, 1000, 3000, [k])[0],
                               col(psg, "Cz") - (col(psg, "A1") + col(psg, "A2")) / 2)
    contra = compile_for(psg, "Contralateral mastoid")
    assert "C3-M2" in contra.names and "C4-M1" in contra.names and "Cz-M1M2" in contra.names
    k = contra.names.index("O1-M2")
    np.testing.assert_allclose(contra.read_rows(psg, 1000, 3000, [k])[0],
                               col(psg, "O1") - col(psg, "A2"))
    bip = compile_for(psg, "Bipolar (longitudinal)")
    assert bip.names == ("F3-C3", "F4-C4")
    np.testing.assert_allclose(bip.read_rows(psg, 1000, 3000, [1])[0],
                               col(psg, "EEG F4-REF") - col(psg, "C4"))
    assert compile_for(psg, "EEG by region: central").names == ("C3", "C4", "Cz")
    rec = compile_for(psg, "As recorded")
    assert rec.is_identity and rec.names == tuple(NAMES)


def test_user_montages_and_errors(psg):
    user = validate_user_montages({"Mine": ["C4-M1", "Cz-(A1+A2)", "C3-avg", "EMG Chin"]})
    m = compile_for(psg, "Mine", user)
    d = m.read_rows(psg, 1000, 3000, range(4))
    eeg = [n for n, t in zip(NAMES, TYPES) if t == "eeg"]
    np.testing.assert_allclose(d[0], col(psg, "C4") - col(psg, "A1"))
    np.testing.assert_allclose(d[1], col(psg, "Cz") - (col(psg, "A1") + col(psg, "A2")) / 2)
    np.testing.assert_allclose(d[2], col(psg, "C3") - np.mean([col(psg, n) for n in eeg], 0),
                               atol=1e-18)
    np.testing.assert_allclose(d[3], col(psg, "EMG Chin"))
    assert "Mine" in available_montages(psg.ch_names, psg.ch_types, user)
    with pytest.raises(SpindleScopeError, match="needs channel 'Pz'"):
        compile_for(psg, "Bad", {"Bad": ["Pz-M1"]})
    with pytest.raises(SpindleScopeError, match="built-in montage"):
        validate_user_montages({PRESETS[1]: ["C4-M1"]})
    with pytest.raises(SpindleScopeError, match="non-empty list"):
        validate_user_montages({"x": "C4-M1"})
    with pytest.raises(SpindleScopeError, match="Allowed values"):
        compile_for(psg, "Nope")
    with pytest.raises(SpindleScopeError, match="no rows"):
        compile_for(psg, "Magnetometers")
    assert single_row(psg.ch_names, psg.ch_types, "C3-M2").terms == (
        ((2, 1.0), (8, -1.0)),)


def test_user_montages_round_trip_in_settings(tmp_path, caplog):
    from core.session.settings import Settings

    s = Settings()
    s.user_montages = {"Mine": ["C4-M1", "O2-M1"]}
    s.montage = "Mine"
    s.save(tmp_path / "s.json")
    back = Settings.load(tmp_path / "s.json")
    assert back.user_montages == {"Mine": ["C4-M1", "O2-M1"]} and back.montage == "Mine"
    # a broken entry is dropped with a warning, the rest of the settings kept
    import logging

    with caplog.at_level(logging.WARNING, logger="spindlescope"):
        s2 = Settings.from_dict({"user_montages": {"x": [], "Mine": ["C4-M1"]},
                                 "page_duration": 20})
    assert s2.user_montages == {"Mine": ["C4-M1"]} and s2.page_duration == 20
    assert any("user montage 'x'" in m for m in caplog.messages)


def test_sleep_edf_montage(shared_data):
    from core.io.recording import open_recording

    path = shared_data / "formats" / "edf" / "short_psg.edf"
    if not path.exists():
        pytest.skip("short_psg.edf absent")
    rec = open_recording(path)
    m = compile_for(rec, "Sleep (AASM)")
    assert m.names == ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "Chin EMG")
    assert compile_montage("All EEG", rec.ch_names, rec.ch_types).names == (
        "EEG Fpz-Cz", "EEG Pz-Oz")


def test_detection_on_a_montage_records_it(psg):
    from core.detection.detector import detect, detect_array
    from core.io.montage import MontageSource

    m = compile_for(psg, "Sleep (AASM)")
    src = MontageSource(psg, m)
    # the spindle on C4: C4-M1 sees it, the montage is recorded
    assert src.ch_types[:6] == ["eeg"] * 6 and src.ch_types[-1] == "misc"
    res = detect(src, method="a7", modality="eeg")
    assert res.montage == "Sleep (AASM)"
    assert set(res.channels) == set(m.names[:6])
    ref = detect_array(src.get_samples(0, psg.n_times, range(6)), psg.sfreq,
                       ch_names=list(m.names[:6]), method="a7", modality="eeg")
    assert ref.montage == "As recorded"
    def hits(name):
        return [e for e in res.channel_events if e.channels == (name,)
                and e.onset < 20.75 < e.onset + e.duration]

    assert len(hits("C4-M1")) == 1 and not hits("F4-M1") and not hits("C3-M2")
    assert [(e.onset, e.channels) for e in res.channel_events] == [
        (e.onset, e.channels) for e in ref.channel_events]
