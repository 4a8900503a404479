"""Group outputs of a cohort in ``DERIV/group/``.

``participants_figures.tsv`` (a row per recording and per subject),
``summary.json`` (counts and the statistics of :mod:`core.batch.stats`),
per-source maps morphed to fsaverage and averaged across subjects
(``desc-<map>_fsaverage-stc.h5``) and ``report.html``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from pathlib import Path

import numpy as np

from core.utils import SpindleScopeError, atomic_write_text, dumps_json, logger
from core.batch.stats import figure_keys, group_statistics, null_values

GROUP_FOLDER = "group"
MAP_KEYS = ("between_r_map", "coherence_welch_map", "coherence_mvdr_map")
_SCALAR_SUFFIXES = ("", "_sd", "_null", "_excess", "_p")


def load_recordings(deriv, results: list[dict]) -> list[dict]:
    """Each finished recording's summary and files (from its outputs)."""
    deriv = Path(deriv)
    out = []
    for r in results:
        if r.get("status") not in ("done", "skipped") or "summary" not in r.get("outputs", {}):
            continue
        folder = deriv / r["folder"]
        summary = json.loads((folder / r["outputs"]["summary"]).read_text())
        out.append({**r, "summary": summary, "path": folder})
    return out


def _table_rows(recs: list[dict]) -> tuple[list[str], list[dict]]:
    figures = []
    for r in recs:
        figures += [f for f in figure_keys(r["summary"]) if f not in figures]
    cols = ["level", "subject", "session", "recording", "n_spindles"]
    for f in figures:
        for suf in _SCALAR_SUFFIXES:
            if any(isinstance(r["summary"].get(f + suf), (int, float)) for r in recs):
                cols.append(f + suf)
    rows = []
    for r in recs:
        s = r["summary"]
        row = {"level": "recording", "subject": r["subject"], "session": r["session"] or "n/a",
               "recording": r["recording"], "n_spindles": s.get("n_spindles", 0)}
        for c in cols[5:]:
            row[c] = s.get(c, "n/a")
        rows.append(row)
    for subj in sorted({r["subject"] for r in recs}):
        mine = [r["summary"] for r in recs if r["subject"] == subj]
        row = {"level": "subject", "subject": subj, "session": "n/a", "recording": "n/a",
               "n_spindles": sum(s.get("n_spindles", 0) for s in mine)}
        for f in figures:
            vals = [v for s in mine for v in s.get(f + "_per_spindle", [])]
            if f in cols and vals:
                row[f] = float(np.mean(vals))
            if f + "_sd" in cols and len(vals) > 1:
                row[f + "_sd"] = float(np.std(vals, ddof=1))
            nv = [null_values(s, f) for s in mine]
            if f + "_null" in cols and vals and all(x for x in nv):
                row[f + "_null"] = float(np.mean([v for x in nv for v in x]))
                if f + "_excess" in cols:
                    row[f + "_excess"] = row[f] - row[f + "_null"]
        rows.append({c: row.get(c, "n/a") for c in cols})
    return cols, rows


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return "n/a" if v is None else str(v)


def write_participants(path: Path, recs: list[dict]) -> Path:
    """``participants_figures.tsv``: every figure per recording and per subject."""
    cols, rows = _table_rows(recs)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(cols)
    for row in rows:
        w.writerow([_fmt(row.get(c)) for c in cols])
    return atomic_write_text(path, buf.getvalue())


def _template_vertices(spacing: str):
    from core.sources.headmodel import template_source_space

    return [s["vertno"] for s in template_source_space(spacing)]


