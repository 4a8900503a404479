"""Automatic staging (YASA) on the real Sleep-EDF PSG; proposals; the stage command."""

from __future__ import annotations

import numpy as np
import pytest

from core.detection.autostage import PROBA_STAGES, StageProposals, StagingResult, autostage
from core.scoring.staging import Hypnogram
from core.io.hypnograms import read_hypnogram
from core.utils import Cancelled, SpindleScopeError, run_with_progress


@pytest.fixture(scope="module")
def psg_path(shared_data):
    path = shared_data / "formats" / "edf" / "short_psg.edf"
    if not path.exists():
        pytest.skip("short_psg.edf absent")
    return path


@pytest.fixture(scope="module")
def staged(psg_path):
    from core.io.recording import open_recording

    rec = open_recording(psg_path)
    reports = []
    res = run_with_progress(autostage(rec), reports.append)
    return rec, res, reports


def test_yasa_classifier_is_bundled_offline():
    import os

    import yasa

    folder = os.path.join(os.path.dirname(yasa.__file__), "classifiers")
    files = os.listdir(folder)
    assert any(f.startswith("clf_eeg+eog+emg_lgb") for f in files)
    assert any(f.startswith("clf_eeg_lgb") for f in files)


def test_autostage_short_psg(staged):
    rec, res, reports = staged
    assert res.n_epochs == 10      # 300 s in 30-s epochs
    assert set(res.stages) <= set(PROBA_STAGES)
    assert res.proba.shape == (10, 5)
    np.testing.assert_allclose(res.proba.sum(1), 1.0, atol=1e-6)
    # the stage is the most probable one
    assert [PROBA_STAGES[i] for i in res.proba.argmax(1)] == res.stages
    assert res.channels == {"eeg": "EEG Fpz-Cz", "eog": "EOG horizontal",
                            "emg": "Chin EMG"}
    # Sleep-EDF SC4001E0 begins awake (lights off after the start)
    assert res.stages[0] == "W"
    assert reports[-1].done == reports[-1].total and len(reports) >= 4


def test_autostage_eeg_only_and_cancel(psg_path):
    from core.io.recording import open_recording

    rec = open_recording(psg_path)
    with pytest.raises(Cancelled):
        run_with_progress(autostage(rec, eeg="EEG Pz-Oz", eog=False, emg=False),
                          lambda p: False)
    with pytest.raises(SpindleScopeError, match="not in the recording"):
        run_with_progress(autostage(rec, eeg="C4-M1"))


def test_proposals_fill_only_unscored_epochs():
    res = StagingResult(["W", "N1", "N2", "N2", "N3"], np.full((5, 5), 0.2),
                        {"eeg": "C4-M1", "eog": None, "emg": None})
    hyp = Hypnogram(["R", "?", "?", "W", "?", "?"])
    prop = StageProposals(res)
    np.testing.assert_array_equal(prop.open_epochs(hyp), [1, 2, 4])
    assert prop.proposed(hyp, 0) is None and prop.proposed(hyp, 2) == "N2"
    assert prop.accept(hyp, 1) and hyp.stages[1] == "N1"
    assert not prop.accept(hyp, 3)      # scored by the scorer: untouched
    changes = []
    hyp.changed.connect(changes.append)
    assert prop.accept_all(hyp) == 2
    assert hyp.stages == ["R", "N1", "N2", "W", "N3", "?"]
    assert len(changes) == 1            # one undoable step
    assert prop.next_open(hyp, 0) is None


def test_stage_command_writes_tsv(psg_path, tmp_path, capsys):
    from core.cli.main import main
    from core.io.hypnograms import write_hypnogram

    own = Hypnogram(["N3"] + ["?"] * 9)
    write_hypnogram(own, tmp_path / "own.tsv")
    out = tmp_path / "hypnogram.tsv"
    assert main(["stage", str(psg_path), "--eeg", "EEG Fpz-Cz", "--eog", "none",
                 "--hypnogram", str(tmp_path / "own.tsv"), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == ["onset", "duration", "stage", "source",
                                    "P_W", "P_N1", "P_N2", "P_N3", "P_R"]
    rows = [ln.split("\t") for ln in lines[1:]]
    assert len(rows) == 10
    assert [float(r[0]) for r in rows] == [30.0 * i for i in range(10)]
    assert all(r[1] == "30" for r in rows)
    assert rows[0][2:4] == ["N3", "scorer"]          # the scorer's epoch kept
    assert all(r[3] == "yasa" for r in rows[1:])
    for r in rows:
        p = np.array(r[4:], float)
        assert abs(p.sum() - 1) < 1e-3
    for r in rows[1:]:
        assert r[2] == PROBA_STAGES[int(np.argmax(np.array(r[4:], float)))]
    assert "eeg=EEG Fpz-Cz" in capsys.readouterr().out
    hyp = read_hypnogram(out)          # the file reads back as a hypnogram
    assert hyp.n_epochs == 10 and hyp.stages[0] == "N3"
    assert main(["compare-stages", str(tmp_path / "own.tsv"), str(out)]) == 0
    assert "accuracy 1.000" in capsys.readouterr().out


def test_stage_command_refuses_other_epoch_lengths(psg_path, tmp_path, capsys):
    from core.cli.main import main
    from core.io.hypnograms import write_hypnogram

    write_hypnogram(Hypnogram(["W"] * 60, 5.0), tmp_path / "five.tsv")
    assert main(["stage", str(psg_path), "--hypnogram", str(tmp_path / "five.tsv"),
                 "--out", str(tmp_path / "out.tsv")]) == 2
    assert "5-s epochs" in capsys.readouterr().err
    assert not (tmp_path / "out.tsv").exists()


def test_staging_agrees_with_dreams_expert(dreams_dir):
    """EEG-only staging of DREAMS excerpt 2 (Cz-A1, 200 Hz, 30 min) against the
    expert's 5-s hypnogram taken by majority per 30-s epoch (measured: 53 of
    60 epochs, kappa 0.79)."""
    import mne

    from core.io.dreams import read_dreams_signal
    from core.io.recording import Recording
    from core.scoring.agreement import stage_agreement

    data, sf, name = read_dreams_signal(dreams_dir / "excerpt2.txt")
    raw = mne.io.RawArray(data[None], mne.create_info([name], sf, ["eeg"]),
                          verbose="error")
    res = run_with_progress(autostage(Recording(raw), eeg=name, eog=False, emg=False))
    five = np.array(read_hypnogram(dreams_dir / "Hypnogram_excerpt2.txt").stages, object)
    ref = []
    for i in range(res.n_epochs):
        vals, counts = np.unique(five[6 * i:6 * i + 6], return_counts=True)
        ref.append(vals[np.argmax(counts)])
    agr = stage_agreement(Hypnogram(ref), res.hypnogram())
    assert agr.n_epochs == 60
    assert agr.accuracy >= 0.85 and agr.kappa >= 0.7
