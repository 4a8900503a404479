"""A small simulated BIDS dataset for the cohort tests and benchmark."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

#: Short recordings: 90 s (N1, N2, N2) with three spindles each.
STAGES = ["N1", "N2", "N2"]
SPINDLES = {"diffuse": 1, "focal": 1, "mixed": 1}


def simulate_recording(folder: Path, seed: int):
    """Build one short simulated MEG+EEG recording (core.session.simulate) in ``folder``."""
    from core.session import simulate
    from core.utils import run_with_progress

    params = simulate.demo_params()
    params.update(seed=int(seed), stages=list(STAGES), spindles=dict(SPINDLES))
    folder.mkdir(parents=True, exist_ok=True)
    return run_with_progress(simulate._iter_build(params, simulate._paths(folder)))


def make_bids(root: Path, seeds=(1, 2, 3), corrupt: bool = True, scratch: Path | None = None):
    """A BIDS root: one MEG+EEG recording per seed, spindle events, hypnograms.

    Each ``*_events.tsv`` also holds 'arousal' rows (not spindles). With
    ``corrupt``, a fourth subject's FIF file is garbage.
    """
    import mne
    import mne_bids

    scratch = scratch or root.parent / (root.name + "-sim")
    for k, seed in enumerate(seeds, start=1):
        paths = simulate_recording(scratch / f"seed{seed}", seed)
        raw = mne.io.read_raw_fif(paths.raw, verbose="error")
        with open(paths.spindles, newline="") as fid:
            truth = list(csv.DictReader(fid, delimiter="\t"))
        onsets = [float(t["onset"]) for t in truth] + [5.0, 20.0]
        durs = [float(t["duration"]) for t in truth] + [3.0, 2.0]
        desc = ["spindle"] * len(truth) + ["arousal", "arousal"]
        raw.set_annotations(mne.Annotations(onsets, durs, desc))
        bp = mne_bids.BIDSPath(subject=f"{k:02d}", task="sleep", datatype="meg", root=root)
        mne_bids.write_raw_bids(raw, bp, overwrite=True, verbose="error")
        shutil.copy(paths.hypnogram, bp.fpath.parent / f"sub-{k:02d}_task-sleep_hypnogram.tsv")
    if corrupt:
        k = len(seeds) + 1
        bp = mne_bids.BIDSPath(subject=f"{k:02d}", task="sleep", datatype="meg", root=root)
        src = mne_bids.BIDSPath(subject="01", task="sleep", datatype="meg", root=root)
        bp.fpath.parent.mkdir(parents=True, exist_ok=True)
        for f in src.fpath.parent.glob("sub-01_*"):
            shutil.copy(f, bp.fpath.parent / f.name.replace("sub-01", f"sub-{k:02d}"))
        bp.fpath.write_bytes(b"this is not a FIF file" * 1000)
    return root
