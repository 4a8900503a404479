"""Sleep staging: a hypnogram in fixed epochs, masks, statistics, file formats.

Stages follow the AASM: ``W``, ``N1``, ``N2``, ``N3``, ``R`` and ``?`` for an
unscored epoch (never silently Wake). Files: TSV/CSV with ``onset, duration,
stage`` (or one stage per line), YASA's integer coding, the DREAMS text
coding, MNE annotations (``Sleep stage W/1/2/3/4/R/?``) in FIF and EDF+.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from psygnal import Signal

from core.utils import SpindleScopeError, check_option, check_range, logger

STAGES = ("W", "N1", "N2", "N3", "R", "?")   # "?" = unscored
SLEEP = ("N1", "N2", "N3", "R")

#: YASA integer coding (-2 unscored, -1 artefact).
YASA_CODES = {-2: "?", -1: "?", 0: "W", 1: "N1", 2: "N2", 3: "N3", 4: "R"}
YASA_OF = {"?": -2, "W": 0, "N1": 1, "N2": 2, "N3": 3, "R": 4}
#: DREAMS coding (R&K: S3 and S4 are N3).
DREAMS_CODES = {5: "W", 4: "R", 3: "N1", 2: "N2", 1: "N3", 0: "N3"}

_ALIASES = {
    "w": "W", "wake": "W", "sleep stage w": "W",
    "n1": "N1", "s1": "N1", "sleep stage 1": "N1", "sleep stage n1": "N1",
    "n2": "N2", "s2": "N2", "sleep stage 2": "N2", "sleep stage n2": "N2",
    "n3": "N3", "s3": "N3", "s4": "N3", "n4": "N3",
    "sleep stage 3": "N3", "sleep stage 4": "N3", "sleep stage n3": "N3",
    "r": "R", "rem": "R", "sleep stage r": "R", "sleep stage rem": "R",
    "?": "?", "u": "?", "unscored": "?", "unknown": "?",
    "sleep stage ?": "?", "movement": "?", "artefact": "?", "artifact": "?",
    "": "?", "n/a": "?", "m": "?", "mt": "?", "sleep stage movement time": "?",
    # Wonambi, Visbrain, NSRR/Compumedics and other exports
    "nrem1": "N1", "nrem2": "N2", "nrem3": "N3", "nrem4": "N3",
    "stage 1": "N1", "stage 2": "N2", "stage 3": "N3", "stage 4": "N3",
    "stage 1 sleep": "N1", "stage 2 sleep": "N2", "stage 3 sleep": "N3",
    "stage 4 sleep": "N3", "rem sleep": "R", "stage r": "R", "stage w": "W",
    "undefined": "?", "art": "?", "movement time": "?", "unsure": "?",
}


def normalize_stage(label) -> str:
    """Map a stage label to one of :data:`STAGES`.

    Integers follow YASA's coding (-2/-1 unscored, 0 W, 1 N1, 2 N2, 3 N3,
    4 R); strings may be AASM or R&K labels or MNE's ``Sleep stage X``.
    """
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if int(label) in YASA_CODES:
            return YASA_CODES[int(label)]
        raise SpindleScopeError(
            f"Invalid YASA stage code {label!r}: expected -2..4.")
    key = str(label).strip().lower()
    try:
        code = int(key)
    except ValueError:
        code = None
    if code is not None and code in YASA_CODES:
        return YASA_CODES[code]
    if key in _ALIASES:
        return _ALIASES[key]
    raise SpindleScopeError(
        f"Unknown sleep stage {label!r}. Use one of {', '.join(STAGES)} "
        f"(or S1-S4/REM, 'Sleep stage 2', YASA integers -2..4).")


class Hypnogram:
    """Sleep stages in fixed-length epochs.

    Parameters
    ----------
    stages : sequence of str
        One stage per epoch (any common label; normalised).
    epoch_length : float
        Seconds per epoch (30 by default; DREAMS uses 5).
    """

    changed = Signal(object)

    def __init__(self, stages=(), epoch_length=30.0):
        self.epoch_length = check_range("epoch_length", epoch_length, 1e-3)
        self.stages = [normalize_stage(s) for s in stages]

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_duration(cls, duration_s, epoch_length=30.0) -> "Hypnogram":
        """All-unscored hypnogram covering ``duration_s`` seconds."""
        duration_s = check_range("duration_s", duration_s, 0)
        n = int(math.ceil(duration_s / epoch_length - 1e-9))
        return cls(["?"] * n, epoch_length)

    @classmethod
    def from_yasa(cls, codes, epoch_length=30.0) -> "Hypnogram":
        """From YASA integers (-2/-1 unscored, 0 W, 1 N1, 2 N2, 3 N3, 4 R)."""
        out = []
        for c in np.asarray(codes).ravel():
            try:
                out.append(YASA_CODES[int(c)])
            except (KeyError, ValueError):
                raise SpindleScopeError(
                    f"Invalid YASA stage code {c!r}: expected -2..4.") from None
        return cls(out, epoch_length)

    def to_yasa(self) -> np.ndarray:
        """YASA integer coding (unscored = -2)."""
        return np.array([YASA_OF[s] for s in self.stages], int)

    # -- basics ----------------------------------------------------------------
    @property
    def n_epochs(self) -> int:
        return len(self.stages)

    @property
    def duration(self) -> float:
        return self.n_epochs * self.epoch_length

    def __len__(self):
        return self.n_epochs

    def __repr__(self):
        return (f"<Hypnogram: {self.n_epochs} epochs of {self.epoch_length:g} s, "
                f"{sum(s != '?' for s in self.stages)} scored>")

    def epoch_of(self, t) -> int:
        """Epoch index containing time ``t`` (s)."""
        t = float(t)
        i = int(math.floor(t / self.epoch_length + 1e-9))
        if t < 0 or i >= self.n_epochs:
            raise SpindleScopeError(
                f"Time {t:g} s is outside the hypnogram (0-{self.duration:g} s).")
        return i

    def stage_at(self, t) -> str:
        """Stage at time ``t`` (s)."""
        return self.stages[self.epoch_of(t)]

    def set_stage(self, epoch, stage):
        """Set the stage of one epoch (int) or of a slice / range of epochs."""
        stage = normalize_stage(stage)
        if isinstance(epoch, slice):
            idx = range(*epoch.indices(self.n_epochs))
            for i in idx:
                self.stages[i] = stage
            self.changed.emit(epoch)
            return
        epoch = int(epoch)
        if not 0 <= epoch < self.n_epochs:
            raise SpindleScopeError(
                f"Epoch {epoch} does not exist: the hypnogram has "
                f"{self.n_epochs} epochs.")
        self.stages[epoch] = stage
        self.changed.emit(epoch)

    def set_stages(self, stages, start=0):
        """Set consecutive epochs from ``start`` to the given stages at once.

        One change notification (``changed`` with a slice) covers them all,
        so an undo history records one step and an autosave journal one line.

        Parameters
        ----------
        stages : sequence of str
            One stage per epoch (any label :func:`normalize_stage` reads).
        start : int
            First epoch to set.
        """
        new = [normalize_stage(s) for s in stages]
        start = int(start)
        if start < 0 or start + len(new) > self.n_epochs:
            raise SpindleScopeError(
                f"Cannot set {len(new)} stages from epoch {start}: the "
                f"hypnogram has {self.n_epochs} epochs.")
        if not new:
            return
        self.stages[start:start + len(new)] = new
        self.changed.emit(slice(start, start + len(new)))

    # -- masks -----------------------------------------------------------------
    def _good(self, stages):
        stages = [normalize_stage(s) for s in ([stages] if isinstance(stages, str)
                                               else stages)]
        return np.isin(np.array(self.stages, object), stages)

    def mask(self, stages, sfreq, n_times) -> np.ndarray:
        """Boolean mask (n_times,) of samples within ``stages``.

        Samples beyond the hypnogram are False.
        """
        good = self._good(stages)
        ep = (np.arange(int(n_times)) / float(sfreq) / self.epoch_length + 1e-9)
        ep = np.floor(ep).astype(int)
        inside = ep < self.n_epochs
        out = np.zeros(int(n_times), bool)
        out[inside] = good[ep[inside]]
        return out

    def intervals(self, stages) -> list[tuple[float, float]]:
        """Merged (start, stop) seconds of consecutive epochs in ``stages``."""
        good = self._good(stages).astype(np.int8)
        d = np.diff(np.concatenate([[0], good, [0]]))
        starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        L = self.epoch_length
        return [(float(a * L), float(b * L)) for a, b in zip(starts, stops)]

    # -- statistics ---------------------------------------------------------------
    def statistics(self) -> dict:
        """Sleep statistics in minutes (and % for efficiency).

        Returns
        -------
        stats : dict
            ``TIB`` (time in bed = scored period from first to last scored
            epoch), ``SPT`` (sleep period: sleep onset to last sleep epoch),
            ``TST`` (total sleep time), ``SE`` (TST / TIB, %), ``SME`` (TST /
            SPT, %), ``WASO`` (wake after sleep onset), ``SOL`` (sleep onset
            latency), ``Lat_N1/N2/N3/R`` (latency from lights off), and
            ``W, N1, N2, N3, R, ?`` minutes per stage.
        """
        st = np.array(self.stages, object)
        m = self.epoch_length / 60.0
        out = {k: float(np.sum(st == k) * m) for k in STAGES}
        scored = np.flatnonzero(st != "?")
        sleep = np.flatnonzero(np.isin(st, SLEEP))
        tib = float((scored[-1] - scored[0] + 1) * m) if len(scored) else 0.0
        tst = float(len(sleep) * m)
        out["TIB"] = tib
        out["TST"] = tst
        out["SE"] = 100.0 * tst / tib if tib else float("nan")
        t0 = scored[0] if len(scored) else 0
        if len(sleep):
            onset, last = sleep[0], sleep[-1]
            spt = float((last - onset + 1) * m)
            out["SPT"] = spt
            out["SME"] = 100.0 * tst / spt if spt else float("nan")
            out["WASO"] = float(np.sum(st[onset:last + 1] == "W") * m)
            out["SOL"] = float((onset - t0) * m)
        else:
            out.update(SPT=0.0, SME=float("nan"), WASO=float("nan"),
                       SOL=float("nan"))
        for k in ("N1", "N2", "N3", "R"):
            idx = np.flatnonzero(st == k)
            out[f"Lat_{k}"] = float((idx[0] - t0) * m) if len(idx) else float("nan")
        return out


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def check_hypnogram_length(hyp, recording_duration, path=None):
    """Refuse a hypnogram that does not fit the recording's length.

    The one length check, used by the file readers
    (:func:`core.io.hypnograms.read_hypnogram`), ``Session.set_hypnogram``
    and detection: the hypnogram's span (epochs x epoch length) may differ
    from the recording's duration by less than one epoch (a final partial
    epoch); a full epoch or more is an error naming both lengths.

    Parameters
    ----------
    hyp : Hypnogram
    recording_duration : float
        Seconds.
    path : path-like | None
        The hypnogram's file, named in the message when given.

    Returns
    -------
    hyp : Hypnogram
        Unchanged.
    """
    rec = float(recording_duration)
    if abs(hyp.duration - rec) >= hyp.epoch_length:
        kind = "longer" if hyp.duration > rec else "shorter"
        name = "The hypnogram" + (f" {Path(path).name!r}" if path else "")
        raise SpindleScopeError(
            f"{name} is {kind} than the recording: "
            f"{hyp.n_epochs} epochs of {hyp.epoch_length:g} s = "
            f"{hyp.duration:g} s, but the recording lasts {rec:g} s. Check "
            f"that it belongs to this recording and that the epoch length is "
            f"right (epoch_length=...).")
    return hyp


def _check_length(hyp, recording_duration, path):
    if recording_duration is None:
        return hyp
    rec = float(recording_duration)
    check_hypnogram_length(hyp, rec, path)
    # pad a final partial epoch as unscored
    n_need = int(math.ceil(rec / hyp.epoch_length - 1e-9))
    if hyp.n_epochs < n_need:
        hyp.stages += ["?"] * (n_need - hyp.n_epochs)
    return hyp


def check_option_stages(stages):
    """Validate a list of stage names (used by the CLI)."""
    return [check_option("stages", normalize_stage(s), STAGES) for s in stages]


