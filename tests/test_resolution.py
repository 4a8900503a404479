"""Resolution analysis: known facts on the real MNE sample problem.

Forward model: MNE's ``small-src`` source space (516 sources), the sample
subject's 3-layer BEM, its trans and the Maxwell-filtered raw's info; noise
covariance ``sample_audvis_trunc-cov.fif`` (rank from the SSS info).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from core.utils import Cancelled, SpindleScopeError, run_with_progress

METRICS = ("peak_err", "cog_err", "sd_ext", "maxrad_ext", "peak_amp", "sum_amp")


@pytest.fixture(scope="session")
def sample_problem(sample_dir):
    """(info, free forward, noise covariance), built once per session."""
    import mne

    info = mne.io.read_info(sample_dir / "SSS" / "sample_audvis_trunc_raw_sss.fif",
                            verbose="error")
    src = mne.read_source_spaces(
        sample_dir / "mne_python_tests" / "small-src.fif.gz", verbose="error")
    fwd = mne.make_forward_solution(
        info, sample_dir / "MEG" / "sample" / "sample_audvis_trunc-trans.fif", src,
        sample_dir / "subjects" / "sample" / "bem" / "sample-320-320-320-bem-sol.fif",
        meg=True, eeg=True, verbose="error")
    cov = mne.read_cov(sample_dir / "MEG" / "sample" / "sample_audvis_trunc-cov.fif",
                       verbose="error")
    return info, fwd, cov


@pytest.fixture(scope="session")
def sample_mats(sample_problem):
    from core.resolution.matrix import iter_resolution_matrices

    info, fwd, cov = sample_problem
    return run_with_progress(iter_resolution_matrices(
        fwd, cov, ["MNE", "wMNE", "dSPM", "sLORETA", "DF"], ["meeg", "meg", "eeg"],
        info=info))


@pytest.fixture(scope="session")
def mne_inverse(sample_problem):
    import mne
    from mne.minimum_norm import make_inverse_operator

    from core.resolution.matrix import prepare_forward

    info, fwd, cov = sample_problem
    fwd_fixed = prepare_forward(fwd)
    inv = make_inverse_operator(info, fwd_fixed, cov, loose=0.0, depth=None,
                                fixed=True, rank="info", verbose="error")
    assert isinstance(inv, mne.minimum_norm.InverseOperator)
    return fwd_fixed, inv


def test_matrix_equals_mne(sample_mats, mne_inverse):
    """Our factored R equals MNE's make_inverse_resolution_matrix."""
    from mne.minimum_norm import make_inverse_resolution_matrix

    fwd_fixed, inv = mne_inverse
    for method in ("MNE", "dSPM", "sLORETA"):
        ref = make_inverse_resolution_matrix(fwd_fixed, inv, method=method,
                                             lambda2=1.0 / 9.0, verbose="error")
        ours = sample_mats[(method, "meeg")]
        assert ours.shape == ref.shape == (516, 516)
        assert_allclose(ours.to_array(), ref, rtol=0, atol=1e-10 * np.abs(ref).max())
        assert ours.lambda2 == pytest.approx(1.0 / 9.0)


def test_mne_symmetric_wmne_not(sample_mats):
    """Unweighted MNE: R = V diag(s^2 / (s^2 + lambda2)) V^T is symmetric."""
    for s in ("meeg", "meg", "eeg"):
        R = sample_mats[("MNE", s)].to_array()
        scale = np.abs(R).max()
        assert np.abs(R - R.T).max() < 1e-10 * scale, s
        # it is also positive semi-definite with eigenvalues in [0, 1)
        ev = np.linalg.eigvalsh((R + R.T) / 2)
        assert ev.min() > -1e-10 and ev.max() < 1.0
        # depth weighting breaks the symmetry
        Rw = sample_mats[("wMNE", s)].to_array()
        assert np.abs(Rw - Rw.T).max() > 1e-4 * np.abs(Rw).max(), s


def test_ctfs_proportional(sample_mats):
    """dSPM and sLORETA only rescale MNE's rows: identical CTF shapes."""
    for s in ("meeg", "meg", "eeg"):
        Rm = sample_mats[("MNE", s)].to_array()
        for method in ("dSPM", "sLORETA"):
            Rx = sample_mats[(method, s)].to_array()
            c = np.einsum("ij,ij->i", Rx, Rm) / np.einsum("ij,ij->i", Rm, Rm)
            assert np.all(c > 0)
            resid = np.linalg.norm(Rx - c[:, None] * Rm, axis=1)
            assert resid.max() < 1e-10 * np.linalg.norm(Rx, axis=1).min()
            # ... whereas their PSFs (columns) are not proportional
            cc = np.einsum("ij,ij->j", Rx, Rm) / np.einsum("ij,ij->j", Rm, Rm)
            resid_c = np.linalg.norm(Rx - cc[None, :] * Rm, axis=0)
            assert resid_c.max() > 1e-3 * np.linalg.norm(Rx, axis=0).min()


