"""Command line: detect and compare."""

import mne
import pytest

from core.cli.main import main
from core.io.marks import read_spindles, write_spindles
from core.utils import SpindleScopeError
from core.scoring.staging import Hypnogram
from core.io.hypnograms import write_hypnogram

from test_detection import simulate


@pytest.fixture(scope="module")
def fif(tmp_path_factory):
    src, truth = simulate(duration=120, seed=3)
    info = mne.create_info(src.ch_names, src.sfreq, src.ch_types)
    path = tmp_path_factory.mktemp("cli") / "sim_raw.fif"
    mne.io.RawArray(src.data, info, verbose="error").save(path, verbose="error")
    return path, truth


def test_detect_and_compare(fif, tmp_path, capsys):
    path, truth = fif
    out = tmp_path / "det.tsv"
    assert main(["detect", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "spindle events" in text
    det = read_spindles(out)
    header = out.read_text().splitlines()[0].split("\t")
    assert header[:5] == ["onset", "duration", "trial_type", "channel", "visibility"]
    assert {"frequency", "n_eeg", "n_mag", "n_grad"} <= set(header)
    assert {s.visibility for s in det} <= {"eeg", "meg", "both"} and len(det) >= 10
    ref = tmp_path / "truth.tsv"
    from core.scoring.spindles import Spindle

    write_spindles([Spindle(o, d, visibility=k) for o, d, k in truth], ref)
    assert main(["compare", str(ref), str(out), "--iou", "0.2"]) == 0
    text = capsys.readouterr().out
    f1 = float(text.split("F1 ")[1].split()[0])
    assert f1 >= 0.9 and "kappa" in text and "precision" in text
    assert main(["compare", str(ref), str(out), "--json"]) == 0
    assert '"f1"' in capsys.readouterr().out


def test_detect_options(fif, tmp_path, capsys):
    path, _ = fif
    hyp = tmp_path / "hyp.tsv"
    write_hypnogram(Hypnogram(["W", "N2", "N2", "N3"], 30), hyp)
    out = tmp_path / "eeg.tsv"
    assert main(["detect", str(path), "--modality", "eeg", "--hypnogram", str(hyp),
                 "--stages", "N2", "--method", "yasa", "--per-channel",
                 "--set", "rms=1.2", "--out", str(out)]) == 0
    det = read_spindles(out)
    assert det and all(30 <= s.onset and s.end <= 90 for s in det)
    assert all(len(s.channels) == 1 and s.channels[0].startswith("EEG") for s in det)
    capsys.readouterr()
    # words and pairs: the adaptive absolute criterion, a longer minimum duration
    out2 = tmp_path / "adaptive.tsv"
    assert main(["detect", str(path), "--modality", "eeg", "--set", "abs_mode=adaptive",
                 "--set", "duration=0.6,2.5", "--out", str(out2)]) == 0
    det2 = read_spindles(out2)
    assert det2 and all(s.duration >= 0.6 - 1e-9 for s in det2)
    capsys.readouterr()


@pytest.mark.parametrize("argv, msg", [
    (["--hypnogram", "{short}"], "shorter than the recording"),
    (["--set", "nonsense=1"], "Unknown parameter"),
    (["--set", "rel_pow"], "NAME=VALUE"),
    (["--picks", "NOPE"], "Channel 'NOPE' is not in the recording"),
    (["--set", "abs_mode=weird"], "Allowed values are 'auto', 'absolute' and 'adaptive'"),
    (["--set", "duration=2,1"], "Invalid duration range"),
    (["--set", "corr=high"], "expected a finite number"),
])
def test_detect_errors(fif, tmp_path, capsys, argv, msg):
    path, _ = fif
    short = tmp_path / "short.tsv"
    write_hypnogram(Hypnogram(["N2"] * 2, 30), short)
    argv = [a.format(short=short) for a in argv]
    assert main(["detect", str(path), "--out", str(tmp_path / "x.tsv")] + argv) == 2
    assert msg in capsys.readouterr().err


def test_compare_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("onset\tduration\n1\t-2\n")
    good = tmp_path / "good.tsv"
    good.write_text("onset\tduration\n1\t2\n")
    assert main(["compare", str(good), str(bad)]) == 2
    assert "bad.tsv, line 2: duration -2 s is not positive" in capsys.readouterr().err


def test_detect_on_real_50hz_edf(dreams_dir, tmp_path, capsys):
    """excerpt3.edf: 50 Hz, unit 'UV' repaired on opening; C3-A1 as in the text file."""
    from core.detection.detector import detect_array
    from core.io.dreams import read_dreams_signal

    out = tmp_path / "ex3.tsv"
    assert main(["detect", str(dreams_dir / "excerpt3.edf"), "--picks", "C3-A1",
                 "--out", str(out)]) == 0
    det = read_spindles(out)
    x, sf, _ = read_dreams_signal(dreams_dir / "excerpt3.txt")
    ref = detect_array(x, sf)
    assert abs(len(det) - len(ref.events)) <= 2 and len(det) > 20
    assert {s.channels for s in det} == {("C3-A1",)}
    assert main(["compare", str(dreams_dir / "Visual_scoring2_excerpt3.txt"), str(out)]) == 0
    f1 = float(capsys.readouterr().out.split("F1 ")[1].split()[0])
    assert f1 >= 0.6   # measured 0.659 against expert 2 (44 spindles)


# -- issue 14: every bad input ends in a clear message ------------------------------

def _marks(path, rows, header="onset\tduration\tstatus"):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


@pytest.mark.parametrize("extra,msg", [
    (["--duration", "-5"], "duration"),                 # item 10: kappa nan
    (["--duration", "0"], "more than 0 s"),
    (["--duration", "1e12"], "duration"),               # item 11: 91 TiB mask
    (["--duration", "nan"], "duration"),
    (["--duration", "5"], "ends after the recording"),  # item 8: past the end
    (["--iou", "0"], "iou"),
    (["--window", "5,nan"], "--window"),
])
def test_compare_bad_options(tmp_path, capsys, extra, msg):
    a = _marks(tmp_path / "a.tsv", ["10\t1\taccepted", "20\t1\taccepted"])
    assert main(["compare", str(a), str(a), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and msg in err and "Traceback" not in err


def test_compare_huge_spindle_is_refused_not_allocated(tmp_path, capsys):
    # item 11: a 1e9-s spindle made kappa allocate 93 GiB
    a = _marks(tmp_path / "a.tsv", ["10\t1\taccepted"])
    b = _marks(tmp_path / "b.tsv", ["10\t1000000000\taccepted"])
    assert main(["compare", str(a), str(b)]) == 2
    assert "samples or milliseconds" in capsys.readouterr().err
    c = _marks(tmp_path / "c.tsv", ["-3\t1\taccepted"])   # item 8: negative onset
    assert main(["compare", str(a), str(c)]) == 2
    assert "negative onset" in capsys.readouterr().err


def test_status_words_and_unterminated_quotes(tmp_path):
    # item 8: reject/false/maybe became "accepted"; a stray quote swallowed rows
    p = _marks(tmp_path / "s.tsv", ["1\t1\treject", "3\t1\tfalse", "5\t1\tmaybe",
                                     "7\t1\tYes", "9\t1\t"])
    assert [s.status for s in read_spindles(p)] == \
        ["rejected", "rejected", "candidate", "accepted", "accepted"]
    with pytest.raises(SpindleScopeError, match="line 2: unknown spindle status 'nope'"):
        read_spindles(_marks(tmp_path / "t.tsv", ["1\t1\tnope"]))
    q = tmp_path / "q.csv"
    q.write_text('onset,duration,channel\n1,1,"C3\n2,1,C4\n3,1,Cz\n')
    with pytest.raises(SpindleScopeError, match="line 2.*unterminated quote"):
        read_spindles(q)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-8-sig", "cp1252"])
def test_spindle_tables_in_other_encodings(tmp_path, encoding):
    # item 11: latin-1 or UTF-16 tables ended in UnicodeDecodeError
    p = tmp_path / "enc.csv"
    p.write_bytes("onset,duration,scorer\n1.5,0.8,Zoë Müller\n".encode(encoding))
    got = read_spindles(p)
    assert [(s.onset, s.duration, s.scorer) for s in got] == [(1.5, 0.8, "Zoë Müller")]


def test_unreadable_inputs_and_folders(tmp_path, capsys):
    # item 11: folders and unreadable files ended in IsADirectoryError etc.
    d = tmp_path / "marks.tsv"
    d.mkdir()
    assert main(["compare", str(d), str(d)]) == 2
    assert "is a folder" in capsys.readouterr().err
    nul = tmp_path / "nul.tsv"
    nul.write_bytes(b"onset\tduration\n1\t\x00\x00\n")
    with pytest.raises(SpindleScopeError, match="NUL bytes"):
        read_spindles(nul)


def test_os_errors_become_messages(tmp_path, capsys, monkeypatch):
    import errno

    import core.cli.commands.compare as cmp

    for exc, msg in ((PermissionError(13, "Permission denied", "/root/x.tsv"),
                      "permission denied"),
                     (IsADirectoryError(21, "Is a directory", "/tmp"), "is a folder"),
                     (OSError(errno.ENOSPC, "No space left", "/o"), "disk is full")):
        def raiser(args, exc=exc):
            raise exc
        monkeypatch.setattr(cmp, "run", raiser)
        assert main(["compare", "a.tsv", "b.tsv"]) == 2
        err = capsys.readouterr().err
        assert msg in err and "Traceback" not in err


def test_outputs_are_checked_before_computing(tmp_path, capsys, monkeypatch):
    # item 11: analyze --out <existing file> failed after 69 s of computing
    import core.cli.commands.analyze as analyze

    def never(args):
        raise AssertionError("computed before checking --out")

    monkeypatch.setattr(analyze, "run", never)
    f = tmp_path / "results"
    f.write_text("I am a file")
    assert main(["analyze", "--demo", "--out", str(f)]) == 2
    assert "is an existing file" in capsys.readouterr().err
    assert main(["analyze", "--demo", "--out", str(f / "sub")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_detect_bad_numbers_before_reading(tmp_path, capsys):
    # item 10: --min-channels -1 and --epoch-length 0 (became 30) were accepted
    rec = tmp_path / "missing_raw.fif"   # never opened: the options fail first
    for argv, msg in ((["--min-channels", "-1"], "--min-channels"),
                      (["--epoch-length", "0"], "--epoch-length"),
                      (["--out", str(tmp_path / "x.xyz")], "file format")):
        out = [] if "--out" in argv else ["--out", str(tmp_path / "o.tsv")]
        assert main(["detect", str(rec), *argv, *out]) == 2
        err = capsys.readouterr().err
        assert msg in err and "does not exist" not in err


def test_analyze_modalities_option_names_what_the_recording_has(tmp_path, capsys):
    """An EEG-only recording asked for MEG sources: the message says what the
    recording has and which option chooses the sensor sets (issue 14, item 12)."""
    import mne
    import numpy as np

    from core.cli.main import main

    info = mne.create_info(["Fz", "Cz", "Pz"], 100.0, "eeg")
    raw = mne.io.RawArray(np.zeros((3, 1000)), info, verbose="error")
    raw.set_montage("standard_1020", verbose="error")
    raw.save(tmp_path / "eeg_raw.fif", verbose="error")
    sp = tmp_path / "sp.tsv"
    sp.write_text("onset\tduration\ttrial_type\n2\t0.8\tspindle\n")
    code = main(["analyze", str(tmp_path / "eeg_raw.fif"), "--spindles", str(sp),
                 "--modalities", "meg", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "--modalities" in err and "eeg" in err
    assert "Choose another modality" not in err
    code = main(["analyze", str(tmp_path / "eeg_raw.fif"), "--spindles", str(sp),
                 "--modalities", "bogus", "--out", str(tmp_path / "o")])
    assert code == 2 and "Allowed values are" in capsys.readouterr().err
