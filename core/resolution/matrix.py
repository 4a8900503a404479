"""Resolution analysis of linear inverse methods (Hauk, Stenroos & Treder).

For a fixed-orientation forward model ``G`` (sensors x sources, normal to the
cortex) and a linear inverse ``K`` (sources x sensors) the resolution matrix is
``R = K @ G``: its columns are point-spread functions (PSFs: how a point source
is seen by the estimate), its rows cross-talk functions (CTFs: what leaks into
an estimated source). This module builds ``K`` for

========  ===============================================================
MNE       L2 minimum-norm estimate, no depth weighting
wMNE      depth-weighted MNE (MNE's depth weighting, exponent 0.8)
dSPM      noise-normalised MNE
sLORETA   standardised MNE
eLORETA   exact LORETA
DF        dipole filter: unit-gain spatial filter with the noise covariance,
          ``w_i = g_i^T C^-1 / (g_i^T C^-1 g_i)`` (Hauk et al. 2022)
LCMV      unit-gain LCMV beamformer with a data covariance (noise-whitened,
          data covariance regularised by 5 % of its mean eigenvalue)
========  ===============================================================

for the sensor sets ``'meeg'`` (MEG+EEG), ``'meg'``, ``'eeg'``, ``'mag'`` and
``'grad'``. Defaults follow Hauk et al.: fixed orientation, no depth weighting
(``wMNE`` is its own method), the noise covariance used as given unless
``reg`` is set (they used 0.2 per channel type), ``lambda2 = 1 / snr**2`` with
SNR 3 for every regularised method.

``R`` is kept factored (:class:`ResolutionMatrix`): PSFs, CTFs and all metrics
(:mod:`core.resolution.metrics`) are computed blockwise, so a 20,484-source
analysis never holds an ``n x n`` matrix. Results of a study (methods x sensor
sets) are a :class:`ResolutionResults`: per-source metrics, contrasts,
summaries, MNE SourceEstimates, CSV and HTML export.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.resolution.metrics import (FUNCTIONS, MAX_DENSE_BYTES, METRIC_UNITS, METRICS,
                                     ResolutionResults, iter_resolution_metrics, metric_names,
                                     resolution_metrics, source_locations)
from core.io.recording import is_maxfiltered
from core.sources.inverse import identity_kernel, sensor_picks, with_eeg_average_ref
from core.utils import (Progress, SpindleScopeError, check_option, check_range, logger,
                        rescale_progress, run_with_progress)
from core.utils.vocabulary import SENSOR_LABELS as _LABELS
from core.utils.vocabulary import STUDY_SETS

__all__ = [
    "METHODS", "SENSOR_SETS", "FUNCTIONS", "METRICS", "ResolutionMatrix",
    "ResolutionResults", "prepare_forward", "make_resolution_matrix",
    "iter_resolution_matrices", "iter_resolution_study", "resolution_study",
    "iter_resolution_metrics", "resolution_metrics", "metric_names",
    "model_data_cov", "METRIC_UNITS",
]

METHODS = ("MNE", "wMNE", "dSPM", "sLORETA", "eLORETA", "DF", "LCMV")
DEFAULT_METHODS = ("MNE", "dSPM", "sLORETA", "eLORETA", "DF")
SENSOR_SETS = STUDY_SETS
DEFAULT_SENSORS = ("meeg", "meg", "eeg")
SENSOR_LABELS = {k: _LABELS[k] for k in STUDY_SETS}
#: Depth-weighting exponent of wMNE (MNE's default).
WMNE_DEPTH = 0.8
#: Regularisation of the LCMV data covariance (MNE's default).
LCMV_REG = 0.05
_MNE_FAMILY = {"MNE": "MNE", "wMNE": "MNE", "dSPM": "dSPM", "sLORETA": "sLORETA",
               "eLORETA": "eLORETA"}


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
@contextmanager
def _mne_warnings_to_log():
    """Turn MNE's warnings inside the block into log messages.

    MNE attributes its warnings to the first caller outside MNE, i.e. this
    module, where the test suite makes them errors; they are advice to the
    user, so they go to the log instead.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for w in caught:
        msg = str(w.message)
        if msg not in seen:
            seen.add(msg)
            logger.warning("MNE: %s", msg)


