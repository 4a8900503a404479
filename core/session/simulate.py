"""The built-in demo: a simulated simultaneous MEG+EEG stage-2 recording.

Made through the template forward model (:mod:`core.sources.headmodel`) on the
Vectorview-like array of :mod:`core.sources.sensors`, with three kinds of spindles:

``diffuse``
    one widespread generator with a common phase: a smooth sheet (Gaussian,
    SD ``diffuse.sigma_m``) of currents along the cortical normal over
    gyri and sulci alike, whose opposite sulcal walls cancel and leave a net
    radial current: strong in EEG, weak in MEG; the "matrix" system;
``focal``
    several small (about 1 cm radius) patches in sulcal walls (tangential
    currents), each with its own frequency (11–15 Hz) and phase: the "core"
    system, focal, asynchronous and shifting. The patches share the
    spindle's envelope (over the span their drawn onsets, ``jitter_s``, and
    durations cover) and take turns being the strongest: a rotating gate
    (``focal.gate``, :func:`_rotating_gates`) cuts the spindle into bursts
    of 1–2 cycles, each given to another patch than the one before, with
    raised-cosine gates that sum to one; a patch's amplitude is the envelope
    times ``floor + (1 - floor) * gate`` (floor 0.4), so each patch stays one
    continuous spindle on its own MEG sensors while the strongest generator,
    and so the MEG maximum, moves from patch to patch every cycle or two.
    Patches are drawn only where such a patch, at the highest MEG peak SNR
    it may be given (``peak_snr``, at full gate), stays below
    ``focal.patch_max_eeg_snr`` background SDs on the best EEG channel, and
    a focal spindle's patches are redrawn until their sum stays at or below
    ``focal.max_eeg_snr`` (1.5; after 100 draws the closest one is scaled
    down to it; mixed spindles are not constrained), while each patch has a
    MEG peak SNR of 14-19 at full gate (higher than an ungated patch needs:
    between its bursts a patch is at 0.4 of its peak; in practice the EEG
    limit scales most focal spindles down, to MEG peaks of 13-16), so that
    detection sees focal
    spindles in MEG and not in EEG with a margin (tests/test_detection.py);
    a spindle's patches lie at least ``focal.min_distance_m`` (5 cm) apart,
    so its MEG maximum jumps between them: small tangential sulcal sources
    whose EEG the strong widespread background buries, so focal spindles
    are MEG-only, as the core system in the paper;
``mixed``
    both at once.

The background is 1/f cortical activity of two kinds, projected through the
forward model: independent at every cortical source, and widespread
(``background.widespread``: smooth fields several cm across, each with its
own 1/f time course). Widespread activity is what dominates the scalp EEG of
N2 and largely cancels in MEG, so EEG's background is strong and MEG's is
the independent part plus white sensor noise.

No inverse crime: the recording is simulated on the full fsaverage5 cortex
(ico-5, 20,484 sources) in a BEM whose conductivities are perturbed
(``simulation.conductivity``, e.g. skull 0.0045 instead of 0.006 S/m), while
the forward model written with the demo, which the analysis inverts, is the
template's ico-4 subset (5,124 sources) with the standard conductivities.
Everything is
seeded, with one random stream per use (placement, background, widespread
background, sensor noise, EOG, and each spindle its own), and the sensor
background is drawn through the Cholesky factor of the forward model's
covariance, which changes continuously with it: a rebuild in a fresh cache
(whose BEM and forward differ from another build's at round-off level)
gives the same recording and truth. Parameters live in
``resources/demo.json``. The recording is written
as FIF with the spindle truth (BIDS events TSV), the hypnogram (TSV), the
forward model and a noise covariance, and cached.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.sources.headmodel import _manifest_ok, _recipe_key, _write_manifest, iter_template_forward
from core.utils import (Progress, SpindleScopeError, cache_dir, logger, resources_dir,
                        run_with_progress)
from core.utils.dsp import bandpass

DEMO_RECIPE = 6
SIGMA_BAND = (11.0, 16.0)


@dataclass(frozen=True)
class DemoPaths:
    """Files of the demo recording."""

    folder: Path
    raw: Path
    spindles: Path
    hypnogram: Path
    forward: Path
    noise_cov: Path


def demo_params() -> dict:
    """The demo's parameters (``resources/demo.json``)."""
    return json.loads((resources_dir() / "demo.json").read_text())


