"""Whole-brain resolution metrics: SpindleScope against MNE, same matrix, one run.

For the template head (fsaverage, ico-4 = 5,124 or ico-5 = 20,484 sources) with
the demo recording's sensors (306 MEG + 60 EEG, :func:`core.sources.sensors.make_info`)
and MNE's ad hoc (diagonal) noise covariance, the MNE
resolution matrix of EEG+MEG is computed once and saved. Then, each in a fresh
subprocess run one after the other (so peak memory is measured cleanly):

* ``mne``      : ``mne.minimum_norm.resolution_metrics`` for the 12
  function x metric combinations (PSF and CTF; peak_err, cog_err, sd_ext,
  maxrad_ext, peak_amp, sum_amp) on the dense matrix;
* ``ours``     : :func:`core.resolution.metrics.resolution_metrics`, the same
  12 values on the same dense matrix, blockwise;
* ``factored`` : the same from the factors ``R = K @ G`` (what the app does):
  the dense matrix is never built.

Each subprocess reports its wall time, the extra peak memory of the metric
computation (peak resident size during it minus the resident size before it,
the inputs already loaded; from ``/proc/self/status``), and its whole peak
resident size (inputs included). ``ours`` is checked against ``mne``
(rtol 1e-6; ``maxrad_ext`` against MNE's formula via ``mne_maxrad=True``).

Usage::

    python benchmarks/bench_resolution.py [--spacing ico4 ico5] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FUNCS = ("psf", "ctf")
METRICS = ("peak_err", "cog_err", "sd_ext", "maxrad_ext", "peak_amp", "sum_amp")


def _status_mb(field):
    """``VmRSS`` / ``VmHWM`` of this process (MB), from /proc."""
    with open("/proc/self/status") as fid:
        for line in fid:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(field)


def _reset_peak():
    """Reset the peak-RSS mark (Linux >= 4.0). ``ru_maxrss`` cannot be used:
    a child inherits its parent's resident size at fork, which is kept across
    exec."""
    with open("/proc/self/clear_refs", "w") as fid:
        fid.write("5")


def child(mode, folder):
    """Run one measurement in this (fresh) process; print JSON."""
    _reset_peak()
    import mne  # noqa: F401  (imported before the baseline)
    import mne.minimum_norm  # noqa: F401

    from core.resolution.metrics import resolution_metrics

    folder = Path(folder)
    locs = np.load(folder / "locations.npy")
    src = None
    if mode == "mne":
        src = mne.read_source_spaces(folder / "src.fif", verbose="error")
    if mode in ("mne", "ours", "ours_compat"):
        R = np.load(folder / "resmat.npy")
    else:
        K = np.load(folder / "kernel.npy")
        G = np.load(folder / "gain.npy")
    load_peak = _status_mb("VmHWM")
    base = _status_mb("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    out = {}
    if mode == "mne":
        from mne.minimum_norm import resolution_metrics as mne_metrics

        for f in FUNCS:
            for m in METRICS:
                out[f"{f}_{m}"] = mne_metrics(R, src, function=f, metric=m,
                                              verbose="error").data[:, 0]
    elif mode in ("ours", "ours_compat"):
        out = resolution_metrics(R, locations=locs, mne_maxrad=mode == "ours_compat")
    else:
        from core.resolution.matrix import ResolutionMatrix

        rm = ResolutionMatrix(K, G, src=None)
        # locations given explicitly: no source space needed; never dense
        out = resolution_metrics(rm, locations=locs, max_dense_bytes=0)
    elapsed = time.perf_counter() - t0
    peak = _status_mb("VmHWM")
    np.savez(folder / f"out_{mode}.npz", **out)
    print(json.dumps(dict(mode=mode, time=elapsed, extra_mb=peak - base,
                          total_mb=max(peak, load_peak))))


def _run_child(mode, folder):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    res = subprocess.run([sys.executable, __file__, "--child", mode, str(folder)],
                         capture_output=True, text=True, env=env, check=False)
    if res.returncode:
        raise RuntimeError(f"{mode} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def prepare(spacing, folder):
    """Template forward + demo noise covariance -> MNE resolution matrix."""
    import mne

    from core.sources.headmodel import template_forward
    from core.resolution.matrix import make_resolution_matrix
    from core.resolution.metrics import source_locations
    from core.sources.sensors import make_info

    t0 = time.perf_counter()
    info = make_info(200.0)
    fwd = template_forward(info, spacing=spacing)
    cov = mne.make_ad_hoc_cov(info, verbose="error")
    t_fwd = time.perf_counter() - t0
    t0 = time.perf_counter()
    rm = make_resolution_matrix(fwd, cov, "MNE", "meeg", info=info)
    t_kernel = time.perf_counter() - t0
    t0 = time.perf_counter()
    R = rm.to_array()
    t_dense = time.perf_counter() - t0
    np.save(folder / "resmat.npy", R)
    np.save(folder / "kernel.npy", rm.kernel)
    np.save(folder / "gain.npy", rm.gain)
    mne.write_source_spaces(folder / "src.fif", rm.src, overwrite=True,
                            verbose="error")
    # positions as MNE will read them back (FIF stores float32)
    src = mne.read_source_spaces(folder / "src.fif", verbose="error")
    np.save(folder / "locations.npy", source_locations(src))
    n = R.shape[0]
    del R
    print(f"{spacing}: {n} sources, {len(rm.ch_names)} channels; forward ready in "
          f"{t_fwd:.1f} s, kernel {t_kernel:.1f} s, dense R {t_dense:.1f} s "
          f"({n * n * 8 / 1e9:.2f} GB)")
    return n, t_dense, rm.nbytes_dense


def check(folder):
    a = np.load(folder / "out_mne.npz")
    b = np.load(folder / "out_ours_compat.npz")
    c = np.load(folder / "out_ours.npz")
    d = np.load(folder / "out_factored.npz")
    worst = 0.0
    for k in a.files:
        ref = a[k]
        worst = max(worst, float(np.max(np.abs(b[k] - ref) /
                                        np.maximum(np.abs(ref), 1e-300))))
        if k.endswith("maxrad_ext"):
            continue  # 'ours' is the true radius: differs from MNE by design
        np.testing.assert_allclose(c[k], ref, rtol=1e-6, err_msg=k)
    for k in c.files:
        np.testing.assert_allclose(d[k], c[k], rtol=1e-6, err_msg=k)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", nargs="+", default=["ico4"],
                        choices=["ico4", "ico5"])
    parser.add_argument("--repeat", type=int, default=1,
                        help="repeat each timing, report the fastest")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    for spacing in args.spacing:
        with tempfile.TemporaryDirectory(prefix="bench_res_",
                                         dir=os.environ.get("BENCH_TMP")) as tmp:
            folder = Path(tmp)
            n, t_dense, nbytes = prepare(spacing, folder)
            res = {}
            for mode in ("mne", "ours", "ours_compat", "factored"):
                runs = [_run_child(mode, folder) for _ in range(args.repeat)]
                res[mode] = min(runs, key=lambda r: r["time"])
            worst = check(folder)
            print(f"  all 12 PSF/CTF metrics for all {n} sources "
                  f"(max rel. deviation from MNE: {worst:.1e})")
            print(f"  {'':<30}{'time (s)':>10}{'extra peak MB':>15}"
                  f"{'process peak MB':>17}")
            labels = {"mne": "MNE resolution_metrics (dense)",
                      "ours": "ours, dense R",
                      "ours_compat": "ours, dense R, MNE maxrad",
                      "factored": "ours, factored K@G (no R)"}
            for mode, r in res.items():
                print(f"  {labels[mode]:<30}{r['time']:>10.2f}{r['extra_mb']:>15.1f}"
                      f"{r['total_mb']:>17.0f}")
            m = res["mne"]
            for mode in ("ours", "factored"):
                r = res[mode]
                print(f"  ratio {mode:>8} / MNE: time {r['time'] / m['time']:.3f}, "
                      f"extra memory {r['extra_mb'] / max(m['extra_mb'], 1e-9):.2f}, "
                      f"process peak {r['total_mb'] / m['total_mb']:.3f}")
            # from the kernel K and gain G: MNE must assemble R first
            from core.resolution.metrics import MAX_DENSE_BYTES

            mne_e2e = t_dense + m["time"]
            if nbytes <= MAX_DENSE_BYTES:
                ours_e2e, how = t_dense + res["ours"]["time"], "assembles R"
            else:
                ours_e2e, how = res["factored"]["time"], "factored"
            print(f"  end to end from K and G: MNE {mne_e2e:.2f} s (R {t_dense:.2f} s + "
                  f"metrics), ours {ours_e2e:.2f} s ({how}): ratio "
                  f"{ours_e2e / mne_e2e:.3f}")


if __name__ == "__main__":
    main()