def _read(obj, kind):
    import mne

    if obj is None or not isinstance(obj, (str, Path)):
        return obj
    path = Path(obj)
    if not path.exists():
        raise SpindleScopeError(f"The {kind} file {str(path)!r} does not exist.")
    readers = {"forward": mne.read_forward_solution, "covariance": mne.read_cov,
               "info": mne.io.read_info}
    try:
        with _mne_warnings_to_log():
            return readers[kind](path, verbose="error")
    except Exception as exc:
        raise SpindleScopeError(f"Cannot read {path.name!r} as a {kind} ({exc}).") \
            from exc


def prepare_forward(forward):
    """Fixed-orientation, surface-oriented copy of a forward model.

    Parameters
    ----------
    forward : mne.Forward | path-like
        A forward model on a cortical surface source space (free, loose or
        fixed orientation).

    Returns
    -------
    fwd : mne.Forward
        ``convert_forward_solution(surf_ori=True, force_fixed=True,
        use_cps=True)`` of the input (the input itself if already so).
    """
    import mne
    from mne.io.constants import FIFF

    fwd = _read(forward, "forward")
    if not isinstance(fwd, mne.Forward):
        raise SpindleScopeError(
            f"Expected a forward model (mne.Forward or a -fwd.fif file), but got "
            f"{type(fwd).__name__}.")
    source_locations(fwd["src"])  # a cortical surface source space
    if fwd["source_ori"] == FIFF.FIFFV_MNE_FIXED_ORI and fwd["surf_ori"]:
        return fwd
    with _mne_warnings_to_log():
        return mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True,
                                            use_cps=True, verbose="error")


def _free_surface_forward(fwd):
    """Free-orientation surface-oriented forward (for depth weighting)."""
    import mne
    from mne.io.constants import FIFF

    if fwd["source_ori"] == FIFF.FIFFV_MNE_FIXED_ORI:
        raise SpindleScopeError(
            "Depth-weighted MNE (wMNE) needs a free- or loose-orientation forward "
            "model to compute the depth weights, but this one has fixed "
            "orientation. Give the free-orientation forward model, or leave wMNE "
            "out of the methods.")
    if fwd["surf_ori"]:
        return fwd
    with _mne_warnings_to_log():
        return mne.convert_forward_solution(fwd, surf_ori=True, use_cps=True,
                                            verbose="error")


def _info_from_forward(fwd):
    """A measurement info with the forward model's channels (geometry only)."""
    import mne

    fi = fwd["info"]
    types = [mne.channel_type(fi, i) for i in range(fi["nchan"])]
    info = mne.create_info(list(fi["ch_names"]), 1000.0, types)
    for ch, orig in zip(info["chs"], fi["chs"]):
        for key in ("loc", "coil_type", "kind", "unit", "unit_mul", "cal", "range",
                    "coord_frame"):
            ch[key] = deepcopy(orig[key])
    info["dev_head_t"] = deepcopy(fi["dev_head_t"])
    info["bads"] = list(fi["bads"])
    return info


