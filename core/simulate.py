"""The built-in demo: a simulated simultaneous MEG+EEG stage-2 recording.

Made through the template forward model (:mod:`core.headmodel`) on the
Vectorview-like array of :mod:`core.sensors`, with three kinds of spindles:

``diffuse``
    one widespread generator with a common phase over gyral crowns (mostly
    radial currents, strong in EEG, weak in MEG): the "matrix" system;
``focal``
    several small patches in sulcal walls (mostly tangential currents, strong
    in MEG) with independent onset, frequency (11–15 Hz), phase and
    duration: the "core" system;
``mixed``
    both at once.

The background is 1/f cortical noise (independent at every cortical source,
projected through the forward model) plus white sensor noise. Everything is
seeded; parameters live in ``resources/demo.json``. The recording is written
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

from .headmodel import _manifest_ok, _recipe_key, _write_manifest, iter_template_forward
from .utils import Progress, cache_dir, logger, resources_dir, run_with_progress

DEMO_RECIPE = 3
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


def _sigma_filter(data, sfreq):
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, SIGMA_BAND, btype="bandpass", fs=sfreq, output="sos")
    return sosfiltfilt(sos, data, axis=-1)


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


def _waveform(t, onset, duration, freq, phase):
    """A spindle: sinusoid under a raised-cosine (Tukey-like) envelope."""
    x = (t - onset) / duration
    env = np.where((x >= 0) & (x <= 1), np.sin(np.pi * np.clip(x, 0, 1)) ** 2, 0.0)
    return env * np.sin(2 * np.pi * freq * (t - onset) + phase)


def _iter_build(params, paths: DemoPaths):
    import mne

    from .sensors import _scalp_head_coords, _sphere_centre, make_info

    rng = np.random.default_rng(params["seed"])
    sfreq = float(params["sfreq"])
    n_times = int(round(len(params["stages"]) * params["epoch_length"] * sfreq))
    times = np.arange(n_times) / sfreq
    info = make_info(sfreq)
    fwd = yield from iter_template_forward(info, "ico4")
    yield Progress(0, 5, "Demo: background activity")
    mne.write_forward_solution(paths.forward, fwd, overwrite=True, verbose="error")
    fixed = mne.convert_forward_solution(fwd, surf_ori=True, force_fixed=True,
                                         use_cps=True, verbose="error")
    gain = fixed["sol"]["data"].copy()  # (n_meg_eeg, n_src)
    fwd_names = fixed["sol"]["row_names"]
    rr, nn = fixed["source_rr"], fixed["source_nn"]
    centre = _sphere_centre(_upper(_scalp_head_coords()))
    radial = (rr - centre) / np.linalg.norm(rr - centre, axis=1, keepdims=True)
    radialness = np.abs((nn * radial).sum(1))
    outward = (nn * radial).sum(1)
    depth = np.linalg.norm(rr - centre, axis=1)
    types = np.array([mne.channel_type(fixed["info"], i)
                      for i in range(len(fwd_names))])
    # EEG is stored re-referenced to the average, as it is viewed and
    # modelled: amplitudes and visibility are judged on what a scorer sees.
    gain[types == "eeg"] -= gain[types == "eeg"].mean(axis=0)

    # --- background: independent 1/f activity at every source ----------
    cov = gain @ gain.T
    evals, evecs = np.linalg.eigh(cov)
    evals = np.clip(evals, 0, None)
    mix = evecs * np.sqrt(evals)
    bg = mix @ _colored_noise(rng, len(evals), n_times, sfreq,
                              params["background"]["exponent"])
    eeg_rms = np.sqrt(np.mean(np.diag(cov)[types == "eeg"]))  # referenced
    src_scale = params["background"]["eeg_rms_uV"] * 1e-6 / eeg_rms
    bg *= src_scale
    noise = params["sensor_noise"]
    sd = np.select([types == "eeg", types == "mag", types == "grad"],
                   [noise["eeg_uV"] * 1e-6, noise["mag_fT"] * 1e-15,
                    noise["grad_fT_cm"] * 1e-13])
    white = sd[:, None] * rng.standard_normal(bg.shape)
    white[types == "eeg"] -= white[types == "eeg"].mean(axis=0)
    bg += white
    bg_sigma = _sigma_filter(bg, sfreq).std(axis=1)
    yield Progress(1, 5, "Demo: spindles")

    # --- spindles ---------------------------------------------------------
    is_eeg = types == "eeg"
    is_meg = np.isin(types, ("mag", "grad"))
    sig = np.zeros_like(bg)
    truth = []
    placed = _place_spindles(rng, params, n_times, sfreq)
    dcfg, fcfg = params["diffuse"], params["focal"]
    superficial = depth > np.percentile(depth, 40)
    tangential = np.where((radialness < fcfg["max_radialness"]) & superficial)[0]
    crowns = np.clip(outward, 0, None) ** 2
    for k, (t0, kind) in enumerate(placed):
        parts = []  # (pattern over sources, waveform over time)
        freqs = []
        if kind in ("diffuse", "mixed"):
            # a broad frontocentral-to-parietal sheet, common phase
            c = centre + np.array([0, rng.uniform(-0.03, 0.03), 0.07])
            d = np.linalg.norm(rr - c, axis=1)
            pattern = np.exp(-0.5 * (d / dcfg["sigma_m"]) ** 2) * crowns
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
            if kind == "mixed":
                n_p = max(2, n_p - 2)
            for _ in range(n_p):
                seed = tangential[rng.integers(len(tangential))]
                near = (np.linalg.norm(rr - rr[seed], axis=1) < fcfg["radius_m"]) & (
                    (nn @ nn[seed]) > 0.5)
                pattern = near.astype(float)
                topo = gain @ pattern
                snr = rng.uniform(*fcfg["peak_snr"])
                pattern *= snr / np.max(np.abs(topo[is_meg]) / bg_sigma[is_meg])
                on = t0 + rng.uniform(0, fcfg["jitter_s"])
                dur = rng.uniform(*fcfg["duration_s"])
                f = rng.uniform(*fcfg["freq_hz"])
                parts.append((pattern, _waveform(times, on, dur, f,
                                                 rng.uniform(0, 2 * np.pi)), on, on + dur))
                freqs.append(f)
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
    slow = _colored_noise(rng, len(eog), n_times, sfreq, 2.0)
    data[eog] = 30e-6 * slow + noise["eog_uV"] * 1e-6 * rng.standard_normal(slow.shape)
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_meas_date(None)
    raw.save(paths.raw, fmt="single", overwrite=True, verbose="error")
    _write_tsv(paths.spindles, truth)
    ep = params["epoch_length"]
    _write_tsv(paths.hypnogram, [dict(onset=i * ep, duration=ep, stage=s)
                                 for i, s in enumerate(params["stages"])])
    yield Progress(3, 5, "Demo: noise covariance from spindle-free N2")
    from .inverse import noise_cov_from_recording
    from .recording import open_recording

    rec = open_recording(paths.raw)
    n2 = [(i * ep, (i + 1) * ep) for i, s in enumerate(params["stages"]) if s == "N2"]
    cov = noise_cov_from_recording(rec, n2, [(t["onset"], t["onset"] + t["duration"])
                                             for t in truth])
    cov.save(paths.noise_cov, overwrite=True, verbose="error")
    logger.info("Demo recording written to %s", paths.folder)
    yield Progress(5, 5, "Demo ready")
    return paths


def _upper(scalp):
    return scalp[scalp[:, 2] > 0.02]


def _write_tsv(path: Path, rows: list[dict]):
    with open(path, "w", newline="") as fid:
        writer = csv.DictWriter(fid, fieldnames=list(rows[0]), delimiter="\t",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
