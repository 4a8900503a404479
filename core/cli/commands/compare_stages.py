"""``compare-stages``: epoch-by-epoch agreement of two hypnograms."""

from __future__ import annotations

import json

HELP = ("Compare two hypnograms (reference first) epoch by epoch: accuracy, "
        "Cohen's kappa, per-stage F1 and the confusion matrix.")


def add_arguments(parser):
    parser.add_argument("reference", help="reference hypnogram (.tsv, .csv, .txt, .fif, .edf)")
    parser.add_argument("other", help="hypnogram to evaluate")
    parser.add_argument("--epoch-length", type=float, default=None,
                        help="epoch length in s (default: from the files)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args) -> int:
    from core.scoring.agreement import stage_agreement
    from core.io.hypnograms import read_hypnogram

    ref = read_hypnogram(args.reference, epoch_length=args.epoch_length)
    oth = read_hypnogram(args.other, epoch_length=args.epoch_length)
    agr = stage_agreement(ref, oth)
    if args.json:
        print(json.dumps(agr.as_dict(), indent=1))
    else:
        print(agr.summary())
    return 0
