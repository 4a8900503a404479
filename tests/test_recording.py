"""core.io.recording: lazy opening, channel groups, unit repair, clear errors."""

import logging
import shutil

import mne
import numpy as np
import pytest

from core.io.recording import open_recording
from core.utils import RecordingError, SpindleScopeError


def _small_raw(n_eeg=4, sfreq=100.0, seconds=20.0, seed=0):
    rng = np.random.default_rng(seed)
    names = ["Fz", "Cz", "Pz", "Oz"][:n_eeg] + ["EOG1"]
    info = mne.create_info(names, sfreq, ["eeg"] * n_eeg + ["eog"])
    data = 20e-6 * rng.standard_normal((len(names), int(seconds * sfreq)))
    return mne.io.RawArray(data, info, verbose="error")


def test_dreams_edf_uv_units_are_rescaled(dreams_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="spindlescope"):
        rec = open_recording(dreams_dir / "excerpt3.edf")
    assert rec.sfreq == 50.0
    assert rec.duration == pytest.approx(1800.0)
    assert rec.report.rescaled["C3-A1"] == 1e-6
    assert set(rec.groups["eeg"]) == {"O1-A1", "C3-A1", "FP1-A1"}
    assert set(rec.groups["eog"]) == {"EOG1-A1", "EOG2-A1"}
    data = rec.get_chunk(600.0, 630.0, ["C3-A1"])
    assert data.shape == (1, 1500)
    mad = np.median(np.abs(data - np.median(data)))
    assert 1e-6 < mad < 1e-4  # microvolts now, not volts
    assert any("rescaled" in m for m in caplog.messages)
    # no positions: source analysis is told what it lacks
    assert not rec.report.has_eeg_positions
    assert any("no sensor positions" in w for w in rec.report.warnings)


def test_get_chunk_is_windowed_and_clipped(tmp_path):
    raw = _small_raw()
    raw.save(tmp_path / "x_raw.fif", verbose="error")
    rec = open_recording(tmp_path / "x_raw.fif")
    assert not rec.raw.preload
    full = raw.get_data()
    np.testing.assert_allclose(rec.get_chunk(2.0, 3.0, "eeg"), full[:4, 200:300],
                               rtol=1e-6)
    np.testing.assert_allclose(rec.get_chunk(19.5, 25.0, ["Cz"]), full[1:2, 1950:],
                               rtol=1e-6)
    assert rec.get_chunk(30.0, 31.0).shape == (5, 0)
    assert rec.groups["eog"] == ["EOG1"]
    with pytest.raises(SpindleScopeError, match="not in the recording"):
        rec.get_chunk(0, 1, ["C3"])


def test_split_fif_is_followed(tmp_path):
    rng = np.random.default_rng(1)
    info = mne.create_info(40, 1000.0, "eeg")
    raw = mne.io.RawArray(1e-5 * rng.standard_normal((40, 120_000)), info,
                          verbose="error")
    raw.save(tmp_path / "big_raw.fif", split_size="10MB", fmt="single",
             verbose="error")
    parts = sorted(p.name for p in tmp_path.glob("big_raw*.fif"))
    assert len(parts) >= 2
    rec = open_recording(tmp_path / "big_raw.fif")
    assert rec.n_times == 120_000
    np.testing.assert_allclose(rec.get_chunk(119.0, 120.0, [3]),
                               raw.get_data(picks=[3], start=119_000), rtol=1e-6)


@pytest.mark.parametrize("fmt", ["edf", "set"])
def test_exported_formats_open(tmp_path, fmt):
    raw = _small_raw()
    path = tmp_path / f"x.{fmt}"
    mne.export.export_raw(path, raw, fmt={"edf": "edf", "set": "eeglab"}[fmt],
                          verbose="error")
    rec = open_recording(path)
    assert rec.groups["eeg"] == ["Fz", "Cz", "Pz", "Oz"]
    assert rec.groups["eog"] == ["EOG1"]
    np.testing.assert_allclose(rec.get_chunk(1.0, 2.0, "eeg"),
                               raw.get_data(picks=[0, 1, 2, 3], start=100, stop=200),
                               atol=2e-8)


def test_fieldtrip_and_maxfiltered_fif(sample_dir):
    rec = open_recording(sample_dir / "fieldtrip/ft_test_data/neuromag306/raw_v7.mat")
    assert len(rec.groups["eeg"]) == 60 and len(rec.groups["mag"]) > 100
    sss = open_recording(sample_dir / "SSS/sample_audvis_trunc_raw_sss.fif")
    assert sss.is_maxfiltered
    assert (len(sss.groups["mag"]), len(sss.groups["grad"]), len(sss.groups["eeg"])) \
        == (102, 204, 60)
    assert sss.report.has_eeg_positions and sss.report.has_meg_geometry
    assert sss.report.warnings == []


def test_missing_file():
    with pytest.raises(RecordingError, match="does not exist"):
        open_recording("/nonexistent/night.edf")


def test_truncated_fif(tmp_path, sample_dir):
    src = sample_dir / "SSS/sample_audvis_trunc_raw_sss.fif"
    data = src.read_bytes()
    bad = tmp_path / "cut_raw.fif"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError, match="truncated"):
        open_recording(bad)


def test_truncated_edf(tmp_path):
    raw = _small_raw(seconds=60)
    path = tmp_path / "x.edf"
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    data = path.read_bytes()
    (tmp_path / "cut.edf").write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(RecordingError, match="truncated"):
        open_recording(tmp_path / "cut.edf")


