"""Reading a finished cohort back (``DERIV``) for the app and for scripts."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.utils import SpindleScopeError
from core.batch.group import GROUP_FOLDER
from core.batch.stats import figure_keys


@dataclass
class CohortResults:
    """A cohort's group outputs and its recordings' summaries.

    Attributes
    ----------
    folder : Path
        The derivatives root.
    summary : dict
        ``group/summary.json``.
    columns : list of str
        Columns of ``participants_figures.tsv``.
    participants : list of dict
        Its rows (strings as written).
    recordings : dict
        Output stem -> that recording's ``desc-sources_summary.json``.
    errors : list of dict
        Rows of ``errors.tsv``.
    """

    folder: Path
    summary: dict
    columns: list
    participants: list
    recordings: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    def map_path(self, key: str) -> Path | None:
        """The group map file of ``key`` (e.g. 'between_r_map'), or None."""
        name = self.summary.get("maps", {}).get(key)
        return self.folder / GROUP_FOLDER / name if name else None

    def read_map(self, key: str):
        """The group map as a one-time-point :class:`mne.SourceEstimate`."""
        import mne

        path = self.map_path(key)
        if path is None or not path.exists():
            raise SpindleScopeError(f"The cohort has no group map {key!r}.")
        return mne.read_source_estimate(path)

    def pooled_result(self, spacing: str = "ico4"):
        """All spindles of all recordings as one :class:`~core.sources.analysis.AnalysisResult`.

        Its spindles carry the per-spindle figures (no time courses, spectra
        or pairwise samples: the recordings' summaries do not keep them), so
        the single-recording panels show the pooled figures of the cohort.
        """
        from core.sources.headmodel import template_source_space
        from core.sources.analysis import AnalysisConfig, AnalysisResult, SpindleSources

        spindles = []
        band, cband = (10.0, 15.0), (10.0, 15.0)
        for stem in sorted(self.recordings):
            s = self.recordings[stem]
            band = tuple(s["band"]) if s.get("band") else None
            cband = tuple(s.get("coherence_band") or cband)
            figs = figure_keys(s)
            n = max((len(s[f + "_per_spindle"]) for f in figs), default=0)
            for i in range(n):
                figures = {f: float(s[f + "_per_spindle"][i]) for f in figs
                           if i < len(s[f + "_per_spindle"])}
                spindles.append(SpindleSources(
                    index=len(spindles), onset=float(i), duration=0.0, stcs={},
                    figures=figures, maps={}, spectra={}, pair_sample={}))
        config = AnalysisConfig(band=band, coherence_band=cband)
        verts = [s["vertno"] for s in template_source_space(spacing)]
        return AnalysisResult(config=config, spindles=spindles, sfreq=0.0,
                              vertices=verts, subject="fsaverage")


def _read_tsv(path: Path) -> tuple[list, list]:
    if not path.exists():
        return [], []
    with open(path, newline="", encoding="utf-8") as fid:
        reader = csv.DictReader(fid, delimiter="\t")
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def load_cohort(folder) -> CohortResults:
    """Read ``DERIV/group`` and each recording's summary.

    Parameters
    ----------
    folder : path-like
        The derivatives root written by ``batch`` (or its ``group`` folder).

    Returns
    -------
    cohort : CohortResults
    """
    folder = Path(folder)
    if folder.name == GROUP_FOLDER and not (folder / GROUP_FOLDER).exists():
        folder = folder.parent
    path = folder / GROUP_FOLDER / "summary.json"
    if not path.exists():
        raise SpindleScopeError(
            f"{str(folder)!r} holds no cohort results (no {GROUP_FOLDER}/summary.json). "
            f"Choose the --out folder of a finished 'batch' run.")
    try:
        summary = json.loads(path.read_text())
    except ValueError as exc:
        raise SpindleScopeError(f"{path} is not valid JSON ({exc}).") from None
    columns, rows = _read_tsv(folder / GROUP_FOLDER / "participants_figures.tsv")
    recordings = {}
    for stem in summary.get("recordings", []):
        hits = sorted(folder.glob(f"sub-*/**/{stem}_desc-sources_summary.json"))
        if hits:
            recordings[stem] = json.loads(hits[0].read_text())
    _, errors = _read_tsv(folder / "errors.tsv")
    return CohortResults(folder=folder, summary=summary, columns=columns,
                         participants=rows, recordings=recordings, errors=errors)


def map_values(stc) -> np.ndarray:
    """The single time point of a group map (NaN where no subject has a value)."""
    return np.asarray(stc.data[:, 0], float)