def _sensor_channels(fwd, noise_cov, info, sensors):
    """Good channels of a sensor set present in forward, covariance and info."""
    fwd_names = list(fwd["info"]["ch_names"])
    cov_names = set(noise_cov.ch_names)
    common = [c for c in fwd_names if c in cov_names]
    if not common:
        raise SpindleScopeError(
            "The forward model and the noise covariance have no channels in common "
            f"(forward: {_few(fwd_names)}; covariance: {_few(noise_cov.ch_names)}). "
            "Use a noise covariance computed from the recording the forward model "
            "was made for.")
    in_fwd = sensor_picks(fwd["info"], sensors, exclude=())
    if not in_fwd:
        present = [s for s in SENSOR_SETS if sensor_picks(fwd["info"], s, exclude=())]
        raise SpindleScopeError(
            f"The forward model has no {SENSOR_LABELS[sensors]} channels, so the "
            f"sensor set {sensors!r} is not available. Sensor sets it has: "
            f"{', '.join(repr(s) for s in present) or 'none'}.")
    missing = [c for c in in_fwd if c not in cov_names]
    if len(missing) == len(in_fwd):
        raise SpindleScopeError(
            f"The noise covariance has none of the forward model's "
            f"{SENSOR_LABELS[sensors]} channels ({_few(missing)}), so the sensor "
            f"set {sensors!r} cannot be used. Use a noise covariance that covers "
            "every channel type of the analysis.")
    bads = set(info["bads"]) | set(noise_cov["bads"]) | set(fwd["info"]["bads"])
    info_names = set(info["ch_names"])
    chans = [c for c in in_fwd if c in cov_names and c in info_names and c not in bads]
    if not chans:
        raise SpindleScopeError(
            f"No good {SENSOR_LABELS[sensors]} channel is left once bad channels "
            "and channels missing from the measurement info are removed.")
    if missing:
        logger.warning("%d %s channel(s) of the forward model are not in the noise "
                       "covariance and are left out: %s", len(missing),
                       SENSOR_LABELS[sensors], _few(missing))
    return chans


def _few(names, k=4):
    names = list(names)
    s = ", ".join(names[:k])
    return s + (f", ... ({len(names)} in all)" if len(names) > k else "")


def model_data_cov(forward, noise_cov, snr=3.0, source_amplitude=None):
    """A model data covariance ``a**2 G G^T + C`` for LCMV resolution analysis.

    With no measured data, Hauk et al. model the data covariance from the
    forward model (uncorrelated unit sources, scaled to a given SNR) plus the
    noise covariance.

    Parameters
    ----------
    forward : mne.Forward
        Fixed-orientation forward model.
    noise_cov : mne.Covariance
        Noise covariance (its channels are kept).
    snr : float
        Amplitude signal-to-noise ratio: ``a`` is chosen so that
        ``trace(a**2 G G^T) = snr**2 * trace(C)`` over the common channels.
    source_amplitude : float | None
        Use this ``a`` instead.

    Returns
    -------
    data_cov : mne.Covariance
    """
    import mne

    fwd = prepare_forward(forward)
    names = [c for c in noise_cov.ch_names if c in fwd["info"]["ch_names"]]
    if not names:
        raise SpindleScopeError("The forward model and the noise covariance have "
                                "no channels in common.")
    fwd = mne.pick_channels_forward(fwd, names, ordered=True, verbose="error")
    idx = [noise_cov.ch_names.index(c) for c in names]
    C = noise_cov.data[np.ix_(idx, idx)]
    G = fwd["sol"]["data"]
    GG = G @ G.T
    if source_amplitude is None:
        source_amplitude = snr * np.sqrt(np.trace(C) / np.trace(GG))
    data = source_amplitude ** 2 * GG + C
    return mne.Covariance(data, names, bads=[], projs=deepcopy(noise_cov["projs"]),
                          nfree=noise_cov["nfree"], verbose="error")


