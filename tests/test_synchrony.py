"""core.synchrony against exact references and analytic coherence."""

import numpy as np
import pytest
from scipy.signal import lfilter

from core import synchrony as sy
from core.utils import SpindleScopeError


@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(0)
    common = rng.standard_normal(400)
    weights = rng.uniform(-1, 1, (600, 1))
    x = weights * common + rng.standard_normal((600, 400))
    x[5] = 3.0  # a flat row
    return x


def test_mean_pairwise_correlation_is_exact(correlated):
    x = correlated
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(x)
    c = np.nan_to_num(c)  # the flat row correlates with nothing
    n = len(x)
    ref = (c.sum() - np.trace(c)) / (n * (n - 1))
    assert sy.mean_pairwise_correlation(x) == pytest.approx(ref, abs=1e-10)
    ref_abs = (np.abs(c).sum() - np.abs(np.diag(c)).sum()) / (n * (n - 1))
    assert sy.mean_abs_pairwise_correlation(x, block=97) == pytest.approx(ref_abs,
                                                                          rel=1e-6)


def test_between_correlation():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 300))
    y = 0.5 * x + rng.standard_normal((50, 300))
    r = sy.between_correlation(x, y)
    ref = [np.corrcoef(a, b)[0, 1] for a, b in zip(x, y)]
    np.testing.assert_allclose(r, ref, atol=1e-12)
    assert 0.3 < r.mean() < 0.6  # 0.5 / sqrt(1.25) = 0.447 expected
    samp = sy.pairwise_correlation_sample(x, 1000)
    assert samp.shape == (1000,) and np.all(np.abs(samp) <= 1 + 1e-12)


def _ar12(rng, shape, sfreq, r):
    w = 2 * np.pi * 12.0 / sfreq
    a = [1.0, -2 * r * np.cos(w), r * r]
    return lfilter([1.0], a, rng.standard_normal(shape)), a


def _analytic_msc(a, freq, sfreq, noise_var):
    om = 2 * np.pi * np.asarray(freq) / sfreq
    s = 1.0 / np.abs(1 + a[1] * np.exp(-1j * om) + a[2] * np.exp(-2j * om)) ** 2
    return s ** 2 / (s + noise_var) ** 2


def test_coherence_of_shared_white_signal():
    """x = s + n1, y = s + n2, all white with equal power: MSC = 1/4 everywhere."""
    rng = np.random.default_rng(2)
    s = rng.standard_normal((3, 20000))
    x = s + rng.standard_normal(s.shape)
    y = s + rng.standard_normal(s.shape)
    fw, cw = sy.welch_coherence(x, y, 200.0, nperseg=256)
    fm, cm = sy.mvdr_coherence(x, y, 200.0, order=30)
    assert sy.band_mean(fw, cw, (10, 15)).mean() == pytest.approx(0.25, abs=0.02)
    assert sy.band_mean(fm, cm, (10, 15)).mean() == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize("snr", [0.5, 1.0, 3.0])
def test_coherence_of_shared_12hz_component(snr):
    """A shared 12-Hz resonance at known SNR: compare with the analytic MSC."""
    rng = np.random.default_rng(3)
    sfreq = 200.0
    s, a = _ar12(rng, (2, 30000), sfreq, 0.9)
    noise_var = s.var() / snr
    x = s + np.sqrt(noise_var) * rng.standard_normal(s.shape)
    y = s + np.sqrt(noise_var) * rng.standard_normal(s.shape)
    expected = _analytic_msc(a, 12.0, sfreq, noise_var)
    fw, cw = sy.welch_coherence(x, y, sfreq, nperseg=400)
    welch12 = cw[:, np.argmin(np.abs(fw - 12.0))].mean()
    assert welch12 == pytest.approx(expected, abs=0.03)
    _, cm = sy.mvdr_coherence(x, y, sfreq, order=60, freqs=[12.0])
    mvdr12 = cm.mean()
    # MVDR trades resolution for variance: a few percent below, never above
    assert expected - 0.13 < mvdr12 <= expected + 0.02
    # far from the shared band the analytic coherence vanishes, so must theirs
    far = _analytic_msc(a, 60.0, sfreq, noise_var)
    assert far < 0.01
    _, cm60 = sy.mvdr_coherence(x, y, sfreq, order=60, freqs=[60.0])
    assert cm60.mean() < 0.03
    assert cw[:, np.argmin(np.abs(fw - 60.0))].mean() < 0.03


def test_mvdr_coherence_is_bounded_and_symmetric():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((20, 300))
    y = 0.3 * x + rng.standard_normal((20, 300))
    f, c1 = sy.mvdr_coherence(x, y, 200.0)
    _, c2 = sy.mvdr_coherence(y, x, 200.0)
    assert np.all((c1 >= 0) & (c1 <= 1))
    np.testing.assert_allclose(c1, c2, atol=1e-10)


def test_spindle_synchrony_keys_and_bad_input():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((30, 200))
    out = sy.spindle_synchrony(x, x + 0.1 * rng.standard_normal(x.shape), 200.0,
                               meeg=x)
    for key in ("eeg_within_r", "meg_within_r", "meeg_within_r", "between_r",
                "coherence_welch", "coherence_mvdr"):
        assert np.isfinite(out[key])
    assert out["between_r"] > 0.9 and out["coherence_welch"] > 0.9
    assert out["between_r_map"].shape == (30,)
    with pytest.raises(SpindleScopeError, match="shape"):
        sy.mean_pairwise_correlation(np.zeros(10))
    with pytest.raises(SpindleScopeError, match="differ in shape"):
        sy.between_correlation(x, x[:, :100])
    with pytest.raises(SpindleScopeError, match="too short"):
        sy.mvdr_coherence(x[:, :10], x[:, :10], 200.0)
