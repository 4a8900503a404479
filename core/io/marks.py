"""Spindle mark files: read and write a :class:`~core.scoring.spindles.SpindleSet`.

:func:`read_spindles` and :func:`write_spindles` speak BIDS events TSV, CSV,
MNE annotations (FIF), EDF+ annotations (channel-specific as
``description@@channel``) and the DREAMS scoring text format.
"""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

from core.utils.safe_io import write_via_temp
from core.scoring.checks import _check_extent, _check_file, _decode, _num, _status_of
from core.scoring.spindles import STATUS, VISIBILITY, Spindle, SpindleSet
from core.utils import SpindleScopeError, atomic_open, atomic_write_text, check_range, logger
from core.utils.vocabulary import LEGACY_VISIBILITY_COLUMN, VISIBILITY_COLUMN, visibility_of


_FORMATS = (".tsv", ".csv", ".fif", ".edf", ".txt")
_CORE_COLS = ("onset", "duration", "trial_type", "channel", "modality",
              "visibility", "status", "scorer", "origin", "uid")


def _fmt_of(path):
    path = Path(path)
    name = path.name.lower()
    for ext in (".fif.gz",) + _FORMATS:
        if name.endswith(ext):
            return ".fif" if ext == ".fif.gz" else ext
    raise SpindleScopeError(
        f"Cannot tell the spindle file format of {path.name!r}: use one of "
        f"{', '.join(_FORMATS)} (BIDS events TSV, CSV, MNE annotations FIF, "
        f"EDF+ annotations, DREAMS scoring text).")


def _is_spindle(label: str) -> bool:
    return "spindle" in str(label).strip().lower()


def read_spindles(path, *, sfreq=None, duration=None) -> SpindleSet:
    """Read spindle marks from a file.

    Parameters
    ----------
    path : path-like
        ``.tsv`` (BIDS events), ``.csv``, ``.fif`` (MNE annotations),
        ``.edf`` (EDF+ annotations) or ``.txt`` (DREAMS scoring).
    sfreq : float | None
        Sampling rate, used when a table gives ``sample`` but no ``onset``.
    duration : float | None
        Length of the recording the marks belong to (s): a mark starting
        before 0 or ending after it is an error (it belongs to another
        recording, or its unit is wrong). Without it, onsets are checked
        against a week and durations against an hour.

    Returns
    -------
    spindles : SpindleSet
    """
    path = Path(path)
    fmt = _fmt_of(path)
    if sfreq is not None:
        sfreq = check_range("sfreq", sfreq, 1e-6)
    if duration is not None:
        duration = check_range("duration", duration, 0, 1e9)
    _check_file(path)
    if fmt in (".tsv", ".csv"):
        spindles = _read_table(path, "\t" if fmt == ".tsv" else None, sfreq)
    elif fmt == ".txt":
        spindles = _read_dreams(path)
    elif fmt == ".fif":
        spindles = _read_fif(path)
    else:
        spindles = _read_edf(path)
    _check_extent(spindles, path, duration)
    logger.info("Read %d spindles from %s", len(spindles), path.name)
    return SpindleSet(spindles)


