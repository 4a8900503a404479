"""``main.py batch DATASET --out DERIV``: a cohort on Dask, resumable, with group figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.utils import SpindleScopeError

HELP = ("Run detection and the source/synchrony analysis over a BIDS dataset or a "
        "sample list on Dask (local cluster, scheduler address or SLURM), skip "
        "what is up to date, and pool spindles across subjects.")


def add_arguments(p: argparse.ArgumentParser):
    from core.cli.commands.analyze import _band
    from core.session.pipeline import (DETECT_METHODS, DETECT_MODALITIES, INVERSE_METHODS,
                                       TEMPLATE_SPACINGS)

    p.add_argument("dataset", help="BIDS root folder, or a sample list (.tsv/.csv with "
                   "subject, recording and optional spindles, hypnogram, forward or "
                   "subjects_dir/trans/bem columns)")
    p.add_argument("--out", required=True, metavar="DERIV", help="derivatives folder")
    p.add_argument("--steps", default="detect,analyze",
                   help="detect (where a recording has no spindle events), analyze "
                   "(default: %(default)s)")
    p.add_argument("--participant-label", nargs="+", metavar="LABEL",
                   help="only these subjects")
    p.add_argument("--trial-type", default="spindle",
                   help="trial_type of the spindle rows in *_events.tsv (default: %(default)s)")
    p.add_argument("--hypnogram-pattern", help="glob for a recording's hypnogram with "
                   "{subject} {session} {task} {run} {stem} fields (default: the BIDS "
                   "sleep proposal's <stem>_hypnogram.tsv)")
    p.add_argument("--events-pattern", help="glob for the spindle events, same fields "
                   "(default: <stem>_events.tsv)")
    p.add_argument("--forward-pattern", help="glob for a recording's forward solution, "
                   "same fields, e.g. derivatives/forward/sub-{subject}/*-fwd.fif "
                   "(default: the fsaverage template head)")
    c = p.add_argument_group("Dask")
    c.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default 2) or SLURM jobs (default 4)")
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://host:8786")
    c.add_argument("--cluster", default="local", choices=("local", "slurm"),
                   help="local processes (default) or SLURM through dask-jobqueue")
    c.add_argument("--cluster-opts", metavar="K=V,...",
                   help="SLURM job options: queue=..., cores=..., memory=..., "
                   "walltime=..., account=...")
    c.add_argument("--memory-limit", default="auto",
                   help="memory limit per local worker, e.g. 4GiB (default: %(default)s)")
    d = p.add_argument_group("detection (as the detect command)")
    d.add_argument("--detect-method", default="a7", choices=DETECT_METHODS)
    d.add_argument("--modality", default="both", choices=DETECT_MODALITIES)
    d.add_argument("--picks", default=None, help="comma-separated channels or groups")
    d.add_argument("--stages", default="N2,N3", help="stages searched (with a hypnogram)")
    d.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="detector parameter (repeatable), as in detect")
    d.add_argument("--min-channels", type=int, default=None)
    a = p.add_argument_group("analysis (as the analyze command)")
    a.add_argument("--method", default="dSPM", choices=INVERSE_METHODS)
    a.add_argument("--snr", type=float, default=3.0)
    a.add_argument("--loose", type=float, default=0.2)
    a.add_argument("--depth", type=float, default=0.8)
    a.add_argument("--fixed", action="store_true")
    a.add_argument("--band", type=_band, default=(10.0, 15.0))
    a.add_argument("--noise-cov", default="auto", help="'auto', 'diagonal' or a -cov.fif")
    a.add_argument("--spacing", default="oct6", help="subject source spacing")
    a.add_argument("--template-spacing", default="ico4", choices=TEMPLATE_SPACINGS)
    a.add_argument("--spindle-stcs", action="store_true",
                   help="also write every spindle's source time courses (large)")
    a.add_argument("--no-report", action="store_true", help="no per-recording HTML")
    g = p.add_argument_group("group statistics")
    g.add_argument("--n-boot", type=int, default=2000, help="subject bootstrap resamples")
    g.add_argument("--n-perm", type=int, default=2000, help="label permutations")


def settings_from_args(args) -> dict:
    from core.batch import make_settings
    from core.cli.commands.detect import parse_set

    params = parse_set(args.set)
    return make_settings(
        steps=args.steps, trial_type=args.trial_type,
        detect={"method": args.detect_method, "modality": args.modality,
                "picks": [x.strip() for x in args.picks.split(",")] if args.picks else None,
                "stages": [s.strip() for s in args.stages.split(",") if s.strip()],
                "params": params, "min_channels": args.min_channels},
        analyze={"method": args.method, "snr": args.snr, "loose": args.loose,
                 "depth": args.depth, "fixed": args.fixed,
                 "band": list(args.band) if args.band else None,
                 "noise_cov": args.noise_cov, "spacing": args.spacing,
                 "template_spacing": args.template_spacing,
                 "spindle_stcs": args.spindle_stcs, "report": not args.no_report})


def run(args) -> int:
    from core.batch import clean_scratch, discover, iter_batch, make_client
    from core.cli.main import TerminalProgress
    from core.utils import run_with_progress

    import logging

    if not getattr(args, "verbose", False):  # Dask's INFO chatter hides the progress line
        logging.getLogger("distributed").setLevel(logging.WARNING)
    settings = settings_from_args(args)
    kwargs = {"participant_label": args.participant_label}
    if Path(args.dataset).is_dir():
        kwargs.update(hypnogram_pattern=args.hypnogram_pattern,
                      events_pattern=args.events_pattern,
                      forward_pattern=args.forward_pattern)
    items = discover(args.dataset, **kwargs)
    deriv = Path(args.out)
    if deriv.resolve() == Path(args.dataset).resolve():
        raise SpindleScopeError("--out must not be the dataset itself.")
    deriv.mkdir(parents=True, exist_ok=True)
    client, cluster = make_client(deriv, workers=args.workers, scheduler=args.scheduler,
                                  cluster=args.cluster, cluster_opts=args.cluster_opts,
                                  memory_limit=args.memory_limit)
    print(f"{len(items)} recordings; Dask dashboard: {client.dashboard_link}", file=sys.stderr)
    try:
        out = run_with_progress(iter_batch(items, settings, deriv, client,
                                           n_boot=args.n_boot, n_perm=args.n_perm,
                                           source=args.dataset), TerminalProgress())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if args.scheduler is None:
            clean_scratch(deriv)
    res = out["results"]
    counts = {s: sum(r["status"] == s for r in res) for s in ("done", "skipped", "error")}
    g = out["group"]
    lines = [f"{counts['done']} recordings computed, {counts['skipped']} up to date, "
             f"{counts['error']} failed (see {deriv / 'errors.tsv'}) in "
             f"{out['seconds']:.1f} s",
             f"group: {g['n_recordings']} recordings, {g['n_subjects']} subjects, "
             f"{g['n_spindles']} spindles -> {deriv / 'group'}"]
    for fig, s in g.get("figures", {}).items():
        extra = (f"  excess {s['excess']:+.3f} [{s['excess_ci'][0]:+.3f}, "
                 f"{s['excess_ci'][1]:+.3f}] p={s['p']:.3g}" if "excess" in s else "")
        lines.append(f"  {fig:<22} {s['subject_mean']:.3f} ± {s['subject_sd']:.3f} "
                     f"(pooled {s['pooled']:.3f}){extra}")
    print("\n".join(lines))
    return 1 if counts["error"] else 0
