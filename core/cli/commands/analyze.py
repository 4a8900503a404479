"""``main.py analyze``: per-spindle EEG/MEG/MEG+EEG sources and their synchrony."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.utils import SpindleScopeError, logger, run_with_progress

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
    from core.session.pipeline import INVERSE_METHODS, TEMPLATE_SPACINGS, TIMECOURSES

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
    g.add_argument("--template-spacing", default="ico4", choices=TEMPLATE_SPACINGS,
                   help="template source space: ico4 = 5,124, ico5 = 20,484")
    i = p.add_argument_group("inverse")
    i.add_argument("--noise-cov", default="auto",
                   help="'auto' (spindle-free N2 segments filtered like the "
                   "analysed data; default), 'diagonal', a -cov.fif file, or an "
                   "empty-room/baseline recording")
    i.add_argument("--method", default="dSPM", choices=INVERSE_METHODS)
    i.add_argument("--snr", type=float, default=3.0, help="SNR; lambda2 = 1/SNR^2")
    i.add_argument("--loose", type=float, default=0.2)
    i.add_argument("--depth", type=float, default=0.8)
    i.add_argument("--fixed", action="store_true", help="fixed orientation "
                   "normal to the cortex (signed time courses)")
    i.add_argument("--band", type=_band, default=(10.0, 15.0),
                   help="band-pass before the inverse, LOW,HIGH Hz or 'none' "
                   "(default 10,15)")
    s = p.add_argument_group("synchrony")
    s.add_argument("--modalities", default="auto", metavar="LIST",
                   help="sensor sets to invert, comma-separated of eeg, meg, meeg "
                   "(default auto: every set the recording has sensors for; the "
                   "EEG-MEG figures need eeg and meg)")
    s.add_argument("--timecourse", default="norm", choices=TIMECOURSES,
                   help="time course the correlations use: norm of the loose "
                   "components (default), signed normal component, or Hilbert "
                   "envelope of the normal component; coherence always uses the "
                   "signed normal component")
    s.add_argument("--n-boot", type=int, default=1000,
                   help="bootstrap and permutation replicates (default 1000)")
    s.add_argument("--no-null", action="store_true",
                   help="skip the null segments, intervals and p-values")
    p.add_argument("--max-spindles", type=int, default=None, metavar="N",
                   help="analyse only the first N spindles (as the app's "
                   "'max spindles'; default: all)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-stc", action="store_true", help="do not write STC files")
    p.add_argument("--no-report", action="store_true", help="no HTML report")


def _modalities(text, info) -> tuple:
    """The sensor sets to analyse: those asked for (each checked), or with
    ``auto`` every set the recording has sensors (and positions) for."""
    from core.sources.inverse import MODALITIES, check_modality
    from core.utils import check_option

    if str(text).strip().lower() == "auto":
        mods, why = [], None
        for mod in MODALITIES:
            try:
                check_modality(info, mod)
                mods.append(mod)
            except SpindleScopeError as exc:
                why = why or exc
        if not mods:
            raise why
        if len(mods) < len(MODALITIES):
            logger.warning("Analysing %s only: %s", ", ".join(mods), why)
        return tuple(mods)
    mods = [m.strip().lower() for m in str(text).split(",") if m.strip()]
    if not mods:
        raise SpindleScopeError("Invalid value for the '--modalities' parameter: "
                                "give eeg, meg and/or meeg, or auto.")
    for mod in mods:
        check_option("--modalities", mod, MODALITIES)
        check_modality(info, mod)
    return tuple(dict.fromkeys(mods))


def head_choice(args):
    """The head model of the arguments (:class:`core.session.workspace.HeadModelChoice`)."""
    from core.session.workspace import HeadModelChoice

    if args.forward:
        return HeadModelChoice(kind="forward", forward=args.forward)
    if args.subjects_dir:
        return HeadModelChoice(kind="subject", subjects_dir=args.subjects_dir,
                               subject=args.subject, trans=args.trans, bem=args.bem,
                               src=args.src, source_spacing=args.spacing)
    logger.warning("No head model given: using the fsaverage template.")
    return HeadModelChoice(kind="template", spacing=args.template_spacing)


def run(args) -> int:
    from core.cli.main import TerminalProgress
    from core.sources.inverse import InverseSettings
    from core.session.session import open_session
    from core.session.workspace import NoiseChoice

    progress = TerminalProgress()
    t_start = time.perf_counter()
    if args.demo:
        from core.session.simulate import iter_demo

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
    if args.max_spindles is not None and args.max_spindles < 1:
        raise SpindleScopeError(
            f"--max-spindles must be at least 1, got {args.max_spindles}.")
    settings = InverseSettings(method=args.method, snr=args.snr, loose=args.loose,
                               depth=args.depth,
                               orientation="fixed" if args.fixed else "loose")
    # the session the app would hold with these files, and the same pipeline
    session = open_session(args.recording, hypnogram=args.hypnogram)
    rec = session.recording
    rec.check_source_ready()     # before any head model or covariance work
    mods = _modalities(args.modalities, rec.info)  # fail before any slow step
    session.set_spindles(_read_marks(args.spindles))
    noise = (NoiseChoice(args.noise_cov) if args.noise_cov in ("auto", "diagonal")
             else NoiseChoice("file", args.noise_cov))
    gen = session.iter_analyze(
        head=head_choice(args), noise=noise, inverse=settings,
        max_spindles=args.max_spindles, band=args.band, timecourse=args.timecourse,
        n_boot=args.n_boot, n_perm=args.n_boot, null=not args.no_null, modalities=mods,
        keep_stcs=not args.no_stc)
    computed = run_with_progress(gen, progress)
    session.workspace.store(computed)
    result = computed.result
    out = Path(args.out)
    summary = session.export(result, out, stcs=not args.no_stc,
                             report=not args.no_report)
    elapsed = time.perf_counter() - t_start
    n_sources = int(sum(len(v) for v in result.vertices))
    lines = [f"{summary['n_spindles']} spindles analysed in {elapsed:.1f} s "
             f"({settings.method}, {n_sources} sources); results in {out}"]
    lines.append(f"  correlations use the {summary['correlation_signal']}; coherence "
                 f"the {summary['coherence_signal']}")
    lines += summary_lines(summary)
    for kind, d in summary.get("by_type", {}).items():
        lines.append(f"  -- {kind} spindles ({d['n_spindles']}) --")
        lines += summary_lines(d, paper=False)
    print("\n".join(lines), file=sys.stdout)
    return 0


def _read_marks(path):
    from core.scoring.spindles import SpindleSet
    from core.io.marks import read_spindles

    sset = read_spindles(path)
    if not any(s.status != "rejected" for s in sset):
        raise SpindleScopeError(f"{Path(path).name!r} holds no spindles to analyse.")
    return SpindleSet(sset)


def summary_lines(summary: dict, paper: bool = True) -> list[str]:
    """One line per figure: value [CI], null, excess [CI], p (and the paper's)."""
    from core.report.writers import LABELS
    from core.sources.synchrony_figures import FIGURES

    lines = []
    for key in FIGURES:
        if summary.get(key) is None:
            continue
        text = f"  {LABELS[key]:<24} {summary[key]:.3f}"
        if key + "_null" in summary:
            lo, hi = summary[key + "_ci"]
            elo, ehi = summary[key + "_excess_ci"]
            text += (f" [{lo:.3f}, {hi:.3f}]  null {summary[key + '_null']:.3f}  "
                     f"excess {summary[key + '_excess']:+.3f} [{elo:+.3f}, {ehi:+.3f}]  "
                     f"p {summary[key + '_p']:.3g}")
        ref = summary.get("paper", {}).get(key) if paper else None
        if ref is not None:
            text += f"   (paper {ref:.2f})"
        lines.append(text)
    return lines
