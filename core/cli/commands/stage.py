"""``stage``: automatic sleep staging of a recording with YASA's classifier."""

from __future__ import annotations

HELP = ("Stage a recording automatically (YASA's classifier, 30-s epochs) and "
        "write a hypnogram TSV with one probability column per stage.")


def add_arguments(parser):
    parser.add_argument("recording", help="recording file (EDF, FIF, BDF, ...)")
    parser.add_argument("--eeg", default=None, metavar="NAME",
                        help="EEG channel or derivation, e.g. C4-M1 (default: C4-M1, "
                             "C3-M2 or the first EEG channel, found from the names)")
    parser.add_argument("--eog", default=None, metavar="NAME",
                        help="EOG channel or derivation, e.g. E1-M2 ('none' to leave "
                             "out; default: found from the names)")
    parser.add_argument("--emg", default=None, metavar="NAME",
                        help="chin EMG channel ('none' to leave out; default: found "
                             "from the names)")
    parser.add_argument("--hypnogram", default=None, metavar="FILE",
                        help="the scorer's hypnogram: its scored epochs are kept, "
                             "only unscored ones are filled")
    parser.add_argument("--age", type=float, default=None, help="age in years")
    parser.add_argument("--male", choices=["0", "1"], default=None,
                        help="1 for male, 0 for female")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="output hypnogram (.tsv: onset, duration, stage, "
                             "source, P_W, P_N1, P_N2, P_N3, P_R)")


def write_staging_tsv(path, result, hypnogram=None):
    """Write 30-s epochs with stage, where it came from and probabilities.

    Parameters
    ----------
    path : path-like
        Output TSV.
    result : core.detection.autostage.StagingResult
        The classifier's stages and probabilities.
    hypnogram : core.scoring.staging.Hypnogram | None
        The scorer's stages, kept where scored (``source`` = ``scorer``).
    """
    from pathlib import Path

    from core.detection.autostage import PROBA_STAGES
    from core.utils import atomic_write_text

    L = result.epoch_length
    n = result.n_epochs if hypnogram is None else max(result.n_epochs, hypnogram.n_epochs)
    lines = ["\t".join(["onset", "duration", "stage", "source"]
                       + [f"P_{s}" for s in PROBA_STAGES])]
    for i in range(n):
        own = hypnogram.stages[i] if hypnogram is not None and i < hypnogram.n_epochs else "?"
        if own != "?":
            stage, src = own, "scorer"
        elif i < result.n_epochs:
            stage, src = result.stages[i], "yasa"
        else:
            stage, src = "?", "n/a"
        probs = (["%.4f" % p for p in result.proba[i]] if i < result.n_epochs
                 else ["n/a"] * len(PROBA_STAGES))
        lines.append("\t".join([f"{i * L:g}", f"{L:g}", stage, src] + probs))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def run(args) -> int:
    from core.detection.autostage import autostage
    from core.cli.main import TerminalProgress
    from core.io.recording import open_recording
    from core.io.hypnograms import read_hypnogram_for
    from core.utils import run_with_progress

    rec = open_recording(args.recording)
    hyp = None
    if args.hypnogram:
        hyp = read_hypnogram_for(args.hypnogram, rec)
        if abs(hyp.epoch_length - 30.0) > 1e-6:
            from core.utils import SpindleScopeError

            raise SpindleScopeError(
                f"The hypnogram {args.hypnogram!r} has {hyp.epoch_length:g}-s epochs; "
                f"automatic staging scores 30-s epochs. Give a 30-s hypnogram or "
                f"none.")
    meta = {}
    if args.age is not None:
        meta["age"] = args.age
    if args.male is not None:
        meta["male"] = int(args.male)

    def opt(v):
        return False if v is not None and v.lower() == "none" else v

    result = run_with_progress(
        autostage(rec, eeg=args.eeg, eog=opt(args.eog), emg=opt(args.emg),
                  metadata=meta or None), TerminalProgress())
    out = write_staging_tsv(args.out, result, hyp)
    counts = {s: result.stages.count(s) for s in ("W", "N1", "N2", "N3", "R")}
    kept = sum(1 for s in (hyp.stages if hyp else []) if s != "?")
    print(f"{result.n_epochs} epochs staged from "
          f"{', '.join(f'{k}={v}' for k, v in result.channels.items() if v)} "
          f"({', '.join(f'{k} {v}' for k, v in counts.items())})"
          + (f"; {kept} scored epochs kept" if hyp else "") + f"; written to {out}")
    return 0