# --------------------------------------------------------------------------
# Resolution matrix in factored form
# --------------------------------------------------------------------------
@dataclass
class ResolutionMatrix:
    """A resolution matrix ``R = kernel @ gain`` kept in factored form.

    Attributes
    ----------
    kernel : array, shape (n_sources, n_channels)
        The inverse operator (with any noise normalisation).
    gain : array, shape (n_channels, n_sources)
        The fixed-orientation forward model of the same channels.
    src : mne.SourceSpaces
        The forward model's source space.
    method : str
    sensors : str
    lambda2 : float | None
    ch_names : list of str
    """

    kernel: np.ndarray
    gain: np.ndarray
    src: object
    method: str = ""
    sensors: str = ""
    lambda2: float | None = None
    ch_names: list = field(default_factory=list)

    @property
    def n_sources(self) -> int:
        return self.kernel.shape[0]

    @property
    def shape(self):
        return (self.n_sources, self.gain.shape[1])

    @property
    def vertices(self):
        return [s["vertno"].copy() for s in self.src]

    @property
    def locations(self) -> np.ndarray:
        return source_locations(self.src)

    @property
    def nbytes_dense(self) -> int:
        """Memory a dense copy of R would take (bytes)."""
        return self.n_sources * self.gain.shape[1] * 8

    def to_array(self) -> np.ndarray:
        """The dense matrix (``n_sources**2 * 8`` bytes: 3.4 GB at 20,484)."""
        return self.kernel @ self.gain

    def _check_idx(self, idx):
        idx = np.atleast_1d(np.asarray(idx))
        if idx.dtype.kind not in "iu" or idx.ndim != 1 or idx.size == 0:
            raise SpindleScopeError(
                "Source indices must be a non-empty list of integers, but got "
                f"{idx!r}.")
        bad = idx[(idx < 0) | (idx >= self.n_sources)]
        if bad.size:
            raise SpindleScopeError(
                f"Source index {int(bad[0])} is out of range: the source space has "
                f"{self.n_sources} sources (indices 0 to {self.n_sources - 1}).")
        return idx

    def get_psf(self, idx, norm=False) -> np.ndarray:
        """Point-spread functions (columns of R).

        Parameters
        ----------
        idx : int | array of int
            Source indices (0 .. n_sources - 1, left hemisphere first).
        norm : bool | 'max' | 'norm'
            ``False``: raw; ``True``/``'max'``: each function divided by its
            largest absolute value; ``'norm'``: by its Euclidean norm.

        Returns
        -------
        funcs : array, shape (n_sources, n_idx)
        """
        idx = self._check_idx(idx)
        return _normalise(self.kernel @ self.gain[:, idx], norm)

    def get_ctf(self, idx, norm=False) -> np.ndarray:
        """Cross-talk functions (rows of R), as columns; see :meth:`get_psf`."""
        idx = self._check_idx(idx)
        return _normalise((self.kernel[idx] @ self.gain).T, norm)

    def psf(self, idx, norm=False):
        """PSFs as an :class:`mne.SourceEstimate` (one "time" per source)."""
        return self._stc(self.get_psf(idx, norm))

    def ctf(self, idx, norm=False):
        """CTFs as an :class:`mne.SourceEstimate` (one "time" per source)."""
        return self._stc(self.get_ctf(idx, norm))

    def _stc(self, data):
        import mne

        return mne.SourceEstimate(data, self.vertices, tmin=0.0, tstep=1.0,
                                  subject=self.src._subject)

    def metrics(self, functions=FUNCTIONS, metrics=METRICS, threshold=0.5):
        """All metrics of all sources (see :func:`resolution_metrics`)."""
        return resolution_metrics(self, functions=functions, metrics=metrics,
                                  threshold=threshold)


def _normalise(funcs, norm):
    if norm is False or norm is None:
        return funcs
    if norm is True:
        norm = "max"
    check_option("norm", norm, (False, True, "max", "norm"))
    scale = np.abs(funcs).max(axis=0) if norm == "max" \
        else np.linalg.norm(funcs, axis=0)
    scale[scale == 0] = 1.0
    return funcs / scale