def _paths(folder: Path) -> DemoPaths:
    return DemoPaths(folder=folder, raw=folder / "demo_raw.fif",
                     spindles=folder / "demo_spindles.tsv",
                     hypnogram=folder / "demo_hypnogram.tsv",
                     forward=folder / "demo-fwd.fif",
                     noise_cov=folder / "demo-cov.fif")


def demo_paths(progress=None) -> DemoPaths:
    """Build the demo once (cached) and return its files.

    Parameters
    ----------
    progress : callable | None
        Receives :class:`~core.utils.Progress`; returning False cancels.
    """
    return run_with_progress(iter_demo(), progress)


def iter_demo(params: dict | None = None):
    """Generator building (or finding) the cached demo recording.

    Yields
    ------
    progress : Progress

    Returns
    -------
    paths : DemoPaths
    """
    params = demo_params() if params is None else params
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    folder = cache_dir() / f"demo-r{DEMO_RECIPE}-{digest}"
    paths = _paths(folder)
    key = _recipe_key(demo=DEMO_RECIPE, params=digest)
    if _manifest_ok(paths.raw, key) and all(
            p.exists() for p in (paths.spindles, paths.hypnogram, paths.forward,
                                 paths.noise_cov)):
        return paths
    tmp = folder.with_name(folder.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    out = yield from _iter_build(params, _paths(tmp))
    del out
    if folder.exists():
        shutil.rmtree(folder)
    tmp.replace(folder)
    _write_manifest(paths.raw, key)
    for old in folder.parent.glob("demo-r*"):
        if old != folder and not old.name.endswith(".partial"):
            shutil.rmtree(old, ignore_errors=True)  # stale recipes/parameters
    return paths


# --------------------------------------------------------------------------
def _colored_noise(rng, n_sig, n_times, sfreq, exponent, f_min=0.3):
    """Unit-variance noise with power ∝ 1/f**exponent above ``f_min``."""
    white = rng.standard_normal((n_sig, n_times))
    spec = np.fft.rfft(white, axis=1)
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    spec *= 1.0 / np.maximum(freqs, f_min) ** (exponent / 2.0)
    out = np.fft.irfft(spec, n=n_times, axis=1)
    out /= out.std(axis=1, keepdims=True)
    return out


def _background_mixing(cov):
    """A square root ``M`` of the sensor covariance (``M @ M.T == cov``).

    The Cholesky factor of the correlation matrix, rescaled. Unlike an
    eigendecomposition it is unique and changes continuously with ``cov``:
    EEG (V) and MEG (T) entries differ by ~10 orders of magnitude, so the MEG
    eigenvectors of the raw covariance sit at round-off level and a 1e-13
    change of the forward model (another BLAS thread count, a rebuilt BEM)
    drew a different MEG background (measured: 58 % of its norm). The tiny
    ridge (1e-10 of the unit diagonal) covers the average reference's null
    direction.
    """
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    corr[np.diag_indices_from(corr)] += 1e-10
    return np.linalg.cholesky(corr) * d[:, None]


def _widespread_background(rng, gain, rr, types, n_times, sfreq, cfg):
    """Spatially smooth 1/f cortical activity at the sensors.

    ``cfg['widespread']`` gives ``n`` Gaussian fields (SD ``sigma_m`` over
    the source positions, centred on random sources) of dipoles along the
    cortical normal, each with an independent 1/f time course, scaled to
    ``eeg_rms_uV`` mean EEG RMS (average reference).
    """
    wcfg = cfg["widespread"]
    if wcfg["n"] <= 0 or wcfg["eeg_rms_uV"] <= 0:
        return 0.0
    centres = rr[rng.choice(len(rr), int(wcfg["n"]), replace=False)]
    fields = np.stack([np.exp(-0.5 * (np.linalg.norm(rr - c, axis=1) / wcfg["sigma_m"]) ** 2)
                       for c in centres])
    topo = gain @ fields.T  # (n_channels, n_fields)
    out = topo @ _colored_noise(rng, len(centres), n_times, sfreq, cfg["exponent"])
    out *= wcfg["eeg_rms_uV"] * 1e-6 / out[types == "eeg"].std(axis=1).mean()
    return out


def _sigma_filter(data, sfreq):
    return bandpass(data, sfreq, SIGMA_BAND, order=4)


def _place_spindles(rng, params, n_total, sfreq):
    """Non-overlapping spindle windows inside N2 epochs."""
    ep = params["epoch_length"]
    n2 = [i for i, s in enumerate(params["stages"]) if s == "N2"]
    kinds = [k for k, n in params["spindles"].items() for _ in range(n)]
    rng.shuffle(kinds)
    gap = params["min_gap_s"]
    starts = []
    tries = 0
    while len(starts) < len(kinds):
        tries += 1
        if tries > 100000:
            raise RuntimeError("cannot place the demo spindles: too many")
        e = n2[rng.integers(len(n2))]
        t = ep * e + rng.uniform(1.0, ep - 3.0)
        if all(abs(t - s) > gap for s in starts) and t + 3 < n_total / sfreq:
            starts.append(t)
    order = np.argsort(starts)
    return [(float(starts[i]), kinds[i]) for i in order]


def _envelope(t, onset, duration):
    """A spindle's raised-cosine envelope: sin² over [onset, onset + duration]."""
    x = (np.asarray(t, float) - onset) / duration
    return np.where((x >= 0) & (x <= 1), np.sin(np.pi * np.clip(x, 0, 1)) ** 2, 0.0)


def _waveform(t, onset, duration, freq, phase):
    """A spindle: sinusoid under a raised-cosine (Tukey-like) envelope."""
    return _envelope(t, onset, duration) * np.sin(2 * np.pi * freq * (t - onset) + phase)


def _rotating_gates(rng, times, focal, phases, gcfg):
    """Gate a core spindle's patches so that they take turns being strongest.

    The patches' drawn onsets and durations set the spindle's span (first
    onset to last end), under which all of them share one raised-cosine
    envelope, each with its own frequency and phase. The span is cut into
    consecutive bursts of ``gcfg['burst_cycles']`` cycles (uniform, at the
    patches' mean frequency); each burst goes to one patch, drawn among the
    patches other than the one of the burst before. Each patch's burst
    indicator is smoothed with a Hann window of ``gcfg['ramp_cycles']``
    cycles, so the gates are raised-cosine bursts that sum to one at every
    instant (a partition of unity over the spindle). A patch's amplitude is
    the envelope times ``floor + (1 - floor) * gate`` (``gcfg['floor']``): it
    keeps its own continuous spindle at ``floor`` of its amplitude between
    its bursts, so its sensors still show one spindle, while the strongest
    generator moves from patch to patch every 1-3 cycles.

    Parameters
    ----------
    rng : numpy.random.Generator
    times : array, shape (n_times,)
    focal : list of ((pattern, waveform, onset, end), frequency)
        The spindle's patches (:func:`_focal_patch`).
    phases : list of float
        Each patch's phase (radians, at its drawn onset).
    gcfg : dict | None
        ``floor``, ``burst_cycles`` ([low, high]) and ``ramp_cycles``; None
        leaves the patches as drawn (independent envelopes, no gate).

    Returns
    -------
    focal : list
        The patches with gated waveforms, each spanning the whole spindle.
    """
    if gcfg is None or len(focal) < 2:
        return focal
    sfreq = 1.0 / (times[1] - times[0])
    on = min(p[2] for p, _ in focal)
    end = max(p[3] for p, _ in focal)
    cycle = 1.0 / float(np.mean([f for _, f in focal]))
    ramp = max(1, int(round(gcfg["ramp_cycles"] * cycle * sfreq)))
    s0 = max(0, int(np.floor(on * sfreq)) - ramp)
    s1 = min(len(times), int(np.ceil(end * sfreq)) + ramp + 1)
    t = times[s0:s1]
    # consecutive bursts, each to another patch than the one before
    lo, hi = gcfg["burst_cycles"]
    n = len(focal)
    k = int(rng.integers(n))
    owner = np.full(len(t), k)
    b = on + rng.uniform(lo, hi) * cycle
    while b < end:
        k = (k + 1 + int(rng.integers(n - 1))) % n
        owner[t >= b] = k
        b += rng.uniform(lo, hi) * cycle
    kernel = np.hanning(ramp + 2)[1:-1]
    kernel /= kernel.sum()
    env = _envelope(t, on, end - on)
    floor = float(gcfg["floor"])
    out = []
    for k, (((pattern, _, p_on, _), f), phase) in enumerate(zip(focal, phases)):
        ind = np.pad((owner == k).astype(float), ramp, mode="edge")
        gate = np.convolve(ind, kernel, mode="same")[ramp:-ramp]
        wave = np.zeros(len(times))
        wave[s0:s1] = (env * np.sin(2 * np.pi * f * (t - p_on) + phase)
                       * (floor + (1.0 - floor) * gate))
        out.append(((pattern, wave, on, end), f))
    return out


def _iter_build(params, paths: DemoPaths):
    import mne

    from core.sources.sensors import _scalp_head_coords, _sphere_centre, make_info

    # one independent stream per use: how many numbers one part draws (e.g.
    # the redraws of a focal spindle) never shifts what another part gets
    seqs = np.random.SeedSequence(params["seed"]).spawn(6)
    rng_place, rng_bg, rng_wide, rng_sensor, rng_eog = (
        np.random.default_rng(s) for s in seqs[:5])
    sfreq = float(params["sfreq"])
    n_times = int(round(len(params["stages"]) * params["epoch_length"] * sfreq))
    times = np.arange(n_times) / sfreq
    info = make_info(sfreq)
    # the analysis' forward model (written with the demo) ...
    fwd = yield from iter_template_forward(info, "ico4")
    mne.write_forward_solution(paths.forward, fwd, overwrite=True, verbose="error")
    # ... and a different one that makes the data (no inverse crime)
    sim = params["simulation"]
    fwd_sim = yield from iter_template_forward(info, sim["spacing"],
                                               tuple(sim["conductivity"]))
    del fwd
    yield Progress(0, 5, "Demo: background activity")
    fixed = mne.convert_forward_solution(fwd_sim, surf_ori=True, force_fixed=True,
                                         use_cps=True, verbose="error")
    del fwd_sim
    gain = fixed["sol"]["data"].astype(np.float64)  # (n_meg_eeg, n_src)
    fwd_names = fixed["sol"]["row_names"]
    rr, nn = fixed["source_rr"], fixed["source_nn"]
    centre = _sphere_centre(_upper(_scalp_head_coords()))
    radial = (rr - centre) / np.linalg.norm(rr - centre, axis=1, keepdims=True)
    radialness = np.abs((nn * radial).sum(1))
    depth = np.linalg.norm(rr - centre, axis=1)
    types = np.array([mne.channel_type(fixed["info"], i)
                      for i in range(len(fwd_names))])
    # EEG is stored re-referenced to the average, as it is viewed and
    # modelled: amplitudes and visibility are judged on what a scorer sees.
    gain[types == "eeg"] -= gain[types == "eeg"].mean(axis=0)

    # --- background: independent 1/f activity at every source ----------
    cov = gain @ gain.T
    bg = _background_mixing(cov) @ _colored_noise(
        rng_bg, len(cov), n_times, sfreq, params["background"]["exponent"])
    bg[types == "eeg"] -= bg[types == "eeg"].mean(axis=0)
    eeg_rms = np.sqrt(np.mean(np.diag(cov)[types == "eeg"]))  # referenced
    src_scale = params["background"]["eeg_rms_uV"] * 1e-6 / eeg_rms
    bg *= src_scale
    bg += _widespread_background(rng_wide, gain, rr, types, n_times, sfreq,
                                 params["background"])
    noise = params["sensor_noise"]
    sd = np.select([types == "eeg", types == "mag", types == "grad"],
                   [noise["eeg_uV"] * 1e-6, noise["mag_fT"] * 1e-15,
                    noise["grad_fT_cm"] * 1e-13])
    white = sd[:, None] * rng_sensor.standard_normal(bg.shape)
    white[types == "eeg"] -= white[types == "eeg"].mean(axis=0)
    bg += white
    bg_sigma = _sigma_filter(bg, sfreq).std(axis=1)
    yield Progress(1, 5, "Demo: spindles")

    # --- spindles ---------------------------------------------------------
    is_eeg = types == "eeg"
    is_meg = np.isin(types, ("mag", "grad"))
    sig = np.zeros_like(bg)
    truth = []
    placed = _place_spindles(rng_place, params, n_times, sfreq)
    dcfg, fcfg = params["diffuse"], params["focal"]
    sites, site_patches, eeg_per_meg, keep, site_topo = _focal_sites(
        gain, rr, nn, radialness, depth, fcfg, bg_sigma, is_eeg, is_meg)
    logger.info("Demo: %d of %d sources can seed a focal patch below EEG "
                "visibility (EEG per MEG peak SNR %.3f-%.3f)", keep.sum(), len(rr),
                eeg_per_meg[keep].min(), eeg_per_meg[keep].max())
    for (t0, kind), seq in zip(placed, seqs[5].spawn(len(placed))):
        rng = np.random.default_rng(seq)  # this spindle's own stream
        parts = []  # (pattern over sources, waveform over time)
        freqs = []
        if kind in ("diffuse", "mixed"):
            # a broad frontocentral-to-parietal sheet, common phase
            c = centre + np.array([0, rng.uniform(-0.03, 0.03), 0.07])
            d = np.linalg.norm(rr - c, axis=1)
            pattern = np.exp(-0.5 * (d / dcfg["sigma_m"]) ** 2)
            topo = gain @ pattern
            snr = rng.uniform(*dcfg["peak_snr"])
            pattern *= snr / np.max(np.abs(topo[is_eeg]) / bg_sigma[is_eeg])
            f = rng.uniform(*dcfg["freq_hz"])
            dur = rng.uniform(*dcfg["duration_s"])
            parts.append((pattern, _waveform(times, t0, dur, f, rng.uniform(0, 2 * np.pi)),
                          t0, t0 + dur))
            freqs.append(f)
        if kind in ("focal", "mixed"):
            n_p = int(rng.integers(fcfg["n_patches"][0], fcfg["n_patches"][1] + 1))
            best = None
            for _attempt in range(100):
                focal, seeds, phases = [], [], []
                for _ in range(n_p):
                    fp, k, phase = _focal_patch(rng, site_patches, keep, site_topo, fcfg,
                                                bg_sigma, is_meg, times, t0, rr[sites], seeds)
                    focal.append(fp)
                    seeds.append(k)
                    phases.append(phase)
                focal = _rotating_gates(rng, times, focal, phases, fcfg.get("gate"))
                if kind == "mixed":
                    break
                # a core spindle stays below EEG visibility as a whole: its
                # patches are redrawn when their sum would be seen in EEG
                peak_eeg = _peak_snr(focal, gain, bg_sigma, is_eeg, sfreq)
                if best is None or peak_eeg < best[0]:
                    best = (peak_eeg, focal)
                if peak_eeg <= fcfg["max_eeg_snr"]:
                    break
            else:
                # rare: the closest draw, scaled down to the EEG limit
                peak_eeg, focal = best
                scale = fcfg["max_eeg_snr"] / peak_eeg
                logger.info("Demo: focal spindle at %.1f s scaled by %.2f to stay "
                            "below EEG visibility", t0, scale)
                focal = [((p * scale, w, a, b), f) for (p, w, a, b), f in focal]
            parts += [fp[0] for fp in focal]
            freqs += [fp[1] for fp in focal]
        onset = min(p[2] for p in parts)
        offset = max(p[3] for p in parts)
        s0, s1 = int(onset * sfreq), int(np.ceil(offset * sfreq)) + 1
        this = np.zeros((len(types), s1 - s0))
        for pattern, wave, _, _ in parts:
            this += np.outer(gain @ pattern, wave[s0:s1])
        sig[:, s0:s1] += this
        peak = np.abs(this).max(axis=1) / bg_sigma
        snr_eeg, snr_meg = float(peak[is_eeg].max()), float(peak[is_meg].max())
        vis_thr = params["visibility_snr"]
        vis = {(True, True): "both", (True, False): "eeg",
               (False, True): "meg", (False, False): ""}[
            (snr_eeg >= vis_thr, snr_meg >= vis_thr)]
        truth.append(dict(onset=round(onset, 4), duration=round(offset - onset, 4),
                          trial_type="spindle", kind=kind, visibility=vis or "n/a",
                          frequency=round(float(np.mean(freqs)), 3),
                          n_generators=len(parts), snr_eeg=round(snr_eeg, 2),
                          snr_meg=round(snr_meg, 2)))
    yield Progress(2, 5, "Demo: writing the recording")

    # --- assemble the raw -------------------------------------------------
    data = np.zeros((len(info["ch_names"]), n_times))
    rows = [info["ch_names"].index(n) for n in fwd_names]
    data[rows] = bg + sig
    eog = [i for i, n in enumerate(info["ch_names"]) if n.startswith("EOG")]
    slow = _colored_noise(rng_eog, len(eog), n_times, sfreq, 2.0)
    data[eog] = 30e-6 * slow + noise["eog_uV"] * 1e-6 * rng_eog.standard_normal(slow.shape)
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_meas_date(None)
    raw.save(paths.raw, fmt="single", overwrite=True, verbose="error")
    _write_tsv(paths.spindles, truth)
    ep = params["epoch_length"]
    _write_tsv(paths.hypnogram, [dict(onset=i * ep, duration=ep, stage=s)
                                 for i, s in enumerate(params["stages"])])
    yield Progress(3, 5, "Demo: noise covariance from spindle-free N2")
    from core.sources.inverse import noise_cov_from_recording
    from core.io.recording import open_recording

    rec = open_recording(paths.raw)
    n2 = [(i * ep, (i + 1) * ep) for i, s in enumerate(params["stages"]) if s == "N2"]
    cov = noise_cov_from_recording(rec, n2, [(t["onset"], t["onset"] + t["duration"])
                                             for t in truth])
    cov.save(paths.noise_cov, overwrite=True, verbose="error")
    logger.info("Demo recording written to %s", paths.folder)
    yield Progress(5, 5, "Demo ready")
    return paths


def _focal_sites(gain, rr, nn, radialness, depth, fcfg, bg_sigma, is_eeg, is_meg):
    """Seeds of focal (core) patches that stay below EEG visibility.

    A patch is the sources within ``radius_m`` of a tangential seed
    (radialness below ``max_radialness``, outside the deepest 40 %) whose
    normals agree with the seed's. Its EEG peak SNR per unit MEG peak SNR
    (each over the sigma-band background SD of the channel) is what the
    geometry decides; seeds are kept when the patch, at the highest MEG SNR
    drawn (``peak_snr``), stays at or below ``patch_max_eeg_snr`` in EEG.

    Every candidate is returned with a mask of the kept ones, so that the
    draws of :func:`_focal_patch` index a list fixed by the geometry alone:
    a site at the edge of the criterion can change what one draw finds, not
    every later draw.

    Returns
    -------
    seeds : ndarray of int
        Candidate seed sources (tangential, not deep).
    patches : scipy.sparse.csr_matrix
        One row per candidate, 1 on the patch's sources.
    eeg_per_meg : ndarray
        EEG peak SNR per unit MEG peak SNR of each candidate patch.
    keep : ndarray of bool
        Candidates that stay below EEG visibility.
    topo : ndarray, shape (n_channels, n_candidates)
        Sensor pattern of each candidate patch at unit source amplitude.
    """
    from scipy import sparse
    from scipy.spatial import cKDTree

    cand = np.where((radialness < fcfg["max_radialness"])
                    & (depth > np.percentile(depth, 40)))[0]
    tree = cKDTree(rr)
    rows, cols = [], []
    for k, seed in enumerate(cand):
        near = np.asarray(tree.query_ball_point(rr[seed], fcfg["radius_m"]), int)
        near = near[(nn[near] @ nn[seed]) > 0.5]
        rows.append(np.full(len(near), k))
        cols.append(near)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    patches = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                shape=(len(cand), len(rr)))
    signed = np.ascontiguousarray((patches @ gain.T).T)  # (n_channels, n_candidates)
    topo = np.abs(signed)
    eeg = (topo[is_eeg] / bg_sigma[is_eeg, None]).max(axis=0)
    meg = (topo[is_meg] / bg_sigma[is_meg, None]).max(axis=0)
    ratio = eeg / meg
    keep = ratio * max(fcfg["peak_snr"]) <= fcfg["patch_max_eeg_snr"]
    if keep.sum() < 10:
        raise SpindleScopeError(
            f"Only {int(keep.sum())} focal patch sites stay below EEG visibility "
            f"(focal.patch_max_eeg_snr = {fcfg['patch_max_eeg_snr']}); raise it or lower "
            f"focal.peak_snr in the demo parameters.")
    return cand, patches, ratio, keep, signed


