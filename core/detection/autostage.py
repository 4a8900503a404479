"""Automatic sleep staging with YASA's classifier, as a first pass to correct.

:func:`autostage` is a progress generator: it reads the chosen EEG (and
optionally EOG and EMG) rows chunk by chunk (each may be a derivation such as
``C4-M1``, see :func:`core.io.montage.single_row`), then runs
``yasa.SleepStaging`` (Vallat & Walker 2021, eLife) with the classifier files
YASA's wheel ships (nothing is downloaded) and returns a
:class:`StagingResult`: one stage and five probabilities per 30-s epoch.

:class:`StageProposals` holds a result next to the scorer's hypnogram: a
proposal only ever fills an epoch the scorer left unscored, and stays a
proposal until accepted (all at once, or epoch by epoch).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from core.io.montage import default_rows, single_row
from core.scoring.staging import Hypnogram
from core.utils import Progress, SpindleScopeError, logger

#: Stage order of the probability columns.
PROBA_STAGES = ("W", "N1", "N2", "N3", "R")
#: YASA's classifier label → AASM label.
_YASA_LABELS = {"W": "W", "WAKE": "W", "N1": "N1", "N2": "N2", "N3": "N3",
                "R": "R", "REM": "R"}
EPOCH = 30.0
#: Minutes read per chunk (progress and Cancel between chunks).
CHUNK_MIN = 30.0


@dataclass
class StagingResult:
    """Stages proposed by the classifier.

    Attributes
    ----------
    stages : list of str
        One AASM stage per full 30-s epoch.
    proba : array, shape (n_epochs, 5)
        Probability of W, N1, N2, N3, R per epoch (rows sum to 1).
    channels : dict
        ``{'eeg': row, 'eog': row or None, 'emg': row or None}`` used.
    model : str
        Classifier file name.
    """

    stages: list
    proba: np.ndarray
    channels: dict
    model: str = ""
    epoch_length: float = EPOCH

    @property
    def n_epochs(self) -> int:
        return len(self.stages)

    def hypnogram(self) -> Hypnogram:
        return Hypnogram(self.stages, self.epoch_length)

    @property
    def confidence(self) -> np.ndarray:
        """Highest probability per epoch."""
        return self.proba.max(axis=1)


def _check_yasa():
    try:
        import yasa  # noqa: F401
    except ImportError as exc:  # pragma: no cover - yasa is a dependency
        raise SpindleScopeError(
            "Automatic staging needs the 'yasa' package (pip install yasa).") from exc


def autostage(recording, eeg=None, eog=None, emg=None, *, metadata=None):
    """Stage a recording with YASA's classifier (a progress generator).

    Parameters
    ----------
    recording : core.io.recording.Recording
        The open recording (read lazily, chunk by chunk).
    eeg : str | None
        EEG channel or derivation (``'C4-M1'``); default: C4-M1, C3-M2 or the
        first EEG channel found from the names.
    eog, emg : str | None | False
        EOG and EMG rows; None finds them from the names (E1-M2 or an EOG
        channel; the chin EMG), False leaves them out.
    metadata : dict | None
        ``{'age': years, 'male': 0/1}`` for YASA's models with demographics.

    Yields
    ------
    progress : Progress

    Returns
    -------
    result : StagingResult
    """
    _check_yasa()
    import mne

    if recording.sfreq <= 80:
        raise SpindleScopeError(
            f"Automatic staging needs a sampling rate above 80 Hz (YASA's "
            f"classifier), but the recording has {recording.sfreq:g} Hz.")
    if recording.duration < EPOCH:
        raise SpindleScopeError(
            f"The recording lasts {recording.duration:g} s: automatic staging "
            f"needs at least one 30-s epoch.")
    found = default_rows(recording.ch_names, recording.ch_types)
    chosen = {"eeg": eeg or found["eeg"],
              "eog": found["eog"] if eog is None else (eog or None),
              "emg": found["emg"] if emg is None else (emg or None)}
    rows = {k: single_row(recording.ch_names, recording.ch_types, v)
            for k, v in chosen.items() if v}
    n_times = recording.n_times
    step = int(CHUNK_MIN * 60 * recording.sfreq)
    n_chunks = int(np.ceil(n_times / step))
    total = n_chunks + 3
    data = {k: np.empty(n_times) for k in rows}
    for c in range(n_chunks):
        yield Progress(c, total, f"Reading {', '.join(chosen[k] for k in rows)} "
                                 f"({c + 1}/{n_chunks})")
        s0, s1 = c * step, min(n_times, (c + 1) * step)
        for k, row in rows.items():
            data[k][s0:s1] = row.read_rows(recording, s0, s1, [0])[0]
    yield Progress(n_chunks, total, "Preparing the staging data")
    kinds = list(rows)
    names = [f"{k}:{chosen[k]}" for k in kinds]
    info = mne.create_info(names, recording.sfreq, [k for k in kinds])
    raw = mne.io.RawArray(np.vstack([data[k] for k in kinds]), info, verbose="error")
    del data
    import yasa

    logging.getLogger("yasa").setLevel(logging.ERROR)   # the < 5 min note
    sls = yasa.SleepStaging(raw, eeg_name=names[0],
                            eog_name=names[kinds.index("eog")] if "eog" in rows else None,
                            emg_name=names[kinds.index("emg")] if "emg" in rows else None,
                            metadata=metadata)
    del raw
    yield Progress(n_chunks + 1, total, "Computing features (YASA)")
    sls.fit()
    yield Progress(n_chunks + 2, total, "Classifying epochs (YASA)")
    model_name = f"YASA {yasa.__version__} classifier ({'+'.join(kinds)})"
    with warnings.catch_warnings():
        # YASA's bundled classifiers hold a LabelEncoder pickled by
        # scikit-learn 0.24; YASA validates them against current releases.
        warnings.filterwarnings("ignore", "Trying to unpickle estimator")
        hyp = sls.predict()
    proba_df = hyp.proba
    proba = np.zeros((len(proba_df), len(PROBA_STAGES)))
    for col in proba_df.columns:
        proba[:, PROBA_STAGES.index(_YASA_LABELS[str(col).upper()])] = proba_df[col].to_numpy()
    stages = [_YASA_LABELS[str(v).upper()] for v in np.asarray(hyp.hypno)]
    logger.info("YASA staged %d epochs from %s", len(stages), chosen)
    yield Progress(total, total, "Staging done")
    return StagingResult(stages, proba, {k: chosen[k] for k in ("eeg", "eog", "emg")},
                         model_name)


# ---------------------------------------------------------------------------
# Proposals beside the scorer's hypnogram
# ---------------------------------------------------------------------------


@dataclass
class StageProposals:
    """Classifier stages offered for a scorer's hypnogram.

    A proposal is shown for an epoch only while the scorer's hypnogram leaves
    that epoch unscored; accepting copies it into the hypnogram (one undoable
    step for accept-all).

    Parameters
    ----------
    result : StagingResult
        What the classifier proposed.
    """

    result: StagingResult
    changed = Signal(object)

    def open_epochs(self, hypnogram) -> np.ndarray:
        """Epochs with a proposal the scorer has not scored (nor dismissed)."""
        n = min(hypnogram.n_epochs, self.result.n_epochs)
        st = np.array(hypnogram.stages[:n], object)
        return np.flatnonzero(st == "?")

    def proposed(self, hypnogram, epoch: int) -> str | None:
        """The proposal for ``epoch``, or None when scored / none."""
        if not 0 <= epoch < min(hypnogram.n_epochs, self.result.n_epochs):
            return None
        if hypnogram.stages[epoch] != "?":
            return None
        return self.result.stages[epoch]

    def accept(self, hypnogram, epoch: int) -> bool:
        """Copy the proposal of one epoch into the hypnogram (if open)."""
        st = self.proposed(hypnogram, int(epoch))
        if st is None:
            return False
        hypnogram.set_stage(int(epoch), st)
        self.changed.emit(int(epoch))
        return True

    def accept_all(self, hypnogram) -> int:
        """Fill every open epoch at once (one change); return how many."""
        idx = self.open_epochs(hypnogram)
        if not len(idx):
            return 0
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        new = list(hypnogram.stages[lo:hi])
        for i in idx:
            new[i - lo] = self.result.stages[i]
        hypnogram.set_stages(new, lo)
        self.changed.emit(None)
        return len(idx)

    def next_open(self, hypnogram, after: int) -> int | None:
        """First open epoch after ``after`` (None when none is left)."""
        idx = self.open_epochs(hypnogram)
        later = idx[idx > after]
        return int(later[0]) if len(later) else None

