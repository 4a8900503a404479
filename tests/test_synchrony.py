"""core.sources.synchrony against exact references and analytic coherence."""

import numpy as np
import pytest
from scipy.signal import lfilter

from core.sources import synchrony as sy
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


def _pair(rng, lengths, msc, n_src=60):
    """Segments of x = √p s + √(1-p) n1, y = √p s + √(1-p) n2 (all white):
    the true magnitude-squared coherence is p² at every frequency."""
    p = np.sqrt(msc)
    xs, ys = [], []
    for n in lengths:
        s = rng.standard_normal((n_src, n))
        xs.append(np.sqrt(p) * s + np.sqrt(1 - p) * rng.standard_normal((n_src, n)))
        ys.append(np.sqrt(p) * s + np.sqrt(1 - p) * rng.standard_normal((n_src, n)))
    return xs, ys


SFREQ = 200.0
# the spindle lengths: 18 of 0.3-0.6 s, 26 of 0.8-1.6 s
SHORT = np.random.default_rng(10).integers(60, 121, 18)
LONG = np.random.default_rng(11).integers(160, 321, 26)
POOLED = {"multitaper": sy.coherence_multitaper, "welch": sy.coherence_welch,
          "mvdr": sy.coherence_mvdr}


@pytest.mark.parametrize("lengths", [SHORT, LONG], ids=["18x0.3-0.6s", "26x0.8-1.6s"])
def test_pooled_coherence_of_independent_noise_is_small(lengths):
    xs, ys = _pair(np.random.default_rng(1), lengths, 0.0)
    for name, fn in POOLED.items():
        res = fn(xs, ys, SFREQ)
        c = float(res.band((10, 15)).mean())
        assert not res.too_short.any()
        if name == "mvdr":
            assert c < 0.05, (name, c)
        else:
            # E[MSC] of independent signals is 1/nu: below 3/nu
            assert c < 3.0 / res.dof, (name, c, res.dof)
            assert res.dof >= len(lengths)
    # per spindle the same data give the small-sample bias the issue found:
    # the shortest spindle alone gives about 1/nu with nu its own few tapers
    i = int(np.argmin(lengths))
    one = sy.coherence_multitaper(xs[i], ys[i], SFREQ)
    pooled = sy.coherence_multitaper(xs, ys, SFREQ).band((10, 15)).mean()
    assert one.dof <= 3
    assert one.band((10, 15)).mean() > max(0.5 / one.dof, 4 * pooled)


@pytest.mark.parametrize("lengths", [SHORT, LONG], ids=["18x0.3-0.6s", "26x0.8-1.6s"])
@pytest.mark.parametrize("msc", [0.1, 0.25, 0.5, 0.8])
def test_pooled_coherence_recovers_known_coherence(lengths, msc):
    xs, ys = _pair(np.random.default_rng(int(msc * 100)), lengths, msc)
    for name, fn in POOLED.items():
        c = float(fn(xs, ys, SFREQ).band((10, 15)).mean())
        tol = 0.06 if name == "mvdr" else 0.04
        assert c == pytest.approx(msc, abs=tol), (name, c)


def test_pooled_coherence_does_not_depend_on_the_cut():
    """The same stationary data cut into 0.4-s, 1.6-s and 16-s segments."""
    rng = np.random.default_rng(7)
    n = 32000  # 160 s
    xs, ys = _pair(rng, [n], 0.25, n_src=8)
    out = {}
    for seg in (0.4, 1.6, 16.0):
        m = int(seg * SFREQ)
        cut = lambda a: [a[:, i:i + m] for i in range(0, n - m + 1, m)]  # noqa: E731
        for name, fn in POOLED.items():
            out[name, seg] = float(fn(cut(xs[0]), cut(ys[0]), SFREQ).band(
                (10, 15)).mean())
    for name in POOLED:
        vals = [out[name, s] for s in (0.4, 1.6, 16.0)]
        assert max(vals) - min(vals) < 0.05, (name, vals)
        assert vals[-1] == pytest.approx(0.25, abs=0.03)