def _validate(methods, sensors, snr, reg, data_cov):
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    if isinstance(sensors, str):
        sensors = [s.strip() for s in sensors.split(",") if s.strip()]
    methods, sensors = list(dict.fromkeys(methods)), list(dict.fromkeys(sensors))
    if not methods:
        raise SpindleScopeError("Choose at least one inverse method.")
    if not sensors:
        raise SpindleScopeError("Choose at least one sensor set.")
    for m in methods:
        check_option("method", m, METHODS)
    for s in sensors:
        check_option("sensors", s, SENSOR_SETS)
    snr = check_range("snr", snr, 0.0)
    if snr == 0:
        raise SpindleScopeError("Invalid value for the 'snr' parameter: it must be "
                                "positive, but got 0 instead.")
    if reg is not None:
        reg = check_range("reg", reg, 0.0, 1.0)
    if "LCMV" in methods and data_cov is None:
        raise SpindleScopeError(
            "The LCMV beamformer needs a data covariance: give 'data_cov' (or "
            "--data-cov), or leave LCMV out of the methods.")
    return methods, sensors, snr, reg


def iter_resolution_matrices(forward, noise_cov, methods=DEFAULT_METHODS,
                             sensors=DEFAULT_SENSORS, *, info=None, snr=3.0,
                             reg=None, data_cov=None, rank="auto"):
    """Resolution matrices of methods x sensor sets (generator).

    Parameters
    ----------
    forward : mne.Forward | path-like
        Forward model on a cortical source space; converted to fixed
        orientation normal to the cortex.
    noise_cov : mne.Covariance | path-like
        Noise covariance covering every channel type used.
    methods : list of str | str
        Any of ``METHODS`` (a comma-separated string is accepted).
    sensors : list of str | str
        Any of ``'meeg'``, ``'meg'``, ``'eeg'``, ``'mag'``, ``'grad'``.
    info : mne.Info | path-like | None
        Measurement info (bad channels, projections, Maxwell filtering). By
        default one is made from the forward model's channels.
    snr : float
        ``lambda2 = 1 / snr**2`` for every regularised method (default 3).
    reg : float | None
        Regularise the noise covariance by this fraction per channel type
        (:func:`mne.cov.regularize`; Hauk et al. used 0.2). ``None`` uses it as
        given.
    data_cov : mne.Covariance | path-like | None
        Data covariance, needed for LCMV.
    rank : 'auto' | None | 'info' | dict
        Rank of the covariance. ``'auto'``: ``'info'`` for Maxwell-filtered
        data, else estimated from the covariance (``None``).

    Yields
    ------
    progress : Progress

    Returns
    -------
    matrices : dict of (method, sensors) -> ResolutionMatrix
    """
    mats = {}
    gen = _iter_matrices(forward, noise_cov, methods, sensors, info=info, snr=snr,
                         reg=reg, data_cov=data_cov, rank=rank)
    total = None
    while True:
        try:
            item = next(gen)
        except StopIteration:
            break
        if isinstance(item, Progress):
            total = item.total
            yield item
        else:
            mats[(item.method, item.sensors)] = item
    yield Progress(total or 1, total or 1, "Resolution matrices ready")
    return mats


