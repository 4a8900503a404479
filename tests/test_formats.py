"""core.io.formats: every reader behind content sniffing, folders, MaxShield,
epoched files, annotations-only files, EDF header checks."""

import json

import mne
import numpy as np
import pytest

from core.io.formats import NoSignalsError, read_edf_header, sniff
from core.io.recording import open_recording
from core.utils import RecordingError


def _manifest(shared):
    path = shared / "formats" / "manifest.json"
    if not path.is_file():
        pytest.skip("formats/manifest.json absent")
    return json.loads(path.read_text())


def _entries():
    from conftest import data_dir

    path = data_dir() / "formats" / "manifest.json"
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip("formats data absent"))]
    return [pytest.param(e, id=e["path"]) for e in json.loads(path.read_text())]


@pytest.mark.parametrize("entry", _entries())
def test_every_manifest_file_opens_like_mne(entry, shared_data):
    path = shared_data / "formats" / entry["path"]
    rec = open_recording(path)
    exp = entry["expect"]
    assert len(rec.ch_names) == exp["n_channels"]
    assert rec.sfreq == exp["sfreq"]
    if exp["n_times"] is not None:
        assert rec.n_times == exp["n_times"]
    else:   # epoched: the epochs end to end
        ep = mne.read_epochs_eeglab(path, verbose="error")
        assert rec.n_times == len(ep) * len(ep.times)
        assert rec.n_epochs == len(ep)
        np.testing.assert_allclose(rec.get_chunk(0, rec.duration),
                                   np.concatenate(list(ep.get_data()), axis=1))
        assert list(rec.raw.annotations.description).count("BAD boundary") \
            == len(ep) - 1
    if rec.n_epochs == 0:
        assert not rec.raw.preload   # lazy: data stay on disk
    chunk = rec.get_chunk(0.0, min(rec.duration, 0.05))
    assert chunk.shape[0] == exp["n_channels"] and chunk.shape[1] > 0
    assert np.isfinite(chunk).any()


def test_maxshield_opens_with_warning_and_refuses_sources(shared_data):
    path = shared_data / "formats" / "fif" / "test_move_anon_erm_raw.fif"
    if not path.is_file():
        pytest.skip("MaxShield file absent")
    rec = open_recording(path)
    assert rec.maxshield
    assert any("MaxShield" in w for w in rec.report.warnings)
    with pytest.raises(RecordingError, match="MaxFilter"):
        rec.check_source_ready()


def test_lazy_readers_do_not_preload(shared_data):
    for rel in ("edf/short_psg.edf", "kit/test.sqd", "brainvision/test.vhdr"):
        path = shared_data / "formats" / rel
        if path.exists():
            assert not open_recording(path).raw.preload


def _raw(names=("Fz", "Cz"), sfreq=100.0, seconds=10.0, types="eeg"):
    rng = np.random.default_rng(0)
    info = mne.create_info(list(names), sfreq, types)
    return mne.io.RawArray(20e-6 * rng.standard_normal((len(names), int(sfreq * seconds))),
                           info, verbose="error")


def test_sniffing_by_content(tmp_path):
    ant = tmp_path / "night.cnt"
    ant.write_bytes(b"RIFF\x00\x00\x00\x00CNT " + bytes(40))
    assert sniff(ant) == "ANT"
    scan = tmp_path / "scan.cnt"
    scan.write_bytes(b"Version 3.0" + bytes(100))
    assert sniff(scan) == "CNT"
    nk = tmp_path / "DA123.EEG"
    nk.write_bytes(b"EEG-1200A V01.00" + bytes(100))
    assert sniff(nk) == "Nihon"
    bv = tmp_path / "rec.eeg"
    bv.write_bytes(bytes(64))
    with pytest.raises(RecordingError, match="vhdr"):
        sniff(bv)
    (tmp_path / "rec.vhdr").write_text("Brain Vision Data Exchange Header File Version 1.0\n")
    assert sniff(bv) == "BrainVision"
    assert sniff(tmp_path / "rec.vhdr") == "BrainVision"
    bci = tmp_path / "run.dat"
    bci.write_bytes(b"HeaderLen= 1000 SourceCh= 4")
    assert sniff(bci) == "BCI2000"
    # an EDF without its extension is still an EDF
    _raw().export(tmp_path / "x.edf", verbose="error")
    (tmp_path / "x.edf").rename(tmp_path / "x.rec")
    assert sniff(tmp_path / "x.rec") == "EDF"
    with pytest.raises(RecordingError, match="rename"):
        open_recording(tmp_path / "x.rec")


