"""By-event matching at an IoU threshold and sample-wise kappa."""

import numpy as np
import pytest

from core.scoring.evaluation import by_event, cohen_kappa, compare, match_events, sample_mask
from core.scoring.spindles import Spindle
from core.utils import SpindleScopeError


def test_iou_threshold_and_one_to_one():
    ref = np.array([[10.0, 1.0], [20.0, 1.0], [30.0, 1.0]])
    # IoU with ref 0: [10.5, 11.5] -> 0.5/1.5 = 0.333; ref 1 overlapped by two
    other = np.array([[10.5, 1.0], [20.0, 0.9], [20.1, 1.0], [30.9, 1.0]])
    m = match_events(ref, other, iou=0.2)
    assert [(i, j) for i, j, _ in m] == [(0, 0), (1, 1)]
    assert m[0][2] == pytest.approx(1 / 3) and m[1][2] == pytest.approx(0.9)
    a = by_event(ref, other)
    assert (a.tp, a.fp, a.fn) == (2, 2, 1)
    assert a.precision == 0.5 and a.recall == pytest.approx(2 / 3)
    assert a.f1 == pytest.approx(2 * 2 / (3 + 4))
    assert by_event(ref, other, iou=0.4).tp == 1     # 0.333 no longer matches
    assert by_event(ref, [], iou=0.2).f1 == 0.0
    with pytest.raises(SpindleScopeError, match="iou"):
        by_event(ref, other, iou=0)


def test_spindle_objects_and_bad_events():
    ref = [Spindle(1.0, 1.0), Spindle(5.0, 0.5)]
    assert by_event(ref, ref).f1 == 1.0
    with pytest.raises(SpindleScopeError, match="positive durations"):
        by_event(np.array([[1.0, -1.0]]), ref)


def test_kappa():
    a = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)
    b = np.array([1, 0, 0, 0, 1, 0, 1, 0], bool)
    po, pe = 6 / 8, (3 / 8) * (3 / 8) + (5 / 8) * (5 / 8)
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe))
    assert cohen_kappa(a, a) == 1.0
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    x, y = rng.random(500) > 0.7, rng.random(500) > 0.6
    assert cohen_kappa(x, y) == pytest.approx(sk.cohen_kappa_score(x, y))


def test_compare_window_and_mask():
    m = sample_mask(np.array([[1.0, 0.5]]), 3.0, 10.0)
    assert m.sum() == 5 and m[10:15].all()
    ref = np.array([[1.0, 1.0], [12.0, 1.0]])
    oth = np.array([[1.1, 1.0], [50.0, 1.0]])
    agr = compare(ref, oth, window=(0, 20))
    assert (agr.n_reference, agr.n_other, agr.tp) == (2, 1, 1)
    assert -1 <= agr.kappa <= 1


def test_two_dreams_experts(dreams_dir):
    from core.io.marks import read_spindles

    e1 = read_spindles(dreams_dir / "Visual_scoring1_excerpt1.txt")
    e2 = read_spindles(dreams_dir / "Visual_scoring2_excerpt1.txt")
    agr = compare(e1, e2, window=(0, 1000), duration=1000)
    # expert 2 marks more; the two agree on most of expert 1's spindles
    assert agr.n_reference == 52 and agr.recall > 0.6
    assert 0.3 < agr.kappa < 0.9
