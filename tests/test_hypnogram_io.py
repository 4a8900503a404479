"""core.io.hypnograms: every hypnogram format in and out, built in the tests."""

import datetime as dt
import os

import mne
import numpy as np
import pytest

from core.io.hypnograms import FORMATS, infer_epoch_length, read_hypnogram, write_hypnogram
from core.scoring.staging import Hypnogram
from core.utils import SpindleScopeError

STAGES = ["W", "W", "N1", "N2", "N2", "N2", "N2", "N3", "N3", "R", "N2", "?"]


def _runs(stages, L=30.0):
    """Merge consecutive equal stages into (onset, duration, stage) runs."""
    out, i = [], 0
    while i < len(stages):
        j = i
        while j < len(stages) and stages[j] == stages[i]:
            j += 1
        out.append((i * L, (j - i) * L, stages[i]))
        i = j
    return out


def test_sleep_edf_hypnogram_has_30_s_epochs(tmp_path):
    import edfio

    stages = ["W", "W", "N1", "N2", "N2", "N2", "N2", "N3", "N3", "R", "R", "N2",
              "N2", "?", "?"]
    runs = _runs(stages)
    label = {"W": "W", "N1": "1", "N2": "2", "N3": "3", "R": "R", "?": "?"}
    ann = [edfio.EdfAnnotation(o, d, f"Sleep stage {label[s]}") for o, d, s in runs]
    durs = [d for _, d, _ in runs]
    assert np.median(durs) == 60.0          # the old reader's (wrong) epoch length
    edfio.Edf([], annotations=ann).write(tmp_path / "SC4001EC-Hypnogram.edf")
    hyp = read_hypnogram(tmp_path / "SC4001EC-Hypnogram.edf")
    assert hyp.epoch_length == 30.0
    assert hyp.stages == stages


def test_infer_epoch_length():
    assert infer_epoch_length([0, 60, 90, 210], [60, 30, 120, 6000]) == 30.0
    assert infer_epoch_length([0, 20, 40], [20, 20, 20]) == 20.0
    assert infer_epoch_length([0, 5, 15], [5, 10, 5]) == 5.0


NSRR = """<?xml version="1.0" encoding="UTF-8"?>
<PSGAnnotation><SoftwareVersion>Compumedics</SoftwareVersion><EpochLength>30</EpochLength>
<ScoredEvents>
<ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept><Start>0</Start>
<Duration>360</Duration><ClockTime>00.00.00 22.01.00</ClockTime></ScoredEvent>
{events}
<ScoredEvent><EventType>Arousals|Arousals</EventType><EventConcept>Arousal|Arousal ()</EventConcept>
<Start>45</Start><Duration>5</Duration></ScoredEvent>
</ScoredEvents></PSGAnnotation>
"""
NSRR_CONCEPT = {"W": "Wake|0", "N1": "Stage 1 sleep|1", "N2": "Stage 2 sleep|2",
                "N3": "Stage 4 sleep|4", "R": "REM sleep|5", "?": "Unscored|9"}


def test_nsrr_xml_and_alignment_by_start_time(tmp_path):
    ev = "\n".join(
        f"<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>"
        f"{NSRR_CONCEPT[s]}</EventConcept><Start>{o:g}</Start><Duration>{d:g}"
        f"</Duration></ScoredEvent>" for o, d, s in _runs(STAGES))
    path = tmp_path / "shhs1-200001-nsrr.xml"
    path.write_text(NSRR.format(events=ev))
    hyp = read_hypnogram(path)
    assert hyp.epoch_length == 30.0 and hyp.stages == STAGES
    # recording started at 22:00:00: scoring (lights off) began 60 s later
    rec_start = dt.datetime(2020, 1, 1, 22, 0, 0, tzinfo=dt.timezone.utc)
    hyp = read_hypnogram(path, recording_start=rec_start)
    assert hyp.stages == ["?", "?"] + STAGES
    # and started before the recording: the epochs before it are dropped
    hyp = read_hypnogram(path, recording_start=rec_start + dt.timedelta(seconds=120))
    assert hyp.stages == STAGES[2:]