def test_sloreta_zero_peak_error(sample_mats):
    from core.resolution.metrics import resolution_metrics

    for s in ("meeg", "meg", "eeg"):
        vals = resolution_metrics(sample_mats[("sLORETA", s)], functions=("psf",),
                                  metrics=("peak_err",))
        assert np.all(vals["psf_peak_err"] == 0.0), s
        # MNE's PSF peaks are not all at the true source
        mne_vals = resolution_metrics(sample_mats[("MNE", s)], functions=("psf",),
                                      metrics=("peak_err",))
        assert np.mean(mne_vals["psf_peak_err"] > 0) > 0.2


def test_df_unit_gain(sample_mats):
    for s in ("meeg", "meg", "eeg"):
        R = sample_mats[("DF", s)]
        diag = np.einsum("ij,ji->i", R.kernel, R.gain)
        assert_allclose(diag, 1.0, rtol=1e-10)


@pytest.mark.parametrize("method", ["MNE", "dSPM", "sLORETA", "DF", "wMNE"])
def test_metrics_equal_mne(sample_mats, method):
    """All 12 metrics equal mne.minimum_norm.resolution_metrics (rtol 1e-6),
    from the dense matrix and from the factored one."""
    from mne.minimum_norm import resolution_metrics as mne_metrics

    from core.resolution.metrics import resolution_metrics

    R = sample_mats[(method, "meeg")]
    dense = R.to_array()
    ours_dense = resolution_metrics(dense, R.src, mne_maxrad=True)
    ours_fact = resolution_metrics(R, mne_maxrad=True, max_dense_bytes=0)
    for function in ("psf", "ctf"):
        for metric in METRICS:
            ref = mne_metrics(dense, R.src, function=function, metric=metric,
                              verbose="error").data[:, 0]
            key = f"{function}_{metric}"
            assert_allclose(ours_dense[key], ref, rtol=1e-6, err_msg=key)
            assert_allclose(ours_fact[key], ref, rtol=1e-6, err_msg=key)


def test_maxrad_is_a_radius(sample_mats):
    """Default 'maxrad_ext' is the documented maximum radius (brute force)."""
    from core.resolution.metrics import resolution_metrics

    R = sample_mats[("MNE", "meg")]
    A = np.abs(R.to_array())
    X = R.locations * 100.0
    vals = resolution_metrics(R, metrics=("maxrad_ext",))
    fact = resolution_metrics(R, metrics=("maxrad_ext",), max_dense_bytes=0)
    for function, F in (("psf", A.T), ("ctf", A)):
        true = np.array([np.sqrt(((X[F[j] > 0.5 * F[j].max()] - X[j]) ** 2)
                                 .sum(axis=1).max()) for j in range(len(X))])
        assert_allclose(vals[f"{function}_maxrad_ext"], true, rtol=1e-12)
        assert_allclose(fact[f"{function}_maxrad_ext"], true, rtol=1e-12)
    # MNE's value differs (it sums over vertices, not coordinates)
    compat = resolution_metrics(R, metrics=("maxrad_ext",), mne_maxrad=True)
    assert np.median(compat["psf_maxrad_ext"] / vals["psf_maxrad_ext"]) > 1.2


def test_psf_ctf(sample_mats):
    R = sample_mats[("dSPM", "meeg")]
    dense = R.to_array()
    idx = [0, 17, 300]
    assert_allclose(R.get_psf(idx), dense[:, idx], rtol=1e-12)
    assert_allclose(R.get_ctf(idx), dense[idx].T, rtol=1e-12)
    norm = R.get_psf(idx, norm=True)
    assert_allclose(np.abs(norm).max(axis=0), 1.0)
    stc = R.ctf(idx, norm="norm")
    assert stc.data.shape == (516, 3)
    assert_allclose(np.linalg.norm(stc.data, axis=0), 1.0)
    assert [len(v) for v in stc.vertices] == [258, 258]
    with pytest.raises(SpindleScopeError, match="out of range"):
        R.get_psf([516])