def to_template(stc, subjects_dir=None, spacing: str = "ico4") -> np.ndarray:
    """A one-time-point map's values on the template (fsaverage) sources.

    A map on the template, or on a subset of its sources (a decimated
    template forward), is placed on the template's vertices (NaN where it has
    none); a map on a subject's own cortex is morphed with
    :func:`mne.compute_source_morph` (which needs ``fsaverage`` and the
    subject's ``sphere.reg`` in ``subjects_dir``).

    Returns
    -------
    data : array, shape (n_template_sources,)
    """
    import mne

    target = _template_vertices(spacing)
    if stc.subject in (None, "fsaverage") and all(
            np.isin(v, t).all() for v, t in zip(stc.vertices, target)):
        out = np.full(sum(len(t) for t in target), np.nan)
        offset, row = 0, 0
        for v, t in zip(stc.vertices, target):
            out[offset + np.searchsorted(t, v)] = stc.data[row:row + len(v), 0]
            offset += len(t)
            row += len(v)
        return out
    if subjects_dir is None:
        raise SpindleScopeError(
            f"The map of subject {stc.subject!r} cannot be morphed to fsaverage "
            f"without its SUBJECTS_DIR.")
    morph = mne.compute_source_morph(stc, subject_from=stc.subject, subject_to="fsaverage",
                                     subjects_dir=subjects_dir, spacing=target,
                                     verbose="error")
    return morph.apply(stc).data[:, 0]


def group_maps(recs: list[dict], out: Path, spacing: str = "ico4") -> tuple[dict, list]:
    """Average each per-source map across subjects on fsaverage.

    Returns
    -------
    written : dict
        map key -> file name in ``out``.
    skipped : list of str
        Recordings whose maps could not be brought to fsaverage, with why.
    """
    import mne

    written, skipped = {}, []
    for key in MAP_KEYS:
        per_subject = {}
        for r in recs:
            name = r["outputs"].get(key)
            if not name:
                continue
            stc = mne.read_source_estimate(r["path"] / name)
            try:
                vals = to_template(stc, r.get("subjects_dir"), spacing)
            except (SpindleScopeError, ValueError, OSError, RuntimeError) as exc:
                skipped.append(f"{r['recording']} {key}: {exc}")
                continue
            per_subject.setdefault(r["subject"], []).append(vals)
        if not per_subject:
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sources no one has: NaN
            data = np.nanmean([np.nanmean(v, axis=0) for v in per_subject.values()], axis=0)
        stc = mne.SourceEstimate(data[:, None], _template_vertices(spacing), tmin=0.0,
                                 tstep=1.0, subject="fsaverage")
        name = f"desc-{key.replace('_', '')}_fsaverage-stc.h5"
        tmp = out / f".tmp-{name}"
        stc.save(tmp, ftype="h5", overwrite=True, verbose="error")
        tmp.replace(out / name)
        written[key] = name
    return written, skipped