def test_compumedics_profusion_xml(tmp_path):
    codes = {"W": 0, "N1": 1, "N2": 2, "N3": 3, "R": 5, "?": 9}
    body = "".join(f"<SleepStage>{codes[s]}</SleepStage>" for s in STAGES)
    path = tmp_path / "x.xml"
    path.write_text(f"<CMPStudyConfig><EpochLength>30</EpochLength><SleepStages>"
                    f"{body}</SleepStages></CMPStudyConfig>")
    hyp = read_hypnogram(path)
    assert hyp.stages == STAGES and hyp.epoch_length == 30


def test_bids_hypnogram_tsv_and_yasa_ints(tmp_path):
    path = tmp_path / "sub-01_task-sleep_hypnogram.tsv"
    rows = ["onset\tduration\tstage"] + [f"{o:g}\t{d:g}\t{s}" for o, d, s in _runs(STAGES)]
    path.write_text("\n".join(rows) + "\n")
    assert read_hypnogram(path).stages == STAGES
    yasa = {"W": 0, "N1": 1, "N2": 2, "N3": 3, "R": 4, "?": -2}
    (tmp_path / "y.txt").write_text("\n".join(str(yasa[s]) for s in STAGES))
    assert read_hypnogram(tmp_path / "y.txt").stages == STAGES


def test_visbrain_elan_and_wonambi(tmp_path):
    vis = {"W": "Wake", "N1": "N1", "N2": "N2", "N3": "N3", "R": "REM", "?": "Art"}
    lines = ["*Duration_sec\t360", "*Datafile\tnight.edf"]
    lines += [f"{vis[s]}\t{o + d:g}" for o, d, s in _runs(STAGES)]
    (tmp_path / "v.txt").write_text("\n".join(lines))
    hyp = read_hypnogram(tmp_path / "v.txt")
    assert hyp.stages == STAGES and hyp.epoch_length == 30
    elan = {"W": 0, "N1": 1, "N2": 2, "N3": 4, "R": 5, "?": -1}
    per_s = [elan[s] for s in STAGES for _ in range(30)]
    (tmp_path / "e.hyp").write_text("time_base 1.000000\nsampling_period 0.01\n"
                                    f"epoch_nb {len(per_s)}\nepoch_list\n"
                                    + "\n".join(map(str, per_s)))
    hyp = read_hypnogram(tmp_path / "e.hyp")
    assert hyp.stages == STAGES and hyp.epoch_length == 30
    won = {"W": "Wake", "N1": "NREM1", "N2": "NREM2", "N3": "NREM3", "R": "REM",
           "?": "Undefined"}
    lines = ["Wonambi v7.11", "clock start time,start,end,stage"]
    lines += [f"22:00:{i:02d},{i * 30},{i * 30 + 30},{won[s]}" for i, s in enumerate(STAGES)]
    (tmp_path / "w.csv").write_text("\n".join(lines))
    assert read_hypnogram(tmp_path / "w.csv").stages == STAGES


def test_fif_annotations_aligned_by_orig_time(tmp_path):
    t0 = dt.datetime(2021, 3, 1, 23, 0, 0, tzinfo=dt.timezone.utc)
    runs = _runs(STAGES)
    ann = mne.Annotations([o for o, _, _ in runs], [d for _, d, _ in runs],
                          [f"Sleep stage {s}" for _, _, s in runs],
                          orig_time=t0 + dt.timedelta(seconds=90))
    ann.save(tmp_path / "h-annot.fif", verbose="error")
    hyp = read_hypnogram(tmp_path / "h-annot.fif", recording_start=t0)
    assert hyp.stages == ["?"] * 3 + STAGES


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_writable_format_round_trips(tmp_path, fmt):
    hyp = Hypnogram(STAGES, 30.0)
    ext = {"yasa": "txt", "visbrain": "txt", "wonambi": "csv", "nsrr": "xml"}.get(fmt, fmt)
    path = tmp_path / f"h.{ext}"
    start = dt.datetime(2022, 5, 4, 22, 30, 0)
    write_hypnogram(hyp, path, fmt, start=start)
    back = read_hypnogram(path)
    want = STAGES if fmt != "visbrain" else STAGES   # 'Art' is read back as '?'
    assert back.stages == want and back.epoch_length == 30.0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    if fmt in ("edf", "fif", "nsrr"):       # their start time survives
        aligned = read_hypnogram(path, recording_start=start - dt.timedelta(seconds=30))
        assert aligned.stages == ["?"] + STAGES


