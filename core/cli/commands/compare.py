"""``compare``: agreement of two spindle scorings (scorers or detectors)."""

from __future__ import annotations

import json

HELP = ("Compare two spindle files (reference first): by-event precision, "
        "recall and F1 at an IoU threshold, and sample-wise Cohen's kappa.")


def add_arguments(parser):
    from core.session.pipeline import COMPARE_MARKS

    parser.add_argument("reference", help="reference spindles (.tsv, .csv, .fif, .edf, .txt)")
    parser.add_argument("other", help="spindles to evaluate")
    parser.add_argument("--iou", type=float, default=0.2,
                        help="intersection-over-union threshold (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=None,
                        help="scored duration in s for kappa (default: last event end)")
    parser.add_argument("--window", default=None, metavar="T0,T1",
                        help="only events starting in this period (s)")
    parser.add_argument("--marks", default="not-rejected", choices=COMPARE_MARKS,
                        help="which marks of both files count, as in the app's "
                             "Compare dock (default: %(default)s)")
    parser.add_argument("--accepted-only", action="store_true",
                        help="ignore rejected spindles in both files (the "
                             "default now; same as --marks not-rejected)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args) -> int:
    from core.session.session import Session
    from core.scoring.spindles import SpindleSet
    from core.io.marks import read_spindles
    from core.utils import SpindleScopeError

    if args.duration is not None:
        from core.scoring.evaluation import MAX_SCORED_DURATION
        from core.utils import check_range

        if not check_range("--duration", args.duration, 0, MAX_SCORED_DURATION) > 0:
            raise SpindleScopeError("--duration must be more than 0 s (the length "
                                    "of the scored recording).")
    window = None
    if args.window:
        try:
            window = tuple(float(v) for v in args.window.split(","))
            if not (len(window) == 2 and 0 <= window[0] < window[1] < float("inf")):
                raise ValueError(window)
        except ValueError:
            raise SpindleScopeError(
                f"--window expects T0,T1 in seconds with T1 > T0, got "
                f"{args.window!r}.") from None
    # the scoring evaluated is a session's marks, as in the app
    session = Session()
    session.set_spindles(SpindleSet(read_spindles(args.other, duration=args.duration)))
    agr, _, _ = session.compare(args.reference, iou=args.iou, duration=args.duration,
                                window=window,
                                marks="not-rejected" if args.accepted_only else args.marks)
    if args.json:
        print(json.dumps(agr.as_dict(), indent=1))
    else:
        print(f"reference: {agr.n_reference} spindles, other: {agr.n_other}, "
              f"matched at IoU >= {agr.iou:g}: {agr.tp}")
        print(f"precision {agr.precision:.3f}  recall {agr.recall:.3f}  "
              f"F1 {agr.f1:.3f}  kappa {agr.kappa:.3f}")
    return 0