def _report(out: Path, summary: dict, recs: list[dict], maps: dict):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import mne

    report = mne.Report(title="SpindleScope cohort", verbose="error")
    rows = "".join(
        f"<tr><td>{f}</td><td>{s['subject_mean']:.3f} ± {s['subject_sd']:.3f}</td>"
        f"<td>{s['pooled']:.3f} [{s['pooled_ci'][0]:.3f}, {s['pooled_ci'][1]:.3f}]</td>"
        + (f"<td>{s['pooled_null']:.3f}</td><td>{s['excess']:.3f} [{s['excess_ci'][0]:.3f}, "
           f"{s['excess_ci'][1]:.3f}]</td><td>{s['p']:.4f}</td>" if "excess" in s
           else "<td>n/a</td><td>n/a</td><td>n/a</td>") + "</tr>"
        for f, s in summary["figures"].items())
    report.add_html(
        f"<p>{summary['n_recordings']} recordings of {summary['n_subjects']} subjects, "
        f"{summary['n_spindles']} spindles; {summary['n_errors']} recordings failed "
        f"(errors.tsv).</p><table><tr><th>figure</th><th>subject mean ± SD</th>"
        f"<th>pooled [95 % CI]</th><th>null</th><th>excess [95 % CI]</th><th>p</th></tr>"
        f"{rows}</table>", title="Group summary")
    figs = list(summary["figures"])
    if figs:
        fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(figs)), 3.5), layout="constrained")
        for i, f in enumerate(figs):
            subj = {}
            for r in recs:
                subj.setdefault(r["subject"], []).extend(r["summary"].get(f + "_per_spindle", []))
            ys = [np.mean(v) for v in subj.values() if v]
            ax.plot(np.full(len(ys), i) + np.linspace(-0.15, 0.15, len(ys)), ys, "o", ms=4,
                    color="C0", label="subject means" if i == 0 else None)
            s = summary["figures"][f]
            ax.errorbar(i + 0.3, s["pooled"], yerr=[[s["pooled"] - s["pooled_ci"][0]],
                                                    [s["pooled_ci"][1] - s["pooled"]]],
                        fmt="s", color="C1", label="pooled, 95 % CI" if i == 0 else None)
            if "pooled_null" in s:
                ax.plot(i + 0.3, s["pooled_null"], "_", ms=14, color="0.3",
                        label="null" if i == 0 else None)
        ax.set_xticks(range(len(figs)), figs, rotation=30, ha="right")
        ax.legend(frameon=False)
        report.add_figure(fig, title="Figures per subject and pooled", image_format="png")
        plt.close(fig)
    for key, name in maps.items():
        stc = mne.read_source_estimate(out / name)
        fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
        vals = stc.data[:, 0]
        ax.hist(vals[np.isfinite(vals)], bins=60)
        ax.set_xlabel(f"{key} (mean over subjects), per source")
        ax.set_ylabel("sources")
        report.add_figure(fig, title=f"Group map: {key}", image_format="png")
        plt.close(fig)
    tmp = out / ".tmp-report.html"
    report.save(tmp, overwrite=True, open_browser=False, verbose="error")
    tmp.replace(out / "report.html")


def group_key(results: list[dict], prov_keys: dict, settings: dict) -> str:
    blob = json.dumps({"recordings": sorted((r["recording"], prov_keys.get(r["recording"], ""),
                                             r["status"] == "error") for r in results),
                       "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def write_group(deriv, results: list[dict], settings: dict, key: str, *,
                n_boot: int = 2000, n_perm: int = 2000) -> dict:
    """Write ``DERIV/group/`` unless it is current for ``key``; return the summary."""
    out = Path(deriv) / GROUP_FOLDER
    path = out / "summary.json"
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            old = {}
        if old.get("key") == key:
            logger.info("Group outputs are current")
            return old
    out.mkdir(parents=True, exist_ok=True)
    recs = load_recordings(deriv, results)
    for r in recs:
        r["subjects_dir"] = (r.get("head") or {}).get("subjects_dir")
    stats = group_statistics([(r["subject"], r["summary"]) for r in recs],
                             n_boot=n_boot, n_perm=n_perm) if recs else {}
    spacing = settings.get("analyze", {}).get("template_spacing", "ico4")
    maps, skipped = group_maps(recs, out, spacing) if recs else ({}, [])
    summary = {
        "n_subjects": len({r["subject"] for r in recs}),
        "n_recordings": len(recs),
        "n_spindles": int(sum(r["summary"].get("n_spindles", 0) for r in recs)),
        "n_errors": sum(r["status"] == "error" for r in results),
        "recordings": [r["recording"] for r in recs],
        "figures": stats,
        "maps": maps,
        "maps_skipped": skipped,
        "statistics": {"bootstrap": f"{n_boot} resamples of subjects, percentile 95 % "
                                    f"interval",
                       "permutation": f"{n_perm} exchanges of spindle/null labels within "
                                      f"subjects; one-sided p (excess > 0)"},
        "key": key,
    }
    write_participants(out / "participants_figures.tsv", recs)
    if recs:
        _report(out, summary, recs, maps)
    atomic_write_text(path, dumps_json(summary, indent=2))
    return summary
