"""Hypnogram: stages, masks, statistics, formats, length checks."""

import numpy as np
import pytest

from core.scoring.staging import Hypnogram, normalize_stage
from core.io.hypnograms import read_hypnogram, write_hypnogram
from core.utils import SpindleScopeError


def test_labels_and_codings():
    assert [normalize_stage(x) for x in ("Sleep stage 2", "S4", "REM", "w", 4, -2, "1")] \
        == ["N2", "N3", "R", "W", "R", "?", "N1"]
    with pytest.raises(SpindleScopeError, match="Unknown sleep stage"):
        normalize_stage("deep")
    h = Hypnogram.from_yasa([0, 1, 2, 2, 3, 4, -1])
    assert h.stages == ["W", "N1", "N2", "N2", "N3", "R", "?"]
    np.testing.assert_array_equal(h.to_yasa(), [0, 1, 2, 2, 3, 4, -2])


def test_from_duration_is_unscored_and_set_stage_signals():
    h = Hypnogram.from_duration(95, 30)
    assert h.n_epochs == 4 and set(h.stages) == {"?"}
    seen = []
    h.changed.connect(seen.append)
    h.set_stage(1, "N2")
    h.set_stage(slice(2, 4), "N3")
    assert h.stages == ["?", "N2", "N3", "N3"] and seen == [1, slice(2, 4)]
    assert h.stage_at(45.0) == "N2" and h.epoch_of(60.0) == 2
    with pytest.raises(SpindleScopeError, match="outside"):
        h.stage_at(130)


def test_mask_and_intervals():
    h = Hypnogram(["W", "N2", "N2", "N3", "R", "N2"], 30)
    m = h.mask(["N2", "N3"], 10.0, 1800)
    assert m.sum() == 4 * 300 and not m[:300].any() and m[300:1200].all()
    assert h.intervals(["N2", "N3"]) == [(30.0, 120.0), (150.0, 180.0)]


def test_statistics():
    # 2 W, 2 N1, 4 N2, 1 W (WASO), 2 N3, 1 R, 2 W ; epochs of 30 s
    h = Hypnogram(["W", "W", "N1", "N1", "N2", "N2", "N2", "N2", "W", "N3", "N3",
                   "R", "W", "W"], 30)
    st = h.statistics()
    assert st["TIB"] == 7.0 and st["TST"] == 4.5
    assert st["SE"] == pytest.approx(100 * 4.5 / 7)
    assert st["WASO"] == 0.5 and st["SOL"] == 1.0
    assert st["Lat_N2"] == 2.0 and st["Lat_R"] == 5.5 and st["N2"] == 2.0


@pytest.mark.parametrize("ext", [".tsv", ".csv", ".txt", ".fif", ".edf"])
def test_roundtrip(tmp_path, ext):
    h = Hypnogram(["W", "N1", "N2", "N3", "R", "?"], 30)
    p = tmp_path / f"h{ext}"
    write_hypnogram(h, p)
    back = read_hypnogram(p, epoch_length=30)
    assert back.stages == h.stages and back.epoch_length == 30


def test_yasa_integers_file(tmp_path):
    p = tmp_path / "h.txt"
    p.write_text("0\n1\n2\n3\n4\n-1\n")
    assert read_hypnogram(p).stages == ["W", "N1", "N2", "N3", "R", "?"]


def test_dreams_hypnogram(dreams_dir):
    h = read_hypnogram(dreams_dir / "Hypnogram_excerpt1.txt", recording_duration=1800)
    assert h.epoch_length == 5 and h.n_epochs == 360
    assert h.stages[0] == "W" and h.stages.count("N2") == 220


@pytest.mark.parametrize("n_epochs, word", [(8, "shorter"), (12, "longer")])
def test_wrong_length_names_both(tmp_path, n_epochs, word):
    p = tmp_path / "h.tsv"
    write_hypnogram(Hypnogram(["N2"] * n_epochs, 30), p)
    with pytest.raises(SpindleScopeError,
                       match=rf"{word} than the recording: {n_epochs} epochs of 30 s = "
                             rf"{n_epochs * 30} s, but the recording lasts 300 s"):
        read_hypnogram(p, recording_duration=300)
    # a partial last epoch is fine and padded as unscored
    assert read_hypnogram(p, recording_duration=n_epochs * 30 - 10).n_epochs == n_epochs