def _read_table(path, delimiter, sfreq):
    text = _decode(path)
    if "\x00" in text:
        raise SpindleScopeError(
            f"{path.name} holds NUL bytes: it is not a text table (or it is "
            f"damaged). Export the spindles again as TSV or CSV text.")
    lines = text.splitlines()
    if delimiter is None:
        first = next((ln for ln in lines if ln.strip()), "")
        delimiter = ";" if first.count(";") > first.count(",") else ","
        if "\t" in first and "," not in first:
            delimiter = "\t"
    rows = []
    for n, line in enumerate(lines, start=1):
        # one row per line: a stray quote must not swallow the next rows
        try:
            row = next(csv.reader([line], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            raise SpindleScopeError(
                f"{path.name}, line {n}: cannot split the row ({exc}); an "
                f"unterminated quote? Fix that line.") from None
        if any(c.strip() for c in row):
            rows.append((n, row))
    if not rows:
        raise SpindleScopeError(f"{path.name} is empty: no header and no spindle.")
    header = [h.strip().lower() for h in rows[0][1]]
    has_sample = "sample" in header and sfreq
    missing = [c for c in ("onset", "duration") if c not in header
               and not (c == "onset" and has_sample)]
    if missing:
        raise SpindleScopeError(
            f"{path.name} lacks the column(s) {', '.join(map(repr, missing))}: "
            f"a spindle table needs 'onset' and 'duration' in seconds (found "
            f"columns {', '.join(header) or 'none'}).")
    col = {h: i for i, h in enumerate(header)}
    out = []
    for n, r in rows[1:]:
        r = r + [""] * (len(header) - len(r))

        def get(name):
            v = r[col[name]].strip() if name in col else ""
            return "" if v.lower() in ("n/a", "nan", "") else v

        if "trial_type" in col and get("trial_type") and not _is_spindle(get("trial_type")):
            continue
        if "onset" in col:
            onset = _num(get("onset") or r[col["onset"]], "onset", path, n)
        else:
            onset = _num(get("sample"), "sample", path, n) / float(sfreq)
        dur = _num(get("duration") or r[col["duration"]], "duration", path, n)
        if dur <= 0:
            raise SpindleScopeError(
                f"{path.name}, line {n}: duration {dur:g} s is not positive "
                f"(a spindle lasts > 0 s). Fix or delete that row.")
        chans = tuple(c.strip() for c in get("channel").replace(";", ",").split(",")
                      if c.strip()) if "channel" in col else ()
        vis = visibility_of(get(VISIBILITY_COLUMN) or get(LEGACY_VISIBILITY_COLUMN))
        status = _status_of(get("status"), path, n)
        props = {}
        for h, i in col.items():
            if h in _CORE_COLS or h == "sample":
                continue
            v = get(h)
            if v == "":
                continue
            try:
                props[h] = float(v) if any(ch in v for ch in ".eE") or not v.lstrip("-").isdigit() else int(v)
            except ValueError:
                props[h] = v
        out.append(Spindle(onset=onset, duration=dur, channels=chans,
                           visibility=vis, scorer=get("scorer"),
                           origin=get("origin") or "import", status=status,
                           properties=props))
    return out


def _read_dreams(path):
    lines = _decode(path).splitlines()
    out = []
    for n, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if n == 1 and not _looks_numeric(parts[0]):
            continue  # header such as [vis1_Spindles/C3-A1]
        if len(parts) < 2:
            raise SpindleScopeError(
                f"{path.name}, line {n}: expected 'onset duration' (seconds), "
                f"got {line.strip()!r}.")
        onset = _num(parts[0], "onset", path, n)
        dur = _num(parts[1], "duration", path, n)
        if dur <= 0:
            raise SpindleScopeError(
                f"{path.name}, line {n}: duration {dur:g} s is not positive.")
        out.append(Spindle(onset=onset, duration=dur, origin="import"))
    return out


def _looks_numeric(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _decode_desc(desc):
    """'spindle' or 'spindle/<visibility>/<status>' (our FIF/EDF encoding)."""
    parts = str(desc).split("/")
    vis = parts[1] if len(parts) > 1 and parts[1] in VISIBILITY else ""
    status = parts[2] if len(parts) > 2 and parts[2] in STATUS else "accepted"
    return vis, status


def _encode_desc(s):
    return f"spindle/{s.visibility}/{s.status}"


def _read_fif(path):
    import mne

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a damaged tag: say so, never half a file
            annot = mne.read_annotations(path)
    except Exception as exc:
        raise SpindleScopeError(
            f"Cannot read annotations from {path.name}: {exc}") from exc
    out = []
    for a in annot:
        if not _is_spindle(a["description"]):
            continue
        vis, status = _decode_desc(a["description"])
        if a["duration"] <= 0:
            raise SpindleScopeError(
                f"{path.name}: a spindle at {a['onset']:g} s has duration "
                f"{a['duration']:g} s; durations must be positive.")
        out.append(Spindle(onset=a["onset"], duration=a["duration"],
                           channels=tuple(a.get("ch_names", ()) or ()),
                           visibility=vis, status=status, origin="import"))
    return out


def _read_edf(path):
    import edfio

    try:
        with warnings.catch_warnings():
            # edfio warns (and reads on) when records are missing: a truncated
            # file would silently lose the marks of its missing records
            warnings.simplefilter("error")
            edf = edfio.read_edf(path, lazy_load_data=True)
            annots = edf.annotations
    except Exception as exc:
        raise SpindleScopeError(
            f"Cannot read EDF+ annotations from {path.name}: {exc}") from exc
    # MNE's convention: one annotation per channel, "description@@channel";
    # identical onset, duration and description on several channels are one
    # channel-specific spindle.
    groups = {}
    for a in annots:
        desc, _, chans = a.text.partition("@@")
        if not _is_spindle(desc):
            continue
        if not a.duration or a.duration <= 0:
            raise SpindleScopeError(
                f"{path.name}: the spindle at {a.onset:g} s has no positive "
                f"duration.")
        key = (round(float(a.onset), 6), round(float(a.duration), 6), desc)
        lst = groups.setdefault(key, [])
        lst.extend(c for c in chans.split(",") if c and c not in lst)
    out = []
    for (onset, dur, desc), chans in groups.items():
        vis, status = _decode_desc(desc)
        out.append(Spindle(onset=onset, duration=dur, channels=tuple(chans),
                           visibility=vis, status=status, origin="import"))
    return out


def write_spindles(spindles, path):
    """Write spindles to a file (format by extension, see :func:`read_spindles`).

    Parameters
    ----------
    spindles : SpindleSet | list of Spindle
    path : path-like
    """
    path = Path(path)
    fmt = _fmt_of(path)
    items = sorted(list(spindles), key=lambda s: s.onset)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in (".tsv", ".csv"):
        _write_table(items, path, "\t" if fmt == ".tsv" else ",")
    elif fmt == ".txt":
        lines = ["[Spindles]"] + [f"{s.onset:.4f}\t{s.duration:.4f}" for s in items]
        atomic_write_text(path, "\n".join(lines) + "\n")
    elif fmt == ".fif":
        import mne

        annot = mne.Annotations(
            [s.onset for s in items], [s.duration for s in items],
            [_encode_desc(s) for s in items],
            ch_names=[list(s.channels) for s in items])
        write_via_temp(path, lambda tmp: annot.save(tmp, overwrite=True, verbose="error"))
    else:
        _write_edf(items, path)


def _write_table(items, path, delim):
    prop_keys = []
    for s in items:
        for k, v in s.properties.items():
            if k not in prop_keys and k not in _CORE_COLS:
                prop_keys.append(k)
    header = ["onset", "duration", "trial_type", "channel", VISIBILITY_COLUMN,
              "status", "scorer", "origin"] + prop_keys
    na = "n/a"
    with atomic_open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=delim, lineterminator="\n")
        w.writerow(header)
        for s in items:
            row = [f"{s.onset:.4f}", f"{s.duration:.4f}", "spindle",
                   ",".join(s.channels) or na, s.visibility or na, s.status,
                   s.scorer or na, s.origin or na]
            for k in prop_keys:
                v = s.properties.get(k, na)
                if isinstance(v, float):
                    v = na if not math.isfinite(v) else f"{v:.6g}"
                row.append(v if v != "" else na)
            w.writerow(row)


def _write_edf(items, path):
    import edfio
    import numpy as np

    dur = max([s.end for s in items] + [1.0])
    n_rec = int(math.ceil(dur)) + 1
    annots = []
    for s in items:   # MNE's convention: one annotation per channel
        for ch in (s.channels or ("",)):
            annots.append(edfio.EdfAnnotation(
                round(s.onset, 4), round(s.duration, 4),
                _encode_desc(s) + (f"@@{ch}" if ch else "")))
    # EDF+ needs at least one signal; a 1-Hz placeholder keeps the file tiny
    sig = edfio.EdfSignal(np.zeros(n_rec), sampling_frequency=1, label="Spindles",
                          physical_range=(-1, 1))
    edf = edfio.Edf([sig], annotations=annots)
    write_via_temp(path, edf.write)