def test_bad_inputs(sample_problem):
    import mne

    from core.resolution.matrix import iter_resolution_study, make_resolution_matrix

    info, fwd, cov = sample_problem
    # covariance with no channel in common with the forward model
    renamed = cov.copy()
    renamed["names"] = [f"X{i:03d}" for i in range(len(cov.ch_names))]
    with pytest.raises(SpindleScopeError, match="no channels in common"):
        make_resolution_matrix(fwd, renamed, "MNE", "meeg", info=info)
    # a sensor set the forward model lacks
    fwd_meg = mne.pick_types_forward(fwd, meg=True, eeg=False)
    with pytest.raises(SpindleScopeError, match="no EEG channels.*'eeg'.*'meg'"):
        make_resolution_matrix(fwd_meg, cov, "MNE", "eeg", info=info)
    # unknown method / sensor set, nothing computed
    with pytest.raises(SpindleScopeError, match="Invalid value for the 'method'.*"
                                                "'sLORETA'.*'LORETA'"):
        next(iter_resolution_study(fwd, cov, ["MNE", "LORETA"], ["meeg"]))
    with pytest.raises(SpindleScopeError, match="'sensors'.*'meg'.*'megeeg'"):
        next(iter_resolution_study(fwd, cov, "MNE", "megeeg"))
    with pytest.raises(SpindleScopeError, match="LCMV beamformer needs a data cov"):
        next(iter_resolution_study(fwd, cov, "MNE,LCMV", "meg"))
    with pytest.raises(SpindleScopeError, match="'snr'"):
        next(iter_resolution_study(fwd, cov, "MNE", "meg", snr=-1))
    # a volume / non-cortical matrix shape
    from core.resolution.metrics import resolution_metrics

    with pytest.raises(SpindleScopeError, match="square"):
        resolution_metrics(np.zeros((3, 4)), locations=np.zeros((4, 3)))


def test_without_info_and_regularised(sample_problem, sample_mats):
    """No measurement info: the forward model's channels and an average
    reference are used; ``reg`` regularises the noise covariance."""
    from core.resolution.matrix import make_resolution_matrix

    info, fwd, cov = sample_problem
    R = make_resolution_matrix(fwd, cov, "MNE", "eeg")
    assert len(R.ch_names) == 59            # EEG 053 is bad in the covariance
    dense = R.to_array()
    assert np.abs(dense - dense.T).max() < 1e-10 * np.abs(dense).max()
    # average reference: every kernel row sums to zero over the EEG channels
    assert_allclose(R.kernel.sum(axis=1), 0.0, atol=1e-8 * np.abs(R.kernel).max())
    Rr = make_resolution_matrix(fwd, cov, "MNE", "eeg", info=info, reg=0.2)
    ref = sample_mats[("MNE", "eeg")].to_array()
    diff = np.abs(Rr.to_array() - ref).max() / np.abs(ref).max()
    assert diff > 1e-3  # regularisation changes the matrix


def test_lcmv(sample_problem):
    """LCMV with a model data covariance: unit gain, equal to MNE's matrix."""
    from mne.beamformer import make_lcmv, make_lcmv_resolution_matrix

    from core.resolution.matrix import make_resolution_matrix, model_data_cov, \
        prepare_forward

    info, fwd, cov = sample_problem
    fwd_fixed = prepare_forward(fwd)
    import mne

    fwd_meg = mne.pick_types_forward(fwd_fixed, meg=True, eeg=False)
    dcov = model_data_cov(fwd_meg, cov, snr=3.0)
    R = make_resolution_matrix(fwd, cov, "LCMV", "meg", info=info, data_cov=dcov)
    assert_allclose(np.einsum("ij,ji->i", R.kernel, R.gain), 1.0, rtol=1e-6)
    info_meg = mne.pick_info(info, mne.pick_channels(info["ch_names"], R.ch_names,
                                                     ordered=True))
    fwd_meg = mne.pick_channels_forward(fwd_meg, R.ch_names, ordered=True)
    cov_meg = mne.pick_channels_cov(cov, R.ch_names, ordered=True, exclude=())
    dcov_meg = mne.pick_channels_cov(dcov, R.ch_names, ordered=True, exclude=())
    filters = make_lcmv(info_meg, fwd_meg, dcov_meg, reg=0.05, noise_cov=cov_meg,
                        pick_ori=None, rank="info", weight_norm=None, verbose="error")
    ref = make_lcmv_resolution_matrix(filters, fwd_meg, info_meg)
    assert_allclose(R.to_array(), ref, atol=1e-8 * np.abs(ref).max())