def test_unknown_first_label_is_an_error_not_a_header(tmp_path):
    path = tmp_path / "h.txt"
    path.write_text("Wach\nN1\nN2\nN2\n")
    with pytest.raises(SpindleScopeError, match="line 1.*Wach"):
        read_hypnogram(path)
    path.write_text("stage\nW\nN1\nN2\n")       # a real header is still skipped
    assert read_hypnogram(path).stages == ["W", "N1", "N2"]
    path.write_text("W\nN1\nN2\n")
    assert read_hypnogram(path).stages == ["W", "N1", "N2"]


@pytest.mark.parametrize("bad, word", [("-10", "negative onset"), ("nan", "finite"),
                                       ("inf", "finite"), ("1e300", "week")])
def test_bad_onsets_are_errors(tmp_path, bad, word):
    path = tmp_path / "h.tsv"
    path.write_text(f"onset\tduration\tstage\n0\t30\tW\n{bad}\t30\tN2\n60\t30\tN2\n")
    with pytest.raises(SpindleScopeError, match=word):
        read_hypnogram(path)


def test_folders_binary_and_unreadable_files(tmp_path):
    with pytest.raises(SpindleScopeError, match="folder"):
        read_hypnogram(tmp_path)
    (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SpindleScopeError, match="binary"):
        read_hypnogram(tmp_path / "b.txt")
    (tmp_path / "u16.txt").write_text("W\nN1\nN2\n", encoding="utf-16")
    assert read_hypnogram(tmp_path / "u16.txt").stages == ["W", "N1", "N2"]
    (tmp_path / "l1.txt").write_bytes("stage\nW\nN2\n".encode("latin-1") + b"\xe9\n")
    with pytest.raises(SpindleScopeError, match="line 4"):
        read_hypnogram(tmp_path / "l1.txt")
    if os.geteuid() != 0:                      # root reads everything
        p = tmp_path / "locked.txt"
        p.write_text("W\n")
        p.chmod(0)
        with pytest.raises(SpindleScopeError, match="permission"):
            read_hypnogram(p)


def test_bad_edf_and_fif_hypnograms_are_errors(tmp_path):
    (tmp_path / "x.edf").write_bytes(b"0       " + b"garbage" * 50)
    with pytest.raises(SpindleScopeError, match="EDF"):
        read_hypnogram(tmp_path / "x.edf")
    (tmp_path / "x.fif").write_bytes(b"\x00\x00\x00\x64" + bytes(100))
    with pytest.raises(SpindleScopeError, match="FIF"):
        read_hypnogram(tmp_path / "x.fif")


# ---------------------------------------------------------------------------
# Property-based fuzzing: any input ends in a hypnogram or our own error.
# ---------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])
_TOKENS = st.sampled_from(
    ["W", "N1", "N2", "N3", "R", "REM", "Wake", "Wach", "?", "-2", "-1", "0", "4", "5",
     "9", "nan", "inf", "-10", "1e300", "30", "0.0", "stage", "onset", "duration",
     "[Hypnogram]", "*Duration_sec", "time_base", "Wonambi v7", "clock start time",
     "Sleep stage 2", "", " ", "\t", ",", ";", "é", "\x00", "<", "</x>"])
