"""The fast paths of the synchrony figures equal straightforward references.

Issue #11 asks that the nulls cost at most double the analysis; the speed-ups
(DFT bins as matrix products, lag covariances along diagonals, symmetric
blocks of the |r| matrix, jackknife replicates from pooled sums) must not move
any figure. Each test computes the figure the plain way and compares.
"""

import numpy as np
import pytest
from scipy.fft import rfft
from scipy.signal import get_window

from core.sources.coherence import make_estimator


def _pair(n_src=7, n=173, seed=0):
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n_src, n))
    return (common + rng.standard_normal((n_src, n)),
            0.5 * common + rng.standard_normal((n_src, n)))


@pytest.mark.parametrize("n", [61, 173, 320])
def test_multitaper_stats_equal_rfft_reference(n):
    x, y = _pair(n=n)
    est = make_estimator("multitaper", 200.0, fmin=8, fmax=16, nfft=320)
    st = est.stats(x, y)
    win, eig = est.tapers(n)
    xf = rfft((x - x.mean(1, keepdims=True))[:, None] * win, n=320)[..., est._fsel]
    yf = rfft((y - y.mean(1, keepdims=True))[:, None] * win, n=320)[..., est._fsel]
    w = eig[None, :, None]
    np.testing.assert_allclose(st["sxy"], (w * xf * yf.conj()).sum(1), rtol=1e-10)
    np.testing.assert_allclose(st["sxx"], (w * np.abs(xf) ** 2).sum(1), rtol=1e-10)
    np.testing.assert_allclose(st["syy"], (w * np.abs(yf) ** 2).sum(1), rtol=1e-10)
    assert st["dof"] == len(eig)
    if len(eig) >= 2:                                 # one taper gives 1 by construction
        assert 0.05 < est.coherence(st).mean() < 0.6  # real, partial coherence


@pytest.mark.parametrize("n", [40, 97, 250])
def test_welch_stats_equal_rfft_reference(n):
    x, y = _pair(n=n, seed=1)
    est = make_estimator("welch", 200.0, fmin=5, fmax=20)
    st = est.stats(x, y)
    win = get_window("hann", 40)
    starts = range(0, n - 40 + 1, 20)
    sx = np.stack([x[:, s:s + 40] for s in starts], 1)
    sy = np.stack([y[:, s:s + 40] for s in starts], 1)
    xf = rfft((sx - sx.mean(-1, keepdims=True)) * win, n=200)[..., est._fsel]
    yf = rfft((sy - sy.mean(-1, keepdims=True)) * win, n=200)[..., est._fsel]
    np.testing.assert_allclose(st["sxy"], (xf * yf.conj()).sum(1), rtol=1e-10)
    np.testing.assert_allclose(st["sxx"], (np.abs(xf) ** 2).sum(1), rtol=1e-10)
    np.testing.assert_allclose(st["syy"], (np.abs(yf) ** 2).sum(1), rtol=1e-10)
    assert st["dof"] == len(starts)


@pytest.mark.parametrize("n_src, block", [(2, 1024), (3, 2), (37, 8), (130, 1024), (130, 7)])
def test_mean_abs_correlation_symmetric_blocks_equal_full_matrix(n_src, block):
    from core.sources.synchrony import _standardise, mean_abs_pairwise_correlation

    rng = np.random.default_rng(n_src)
    x = rng.standard_normal((n_src, 90)) + rng.standard_normal(90)  # r ≈ 0.5
    z = _standardise(x)
    r = np.abs(z @ z.T)
    ref = (r.sum() - np.trace(r)) / (n_src * (n_src - 1))
    assert ref > 0.2
    # single precision products: the figure keeps ~1e-7 relative accuracy
    assert mean_abs_pairwise_correlation(x, block=block) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("n, order", [(40, 20), (41, 20), (173, 20), (300, 7)])
def test_mvdr_lag_covariances_equal_embedding_product(n, order):
    from numpy.lib.stride_tricks import sliding_window_view

    x, y = _pair(n=n, seed=2)
    est = make_estimator("mvdr", 200.0, fmin=8, fmax=16, mvdr_order=order)
    st = est.stats(x, y)
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    wx = sliding_window_view(xc, order, axis=1)      # (n_src, n_windows, order)
    wy = sliding_window_view(yc, order, axis=1)
    ref = {"rxx": np.einsum("swa,swb->sab", wx, wx), "ryy": np.einsum("swa,swb->sab", wy, wy),
           "rxy": np.einsum("swa,swb->sab", wx, wy)}
    scale = np.abs(ref["rxx"]).max()
    for k, r in ref.items():
        np.testing.assert_allclose(st[k], r, rtol=1e-10, atol=1e-12 * scale)
    assert st["dof"] == n - order + 1
    np.testing.assert_allclose(est.coherence(st), est.coherence({**ref, "dof": st["dof"]}),
                               rtol=1e-9, atol=1e-12)
