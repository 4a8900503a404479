"""Epoch-by-epoch agreement between two hypnograms.

Accuracy, Cohen's kappa, per-stage F1 and the confusion matrix, computed with
scikit-learn's metrics over the epochs both hypnograms score (unscored ``?``
epochs in either are left out, as YASA's and Lunascope's comparisons do).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.scoring.staging import Hypnogram
from core.utils import SpindleScopeError

#: Stages compared, in the confusion matrix's order.
LABELS = ("W", "N1", "N2", "N3", "R")


@dataclass
class StageAgreement:
    """Agreement of ``other`` with ``reference``.

    Attributes
    ----------
    n_epochs : int
        Epochs scored in both (compared).
    n_skipped : int
        Epochs left out (unscored in either, or beyond the shorter one).
    accuracy : float
        Fraction of compared epochs with the same stage.
    kappa : float
        Cohen's kappa.
    f1 : dict
        Stage → F1 (NaN for a stage absent from both).
    confusion : array, shape (5, 5)
        Rows: reference stage, columns: other stage, in :data:`LABELS` order.
    """

    n_epochs: int
    n_skipped: int
    accuracy: float
    kappa: float
    f1: dict
    confusion: np.ndarray
    labels: tuple = LABELS

    def as_dict(self) -> dict:
        return {"n_epochs": self.n_epochs, "n_skipped": self.n_skipped,
                "accuracy": self.accuracy, "kappa": self.kappa,
                "f1": {k: (None if np.isnan(v) else v) for k, v in self.f1.items()},
                "labels": list(self.labels),
                "confusion": self.confusion.tolist()}

    def summary(self) -> str:
        """Text lines: accuracy, kappa, per-stage F1, confusion matrix."""
        f1 = "  ".join(f"{k} {'n/a' if np.isnan(v) else f'{v:.3f}'}"
                       for k, v in self.f1.items())
        lines = [f"epochs compared: {self.n_epochs} (skipped {self.n_skipped})",
                 f"accuracy {self.accuracy:.3f}  kappa {self.kappa:.3f}",
                 f"F1 per stage: {f1}",
                 "confusion (rows: reference, columns: other):",
                 "      " + "".join(f"{k:>6}" for k in self.labels)]
        for k, row in zip(self.labels, self.confusion):
            lines.append(f"{k:>6}" + "".join(f"{v:>6d}" for v in row))
        return "\n".join(lines)


def stage_agreement(reference: Hypnogram, other: Hypnogram) -> StageAgreement:
    """Compare two hypnograms epoch by epoch.

    Parameters
    ----------
    reference, other : Hypnogram
        Same epoch length; compared over their common epochs.

    Returns
    -------
    agreement : StageAgreement
    """
    from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score

    for name, h in (("reference", reference), ("other", other)):
        if not isinstance(h, Hypnogram):
            raise SpindleScopeError(
                f"Invalid value for the {name!r} parameter: expected a Hypnogram, "
                f"but got {type(h).__name__} instead.")
    if abs(reference.epoch_length - other.epoch_length) > 1e-6:
        raise SpindleScopeError(
            f"The hypnograms have different epoch lengths ({reference.epoch_length:g} s "
            f"and {other.epoch_length:g} s): they cannot be compared epoch by epoch. "
            f"Read them with the same epoch_length.")
    n = min(reference.n_epochs, other.n_epochs)
    a = np.array(reference.stages[:n], object)
    b = np.array(other.stages[:n], object)
    keep = (a != "?") & (b != "?")
    a, b = a[keep].astype(str), b[keep].astype(str)
    n_skipped = max(reference.n_epochs, other.n_epochs) - len(a)
    if len(a) == 0:
        raise SpindleScopeError(
            "No epoch is scored in both hypnograms: there is nothing to compare.")
    labels = list(LABELS)
    cm = confusion_matrix(a, b, labels=labels)
    f1 = f1_score(a, b, labels=labels, average=None, zero_division=np.nan)
    present = set(a) | set(b)
    f1d = {k: (float(v) if k in present else float("nan")) for k, v in zip(labels, f1)}
    if len(present) == 1:   # one stage only: kappa is undefined unless they disagree
        kappa = 1.0 if np.array_equal(a, b) else float("nan")
    else:
        kappa = float(cohen_kappa_score(a, b, labels=labels))
    return StageAgreement(int(len(a)), int(n_skipped), float(np.mean(a == b)),
                          kappa, f1d, cm)


def stage_disagreements(reference: Hypnogram, other: Hypnogram):
    """Agreement figures and the epochs where two hypnograms differ.

    Parameters
    ----------
    reference, other : Hypnogram
        As for :func:`stage_agreement`.

    Returns
    -------
    agreement : StageAgreement
    summary : dict
        ``accuracy``, ``kappa`` and ``F1 <stage>`` per stage (floats).
    disagreements : list of (float, str)
        (epoch start in s, description) of each epoch both score differently.
    """
    agr = stage_agreement(reference, other)
    L = reference.epoch_length
    dis = [(i * L, f"epoch {i + 1} ({i * L:g} s): {a} there, {b} here")
           for i, (a, b) in enumerate(zip(reference.stages, other.stages))
           if a != "?" and b != "?" and a != b]
    summary = {"accuracy": agr.accuracy, "kappa": agr.kappa,
               **{f"F1 {k}": v for k, v in agr.f1.items()}}
    return agr, summary, dis