def _iter_matrices(forward, noise_cov, methods, sensors, *, info, snr, reg,
                   data_cov, rank):
    """Yield Progress and ResolutionMatrix items, one sensor set at a time."""
    import mne
    from mne.minimum_norm import apply_inverse, make_inverse_operator

    methods, sensors, snr, reg = _validate(methods, sensors, snr, reg, data_cov)
    lambda2 = 1.0 / snr ** 2
    fwd_in = _read(forward, "forward")
    fwd = prepare_forward(fwd_in)
    fwd_free = None
    if "wMNE" in methods:
        fwd_free = _free_surface_forward(fwd_in)
    noise_cov = _read(noise_cov, "covariance")
    data_cov = _read(data_cov, "covariance")
    if not isinstance(noise_cov, mne.Covariance):
        raise SpindleScopeError("Expected a noise covariance (mne.Covariance or a "
                                f"-cov.fif file), but got {type(noise_cov).__name__}.")
    info = _read(info, "info")
    if info is None:
        info = _info_from_forward(fwd)
    # validate every sensor set before any long work
    chans = {s: _sensor_channels(fwd, noise_cov, info, s) for s in sensors}
    if data_cov is not None:
        for s in sensors:
            lack = [c for c in chans[s] if c not in data_cov.ch_names]
            if lack:
                raise SpindleScopeError(
                    f"The data covariance lacks {len(lack)} channel(s) of the "
                    f"sensor set {s!r} ({_few(lack)}).")
    if rank == "auto":
        rank = "info" if is_maxfiltered(info) else None
    info = with_eeg_average_ref(info)
    steps_per = 1 + len(methods)
    total = steps_per * len(sensors)
    done = 0
    for s in sensors:
        yield Progress(done, total, f"{SENSOR_LABELS[s]}: inverse operators")
        names = chans[s]
        with _mne_warnings_to_log():
            info_s = mne.pick_info(info, [info["ch_names"].index(c) for c in names],
                                   verbose="error")
            info_s["bads"] = []
            fwd_s = mne.pick_channels_forward(fwd, names, ordered=True,
                                              verbose="error")
            cov_s = mne.pick_channels_cov(noise_cov, names, ordered=True,
                                          exclude=(), verbose="error")
            cov_s["bads"] = []
            if reg is not None:
                cov_s = mne.cov.regularize(cov_s, info_s, mag=reg, grad=reg, eeg=reg,
                                           rank=rank, verbose="error")
        gain = np.ascontiguousarray(fwd_s["sol"]["data"])
        invs = {}
        done += 1
        for m in methods:
            yield Progress(done, total, f"{SENSOR_LABELS[s]}: {m} inverse")
            with _mne_warnings_to_log():
                if m in _MNE_FAMILY:
                    depth = WMNE_DEPTH if m == "wMNE" else None
                    if depth not in invs:
                        f_inv = fwd_s if depth is None else mne.pick_channels_forward(
                            fwd_free, names, ordered=True, verbose="error")
                        invs[depth] = make_inverse_operator(
                            info_s, f_inv, cov_s, loose=0.0, depth=depth, fixed=True,
                            rank=rank, verbose="error")
                    inv = invs[depth]
                    # columns follow info_s (= names); channels MNE did not
                    # use get zero columns
                    kernel = identity_kernel(
                        info_s, lambda ev, inv=inv, m=m: apply_inverse(
                            ev, inv, lambda2=lambda2, method=_MNE_FAMILY[m],
                            pick_ori=None, verbose="error")).data
                    gain_m, ch = gain, names
                elif m == "DF":
                    kernel, gain_m, ch = _df_kernel(info_s, cov_s, gain, names, rank)
                else:  # LCMV
                    kernel, gain_m, ch = _lcmv_kernel(info_s, fwd_s, cov_s, data_cov,
                                                      gain, names, rank)
            done += 1
            yield ResolutionMatrix(np.ascontiguousarray(kernel), gain_m, fwd["src"],
                                   method=m, sensors=s,
                                   lambda2=None if m in ("DF", "LCMV") else lambda2,
                                   ch_names=list(ch))


def _df_kernel(info_s, cov_s, gain, names, rank):
    """Dipole filter: unit-gain filter with the noise covariance."""
    import mne.cov

    W, ch = mne.cov.compute_whitener(cov_s, info_s, rank=rank, pca=False,
                                     verbose="error")
    if list(ch) != names:
        gain = gain[[names.index(c) for c in ch]]
    gw = W @ gain                                  # whitened gain
    power = np.einsum("ij,ij->j", gw, gw)          # g_i^T C^-1 g_i
    if np.any(power <= 0):
        raise SpindleScopeError("Some sources are invisible to these sensors after "
                                "whitening; the dipole filter is undefined.")
    kernel = (gw / power).T @ W
    return kernel, gain, ch


