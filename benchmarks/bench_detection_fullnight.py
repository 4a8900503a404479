"""Full-night detection benchmark: SpindleScope's A7 against YASA.

Generates an 8-hour, 60-channel, 256-Hz EEG recording as an EDF file on disk
(written record by record, one minute at a time: the night never sits in
memory), with simulated spindles, then times

* SpindleScope: ``core.detection.detector.detect`` on the lazily opened EDF, every
  channel, reading the file in chunks (time includes all reading);
* YASA: ``yasa.spindles_detect`` with its defaults on the same data. YASA
  needs the signals in memory: they are loaded first (load time reported
  apart) and passed in blocks of channels (``--yasa-block``) so that the
  benchmark fits the machine; YASA's time is the sum of its calls.

Each side runs in its own subprocess so that peak memory (max RSS) is its own.
Usage: ``python benchmarks/bench_detection_fullnight.py [--hours 8]
[--channels 60] [--sfreq 256] [--path FILE] [--skip-yasa]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PHYS = 800.0   # µV, physical range ±PHYS


def _edf_header(n_ch, sfreq, n_records, labels):
    def field(s, n):
        return str(s)[:n].ljust(n).encode("ascii")

    ns = n_ch
    hdr = b"".join([
        field("0", 8), field("X X X X", 80),
        field("Startdate 01-JAN-2026 X X X", 80),
        field("01.01.26", 8), field("22.00.00", 8), field(256 * (ns + 1), 8),
        field("", 44), field(n_records, 8), field(1, 8), field(ns, 4)])
    per = [
        [field(lb, 16) for lb in labels],
        [field("AgAgCl electrode", 80)] * ns,
        [field("uV", 8)] * ns,
        [field(f"{-PHYS:g}", 8)] * ns,
        [field(f"{PHYS:g}", 8)] * ns,
        [field(-32768, 8)] * ns,
        [field(32767, 8)] * ns,
        [field("HP:0.1Hz LP:100Hz", 80)] * ns,
        [field(int(sfreq), 8)] * ns,
        [field("", 32)] * ns,
    ]
    return hdr + b"".join(b"".join(p) for p in per)


def generate(path, hours=8.0, n_ch=60, sfreq=256, seed=0, chunk_s=60):
    """Write the simulated night; returns the spindle onsets (s)."""
    rng = np.random.default_rng(seed)
    n_rec = int(hours * 3600)
    labels = [f"EEG{i:03d}" for i in range(n_ch)]
    spindles = []
    with open(path, "wb") as fh:
        fh.write(_edf_header(n_ch, sfreq, n_rec, labels))
        for c0 in range(0, n_rec, chunk_s):
            ns = min(chunk_s, n_rec - c0)
            n = ns * sfreq
            f = np.fft.rfftfreq(n, 1 / sfreq)
            spec = rng.standard_normal((n_ch, len(f))) + 1j * rng.standard_normal((n_ch, len(f)))
            spec /= np.maximum(f, 0.5)
            x = np.fft.irfft(spec, n)
            x *= 20.0 / x.std(axis=1, keepdims=True)
            t = np.arange(n) / sfreq
            onset = rng.uniform(1, 6)
            while onset < ns - 3:
                dur = rng.uniform(0.6, 1.6)
                fr = rng.uniform(11.5, 14.5)
                env = np.where((t >= onset) & (t < onset + dur),
                               np.sin(np.pi * np.clip((t - onset) / dur, 0, 1)) ** 2, 0)
                chans = rng.random(n_ch) < rng.uniform(0.2, 1.0)
                x[chans] += rng.uniform(20, 45) * env * np.sin(2 * np.pi * fr * t)
                spindles.append(c0 + onset)
                onset += rng.uniform(5, 15)
            d = np.clip(np.round(x / PHYS * 32767.5 - 0.5), -32768, 32767).astype("<i2")
            # records of 1 s: channel after channel
            d = d.reshape(n_ch, ns, sfreq).transpose(1, 0, 2)
            fh.write(d.tobytes())
    return spindles


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_ours(path):
    from core.detection.detector import detect
    from core.io.recording import open_recording

    t0 = time.perf_counter()
    rec = open_recording(path)
    res = detect(rec, modality="eeg")
    dt = time.perf_counter() - t0
    return {"time_s": dt, "peak_mb": _peak_mb(), "n_channel_events": len(res.channel_events),
            "n_events": len(res.events), "n_channels": len(res.channels)}


def run_yasa(path, block):
    import mne
    import yasa

    t0 = time.perf_counter()
    raw = mne.io.read_raw_edf(path, preload=False, verbose="error")
    data = raw.get_data(units="uV")   # the whole night, in memory (YASA needs it)
    t_load = time.perf_counter() - t0
    sf = raw.info["sfreq"]
    n = 0
    t_det = 0.0
    for i in range(0, data.shape[0], block):
        t1 = time.perf_counter()
        sp = yasa.spindles_detect(data[i:i + block], sf,
                                  ch_names=raw.ch_names[i:i + block], verbose="error")
        t_det += time.perf_counter() - t1
        n += 0 if sp is None else len(sp.summary())
    return {"time_s": t_det, "load_s": t_load, "peak_mb": _peak_mb(),
            "n_channel_events": n, "data_mb": data.nbytes / 2 ** 20}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--channels", type=int, default=60)
    ap.add_argument("--sfreq", type=int, default=256)
    ap.add_argument("--path", default=None, help="EDF to write/use (default: cache)")
    ap.add_argument("--yasa-block", type=int, default=10,
                    help="channels per yasa.spindles_detect call (default 10)")
    ap.add_argument("--skip-yasa", action="store_true")
    ap.add_argument("--_run", choices=["ours", "yasa"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._run:
        import logging

        logging.disable(logging.WARNING)
        out = run_ours(args.path) if args._run == "ours" else run_yasa(args.path, args.yasa_block)
        print(json.dumps(out))
        return
    from core.utils import cache_dir

    path = Path(args.path) if args.path else (
        cache_dir() / f"bench_{args.hours:g}h_{args.channels}ch_{args.sfreq}Hz.edf")
    if not path.exists():
        t0 = time.perf_counter()
        sp = generate(path, args.hours, args.channels, args.sfreq)
        print(f"generated {path} ({path.stat().st_size / 2 ** 20:.0f} MB, "
              f"{len(sp)} simulated spindles) in {time.perf_counter() - t0:.1f} s, "
              f"peak {_peak_mb():.0f} MB")
    else:
        print(f"using {path} ({path.stat().st_size / 2 ** 20:.0f} MB)")
    res = {}
    for who in (["ours"] if args.skip_yasa else ["ours", "yasa"]):
        cmd = [sys.executable, __file__, "--_run", who, "--path", str(path),
               "--yasa-block", str(args.yasa_block)]
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if out.returncode:
            print(out.stderr[-3000:])
            raise SystemExit(f"{who} failed")
        res[who] = json.loads(out.stdout.strip().splitlines()[-1])
    o = res["ours"]
    print(f"SpindleScope A7 : {o['time_s']:7.1f} s (reading included), peak memory "
          f"{o['peak_mb']:7.0f} MB, {o['n_channel_events']} channel detections, "
          f"{o['n_events']} merged events on {o['n_channels']} channels")
    if "yasa" in res:
        y = res["yasa"]
        print(f"YASA defaults   : {y['time_s']:7.1f} s detection (+{y['load_s']:.1f} s loading "
              f"the night: {y['data_mb']:.0f} MB), peak memory {y['peak_mb']:7.0f} MB, "
              f"{y['n_channel_events']} channel detections")
        print(f"ratio           : ours / YASA time = {o['time_s'] / y['time_s']:.2f} "
              f"(vs YASA incl. loading {o['time_s'] / (y['time_s'] + y['load_s']):.2f}); "
              f"peak memory ours {o['peak_mb']:.0f} MB vs YASA {y['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
