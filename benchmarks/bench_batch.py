"""``batch`` throughput: recordings per minute with one and two Dask workers.

Builds a BIDS dataset of simulated MEG+EEG recordings (core.session.simulate, different
seeds; the same maker as the tests), runs the whole cohort on a LocalCluster
with one worker, then with two (fresh derivatives each), then reruns the
second (nothing to do). Prints recordings per minute, the two-to-one ratio,
the peak resident memory of each worker process and the rerun's speed-up.

    python benchmarks/bench_batch.py [--n 4] [--decimate 6] [--spindles 3] [--keep DIR]

``--decimate K`` analyses every K-th template source (a restricted forward per
subject, like the tests); 1 uses all 5,124.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def build(root: Path, n: int, decimate: int, spindles: int):
    import mne
    import numpy as np

    import batch_fixtures
    from core.sources.headmodel import template_forward

    per = max(1, spindles // 3)
    batch_fixtures.SPINDLES = {"diffuse": per, "focal": per, "mixed": per}
    batch_fixtures.make_bids(root, seeds=tuple(range(1, n + 1)), corrupt=False,
                             scratch=root.parent / "sim")
    if decimate <= 1:
        return None
    raw = mne.io.read_raw_fif(root / "sub-01" / "meg" / "sub-01_task-sleep_meg.fif",
                              verbose="error")
    fwd = template_forward(raw.info)
    verts = [s["vertno"][::decimate] for s in fwd["src"]]
    stc = mne.SourceEstimate(np.zeros((sum(map(len, verts)), 1)), verts, 0, 1)
    small = mne.forward.restrict_forward_to_stc(fwd, stc, on_missing="ignore")
    for k in range(1, n + 1):
        folder = root / "derivatives" / "forward" / f"sub-{k:02d}"
        folder.mkdir(parents=True)
        mne.write_forward_solution(folder / f"sub-{k:02d}-fwd.fif", small, verbose="error")
    return "derivatives/forward/sub-{subject}/*-fwd.fif"


def run(root, deriv, workers, pattern):
    from core.batch import clean_scratch, discover, iter_batch, make_client, make_settings
    from core.utils import run_with_progress

    items = discover(root, forward_pattern=pattern)
    client, cluster = make_client(deriv, workers=workers, dashboard=False)
    client.wait_for_workers(workers)
    try:
        t0 = time.perf_counter()
        out = run_with_progress(iter_batch(items, make_settings(analyze={"report": False}),
                                           deriv, client, n_boot=1000, n_perm=1000,
                                           source=str(root)))
        wall = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
        clean_scratch(deriv)
    bad = [r for r in out["results"] if r["status"] == "error"]
    if bad:
        raise SystemExit(f"failed: {bad}")
    return wall, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4, help="recordings (default 4)")
    ap.add_argument("--decimate", type=int, default=6)
    ap.add_argument("--spindles", type=int, default=3, help="spindles per recording")
    ap.add_argument("--keep", help="folder to keep the dataset and outputs in")
    args = ap.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        root = base / "bids"
        t0 = time.perf_counter()
        pattern = build(root, args.n, args.decimate, args.spindles)
        print(f"dataset: {args.n} recordings (90 s, {args.spindles} spindles each), "
              f"built in {time.perf_counter() - t0:.0f} s; sources: every "
              f"{args.decimate}th of 5,124")
        rows = {}
        for w in (1, 2):
            wall, out = run(root, base / f"deriv-{w}", w, pattern)
            peaks = {}
            for r in out["results"]:
                peaks[r.get("worker_pid", r["recording"])] = r["peak_rss_mb"]
            rows[w] = (wall, out)
            per_task = [r["seconds"] for r in out["results"]]
            print(f"{w} worker(s): {wall:6.1f} s, {args.n / wall * 60:5.2f} recordings/min, "
                  f"peak RSS per worker {max(peaks.values()):.0f} MB; {len(peaks)} worker "
                  f"processes ran tasks, mean task {sum(per_task) / len(per_task):.1f} s")
        ratio = rows[1][0] / rows[2][0]
        print(f"two workers vs one: {ratio:.2f}x the throughput "
              f"(machine: {os.cpu_count()} cores, shared)")
        wall, out = run(root, base / "deriv-2", 2, pattern)
        assert all(r["status"] == "skipped" for r in out["results"])
        print(f"rerun (nothing changed): {wall:.1f} s, {rows[2][0] / wall:.0f}x faster "
              f"than the first run")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
