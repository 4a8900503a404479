"""Writing analysis results: summary JSON, per-spindle CSV, STC files, HTML.

The HTML report is an :class:`mne.Report` with matplotlib figures (made with
the non-interactive Agg backend, so it works headless).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from core.sources.synchrony_figures import DYNAMIC, FIGURES
from core.utils.safe_io import write_via_temp
from core.utils import atomic_open, atomic_write_text, dumps_json, logger
from core.utils.vocabulary import SENSOR_SETS, sensor_label

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


LABELS = {
    "eeg_within_r": "EEG within r", "meg_within_r": "MEG within r",
    "meeg_within_r": "MEG+EEG within r", "eeg_within_abs_r": "EEG within |r|",
    "meg_within_abs_r": "MEG within |r|",
    "between_r": "EEG–MEG r", "between_abs_r": "EEG–MEG |r|",
    "coherence_multitaper": "coherence (multitaper)",
    "coherence_welch": "coherence (Welch)", "coherence_mvdr": "coherence (MVDR)",
}
for _m, _t in ((m, sensor_label(m)) for m in SENSOR_SETS):
    LABELS[f"{_m}_max_displacement_cm"] = f"{_t} max. moves/cycle (cm)"
    LABELS[f"{_m}_max_hemi_change"] = f"{_t} max. hemisphere changes"
    LABELS[f"{_m}_max_spread_cm"] = f"{_t} max. spread (cm)"

#: The note shown wherever the inverse method is chosen.
METHOD_NOTE = (
    "dSPM, MNE and sLORETA give the same synchrony figures: they differ only "
    "by a per-source scale, which correlation and coherence ignore. The loose "
    "and depth weights, the regularisation (SNR, λ²), eLORETA and the noise "
    "covariance change them.")


#: Edges of the pooled pairwise-correlation histograms (80 bins over [-1, 1]).
PAIR_BINS = np.linspace(-1.0, 1.0, 81)


def pair_histograms(spindles, modalities=("eeg", "meg", "meeg"), bins=PAIR_BINS) -> dict:
    """Density histograms of the pairwise source correlations, pooled over spindles.

    The one computation behind the synchrony panel's histogram and the HTML
    report's figure.

    Parameters
    ----------
    spindles : list
        Per-spindle results with a ``pair_sample`` dict (sensor set → 1-D
        array of sampled pairwise correlations).
    modalities : tuple of str
        Sensor sets to histogram, in order.
    bins : array
        Bin edges.

    Returns
    -------
    hists : dict
        Sensor set → (edges, density); sets no spindle has are left out.
    """
    bins = np.asarray(bins, float)
    out = {}
    for mod in modalities:
        samples = [np.asarray(s.pair_sample[mod], float) for s in spindles
                   if mod in s.pair_sample]
        if samples:
            h, _ = np.histogram(np.concatenate(samples), bins=bins, density=True)
            out[mod] = (bins, h)
    return out


def write_summary(result, out: Path, extra: dict | None = None) -> dict:
    """Write ``summary.json`` and ``spindles.csv``; return the summary.

    ``spindles.csv`` has, per spindle, its type, the onset of its null
    segment, and for every figure F the value ``F``, the value of its
    length-matched null segment ``F_null`` and the difference ``F_excess``
    (empty where the figure is not estimable for that spindle), plus the
    estimators for which the spindle was too short.
    """
    out.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    summary["paper"] = dict(PAPER_VALUES)
    if extra:
        summary.update(extra)
    atomic_write_text(out / "summary.json", dumps_json(summary, indent=2))
    keys = result.figure_keys()

    def fmt(v):
        return "" if v is None or not np.isfinite(v) else f"{v:.6f}"

    with atomic_open(out / "spindles.csv", "w", newline="") as fid:
        writer = csv.writer(fid)
        cols = []
        for k in keys:
            cols += [k, k + "_null", k + "_excess"]
        writer.writerow(["spindle", "onset", "duration", "type", "null_onset",
                         "too_short_for"] + cols + ["timecourse"])
        for s in result.spindles:
            row = [s.index, f"{s.onset:.4f}", f"{s.duration:.4f}", s.kind or "",
                   "" if s.null_onset is None else f"{s.null_onset:.4f}",
                   " ".join(e for e, v in s.too_short.items() if v)]
            for k in keys:
                v = s.figures.get(k, np.nan)
                n = s.null_figures.get(k, np.nan)
                row += [fmt(v), fmt(n), fmt(v - n)]
            writer.writerow(row + [result.config.timecourse])
    return summary


MAPS = ("between_r_map", "coherence_multitaper_map", "coherence_welch_map",
        "coherence_mvdr_map")


def write_maps(result, out: Path) -> list[Path]:
    """Write per-source maps averaged over spindles as ``<map>-stc.h5``.

    One time point each: EEG–MEG correlation and coherence at every source.
    """
    import mne

    paths = []
    for key in MAPS:
        if key not in result.maps and not all(key in s.maps for s in result.spindles):
            continue
        stc = mne.SourceEstimate(result.mean_map(key)[:, None],
                                 [v.copy() for v in result.vertices], tmin=0.0,
                                 tstep=1.0, subject=result.subject)
        path = out / f"{key}-stc.h5"
        _save_stc(stc, path)
        paths.append(path)
    return paths


def _save_stc(stc, path):
    """A SourceEstimate as HDF5, put in place atomically."""
    write_via_temp(path, lambda tmp: stc.save(tmp, ftype="h5", overwrite=True,
                                              verbose="error"))


def write_stcs(result, out: Path) -> list[Path]:
    """Write every per-spindle estimate as ``<modality>_spindle<k>-stc.h5``."""
    paths = []
    for s in result.spindles:
        for mod, stc in s.stcs.items():
            path = out / f"{mod}_spindle{s.index}-stc.h5"
            _save_stc(stc, path)
            paths.append(path)
    return paths


def _fmt_ci(ci):
    return "–" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _stats_table(summary, keys, paper=True) -> str:
    rows = []
    for k in keys:
        if summary.get(k) is None:
            continue
        cells = [LABELS.get(k, k), f"{summary[k]:.3f}"]
        if k + "_null" in summary:
            cells += [f"{summary[k + '_null']:.3f}", f"{summary[k + '_excess']:+.3f}",
                      _fmt_ci(summary.get(k + "_ci")),
                      _fmt_ci(summary.get(k + "_excess_ci")),
                      f"{summary[k + '_p']:.3g}"]
            if k + "_null_cross" in summary:
                cells.append(f"{summary[k + '_null_cross']:.3f} (p {summary[k + '_p_cross']:.3g})")
            else:
                cells.append("")
        else:
            cells += [""] * 6
        if paper:
            cells.append(f"{PAPER_VALUES[k]:.2f}" if k in PAPER_VALUES else "")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["measure", "value", "null", "excess", "95 % CI", "excess 95 % CI",
            "p (perm.)", "cross-pair null"] + (["Dehghani et al. 2010"] if paper else [])
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
            + "".join(rows) + "</table>")


def _figures(result, summary):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figs = []
    # 1. our figures with their nulls and intervals, beside the paper's
    keys = [k for k in FIGURES if summary.get(k) is not None and k not in DYNAMIC]
    fig, ax = plt.subplots(figsize=(9, 3.4), layout="constrained")
    x = np.arange(len(keys))
    vals = np.array([summary[k] for k in keys])
    ci = np.array([summary.get(k + "_ci") or [v, v] for k, v in zip(keys, vals)])
    ax.bar(x, vals, 0.6, yerr=np.abs(ci.T - vals), label="this recording (95 % CI)")
    nulls = [summary.get(k + "_null") for k in keys]
    ax.scatter(x[[n is not None for n in nulls]], [n for n in nulls if n is not None],
               marker="_", s=400, color="k", zorder=3, label="null")
    pk = [i for i, k in enumerate(keys) if k in PAPER_VALUES]
    ax.scatter(x[pk], [PAPER_VALUES[keys[i]] for i in pk], marker="*", color="C3",
               zorder=3, label="Dehghani et al. 2010")
    ax.set_xticks(x, [LABELS.get(k, k) for k in keys], rotation=30, ha="right")
    ax.set_ylabel("pooled over spindles")
    ax.legend(frameon=False, fontsize=8)
    figs.append(("Synchrony figures, their nulls and the paper's", fig))
    # 2. distributions of pairwise correlations
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    for mod, (edges, dens) in pair_histograms(result.spindles).items():
        ax.stairs(dens, edges, label=sensor_label(mod))
    ax.set_xlabel("pairwise correlation of source time courses")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    figs.append(("Pairwise correlations (pooled over spindles)", fig))
    # 3. pooled coherence spectra with their nulls
    if result.spectra:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
        for i, (name, spec) in enumerate(result.spectra.items()):
            ax.plot(spec["freqs"], spec["observed"], color=f"C{i}", label=name)
            if "null" in spec:
                ax.plot(spec["freqs"], spec["null"], color=f"C{i}", ls="--", lw=1,
                        label=f"{name} null")
        lo, hi = result.config.coherence_band
        ax.axvspan(lo, hi, color="0.9", zorder=0)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("EEG–MEG coherence")
        ax.legend(frameon=False, fontsize=8)
        figs.append(("EEG–MEG coherence spectra pooled over spindles (mean over "
                     "sources); dashed: length-matched spindle-free null", fig))
    # 4. per spindle
    if "meg_within_r" in summary and "eeg_within_r" in summary:
        fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
        e = np.array(summary["eeg_within_r_values"], float)
        m = np.array(summary["meg_within_r_values"], float)
        kinds = [s.kind or "" for s in result.spindles]
        for kind in sorted(set(kinds)):
            sel = [i for i, k in enumerate(kinds) if k == kind]
            ax.scatter(m[sel], e[sel], label=kind or None)
        lim = max(0.05, np.nanmax(np.r_[e, m]) * 1.1)
        ax.plot([0, lim], [0, lim], color="0.6", lw=1)
        ax.set_xlabel("MEG within r")
        ax.set_ylabel("EEG within r")
        if any(kinds):
            ax.legend(frameon=False, fontsize=8)
        figs.append(("Per spindle: EEG vs MEG synchrony", fig))
    return figs


def write_report(result, out: Path, title: str = "SpindleScope analysis",
                 notes: str = "", summary: dict | None = None) -> Path:
    """Write ``report.html`` (an :class:`mne.Report`)."""
    import matplotlib.pyplot as plt
    import mne

    report = mne.Report(title=title, verbose="error")
    summary = summary or result.summary()
    est = summary["estimators"]
    html = (f"<p>{summary['n_spindles']} spindles, {summary['method']}, SNR "
            f"{summary['snr']:g}, loose {summary['loose']:g}, depth "
            f"{summary['depth']}, band {summary['band']}.</p>{notes}"
            f"<p><b>Correlations use</b> the {summary['correlation_signal']} "
            f"(time-course setting '{summary['timecourse']}'); <b>coherence uses</b> "
            f"the {summary['coherence_signal']}, pooled over spindles "
            f"(multitaper W = {est['multitaper_half_bandwidth_hz']:g} Hz; Welch "
            f"{est['welch_segment_s']:g}-s Hann segments; MVDR L = "
            f"{est['mvdr_order_samples']} samples, loading {est['mvdr_loading']:g}).</p>"
            f"<p>{METHOD_NOTE}</p>"
            f"<p>Null: {summary['null']}. Intervals: bootstrap over spindles; p: "
            "one-sided permutation of spindle/null labels.</p>"
            + _stats_table(summary, [k for k in FIGURES if k in summary]))
    report.add_html(html, title="Summary")
    if summary.get("by_type"):
        parts = []
        for kind, d in summary["by_type"].items():
            parts.append(f"<h4>{kind} ({d['n_spindles']} spindles)</h4>"
                         + _stats_table(d, [k for k in FIGURES if k in d], paper=False))
        report.add_html("".join(parts), title="Per spindle type")
    for name, fig in _figures(result, summary):
        report.add_figure(fig, title=name, image_format="png")
        plt.close(fig)
    path = out / "report.html"
    write_via_temp(path, lambda tmp: report.save(tmp, overwrite=True, open_browser=False,
                                                 verbose="error"))
    logger.info("Report written to %s", path)
    return path