def test_garbage_and_unsupported(tmp_path):
    (tmp_path / "junk.fif").write_bytes(b"not a fif file at all" * 10)
    with pytest.raises(RecordingError, match="corrupt"):
        open_recording(tmp_path / "junk.fif")
    shutil.copy(tmp_path / "junk.fif", tmp_path / "junk.xyz")
    with pytest.raises(RecordingError, match="not supported"):
        open_recording(tmp_path / "junk.xyz")


def _export_edf(path, names, types, data, sfreq=100.0):
    info = mne.create_info(names, sfreq, types)
    mne.export.export_raw(path, mne.io.RawArray(data, info, verbose="error"),
                          fmt="edf", verbose="error")


def test_channel_types_from_names_sleep_edf_style(tmp_path):
    names = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "Resp oro-nasal",
             "EMG submental", "Temp rectal", "Event marker"]
    rng = np.random.default_rng(0)
    _export_edf(tmp_path / "psg.edf", names, "eeg", 20e-6 * rng.standard_normal((7, 3000)))
    rec = open_recording(tmp_path / "psg.edf")
    assert rec.ch_types == ["eeg", "eeg", "eog", "resp", "emg", "temperature", "stim"]
    assert rec.groups["eeg"] == ["EEG Fpz-Cz", "EEG Pz-Oz"]
    assert rec.report.retyped["Event marker"] == "stim"


def test_misc_channels_typed_eeg_by_name_and_position():
    from core.io.recording import Recording, is_eeg_label

    assert is_eeg_label("EEG Fpz-Cz") and is_eeg_label("C3-A2") and is_eeg_label("cz")
    assert not is_eeg_label("Resp") and not is_eeg_label("X1")
    rng = np.random.default_rng(0)
    info = mne.create_info(["Fz", "C3-M2", "X1"], 100.0, "misc")
    rec = Recording(mne.io.RawArray(1e-5 * rng.standard_normal((3, 500)), info,
                                    verbose="error"))
    assert rec.ch_types == ["eeg", "eeg", "misc"]
    # a reader that typed everything misc and gave no names: positions decide
    info = mne.create_info([f"ch{i}" for i in range(4)], 100.0, "misc")
    pos = mne.channels.make_standard_montage("fsaverage_1005").get_positions()["ch_pos"]
    for ch, key in zip(info["chs"], ["Fz", "Cz", "Pz", "Oz"]):
        ch["loc"][:3] = pos[key]
    rec = Recording(mne.io.RawArray(1e-5 * rng.standard_normal((4, 500)), info,
                                    verbose="error"))
    assert rec.ch_types == ["eeg"] * 4


def test_lone_large_channel_is_not_repaired_but_whole_type_is(tmp_path):
    rng = np.random.default_rng(2)
    data = 20e-6 * rng.standard_normal((5, 2000))
    data[4] = 5.0 * np.sin(np.arange(2000) / 10)          # really ±5 V
    raw = mne.io.RawArray(data, mne.create_info(["Fz", "Cz", "Pz", "Oz", "Syn"],
                                                100.0, "eeg"), verbose="error")
    raw.save(tmp_path / "a_raw.fif", verbose="error")
    rec = open_recording(tmp_path / "a_raw.fif")
    assert rec.report.rescaled == {}
    assert np.abs(rec.get_chunk(0, 20, ["Syn"])).max() == pytest.approx(5.0, rel=1e-3)
    assert any("Syn" in w and "left unchanged" in w for w in rec.report.warnings)
    # every EEG channel written in µV as if volts: the whole type is rescaled
    raw = mne.io.RawArray(data[:4] * 1e6, mne.create_info(["Fz", "Cz", "Pz", "Oz"],
                                                          100.0, "eeg"), verbose="error")
    raw.save(tmp_path / "b_raw.fif", verbose="error")
    rec = open_recording(tmp_path / "b_raw.fif")
    assert rec.report.rescaled == {n: 1e-6 for n in ["Fz", "Cz", "Pz", "Oz"]}
    np.testing.assert_allclose(rec.get_chunk(0, 1, ["Cz"]), data[1:2, :100], rtol=1e-5)
    rec.set_unit_fix(False)                               # reversible
    assert not rec.unit_fix_applied
    np.testing.assert_allclose(rec.get_chunk(0, 1, ["Cz"]), data[1:2, :100] * 1e6,
                               rtol=1e-5)
    rec.set_unit_fix(True)
    np.testing.assert_allclose(rec.get_chunk(0, 1, ["Cz"]), data[1:2, :100], rtol=1e-5)


def test_edf_digital_min_equal_max_is_broken_not_rescaled(tmp_path):
    from core.io.formats import read_edf_header

    rng = np.random.default_rng(3)
    _export_edf(tmp_path / "x.edf", ["Fz", "Cz", "Pz"], "eeg",
                20e-6 * rng.standard_normal((3, 3000)))
    hdr = read_edf_header(tmp_path / "x.edf")
    ns = len(hdr.labels)
    data = bytearray((tmp_path / "x.edf").read_bytes())
    dmin = 256 + ns * (16 + 80 + 8 + 8 + 8)          # digital minimum, signal 0
    dmax = dmin + ns * 8
    data[dmax:dmax + 8] = data[dmin:dmin + 8]
    (tmp_path / "b.edf").write_bytes(data)
    assert read_edf_header(tmp_path / "b.edf").broken_channels == ["Fz"]
    rec = open_recording(tmp_path / "b.edf")
    assert rec.report.broken == ["Fz"]
    assert "Fz" in rec.info["bads"]
    assert "Fz" not in rec.report.rescaled
    assert any("broken header" in w for w in rec.report.warnings)
