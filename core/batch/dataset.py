"""Finding the recordings of a cohort: a BIDS root (mne-bids) or a sample list.

Each recording becomes one :class:`RecordingItem`: its files (recording,
spindle events, hypnogram, head model) and the BIDS entities that name its
outputs under ``DERIV/sub-<label>/[ses-<label>/]``.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.utils import SpindleScopeError, logger

#: Recording file extensions looked for in a BIDS dataset (MEG and EEG).
BIDS_EXTENSIONS = (".fif", ".edf", ".bdf", ".vhdr", ".set", ".ds")
#: Data-type folders searched.
BIDS_DATATYPES = ("meg", "eeg")
#: Columns a sample list may have (``subject`` and ``recording`` required).
SAMPLE_COLUMNS = ("subject", "session", "recording", "spindles", "hypnogram",
                  "forward", "subjects_dir", "trans", "bem", "src")


@dataclass
class RecordingItem:
    """One recording of the cohort and the files that go with it.

    Parameters
    ----------
    subject : str
        Subject label (without ``sub-``).
    recording : str
        Path of the recording file.
    session : str | None
        Session label (without ``ses-``).
    entities : dict
        BIDS entities other than subject and session (task, acquisition,
        run), used in the output names.
    spindles : str | None
        Spindle events file (a BIDS ``*_events.tsv`` or any file
        :func:`core.io.marks.read_spindles` reads).
    hypnogram : str | None
        Hypnogram file.
    head : dict
        Head model files: ``forward`` or ``subjects_dir``/``trans``/``bem``
        (``src`` optional); empty for the fsaverage template.
    """

    subject: str
    recording: str
    session: str | None = None
    entities: dict = field(default_factory=dict)
    spindles: str | None = None
    hypnogram: str | None = None
    head: dict = field(default_factory=dict)

    @property
    def basename(self) -> str:
        """BIDS-style stem of every output: ``sub-01_ses-1_task-sleep_run-1``."""
        parts = [f"sub-{self.subject}"]
        if self.session:
            parts.append(f"ses-{self.session}")
        for key, short in (("task", "task"), ("acquisition", "acq"), ("run", "run")):
            if self.entities.get(key):
                parts.append(f"{short}-{self.entities[key]}")
        if len(parts) == 1 + bool(self.session):  # no task/run: keep names unique
            stem = Path(self.recording).name.split(".")[0]
            parts.append("rec-" + "".join(c for c in stem if c.isalnum()))
        return "_".join(parts)

    @property
    def folder(self) -> str:
        """Output folder relative to DERIV: ``sub-<label>[/ses-<label>]``."""
        return f"sub-{self.subject}" + (f"/ses-{self.session}" if self.session else "")

    def input_files(self) -> dict:
        """Every input file that the outputs depend on, by role."""
        files = {"recording": self.recording}
        if self.spindles:
            files["spindles"] = self.spindles
        if self.hypnogram:
            files["hypnogram"] = self.hypnogram
        for key, val in self.head.items():
            if val and key != "subjects_dir":
                files[key] = val
        return files

    def to_dict(self) -> dict:
        return asdict(self)


def _filter_labels(items, participant_label):
    if not participant_label:
        return items
    wanted = {str(p).removeprefix("sub-") for p in participant_label}
    kept = [it for it in items if it.subject in wanted]
    missing = wanted - {it.subject for it in kept}
    if missing:
        raise SpindleScopeError(
            f"Invalid value for the 'participant_label' parameter: "
            f"{', '.join(sorted(missing))} not found. The dataset has subjects "
            f"{', '.join(sorted({it.subject for it in items})) or 'none'}.")
    return kept


def _sibling(path: Path, stem: str, suffix: str, pattern: str | None, item_vars: dict):
    """A file next to the recording with another suffix, or from a pattern."""
    if pattern:
        try:
            rel = pattern.format(**item_vars)
        except (KeyError, IndexError, ValueError) as exc:
            raise SpindleScopeError(
                f"Invalid file pattern {pattern!r} ({exc}): use the fields {{subject}}, "
                f"{{session}}, {{task}}, {{run}} and {{stem}}.") from None
        hits = sorted(path.parent.glob(rel)) or sorted(Path(item_vars["root"]).glob(rel))
        return str(hits[0]) if hits else None
    cand = path.parent / f"{stem}_{suffix}.tsv"
    return str(cand) if cand.exists() else None


def _forward_head(fpath, pattern, ivars) -> dict:
    if not pattern:
        return {}
    found = _sibling(fpath, "", "", pattern, ivars)
    if found is None:
        raise SpindleScopeError(
            f"No forward solution matches {pattern!r} for sub-{ivars['subject']} "
            f"({fpath.name}); fix --forward-pattern or add the file.")
    return {"forward": found}


def discover_bids(root, *, participant_label=None, hypnogram_pattern=None,
                  events_pattern=None, forward_pattern=None) -> list[RecordingItem]:
    """The MEG/EEG recordings of a BIDS dataset.

    Parameters
    ----------
    root : path-like
        BIDS root (holds ``dataset_description.json`` and ``sub-*`` folders).
    participant_label : list of str | None
        Only these subjects (with or without ``sub-``).
    hypnogram_pattern : str | None
        Glob, relative to the recording's folder or the root, with
        ``{subject}``, ``{session}``, ``{task}``, ``{run}`` and ``{stem}``
        fields; default: the BIDS sleep proposal's ``<stem>_hypnogram.tsv``
        beside the recording.
    events_pattern : str | None
        Same for the spindle events; default ``<stem>_events.tsv``.
    forward_pattern : str | None
        Same for a forward solution per recording (e.g.
        ``derivatives/forward/sub-{subject}/*-fwd.fif``); default none: the
        fsaverage template head.

    Returns
    -------
    items : list of RecordingItem
    """
    import mne_bids

    root = Path(root)
    if not (root / "dataset_description.json").exists() and not list(root.glob("sub-*")):
        raise SpindleScopeError(
            f"{str(root)!r} is not a BIDS dataset (no dataset_description.json and "
            f"no sub-* folders). Give a BIDS root or a sample-list table "
            f"(.tsv/.csv with 'subject' and 'recording' columns).")
    paths = mne_bids.find_matching_paths(root, datatypes=list(BIDS_DATATYPES),
                                         extensions=list(BIDS_EXTENSIONS),
                                         suffixes=list(BIDS_DATATYPES))
    items, seen = [], set()
    for bp in sorted(paths, key=lambda p: str(p.fpath)):
        fpath = Path(bp.fpath)
        try:
            top = fpath.resolve().relative_to(root.resolve()).parts[0]
        except ValueError:
            top = ""
        if top in ("derivatives", "sourcedata", "code"):
            continue  # outputs and raw sources of other tools are not recordings
        if bp.split is not None:  # split FIF files: the first part is opened
            if str(bp.split) not in ("1", "01"):
                continue
        key = (bp.subject, bp.session, bp.task, bp.acquisition, bp.run)
        if key in seen:  # the same recording in MEG and EEG folders: once
            continue
        seen.add(key)
        stem = fpath.name[: fpath.name.rfind(f"_{bp.suffix}")]
        if bp.split is not None:
            stem = stem.replace(f"_split-{bp.split}", "")
        ivars = dict(subject=bp.subject, session=bp.session or "", task=bp.task or "",
                     run=bp.run or "", stem=stem, root=str(root))
        items.append(RecordingItem(
            subject=bp.subject, session=bp.session, recording=str(fpath),
            entities={k: v for k, v in (("task", bp.task), ("acquisition", bp.acquisition),
                                        ("run", bp.run)) if v},
            spindles=_sibling(fpath, stem, "events", events_pattern, ivars),
            hypnogram=_sibling(fpath, stem, "hypnogram", hypnogram_pattern, ivars),
            head=_forward_head(fpath, forward_pattern, ivars)))
    if not items:
        raise SpindleScopeError(
            f"No MEG or EEG recording found in the BIDS dataset {str(root)!r} "
            f"(looked for sub-*/[ses-*/]{{meg,eeg}}/*_{{meg,eeg}}"
            f"{{{','.join(BIDS_EXTENSIONS)}}}).")
    items = _filter_labels(items, participant_label)
    logger.info("BIDS dataset %s: %d recordings of %d subjects", root, len(items),
                len({it.subject for it in items}))
    return items


def read_sample_list(path, *, participant_label=None) -> list[RecordingItem]:
    """Recordings listed in a TSV/CSV table.

    Columns: ``subject`` and ``recording`` (required), optional ``session``,
    ``spindles``, ``hypnogram``, ``forward``, or ``subjects_dir``, ``trans``,
    ``bem`` (and ``src``). Relative paths are relative to the table.

    Returns
    -------
    items : list of RecordingItem
    """
    path = Path(path)
    if not path.exists():
        raise SpindleScopeError(f"The sample list {str(path)!r} does not exist.")
    text = path.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    delim = "\t" if "\t" in first else ("," if "," in first else ";")
    rows = list(csv.DictReader(text.splitlines(), delimiter=delim))
    header = [h.strip().lower() for h in (rows[0].keys() if rows else first.split(delim))]
    missing = [c for c in ("subject", "recording") if c not in header]
    if missing:
        raise SpindleScopeError(
            f"The sample list {path.name!r} lacks the column(s) "
            f"{', '.join(map(repr, missing))}; it needs 'subject' and 'recording' "
            f"(optional: {', '.join(SAMPLE_COLUMNS[2:])}). Found: {', '.join(header)}.")
    items = []
    for n, row in enumerate(rows, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not row.get("subject") or not row.get("recording"):
            raise SpindleScopeError(
                f"{path.name}, line {n}: 'subject' and 'recording' must not be empty.")

        def resolve(key):
            val = row.get(key) or None
            if val is None or val.lower() == "n/a":
                return None
            p = Path(val).expanduser()
            return str(p if p.is_absolute() else (path.parent / p))

        head = {k: resolve(k) for k in ("forward", "subjects_dir", "trans", "bem", "src")
                if resolve(k)}
        if head.get("subjects_dir"):
            head["subject"] = row.get("mri_subject") or f"sub-{row['subject'].removeprefix('sub-')}"
        rec = resolve("recording")
        items.append(RecordingItem(
            subject=row["subject"].removeprefix("sub-"), session=row.get("session") or None,
            recording=rec, spindles=resolve("spindles"), hypnogram=resolve("hypnogram"),
            head=head))
    if not items:
        raise SpindleScopeError(f"The sample list {path.name!r} lists no recording.")
    names = [it.basename for it in items]
    dup = sorted({b for b in names if names.count(b) > 1})
    if dup:
        raise SpindleScopeError(
            f"The sample list {path.name!r} lists several recordings with the same "
            f"output name ({', '.join(dup)}): give each a distinct session or file name.")
    return _filter_labels(items, participant_label)


def discover(dataset, **kwargs) -> list[RecordingItem]:
    """A BIDS root (a folder) or a sample list (a .tsv/.csv file)."""
    path = Path(dataset)
    if not path.exists():
        raise SpindleScopeError(f"The dataset {str(path)!r} does not exist.")
    if path.is_dir():
        return discover_bids(path, **kwargs)
    if path.suffix.lower() in (".tsv", ".csv", ".txt"):
        return read_sample_list(path, participant_label=kwargs.get("participant_label"))
    raise SpindleScopeError(
        f"Cannot use {path.name!r} as a dataset: give a BIDS root folder or a "
        f"sample-list table (.tsv or .csv).")