def _lcmv_kernel(info_s, fwd_s, cov_s, data_cov, gain, names, rank):
    import mne
    from mne.beamformer import apply_lcmv, make_lcmv

    dcov = mne.pick_channels_cov(data_cov, names, ordered=True, exclude=(),
                                 verbose="error")
    dcov["bads"] = []
    filters = make_lcmv(info_s, fwd_s, dcov, reg=LCMV_REG, noise_cov=cov_s,
                        pick_ori=None, rank="info" if rank is None else rank,
                        weight_norm=None, verbose="error")
    kernel = identity_kernel(info_s, lambda ev: apply_lcmv(ev, filters,
                                                           verbose="error")).data
    return kernel, gain, names


def make_resolution_matrix(forward, noise_cov, method="MNE", sensors="meeg",
                           **kwargs) -> ResolutionMatrix:
    """One resolution matrix (see :func:`iter_resolution_matrices`)."""
    check_option("method", method, METHODS)
    check_option("sensors", sensors, SENSOR_SETS)
    mats = run_with_progress(iter_resolution_matrices(
        forward, noise_cov, [method], [sensors], **kwargs))
    return mats[(method, sensors)]


# --------------------------------------------------------------------------
# Studies: metrics of every method x sensor set
# --------------------------------------------------------------------------
def iter_resolution_study(forward, noise_cov, methods=DEFAULT_METHODS,
                          sensors=DEFAULT_SENSORS, *, info=None, snr=3.0, reg=None,
                          data_cov=None, rank="auto", functions=FUNCTIONS,
                          metrics=METRICS, threshold=0.5,
                          max_dense_bytes=MAX_DENSE_BYTES):
    """Resolution metrics of every method x sensor set (generator).

    Parameters are those of :func:`iter_resolution_matrices` and
    :func:`~core.resolution.metrics.iter_resolution_metrics`. Each matrix is
    analysed as soon as it is built and then dropped, so memory stays at one
    kernel and one block of functions, or one dense matrix where it fits in
    ``max_dense_bytes`` (256 MiB by default: 5,124 sources are assembled,
    20,484 are not; raising it to 4 GB makes a 20,484-source analysis about
    three times faster).

    Yields
    ------
    progress : Progress

    Returns
    -------
    results : ResolutionResults
    """
    methods, sensors, snr, reg = _validate(methods, sensors, snr, reg, data_cov)
    gen = _iter_matrices(forward, noise_cov, methods, sensors, info=info, snr=snr,
                         reg=reg, data_cov=data_cov, rank=rank)
    n_mat = len(methods) * len(sensors)
    # weights: building a matrix = 1 step, its metrics = 4 steps
    total = len(sensors) * (1 + len(methods)) + 4 * n_mat
    done = 0
    values = {}
    src = None
    for item in gen:
        if isinstance(item, Progress):
            yield Progress(done, total, item.message)
            done += 1
            continue
        src = item.src
        mgen = iter_resolution_metrics(item, functions=functions, metrics=metrics,
                                       threshold=threshold,
                                       max_dense_bytes=max_dense_bytes)
        label = f"{SENSOR_LABELS[item.sensors]}: {item.method}"
        values[(item.method, item.sensors)] = yield from rescale_progress(
            mgen, done, 4, total, f"{label}: ")
        done += 4
        del item
    yield Progress(total, total, "Resolution analysis done")
    return ResolutionResults(
        values=values, vertices=[s["vertno"].copy() for s in src],
        locations=source_locations(src), subject=src._subject,
        params=dict(snr=snr, lambda2=1.0 / snr ** 2, reg=reg, threshold=threshold,
                    methods=methods, sensors=sensors))


def resolution_study(forward, noise_cov, methods=DEFAULT_METHODS,
                     sensors=DEFAULT_SENSORS, progress=None, **kwargs):
    """Blocking wrapper of :func:`iter_resolution_study`."""
    return run_with_progress(iter_resolution_study(forward, noise_cov, methods,
                                                   sensors, **kwargs), progress)