def _focal_patch(rng, site_patches, keep, site_topo, fcfg, bg_sigma, is_meg, times, t0,
                 seed_rr, taken):
    """One focal patch: ((pattern, waveform, onset, end), frequency), seed, phase.

    The seed is drawn by rejection over the fixed candidate list: kept
    (below EEG visibility) and at least ``min_distance_m`` from the seeds of
    the spindle's other patches (``taken``), so a core spindle's generators
    lie apart, as the shifting MEG maxima of the paper (after 1,000 draws
    the distance is waived).
    """
    min_d = fcfg.get("min_distance_m", 0.0)
    for tries in range(100000):
        k = int(rng.integers(len(keep)))
        if not keep[k]:
            continue
        if tries < 1000 and taken and np.min(np.linalg.norm(
                seed_rr[taken] - seed_rr[k], axis=1)) < min_d:
            continue
        break
    pattern = site_patches[k].toarray().ravel()
    topo = site_topo[:, k]
    snr = rng.uniform(*fcfg["peak_snr"])
    pattern *= snr / np.max(np.abs(topo[is_meg]) / bg_sigma[is_meg])
    on = t0 + rng.uniform(0, fcfg["jitter_s"])
    dur = rng.uniform(*fcfg["duration_s"])
    f = rng.uniform(*fcfg["freq_hz"])
    phase = rng.uniform(0, 2 * np.pi)
    wave = _waveform(times, on, dur, f, phase)
    return ((pattern, wave, on, on + dur), f), k, phase


def _peak_snr(focal, gain, bg_sigma, picks, sfreq):
    """Noise-free peak over the background SD of patches summed, on ``picks``."""
    s0 = int(min(p[2] for p, _ in focal) * sfreq)
    s1 = int(np.ceil(max(p[3] for p, _ in focal) * sfreq)) + 1
    this = sum(np.outer(gain[picks] @ p[0], p[1][s0:s1]) for p, _ in focal)
    return float((np.abs(this).max(axis=1) / bg_sigma[picks]).max())


def _upper(scalp):
    return scalp[scalp[:, 2] > 0.02]


def _write_tsv(path: Path, rows: list[dict]):
    with open(path, "w", newline="") as fid:
        writer = csv.DictWriter(fid, fieldnames=list(rows[0]), delimiter="\t",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