def test_multitaper_equals_mne_connectivity():
    mc = pytest.importorskip("mne_connectivity")
    rng = np.random.default_rng(8)
    data = rng.standard_normal((12, 3, 160))
    data[:, 1] += 0.8 * data[:, 0]
    idx = (np.array([0, 0, 1]), np.array([1, 2, 2]))
    con = mc.spectral_connectivity_epochs(
        data, method="coh", mode="multitaper", sfreq=SFREQ, mt_bandwidth=5.0,
        mt_low_bias=True, mt_adaptive=False, indices=idx, fmin=7.5, fmax=40.0,
        verbose=False)
    ref = con.get_data() ** 2          # mne-connectivity gives |coherency|
    freqs = np.asarray(con.freqs)
    ours = sy.coherence_multitaper(data[:, idx[0]], data[:, idx[1]], SFREQ,
                                   half_bandwidth=2.5, fmin=7.5, fmax=40.0)
    np.testing.assert_allclose(ours.freqs, freqs)
    np.testing.assert_allclose(ours.coherence, ref, rtol=1e-6)
    assert ours.dof == 12 * 3            # three tapers (NW = 2) per segment


def test_too_short_segments_are_flagged_never_one():
    rng = np.random.default_rng(9)
    xs, ys = _pair(rng, [30, 150, 30, 200], 0.0, n_src=5)  # 0.15-s segments
    for name, fn in POOLED.items():
        res = fn(xs, ys, SFREQ)
        np.testing.assert_array_equal(res.too_short, [True, False, True, False])
    with pytest.raises(SpindleScopeError, match="too short"):
        sy.coherence_multitaper(xs[0], ys[0], SFREQ)
    # a spindle too short for an estimator has no per-spindle value
    from core.sources.coherence import make_estimator
    from core.sources.synchrony_figures import segment_figures

    est = {e: make_estimator(e, SFREQ, nfft=200) for e in ("multitaper", "welch", "mvdr")}
    figs, _, st = segment_figures({"eeg": xs[0], "meg": ys[0]}, xs[0], ys[0], est)
    for e in est:
        assert st[e] is None and np.isnan(figs[f"coherence_{e}"])


def test_mvdr_is_bounded_and_symmetric():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((20, 300))
    y = 0.3 * x + rng.standard_normal((20, 300))
    c1 = sy.coherence_mvdr(x, y, SFREQ).coherence
    c2 = sy.coherence_mvdr(y, x, SFREQ).coherence
    assert np.all((c1 >= 0) & (c1 <= 1))
    np.testing.assert_allclose(c1, c2, atol=1e-10)


def test_figure_stats_null_interval_p():
    rng = np.random.default_rng(12)
    obs = rng.normal(0.10, 0.05, 26)
    null = rng.normal(0.02, 0.05, 26)
    fs = sy.figure_stats(obs, null, n_boot=2000, n_perm=2000)
    assert fs["value"] == pytest.approx(obs.mean())
    assert fs["null"] == pytest.approx(null.mean())
    assert fs["excess"] == pytest.approx(obs.mean() - null.mean())
    se = obs.std(ddof=1) / np.sqrt(26)
    lo, hi = fs["ci"]
    assert lo < fs["value"] < hi
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.2)
    assert fs["excess_ci"][0] > 0 and fs["p"] < 0.01
    # no effect: the p-value is not small and the excess interval covers 0
    fs0 = sy.figure_stats(null, rng.normal(0.02, 0.05, 26))
    assert fs0["p"] > 0.05 and fs0["excess_ci"][0] < 0 < fs0["excess_ci"][1]
    # NaN (not estimable) values are left out
    fs1 = sy.figure_stats(np.r_[obs, np.nan], null)
    assert fs1["value"] == pytest.approx(obs.mean()) and fs1["n"] == 26
    # cohort: subjects as resampling units widen the interval when subjects differ
    groups = np.repeat(np.arange(6), 10)
    vals = np.repeat(rng.normal(0.1, 0.05, 6), 10) + rng.normal(0, 0.01, 60)
    fsg = sy.figure_stats(vals, rng.normal(0, 0.01, 60), groups=groups,
                          null_groups=groups)
    fsu = sy.figure_stats(vals, rng.normal(0, 0.01, 60))
    assert np.diff(fsg["ci"])[0] > 2 * np.diff(fsu["ci"])[0]
    with pytest.raises(SpindleScopeError, match="null values"):
        sy.figure_stats(obs, [])


