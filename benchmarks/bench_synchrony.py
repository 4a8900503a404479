"""Analysis time per spindle: today's pipeline (with nulls) against the old one.

Three modalities, 5,124 sources, spindles of 0.5–1.6 s at 200 Hz. For each
spindle both pipelines apply loose-orientation inverse kernels (norm and
normal components) to band-passed sensor data and compute every synchrony
figure; the new one also runs the length-matched null segment and the
cross-spindle pair, then pools the coherence and computes the nulls,
intervals and permutation p-values (:func:`core.sources.synchrony_figures.finish_stats`).

The old pipeline is the per-spindle ``spindle_synchrony`` of
``core/sources/synchrony.py`` at commit ``OLD_COMMIT`` (read with ``git show``), so
both are measured in the same run on the same machine.

Usage::

    python benchmarks/bench_synchrony.py [--spindles 8] [--boot 1000]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OLD_COMMIT = "4eff91c"
N_SOURCES = 5124
N_CHANNELS = {"eeg": 60, "meg": 306, "meeg": 366}


def old_synchrony():
    """The old ``core.sources.synchrony`` module, loaded from git history."""
    text = subprocess.run(["git", "show", f"{OLD_COMMIT}:core/synchrony.py"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("core._old_synchrony", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "core"
    exec(compile(text, "old_synchrony.py", "exec"), mod.__dict__)
    return mod


def main(argv=None):
    from core.sources.coherence import make_estimator
    from core.sources.analysis import AnalysisConfig
    from core.sources.synchrony import pairwise_correlation_sample
    from core.sources.synchrony_figures import (AnalysisResult, Pool, SpindleSources,
                                        finish_stats, segment_figures)

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spindles", type=int, default=8)
    p.add_argument("--boot", type=int, default=1000)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    sfreq = 200.0
    lens = rng.integers(100, 321, args.spindles)
    kernels = {m: rng.standard_normal((3 * N_SOURCES, n)) for m, n in N_CHANNELS.items()}
    normal = {m: k[2::3].copy() for m, k in kernels.items()}

    def courses(n):
        data = rng.standard_normal((366, n))
        tcs, tcs_n = {}, {}
        for m, k in kernels.items():
            d = data[:N_CHANNELS[m]]
            tcs[m] = np.linalg.norm((k @ d).reshape(N_SOURCES, 3, n), axis=1)
            tcs_n[m] = normal[m] @ d
        return tcs, tcs_n

    old = old_synchrony()
    t0 = time.perf_counter()
    for n in lens:
        tcs, tcs_n = courses(n)
        old.spindle_synchrony(tcs["eeg"], tcs["meg"], sfreq, meeg=tcs["meeg"],
                              eeg_n=tcs_n["eeg"], meg_n=tcs_n["meg"])
        {m: pairwise_correlation_sample(tc, 5000) for m, tc in tcs.items()}
    t_old = (time.perf_counter() - t0) / len(lens)

    def new(with_null):
        cfg = AnalysisConfig(null=with_null, n_boot=args.boot, n_perm=args.boot)
        band = cfg.coherence_band
        est = {e: make_estimator(e, sfreq, fmin=10, fmax=15, nfft=int(max(lens)))
               for e in cfg.estimators}
        pool = Pool(est, band, np.sort(rng.choice(N_SOURCES, cfg.resample_sources,
                                                  replace=False)))
        spindles = []
        t0 = time.perf_counter()
        prev = None
        for k, n in enumerate(lens):
            tcs, tcs_n = courses(n)
            f, maps, st = segment_figures(tcs, tcs_n["eeg"], tcs_n["meg"], est, band)
            pool.add("obs", st, k)
            sp = SpindleSources(k, 0.0, n / sfreq, {}, f, maps, {},
                                {m: pairwise_correlation_sample(tc, 5000)
                                 for m, tc in tcs.items()})
            if with_null:
                ntcs, ntcs_n = courses(n)
                sp.null_figures, _, nst = segment_figures(ntcs, ntcs_n["eeg"],
                                                          ntcs_n["meg"], est, band)
                pool.add("null", nst, k)
                if prev is not None:
                    m = min(n, prev[0].shape[1])
                    sp.cross_figures, _, cst = segment_figures(
                        {"eeg": tcs["eeg"][:, :m], "meg": prev[0][:, :m]},
                        tcs_n["eeg"][:, :m], prev[1][:, :m], est, band, within=False)
                    pool.add("cross", cst, k)
                prev = (tcs["meg"], tcs_n["meg"])
            spindles.append(sp)
        t_loop = time.perf_counter() - t0
        res = AnalysisResult(cfg, spindles, sfreq, None, None)
        t1 = time.perf_counter()
        finish_stats(res, pool)
        t_stats = time.perf_counter() - t1
        return (t_loop + t_stats) / len(lens), t_stats

    t_new, _ = new(False)
    t_null, t_stats = new(True)
    print(f"{len(lens)} spindles of {lens.min() / sfreq:.2f}-{lens.max() / sfreq:.2f} s, "
          f"{N_SOURCES} sources, 3 modalities")
    print(f"  old pipeline (per-spindle Welch + MVDR)     {t_old:6.2f} s per spindle")
    print(f"  new, pooled coherence, no nulls             {t_new:6.2f} s per spindle "
          f"({t_new / t_old:.2f}x old)")
    print(f"  new, with nulls, intervals and p-values     {t_null:6.2f} s per spindle "
          f"({t_null / t_old:.2f}x old, {t_null / t_new:.2f}x without nulls; "
          f"statistics {t_stats:.1f} s in all)")
    # timings are wall-clock: on a shared machine the load moves them
    print("  load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
