"""Epoch-by-epoch hypnogram agreement against a hand computation."""

from __future__ import annotations

import numpy as np
import pytest

from core.scoring.agreement import stage_agreement
from core.scoring.staging import Hypnogram
from core.io.hypnograms import write_hypnogram
from core.utils import SpindleScopeError

REF = ["W", "W", "N1", "N2", "N2", "N2", "N3", "N3", "R", "R", "?", "N2"]
OTH = ["W", "N1", "N1", "N2", "N2", "N3", "N3", "N2", "R", "W", "N2", "?"]


def test_agreement_equals_hand_computation():
    agr = stage_agreement(Hypnogram(REF), Hypnogram(OTH))
    # compared epochs: 0..9 (10 and 11 are unscored in one of them)
    assert agr.n_epochs == 10 and agr.n_skipped == 2
    # agreements: 0, 2, 3, 4, 6, 8 -> 6 of 10
    assert agr.accuracy == pytest.approx(0.6)
    # confusion rows ref, cols other (W N1 N2 N3 R)
    expected = np.array([[1, 1, 0, 0, 0],     # W: W, N1
                         [0, 1, 0, 0, 0],     # N1: N1
                         [0, 0, 2, 1, 0],     # N2: N2, N2, N3
                         [0, 0, 1, 1, 0],     # N3: N3, N2
                         [1, 0, 0, 0, 1]])    # R: R, W
    np.testing.assert_array_equal(agr.confusion, expected)
    # kappa by hand: po = 0.6; marginals ref (2,1,3,2,2), other (2,2,3,2,1)
    pe = (2 * 2 + 1 * 2 + 3 * 3 + 2 * 2 + 2 * 1) / 100
    assert pe == pytest.approx(0.21)
    assert agr.kappa == pytest.approx((0.6 - pe) / (1 - pe))
    # F1 = 2TP / (2TP + FP + FN)
    assert agr.f1["W"] == pytest.approx(2 * 1 / (2 + 1 + 1))
    assert agr.f1["N1"] == pytest.approx(2 * 1 / (2 + 1 + 0))
    assert agr.f1["N2"] == pytest.approx(2 * 2 / (4 + 1 + 1))
    assert agr.f1["N3"] == pytest.approx(2 * 1 / (2 + 1 + 1))
    assert agr.f1["R"] == pytest.approx(2 * 1 / (2 + 0 + 1))


def test_agreement_absent_stage_and_errors():
    agr = stage_agreement(Hypnogram(["W", "N2", "N2"]), Hypnogram(["W", "N2", "N2"]))
    assert agr.accuracy == 1.0 and agr.kappa == 1.0
    assert np.isnan(agr.f1["N3"]) and agr.f1["N2"] == 1.0
    with pytest.raises(SpindleScopeError, match="epoch lengths"):
        stage_agreement(Hypnogram(["W"], 30), Hypnogram(["W"], 20))
    with pytest.raises(SpindleScopeError, match="nothing to compare"):
        stage_agreement(Hypnogram(["?", "W"]), Hypnogram(["N2", "?"]))


def test_compare_stages_command(tmp_path, capsys):
    from core.cli.main import main

    write_hypnogram(Hypnogram(REF), tmp_path / "a.tsv")
    write_hypnogram(Hypnogram(OTH), tmp_path / "b.tsv")
    assert main(["compare-stages", str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv")]) == 0
    out = capsys.readouterr().out
    kappa = (0.6 - 0.21) / 0.79
    assert "accuracy 0.600" in out and f"kappa {kappa:.3f}" in out
    assert "N2 0.667" in out and "R 0.667" in out and "W 0.500" in out
    assert main(["compare-stages", str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv"),
                 "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert d["confusion"][2] == [0, 0, 2, 1, 0] and d["f1"]["N3"] == pytest.approx(0.5)