def test_study_and_exports(sample_problem, tmp_path):
    import mne

    from core.resolution.matrix import iter_resolution_study

    info, fwd, cov = sample_problem
    gen = iter_resolution_study(fwd, cov, ["MNE", "sLORETA"], ["meeg", "meg", "eeg"],
                                info=info)
    seen = []
    res = run_with_progress(gen, lambda p: seen.append(p) or True)
    assert seen[-1].done == seen[-1].total
    assert all(b.done >= a.done for a, b in zip(seen, seen[1:]))
    assert res.keys == [(m, s) for s in ("meeg", "meg", "eeg")
                        for m in ("MNE", "sLORETA")]
    assert len(res.names) == 12 and res.names[0] == "psf_peak_err"
    # summary: median / IQR per metric x method x sensor set
    rows = res.summary()
    assert len(rows) == 6 * 12
    r = next(r for r in rows if r["method"] == "sLORETA" and r["metric"] ==
             "psf_peak_err")
    assert r["median"] == 0.0 and r["iqr"] == 0.0
    v = res.get("MNE", "meg", "psf_sd_ext")
    r = next(r for r in rows if r["method"] == "MNE" and r["sensors"] == "meg"
             and r["metric"] == "psf_sd_ext")
    assert r["median"] == pytest.approx(np.median(v))
    assert r["iqr"] == pytest.approx(np.subtract(*np.percentile(v, [75, 25])))
    # contrasts
    con = res.default_contrasts()
    assert set(con) == {"MNE:meeg-meg", "MNE:meeg-eeg", "sLORETA:meeg-meg",
                        "sLORETA:meeg-eeg", "meeg:sLORETA-MNE", "meg:sLORETA-MNE",
                        "eeg:sLORETA-MNE"}
    d = res.contrast("psf_sd_ext", ("MNE", "meeg"), ("MNE", "meg"))
    assert_allclose(d, res.get("MNE", "meeg", "psf_sd_ext") - v)
    # CSV: one row per source x method x sensor set
    path = res.write_csv(tmp_path / "metrics.csv")
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 516 * 6
    header = lines[0].split(",")
    assert "psf_sd_ext" in header and "ctf_peak_err" in header
    # maps as STC HDF5, readable by MNE
    files = res.save_maps(tmp_path / "maps")
    stc = mne.read_source_estimate(tmp_path / "maps" / "MNE_meg-stc.h5")
    assert stc.data.shape == (516, 12)
    assert_allclose(stc.data[:, res.names.index("psf_sd_ext")], v)
    assert len(files) == 6 + 7
    # cancel between steps
    gen = iter_resolution_study(fwd, cov, ["MNE"], ["meg"], info=info)
    calls = []
    with pytest.raises(Cancelled):
        run_with_progress(gen, lambda p: calls.append(p) or len(calls) < 3)
    assert len(calls) == 3


def test_cli(sample_problem, sample_dir, tmp_path, capsys):
    import mne

    from core.cli.main import main

    info, fwd, cov = sample_problem
    fname = tmp_path / "sample-fwd.fif"
    mne.write_forward_solution(fname, fwd, verbose="error")
    common = ["--forward", str(fname), "--noise-cov",
              str(sample_dir / "MEG" / "sample" / "sample_audvis_trunc-cov.fif"),
              "--info", str(sample_dir / "SSS" / "sample_audvis_trunc_raw_sss.fif")]
    out = tmp_path / "out"
    rc = main(["resolution", *common, "--methods", "MNE,sLORETA", "--sensors",
               "meeg,meg", "--max-dense-mb", "0", "--out", str(out)])
    assert rc == 0
    lines = (out / "metrics.csv").read_text().splitlines()
    assert len(lines) == 1 + 516 * 4
    assert "psf_peak_err" in lines[0].split(",")
    assert (out / "maps" / "sLORETA_meeg-stc.h5").is_file()
    html = (out / "report.html").read_text()
    assert "psf_sd_ext" in html and "<img" in html
    printed = capsys.readouterr().out
    assert "sLORETA  meeg" in printed
    # bad method: a clear message and exit status 2
    rc = main(["resolution", *common, "--methods", "MNE,Foo", "--out", str(out)])
    assert rc == 2
    assert "Invalid value for the 'method' parameter" in capsys.readouterr().err


def test_template_meeg_sharper_than_meg():
    """Hauk et al.: EEG+MEG has a smaller median PSF spatial deviation than MEG
    alone, on the template head at 5,124 sources (the demo's forward model and
    noise covariance)."""
    import mne

    from core.resolution.matrix import iter_resolution_study
    from core.session.simulate import demo_paths

    paths = demo_paths()
    info = mne.io.read_info(paths.raw, verbose="error")
    res = run_with_progress(iter_resolution_study(
        paths.forward, paths.noise_cov, ["MNE", "dSPM", "sLORETA"], ["meeg", "meg"],
        info=info, functions=("psf",), metrics=("sd_ext", "peak_err")))
    assert res.n_sources == 5124
    for method in ("MNE", "dSPM", "sLORETA"):
        sd_meeg = res.median(method, "meeg", "psf_sd_ext")
        sd_meg = res.median(method, "meg", "psf_sd_ext")
        assert 0.5 < sd_meeg < sd_meg < 10.0, (method, sd_meeg, sd_meg)
        # and on most sources, not just in the median
        d = res.contrast("psf_sd_ext", (method, "meeg"), (method, "meg"))
        assert np.mean(d < 0) > 0.5
    assert np.all(res.get("sLORETA", "meeg", "psf_peak_err") == 0.0)
