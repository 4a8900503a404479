"""``main.py analyze``: per-spindle EEG/MEG/MEG+EEG sources and their synchrony."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..utils import SpindleScopeError, logger, run_with_progress

HELP = ("Estimate each spindle's sources from EEG, MEG and both (dSPM) and "
        "compare them: within-modality correlation, EEG–MEG correlation and "
        "coherence (Welch, MVDR).")


def _band(text: str):
    if text.lower() in ("none", "broadband", "off"):
        return None
    try:
        lo, hi = (float(v) for v in text.replace("-", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH in Hz or 'none', got {text!r}") from None
    return (lo, hi)


def add_arguments(p: argparse.ArgumentParser):
    p.add_argument("recording", nargs="?", help="recording file (FIF, EDF, ...)")
    p.add_argument("--demo", action="store_true",
                   help="use the built-in simulated MEG+EEG demo recording")
    p.add_argument("--spindles", help="spindle file: BIDS events TSV, CSV, FIF "
                   "annotations, EDF+ or DREAMS text")
    p.add_argument("--hypnogram", help="hypnogram file (N2 epochs feed the "
                   "default noise covariance)")
    g = p.add_argument_group("head model (default: the fsaverage template)")
    g.add_argument("--forward", help="forward solution file (-fwd.fif)")
    g.add_argument("--subjects-dir", help="FreeSurfer SUBJECTS_DIR")
    g.add_argument("--subject", help="subject name in SUBJECTS_DIR")
    g.add_argument("--trans", help="head<->MRI transform (-trans.fif)")
    g.add_argument("--bem", help="BEM solution (-bem-sol.fif)")
    g.add_argument("--src", help="source space file (-src.fif)")
    g.add_argument("--spacing", default="oct6",
                   help="source spacing when no --src is given (default oct6)")
    g.add_argument("--template-spacing", default="ico4", choices=("ico4", "ico5"),
                   help="template source space: ico4 = 5,124, ico5 = 20,484")
    i = p.add_argument_group("inverse")
    i.add_argument("--noise-cov", default="auto",
                   help="'auto' (spindle-free N2 segments filtered like the "
                   "analysed data; default), 'diagonal', a -cov.fif file, or an "
                   "empty-room/baseline recording")
    i.add_argument("--method", default="dSPM",
                   choices=("dSPM", "MNE", "sLORETA", "eLORETA"))
    i.add_argument("--snr", type=float, default=3.0, help="SNR; lambda2 = 1/SNR^2")
    i.add_argument("--loose", type=float, default=0.2)
    i.add_argument("--depth", type=float, default=0.8)
    i.add_argument("--fixed", action="store_true", help="fixed orientation "
                   "normal to the cortex (signed time courses)")
    i.add_argument("--band", type=_band, default=(10.0, 15.0),
                   help="band-pass before the inverse, LOW,HIGH Hz or 'none' "
                   "(default 10,15)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-stc", action="store_true", help="do not write STC files")
    p.add_argument("--no-report", action="store_true", help="no HTML report")


def _load_spindles(path):
    from ..spindles import read_spindles

    sset = read_spindles(path)
    kept = [s for s in sset if s.status != "rejected"]
    if not kept:
        raise SpindleScopeError(f"{Path(path).name!r} holds no spindles to analyse.")
    return kept


def _noise_intervals(args, rec, spindles):
    if args.hypnogram:
        from ..staging import read_hypnogram

        hyp = read_hypnogram(args.hypnogram, recording_duration=rec.duration)
        intervals = hyp.intervals(["N2"])
        if intervals:
            return intervals
        logger.warning("The hypnogram has no N2 epochs; the noise covariance "
                       "uses all spindle-free data.")
    return [(0.0, rec.duration)]


def run(args) -> int:
    import mne

    from ..cli import TerminalProgress
    from ..headmodel import iter_template_forward, subject_forward
    from ..inverse import (InverseSettings, check_modality, noise_cov_diagonal,
                           noise_cov_from_file, noise_cov_from_recording)
    from ..recording import open_recording
    from ..report import write_maps, write_report, write_stcs, write_summary
    from ..sources import AnalysisConfig, iter_analysis

    progress = TerminalProgress()
    t_start = time.perf_counter()
    if args.demo:
        from ..simulate import iter_demo

        demo = run_with_progress(iter_demo(), progress)
        args.recording = args.recording or str(demo.raw)
        args.spindles = args.spindles or str(demo.spindles)
        args.hypnogram = args.hypnogram or str(demo.hypnogram)
        if args.forward is None and args.subjects_dir is None:
            args.forward = str(demo.forward)
    if not args.recording:
        raise SpindleScopeError("Give a recording file, or --demo.")
    if not args.spindles:
        raise SpindleScopeError(
            "Give the spindles to analyse with --spindles FILE (mark or detect "
            "them first: python main.py detect RECORDING --out spindles.tsv).")
    settings = InverseSettings(method=args.method, snr=args.snr, loose=args.loose,
                               depth=args.depth,
                               orientation="fixed" if args.fixed else "loose")
    config = AnalysisConfig(inverse=settings, band=args.band)
    rec = open_recording(args.recording)
    for mod in config.modalities:  # fail before any slow step
        check_modality(rec.info, mod)
    spindles = _load_spindles(args.spindles)
    # head model
    if args.forward or args.subjects_dir:
        fwd = subject_forward(rec.info, forward=args.forward,
                              subjects_dir=args.subjects_dir, subject=args.subject,
                              trans=args.trans, bem=args.bem, src=args.src,
                              spacing=args.spacing)
        head = "forward file" if args.forward else f"subject {args.subject}"
    else:
        logger.warning("No head model given: using the fsaverage template.")
        fwd = run_with_progress(iter_template_forward(rec.info, args.template_spacing),
                                progress)
        head = f"fsaverage template ({args.template_spacing})"
    # noise covariance
    if args.noise_cov == "auto":
        cov = noise_cov_from_recording(
            rec, _noise_intervals(args, rec, spindles),
            [(s.onset, s.onset + s.duration) for s in spindles], band=config.band)
        cov_src = "spindle-free N2 segments" + (
            f", {config.band[0]:g}–{config.band[1]:g} Hz" if config.band else "")
    elif args.noise_cov == "diagonal":
        cov = noise_cov_diagonal(rec.info)
        cov_src = "diagonal (ad hoc)"
    else:
        cov = noise_cov_from_file(args.noise_cov)
        cov_src = Path(args.noise_cov).name
    result = run_with_progress(iter_analysis(rec, spindles, fwd, cov, config,
                                             keep_stcs=not args.no_stc), progress)
    out = Path(args.out)
    extra = {"recording": str(Path(args.recording).name), "head_model": head,
             "noise_cov": cov_src, "n_sources": int(sum(len(v) for v in result.vertices)),
             "mne_version": mne.__version__}
    summary = write_summary(result, out, extra)
    write_maps(result, out)
    if not args.no_stc:
        write_stcs(result, out)
    if not args.no_report:
        write_report(result, out, title=f"SpindleScope: {extra['recording']}",
                     notes=f"<p>Head model: {head}. Noise covariance: {cov_src}.</p>")
    elapsed = time.perf_counter() - t_start
    lines = [f"{summary['n_spindles']} spindles analysed in {elapsed:.1f} s "
             f"({settings.method}, {extra['n_sources']} sources); results in {out}"]
    for key, label in (("eeg_within_r", "EEG within-modality r"),
                       ("meg_within_r", "MEG within-modality r"),
                       ("meeg_within_r", "MEG+EEG within-modality r"),
                       ("between_r", "EEG-MEG r at the same source"),
                       ("coherence_welch", "EEG-MEG coherence (Welch)"),
                       ("coherence_mvdr", "EEG-MEG coherence (MVDR)")):
        if key in summary:
            paper = summary["paper"].get(key)
            ref = f"   (paper {paper:.2f})" if paper is not None else ""
            lines.append(f"  {label:<32} {summary[key]:.3f} ± {summary[key + '_sd']:.3f}{ref}")
    print("\n".join(lines), file=sys.stdout)
    return 0
