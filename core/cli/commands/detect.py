"""``detect``: automatic spindle detection on a recording.

Writes a BIDS events TSV (onset, duration, trial_type, channel, modality and
one column per property). With ``--per-channel`` every channel detection is a
row; by default detections are merged across channels into events whose
``modality`` says whether EEG, MEG or both saw them.
"""

from __future__ import annotations

from pathlib import Path

from core.utils import SpindleScopeError

HELP = ("Detect sleep spindles (A7 or YASA-style) on EEG and/or MEG channels "
        "and write them as a BIDS events TSV.")


def _names(method):
    from dataclasses import fields

    from core.detection.detector import DETECTORS

    return [f.name for f in fields(DETECTORS[method])]


def add_arguments(parser):
    from core.session.pipeline import DETECT_METHODS, DETECT_MODALITIES

    parser.add_argument("recording", help="recording file (FIF, EDF, BDF, ...)")
    parser.add_argument("--picks", default=None,
                        help="comma-separated channel names or groups "
                             "(eeg, mag, grad, meg); default: all EEG and MEG")
    parser.add_argument("--modality", default="both", choices=DETECT_MODALITIES,
                        help="sensor types to detect on (default: %(default)s)")
    parser.add_argument("--hypnogram", default=None, metavar="FILE",
                        help="hypnogram (TSV/CSV/TXT/FIF/EDF) restricting detection")
    parser.add_argument("--stages", default="N2,N3",
                        help="stages to search when a hypnogram is given "
                             "(default: %(default)s)")
    parser.add_argument("--epoch-length", type=float, default=None,
                        help="hypnogram epoch length in s (default: from the file)")
    parser.add_argument("--method", default="a7", choices=DETECT_METHODS,
                        help="detector (default: %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a detector parameter, e.g. --set rel_pow=1.8, "
                             "--set duration=0.5,2 or --set abs_mode=adaptive "
                             "(repeatable). A7: " + ", ".join(_names("a7")) +
                             ". YASA: " + ", ".join(_names("yasa")) + ".")
    parser.add_argument("--min-channels", type=int, default=None,
                        help="channels of a modality needed to call an event "
                             "visible in it (default: 2 %% of the modality's "
                             "channels, at least 1, as in the app)")
    parser.add_argument("--per-channel", action="store_true",
                        help="write one row per channel detection instead of "
                             "merged events")
    parser.add_argument("--montage", default=None, metavar="NAME",
                        help="detect on a montage's rows, e.g. 'Sleep (AASM)' or "
                             "'Linked mastoids' (default: channels as recorded)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="output events file (.tsv, .csv, .fif, .edf)")


def parse_set(items) -> dict:
    """Detector parameters from ``--set NAME=VALUE`` items (values parsed)."""
    params = {}
    for item in items or ():
        if "=" not in item:
            raise SpindleScopeError(
                f"--set expects NAME=VALUE, got {item!r} (e.g. --set rel_pow=1.8).")
        k, v = item.split("=", 1)
        params[k.strip()] = _parse_value(v)
    return params


def _parse_value(text):
    text = text.strip()
    if "," in text:
        return tuple(float(v) for v in text.split(","))
    if text.lower() in ("none", "null"):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        return text  # a word (abs_mode=adaptive); the detector checks it


def run(args) -> int:
    import sys

    from core.cli.main import TerminalProgress
    from core.session.pipeline import DetectOptions
    from core.session.session import open_session
    from core.io.marks import _fmt_of, write_spindles
    from core.utils import check_range, run_with_progress

    _fmt_of(args.out)  # an output format we write, before any computing
    if args.epoch_length is not None and not 0 < check_range(
            "--epoch-length", args.epoch_length, 0, 3600):
        raise SpindleScopeError(
            "Invalid value for --epoch-length: it must be more than 0 s (30 s is "
            "the AASM epoch), but got 0 instead.")
    # nonsense settings: say so before reading the file
    options = DetectOptions(
        method=args.method, params=parse_set(args.set), modality=args.modality,
        picks=tuple(p.strip() for p in args.picks.split(",")) if args.picks else None,
        staged_only=bool(args.hypnogram),
        stages=tuple(s.strip() for s in args.stages.split(",") if s.strip()),
        min_channels=args.min_channels, montage=args.montage)
    settings = None
    if args.montage:
        from core.session.settings import Settings

        settings = Settings.load()
    session = open_session(args.recording, hypnogram=args.hypnogram,
                           epoch_length=args.epoch_length, settings=settings)
    result = run_with_progress(session.iter_detect(options), TerminalProgress())
    out = Path(args.out)
    events = result.channel_events if args.per_channel else result.events
    write_spindles(events, out)
    vis = {}
    for s in result.events:
        vis[s.visibility] = vis.get(s.visibility, 0) + 1
    print(f"{len(result.events)} spindle events ({', '.join(f'{k}: {v}' for k, v in sorted(vis.items()))}) "
          f"from {len(result.channel_events)} channel detections on "
          f"{len(result.channels)} channels ({result.montage}); written to {out}")
    if result.skipped:
        print(f"skipped channels: {', '.join(f'{k} ({v})' for k, v in result.skipped.items())}",
              file=sys.stderr)
    return 0