_LINE = st.lists(_TOKENS, min_size=0, max_size=5).map(lambda t: "\t".join(t))
_TEXT = st.one_of(st.lists(_LINE, max_size=12).map("\n".join), st.text(max_size=200))


def _read_or_error(path):
    try:
        hyp = read_hypnogram(path)
    except SpindleScopeError:
        return None
    assert isinstance(hyp, Hypnogram) and hyp.epoch_length > 0
    assert set(hyp.stages) <= set(STAGES) | {"?"}
    return hyp


@_FUZZ
@given(text=_TEXT, ext=st.sampled_from(["txt", "tsv", "csv", "hyp", "xml"]))
def test_fuzz_text_hypnograms(tmp_path, text, ext):
    path = tmp_path / f"f.{ext}"
    path.write_text(text, encoding="utf-8")
    _read_or_error(path)


def _mutate(data: bytes, edits, cut):
    buf = bytearray(data)
    for pos, val in edits:
        if buf:
            buf[pos % len(buf)] = val
    return bytes(buf[: max(0, len(buf) - cut)])


_EDITS = st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), max_size=8)


@pytest.fixture(scope="module")
def valid_hypnogram_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    hyp = Hypnogram(STAGES, 30.0)
    out = {}
    for fmt, ext in (("edf", "edf"), ("fif", "fif"), ("nsrr", "xml"), ("tsv", "tsv")):
        write_hypnogram(hyp, root / f"h.{ext}", fmt, start=dt.datetime(2020, 1, 1, 22))
        out[ext] = (root / f"h.{ext}").read_bytes()
    return out


@_FUZZ
@given(ext=st.sampled_from(["edf", "fif", "xml", "tsv"]), edits=_EDITS,
       cut=st.one_of(st.just(0), st.integers(0, 2000)),
       header_only=st.booleans())
def test_fuzz_binary_and_xml_hypnograms(tmp_path, valid_hypnogram_files, ext, edits,
                                        cut, header_only):
    data = valid_hypnogram_files[ext]
    if header_only:      # aim the edits at the EDF header / the first bytes
        edits = [(p % 768, v) for p, v in edits]
    path = tmp_path / f"m.{ext}"
    path.write_bytes(_mutate(data, edits, cut))
    _read_or_error(path)


def test_recording_hypnogram_is_aligned_everywhere(tmp_path):
    """CLI, session files and the app read a recording's hypnogram through one
    function, so a lights-off XML lands on the recording's clock in all of them."""
    from core.io.recording import open_recording
    from core.session.session import Session
    from core.io.hypnograms import read_hypnogram_for

    ev = "\n".join(
        f"<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>"
        f"{NSRR_CONCEPT[s]}</EventConcept><Start>{o:g}</Start><Duration>{d:g}"
        f"</Duration></ScoredEvent>" for o, d, s in _runs(STAGES))
    xml = tmp_path / "night-nsrr.xml"
    xml.write_text(NSRR.format(events=ev))
    # a real FIF recording that starts 60 s before the scoring (22:00:00)
    info = mne.create_info(["C3", "C4"], 100.0, "eeg")
    raw = mne.io.RawArray(np.zeros((2, 100 * 30 * (len(STAGES) + 2))), info, verbose=False)
    raw.set_meas_date(dt.datetime(2020, 1, 1, 22, 0, 0, tzinfo=dt.timezone.utc))
    fif = tmp_path / "night_raw.fif"
    raw.save(fif, verbose=False)
    rec = open_recording(fif)
    hyp = read_hypnogram_for(xml, rec)
    assert hyp.stages[:len(STAGES) + 2] == ["?", "?"] + STAGES
    # a session file naming the recording and the XML reads it the same way
    sess = Session()
    sess.set_recording(rec, hypnogram=hyp)
    path = sess.save(tmp_path / "s.spindlescope.json")
    loaded = Session.load(path)
    assert loaded.hypnogram.stages[:len(STAGES) + 2] == ["?", "?"] + STAGES
