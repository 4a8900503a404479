"""DREAMS benchmark: A7 (SpindleScope) against YASA's default spindles_detect.

On DREAMS excerpts 1-4 (one central EEG channel, 30 min each; 100, 200, 50
and 200 Hz), by-event F1 at IoU >= 0.2 against expert 1
(``Visual_scoring1_excerptN.txt``), per excerpt and averaged, for

* SpindleScope's A7 detector with its published defaults,
* SpindleScope's YASA-style detector (for reference),
* ``yasa.spindles_detect`` with its defaults on the same signals (YASA's
  default broadband 1-30 Hz exceeds the 25-Hz Nyquist of excerpt 3; there
  its upper edge is lowered to 24 Hz, the only change).

Expert 1 scored only the first 1000 s of each excerpt (no mark after 993 s),
so the table also gives F1 over that span (events starting before 1000 s).
No hypnogram is used (YASA's default has none either).

Usage: ``python benchmarks/bench_detection_dreams.py [--data DIR]``
(default ``$SPINDLESCOPE_DATA/dreams`` or ``../shared/data/dreams``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.detection import detect_array  # noqa: E402
from core.dreams import read_dreams_signal  # noqa: E402
from core.evaluation import by_event  # noqa: E402
from core.spindles import read_spindles  # noqa: E402

SCORED_SPAN = 1000.0


def _f1(ref, det, span=None):
    det = np.asarray(det, float).reshape(-1, 2)
    if span is not None:
        det = det[det[:, 0] < span]
    return by_event(ref, det, iou=0.2)


def _late(ref2, det):
    """(detections after the scored span, of which expert 2 also marked)."""
    det = np.asarray(det, float).reshape(-1, 2)
    det = det[det[:, 0] >= SCORED_SPAN]
    ref2 = ref2[ref2[:, 0] >= SCORED_SPAN]
    return len(det), by_event(ref2, det).tp if len(det) and len(ref2) else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("SPINDLESCOPE_DATA", REPO.parent / "shared" / "data")) / "dreams"
    ap.add_argument("--data", default=str(default))
    args = ap.parse_args()
    data = Path(args.data)
    if not data.is_dir():
        raise SystemExit(f"DREAMS folder {data} not found")
    import yasa

    logging.getLogger("yasa").setLevel(logging.ERROR)
    rows = []
    times = {"a7": 0.0, "ours-yasa": 0.0, "YASA": 0.0}
    for i in (1, 2, 3, 4):
        x, sf, ch = read_dreams_signal(data / f"excerpt{i}.txt")
        ref = np.array([(s.onset, s.duration) for s in
                        read_spindles(data / f"Visual_scoring1_excerpt{i}.txt")])
        ref2 = np.array([(s.onset, s.duration) for s in
                         read_spindles(data / f"Visual_scoring2_excerpt{i}.txt")])
        row = {"excerpt": i, "sfreq": sf, "n_ref": len(ref), "e2": {}}
        for name, method in (("a7", "a7"), ("ours-yasa", "yasa")):
            t0 = time.perf_counter()
            res = detect_array(x, sf, method=method)
            times[name] += time.perf_counter() - t0
            det = [(s.onset, s.duration) for s in res.events]
            row[name] = (_f1(ref, det), _f1(ref, det, SCORED_SPAN))
            row["e2"][name] = _f1(ref2, det).f1
            row.setdefault("late", {})[name] = _late(ref2, det)
        broad = (1, min(30, sf / 2 - 1))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sp = yasa.spindles_detect(x * 1e6, sf, freq_broad=broad, verbose="error")
        times["YASA"] += time.perf_counter() - t0
        summ = sp.summary()
        det = np.c_[summ["Start"], summ["Duration"]]
        row["YASA"] = (_f1(ref, det), _f1(ref, det, SCORED_SPAN))
        row["e2"]["YASA"] = _f1(ref2, det).f1
        row["late"]["YASA"] = _late(ref2, det)
        row["broad"] = broad
        rows.append(row)

    names = ("a7", "ours-yasa", "YASA")
    print("By-event F1 at IoU >= 0.2 against DREAMS expert 1 "
          "(whole 30-min excerpt | first 1000 s that expert 1 scored)")
    print(f"{'excerpt':>8} {'Hz':>4} {'n_ref':>5}  " +
          "  ".join(f"{n:>22}" for n in names))
    for r in rows:
        cells = []
        for n in names:
            full, span = r[n]
            cells.append(f"{full.f1:5.3f} (P{full.precision:4.2f} R{full.recall:4.2f}) | {span.f1:5.3f}")
        note = "  (YASA broad 1-24 Hz)" if r["broad"][1] != 30 else ""
        print(f"{r['excerpt']:>8} {r['sfreq']:>4.0f} {r['n_ref']:>5}  " + "  ".join(
            f"{c:>22}" for c in cells) + note)
    means = {n: (np.mean([r[n][0].f1 for r in rows]), np.mean([r[n][1].f1 for r in rows]))
             for n in names}
    print(f"{'mean':>8} {'':>4} {'':>5}  " + "  ".join(
        f"{means[n][0]:>12.3f}          | {means[n][1]:5.3f}" for n in names))
    print(f"A7 - YASA mean F1: whole excerpts {means['a7'][0] - means['YASA'][0]:+.3f}, "
          f"scored span {means['a7'][1] - means['YASA'][1]:+.3f}")
    print("Against expert 2 (whole excerpts, for context): " + ", ".join(
        f"{n} " + "/".join(f"{r['e2'][n]:.3f}" for r in rows) +
        f" (mean {np.mean([r['e2'][n] for r in rows]):.3f})" for n in names))
    print("After 1000 s (unscored by expert 1, so all count as false positives "
          "above): detections / of which expert 2 marked: " + ", ".join(
              f"{n} " + " ".join(f"{r['late'][n][0]}/{r['late'][n][1]}" for r in rows)
              for n in names))
    print("time (4 excerpts): " + ", ".join(f"{n} {times[n]:.2f} s" for n in names) +
          f"; A7 / YASA = {times['a7'] / times['YASA']:.2f}")


if __name__ == "__main__":
    main()