def test_pooled_coherence_stats_match_direct_pooling():
    """figure_stats with the coherence pool gives the directly pooled value."""
    from core.sources.coherence import MultitaperEstimator, band_pool, resample_stats

    rng = np.random.default_rng(13)
    xs, ys = _pair(rng, SHORT, 0.25, n_src=20)
    nx, ny = _pair(rng, SHORT, 0.0, n_src=20)
    est = MultitaperEstimator(SFREQ, 2.5, nfft=int(max(SHORT)), fmin=5, fmax=40)
    keep = np.arange(20)
    stack = lambda a, b: {k: np.stack([resample_stats(est, est.stats(u, v),  # noqa
                                                      (10, 15), keep)[k]
                                       for u, v in zip(a, b)]) for k in
                          ("sxy", "sxx", "syy", "dof")}
    fs = sy.figure_stats(stack(xs, ys), stack(nx, ny), pool=band_pool(est, (10, 15)),
                         n_perm=200, interval="jackknife")
    direct = sy.coherence_multitaper(xs, ys, SFREQ, nfft=int(max(SHORT)), fmin=5, fmax=40)
    assert fs["value"] == pytest.approx(float(direct.band((10, 15)).mean()), rel=1e-4)
    assert fs["ci"][0] < fs["value"] < fs["ci"][1]
    assert fs["ci"][0] < 0.25 < fs["ci"][1]   # the truth lies inside
    assert fs["null"] < 0.1 and fs["p"] < 0.01 and fs["excess_ci"][0] > 0.1


def test_correlations_bad_input():
    x = np.random.default_rng(5).standard_normal((30, 200))
    with pytest.raises(SpindleScopeError, match="shape"):
        sy.mean_pairwise_correlation(np.zeros(10))
    with pytest.raises(SpindleScopeError, match="differ in shape"):
        sy.between_correlation(x, x[:, :100])


def test_generator_dynamics_per_cycle():
    from core.sources.dynamics import cycle_maxima, dynamics_figures

    sfreq, f = 200.0, 12.5            # 16 samples per cycle
    n_src, n_left = 10, 5
    pos = np.zeros((n_src, 3))
    pos[:, 0] = np.arange(n_src) * 0.01   # sources 1 cm apart
    t = np.arange(16 * 6)
    tc = 0.1 * np.ones((n_src, len(t)))
    path = [0, 1, 6, 6, 2, 9]         # the maximum of each cycle
    for c, src in enumerate(path):
        tc[src, 16 * c:16 * (c + 1)] = 5.0 * np.sin(2 * np.pi * f * t[:16] / sfreq)
    mx = cycle_maxima(tc, sfreq, f)
    np.testing.assert_array_equal(mx, path)
    d = dynamics_figures(mx, pos, n_left)
    assert d["max_displacement_cm"] == pytest.approx(np.mean([1, 5, 0, 4, 7]))
    assert d["max_hemi_change"] == pytest.approx(3 / 5)
    centre = np.mean(path)
    assert d["max_spread_cm"] == pytest.approx(np.mean(np.abs(np.array(path) - centre)))
    assert cycle_maxima(tc[:, :20], sfreq, f) is None      # one cycle only
    assert np.isnan(dynamics_figures(None, pos, n_left)["max_spread_cm"])
