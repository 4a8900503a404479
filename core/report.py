"""Writing analysis results: summary JSON, per-spindle CSV, STC files, HTML.

The HTML report is an :class:`mne.Report` with matplotlib figures (made with
the non-interactive Agg backend, so it works headless).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .synchrony import SCALARS
from .utils import logger

#: Dehghani et al. (2010), means over 85 spindles in 7 subjects.
PAPER_VALUES = {
    "eeg_within_r": 0.64,
    "meg_within_r": 0.13,
    "between_r": 0.09,
    "coherence_welch": 0.54,
    "coherence_mvdr": 0.44,
}
PAPER_LABELS = {
    "eeg_within_r": "EEG within r",
    "meg_within_r": "MEG within r",
    "between_r": "EEG–MEG r",
    "coherence_welch": "coherence (Welch)",
    "coherence_mvdr": "coherence (MVDR)",
}


def _atomic_write_text(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_summary(result, out: Path, extra: dict | None = None) -> dict:
    """Write ``summary.json`` and ``spindles.csv``; return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    summary["paper"] = dict(PAPER_VALUES)
    if extra:
        summary.update(extra)
    _atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    keys = [k for k in SCALARS if any(k in s.figures for s in result.spindles)]
    with open(out / "spindles.csv", "w", newline="") as fid:
        writer = csv.writer(fid)
        writer.writerow(["spindle", "onset", "duration"] + keys)
        for s in result.spindles:
            writer.writerow([s.index, f"{s.onset:.4f}", f"{s.duration:.4f}"]
                            + [f"{s.figures[k]:.6f}" if k in s.figures else ""
                               for k in keys])
    return summary


MAPS = ("between_r_map", "coherence_welch_map", "coherence_mvdr_map")


def write_maps(result, out: Path) -> list[Path]:
    """Write per-source maps averaged over spindles as ``<map>-stc.h5``.

    One time point each: EEG–MEG correlation and coherence at every source.
    """
    import mne

    paths = []
    for key in MAPS:
        if not all(key in s.maps for s in result.spindles):
            continue
        stc = mne.SourceEstimate(result.mean_map(key)[:, None],
                                 [v.copy() for v in result.vertices], tmin=0.0,
                                 tstep=1.0, subject=result.subject)
        path = out / f"{key}-stc.h5"
        stc.save(path, ftype="h5", overwrite=True, verbose="error")
        paths.append(path)
    return paths


def write_stcs(result, out: Path) -> list[Path]:
    """Write every per-spindle estimate as ``<modality>_spindle<k>-stc.h5``."""
    paths = []
    for s in result.spindles:
        for mod, stc in s.stcs.items():
            path = out / f"{mod}_spindle{s.index}-stc.h5"
            stc.save(path, ftype="h5", overwrite=True, verbose="error")
            paths.append(path)
    return paths


def _figures(result):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    summary = result.summary()
    figs = []
    # 1. ours vs the paper
    fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
    keys = [k for k in PAPER_VALUES if k in summary]
    x = np.arange(len(keys))
    ax.bar(x - 0.2, [summary[k] for k in keys], 0.4,
           yerr=[summary[k + "_sd"] for k in keys], label="this recording")
    ax.bar(x + 0.2, [PAPER_VALUES[k] for k in keys], 0.4,
           label="Dehghani et al. 2010")
    ax.set_xticks(x, [PAPER_LABELS[k] for k in keys], rotation=15)
    ax.set_ylabel("mean over spindles")
    ax.legend(frameon=False)
    figs.append(("Synchrony: this recording vs the paper", fig))
    # 2. distributions of pairwise correlations
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    for mod in ("eeg", "meg", "meeg"):
        vals = [s.pair_sample[mod] for s in result.spindles if mod in s.pair_sample]
        if vals:
            ax.hist(np.concatenate(vals), bins=60, range=(-1, 1), histtype="step",
                    density=True, label=mod.upper().replace("MEEG", "MEG+EEG"))
    ax.set_xlabel("pairwise correlation of source time courses")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    figs.append(("Pairwise correlations (pooled over spindles)", fig))
    # 3. coherence spectra
    spec = [s.spectra for s in result.spindles if s.spectra]
    if spec:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
        for name, label in (("welch", "Welch"), ("mvdr", "MVDR")):
            f = spec[0][f"{name}_freqs"]
            ax.plot(f, np.mean([s[f"{name}_spectrum"] for s in spec], axis=0),
                    label=label)
        lo, hi = result.config.coherence_band
        ax.axvspan(lo, hi, color="0.9", zorder=0)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("EEG–MEG coherence")
        ax.set_xlim(0, result.sfreq / 2)
        ax.legend(frameon=False)
        figs.append(("EEG–MEG coherence spectra (mean over sources and spindles)",
                     fig))
    # 4. per spindle
    if "meg_within_r" in summary and "eeg_within_r" in summary:
        fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
        ax.scatter(summary["meg_within_r_per_spindle"],
                   summary["eeg_within_r_per_spindle"])
        lim = max(0.05, max(summary["eeg_within_r_per_spindle"]
                            + summary["meg_within_r_per_spindle"]) * 1.1)
        ax.plot([0, lim], [0, lim], color="0.6", lw=1)
        ax.set_xlabel("MEG within r")
        ax.set_ylabel("EEG within r")
        figs.append(("Per spindle: EEG vs MEG synchrony", fig))
    return figs


def write_report(result, out: Path, title: str = "SpindleScope analysis",
                 notes: str = "") -> Path:
    """Write ``report.html`` (an :class:`mne.Report`)."""
    import matplotlib.pyplot as plt
    import mne

    report = mne.Report(title=title, verbose="error")
    summary = result.summary()
    rows = "".join(
        f"<tr><td>{PAPER_LABELS[k]}</td><td>{summary[k]:.3f} ± {summary[k + '_sd']:.3f}"
        f"</td><td>{PAPER_VALUES[k]:.2f}</td></tr>"
        for k in PAPER_VALUES if k in summary)
    html = (f"<p>{summary['n_spindles']} spindles, {summary['method']}, SNR "
            f"{summary['snr']:g}, band {summary['band']}.</p>{notes}"
            "<table><tr><th>measure</th><th>this recording (mean ± SD)</th>"
            f"<th>Dehghani et al. 2010</th></tr>{rows}</table>")
    report.add_html(html, title="Summary")
    for name, fig in _figures(result):
        report.add_figure(fig, title=name, image_format="png")
        plt.close(fig)
    path = out / "report.html"
    report.save(path, overwrite=True, open_browser=False, verbose="error")
    logger.info("Report written to %s", path)
    return path