def test_folders(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(RecordingError, match="folder"):
        open_recording(tmp_path / "plain")
    bti = tmp_path / "bti"
    bti.mkdir()
    (bti / "config").write_bytes(b"")
    (bti / "c,rfDC").write_bytes(b"")
    assert sniff(bti) == "BTi"
    assert sniff(bti / "c,rfDC") == "BTi"
    with pytest.raises(RecordingError, match="corrupt"):   # empty files: clear words
        open_recording(bti)


def test_ctf_folder_opens(shared_data):
    path = shared_data / "formats" / "ctf" / "testdata_ctf_short_discontinuous.ds"
    if not path.is_dir():
        pytest.skip("CTF folder absent")
    assert sniff(path) == "CTF"
    rec = open_recording(path)
    assert len(rec.groups["mag"]) == 273


def test_epochs_and_evoked_fif_open_end_to_end(tmp_path):
    raw = _raw(seconds=20)
    events = mne.make_fixed_length_events(raw, duration=2.0)
    ep = mne.Epochs(raw, events, tmin=0, tmax=1.99, baseline=None, preload=True,
                    verbose="error")
    ep.save(tmp_path / "x-epo.fif", verbose="error")
    rec = open_recording(tmp_path / "x-epo.fif")
    assert rec.n_epochs == len(ep) == 10
    assert rec.n_times == 10 * len(ep.times)
    np.testing.assert_allclose(rec.get_chunk(0, rec.duration),
                               np.concatenate(list(ep.get_data()), axis=1), rtol=1e-6)
    assert any("end to end" in w for w in rec.report.warnings)
    ev = [ep.average(), ep[:5].average()]
    mne.write_evokeds(tmp_path / "x-ave.fif", ev, verbose="error")
    rec = open_recording(tmp_path / "x-ave.fif")
    assert rec.n_epochs == 2 and rec.n_times == 2 * len(ep.times)


def _fieldtrip_trials(path, lengths, sfreq=100.0):
    import scipy.io as sio

    rng = np.random.default_rng(0)
    trial = np.empty((1, len(lengths)), object)
    time = np.empty((1, len(lengths)), object)
    for i, n in enumerate(lengths):
        trial[0, i] = 1e-5 * rng.standard_normal((4, n))
        time[0, i] = np.arange(n) / sfreq
    label = np.array([["Fz"], ["Cz"], ["Pz"], ["Oz"]], dtype=object)
    starts = np.cumsum([0] + list(lengths[:-1])) + 1
    sio.savemat(path, {"data": {
        "label": label, "trial": trial, "time": time, "fsample": sfreq,
        "trialinfo": np.zeros((len(lengths), 1)),
        "sampleinfo": np.array([[a, a + n - 1] for a, n in zip(starts, lengths)], float)}})
    return trial


def test_fieldtrip_trials_open_end_to_end(tmp_path):
    trial = _fieldtrip_trials(tmp_path / "ep.mat", [100, 100, 100])
    rec = open_recording(tmp_path / "ep.mat")
    assert rec.n_epochs == 3 and rec.n_times == 300 and rec.groups["eeg"] == [
        "Fz", "Cz", "Pz", "Oz"]
    np.testing.assert_allclose(rec.get_chunk(1.0, 2.0), trial[0, 1], rtol=1e-6)
    _fieldtrip_trials(tmp_path / "ragged.mat", [100, 80, 100])
    with pytest.raises(RecordingError, match="trials of different lengths"):
        open_recording(tmp_path / "ragged.mat")


def test_annotations_only_files_say_so(tmp_path):
    import edfio

    ann = [edfio.EdfAnnotation(0, 30, "Sleep stage W"),
           edfio.EdfAnnotation(30, 60, "Sleep stage 2")]
    edfio.Edf([], annotations=ann).write(tmp_path / "x-Hypnogram.edf")
    with pytest.raises(NoSignalsError, match="holds no signals"):
        open_recording(tmp_path / "x-Hypnogram.edf")
    mne.Annotations([0, 30], [30, 30], ["Sleep stage W", "Sleep stage 2"]).save(
        tmp_path / "x-annot.fif", verbose="error")
    with pytest.raises(NoSignalsError, match="only 2 annotations"):
        open_recording(tmp_path / "x-annot.fif")


def _edf_bytes(tmp_path, seconds=60):
    _raw(seconds=seconds).export(tmp_path / "x.edf", verbose="error")
    return bytearray((tmp_path / "x.edf").read_bytes())


def test_edf_record_count_lies_are_reported(tmp_path):
    data = _edf_bytes(tmp_path)
    n = int(data[236:244])
    for claim, word in ((str(n // 4), "claims"), ("-1", "does not state")):
        bad = bytearray(data)
        bad[236:244] = claim.ljust(8).encode()
        (tmp_path / "y.edf").write_bytes(bad)
        rec = open_recording(tmp_path / "y.edf")
        assert rec.n_times == 6000
        assert any(word in w for w in rec.report.warnings), rec.report.warnings
    bad = bytearray(data)
    bad[236:244] = b"0       "
    (tmp_path / "z.edf").write_bytes(bad)
    with pytest.raises(RecordingError, match="claims 0 data records"):
        open_recording(tmp_path / "z.edf")


def test_edf_header_fields(tmp_path):
    _edf_bytes(tmp_path)
    hdr = read_edf_header(tmp_path / "x.edf")
    assert hdr.labels[:2] == ["Fz", "Cz"]
    assert hdr.records_in_file == hdr.n_records
    assert hdr.broken_channels == []
    (tmp_path / "short.edf").write_bytes(b"0       " + bytes(40))
    with pytest.raises(RecordingError, match="256-byte"):
        read_edf_header(tmp_path / "short.edf")


# ---------------------------------------------------------------------------
# Property-based fuzzing of EDF/FIF headers: a Recording or our own error.
# ---------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FUZZ = settings(max_examples=250, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])
_DIGITS = [ord(c) for c in "0123456789 -+.eEX:"]


@pytest.fixture(scope="module")
def valid_recordings(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    raw = _raw(names=("Fz", "Cz", "EOG1"), seconds=20, types=["eeg", "eeg", "eog"])
    raw.export(root / "v.edf", verbose="error")
    raw.save(root / "v_raw.fif", verbose="error")
    return {"edf": (root / "v.edf").read_bytes(), "fif": (root / "v_raw.fif").read_bytes()}


@_FUZZ
@given(ext=st.sampled_from(["edf", "fif"]),
       edits=st.lists(st.tuples(st.integers(0, 4095),
                                st.one_of(st.integers(0, 255), st.sampled_from(_DIGITS))),
                      min_size=1, max_size=6),
       cut=st.one_of(st.just(0), st.integers(1, 40_000)))
def test_fuzz_edf_and_fif_headers(tmp_path, valid_recordings, ext, edits, cut):
    data = bytearray(valid_recordings[ext])
    limit = 256 * 5 if ext == "edf" else 4096        # the header region
    for pos, val in edits:
        data[pos % limit] = val
    data = data[: max(0, len(data) - cut)]
    path = tmp_path / ("m.edf" if ext == "edf" else "m_raw.fif")
    path.write_bytes(bytes(data))
    try:
        rec = open_recording(path)
    except RecordingError:
        return
    chunk = rec.get_chunk(0, rec.duration)
    assert chunk.shape == (len(rec.ch_names), rec.n_times)


def test_maxshield_is_refused_by_every_source_path(shared_data, tmp_path, capsys):
    """The CLI's analyze, the GUI's workspace and the core analysis all refuse
    raw MaxShield data with the MaxFilter advice (never a distorted result)."""
    from core.cli.main import main
    from core.session.session import Session
    from core.sources.analysis import iter_analysis
    from core.session.workspace import SourceWorkspace

    path = shared_data / "formats" / "fif" / "test_move_anon_erm_raw.fif"
    if not path.is_file():
        pytest.skip("MaxShield file absent")
    sp = tmp_path / "sp.tsv"
    sp.write_text("onset\tduration\ttrial_type\n0.2\t0.5\tspindle\n")
    assert main(["analyze", str(path), "--spindles", str(sp),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "MaxFilter" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "summary.json").exists()
    rec = open_recording(path)
    with pytest.raises(RecordingError, match="MaxFilter"):
        next(iter_analysis(rec, [], None, None))
    session = Session()
    session.set_recording(rec)
    with pytest.raises(RecordingError, match="MaxFilter"):
        SourceWorkspace(session)._recording()
