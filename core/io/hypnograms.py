"""Hypnogram files in and out.

Read: BIDS-style TSV/CSV (``onset, duration, stage``; the BIDS sleep
proposal's ``_hypnogram.tsv``), one stage per line (labels or YASA integers),
DREAMS text, Visbrain (``State  end-time`` text and Elan ``.hyp``), Wonambi
CSV exports, NSRR/Compumedics XML (``ScoredEvents`` with ``EventConcept``, and
Profusion ``SleepStages``), EDF+ annotations (Sleep-EDF ``*-Hypnogram.edf`` and
other systems) and MNE annotations in FIF.

Every format becomes intervals ``(onset, duration, stage)`` and then a
:class:`~core.scoring.staging.Hypnogram` in fixed epochs: the epoch length is the
largest common length that divides every onset and duration (30 s for
Sleep-EDF, whose annotations merge runs of epochs), never the median
duration. Hypnograms that carry their own start time (EDF+, FIF, NSRR XML)
are aligned to the recording's start when it is given.

Every failure ends in :class:`~core.utils.SpindleScopeError` naming the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from core.scoring.staging import YASA_OF, Hypnogram, STAGES, DREAMS_CODES, normalize_stage
from core.utils import SpindleScopeError, atomic_open, atomic_write_bytes, logger

#: Largest hypnogram we build (epochs); a week of 1-s epochs.
MAX_EPOCHS = 7 * 24 * 3600
#: Largest text/XML hypnogram read (bytes).
MAX_TEXT_BYTES = 64 * 1024 ** 2
#: Epoch lengths tried, longest first, when a file does not say.
_EPOCH_CANDIDATES = (30.0, 20.0, 15.0, 10.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0)
#: NSRR / Compumedics numeric stage codes (4 = R&K stage 4 = N3, 5 = REM).
_NSRR_CODES = {0: "W", 1: "N1", 2: "N2", 3: "N3", 4: "N3", 5: "R"}
#: Elan .hyp codes as Visbrain writes them.
_ELAN_CODES = {-2: "?", -1: "?", 0: "W", 1: "N1", 2: "N2", 3: "N3", 4: "N3", 5: "R"}
#: Visbrain's labels when writing.
_VISBRAIN_OF = {"W": "Wake", "N1": "N1", "N2": "N2", "N3": "N3", "R": "REM", "?": "Art"}
_NSRR_OF = {"W": "Wake|0", "N1": "Stage 1 sleep|1", "N2": "Stage 2 sleep|2",
            "N3": "Stage 3 sleep|3", "R": "REM sleep|5", "?": "Unscored|9"}
FORMATS = ("tsv", "csv", "txt", "yasa", "visbrain", "wonambi", "nsrr", "edf", "fif")


def _err(path, msg) -> SpindleScopeError:
    return SpindleScopeError(f"The hypnogram {Path(path).name!r}: {msg}")


# ---------------------------------------------------------------------------
# Intervals → epochs
# ---------------------------------------------------------------------------


def infer_epoch_length(onsets, durations) -> float:
    """Largest usual epoch length dividing every onset step and duration.

    Parameters
    ----------
    onsets, durations : array-like of float
        Seconds; the last duration is ignored (a final run may be cut).

    Returns
    -------
    epoch_length : float
    """
    on = np.asarray(onsets, float)
    du = np.asarray(durations, float)
    vals = np.concatenate([on - on.min(), du[:-1]]) if len(on) else du
    vals = vals[vals > 1e-6]
    if not len(vals):
        return 30.0 if not len(du) or du[-1] >= 30.0 or du[-1] <= 0 else float(du[-1])
    for cand in _EPOCH_CANDIDATES:
        r = vals / cand
        if np.all(np.abs(r - np.round(r)) < 1e-3):
            return cand
    return float(vals.min())


def from_intervals(onsets, durations, stages, epoch_length=None, path="",
                   offset=0.0) -> Hypnogram:
    """Build a hypnogram from ``(onset, duration, stage)`` rows.

    Parameters
    ----------
    onsets, durations : sequence of float
        Seconds from the hypnogram's own start; finite, onsets ≥ 0,
        durations > 0.
    stages : sequence of str
        Normalised stages.
    epoch_length : float | None
        Seconds per epoch; inferred when None (:func:`infer_epoch_length`).
    path : path-like
        For messages.
    offset : float
        Seconds from the recording's start to the hypnogram's start
        (negative when scoring began before the recording); epochs before
        the recording are dropped, earlier recording time stays unscored.

    Returns
    -------
    hypnogram : Hypnogram
    """
    on = np.asarray(onsets, float)
    du = np.asarray(durations, float)
    if not len(on):
        raise _err(path, "it holds no stage rows.")
    bad = np.flatnonzero(~np.isfinite(on) | ~np.isfinite(du))
    if len(bad):
        raise _err(path, f"row {bad[0] + 1} has an onset or duration that is not "
                         f"a finite number ({on[bad[0]]!r}, {du[bad[0]]!r}).")
    bad = np.flatnonzero(on < 0)
    if len(bad):
        raise _err(path, f"row {bad[0] + 1} has a negative onset ({on[bad[0]]:g} s); "
                         f"onsets count from the start of scoring.")
    bad = np.flatnonzero(du <= 0)
    if len(bad):
        raise _err(path, f"row {bad[0] + 1} has a duration of {du[bad[0]]:g} s; "
                         f"stage durations must be positive.")
    L = float(epoch_length) if epoch_length else infer_epoch_length(on, du)
    if not (math.isfinite(L) and L > 0):
        raise _err(path, f"invalid epoch length {L!r}.")
    on = on + float(offset)
    end = float(np.max(on + du))
    n = int(math.ceil(end / L - 1e-9)) if end > 0 else 0
    if n > MAX_EPOCHS:
        raise _err(path, f"it would span {end:.4g} s = {n} epochs of {L:g} s, "
                         f"more than a week: the onsets or durations are wrong.")
    out = ["?"] * n
    for o, d, s in zip(on, du, stages):
        i0 = max(0, int(round(o / L)))
        i1 = min(n, max(int(round(o / L)) + 1, int(round((o + d) / L))))
        for i in range(i0, i1):
            out[i] = s
    return Hypnogram(out, L)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _check_file(path: Path):
    if not path.exists():
        raise SpindleScopeError(f"The hypnogram file {str(path)!r} does not exist.")
    if path.is_dir():
        raise SpindleScopeError(
            f"{str(path)!r} is a folder, not a hypnogram file: choose the file "
            f"itself (.tsv, .csv, .txt, .xml, .edf, .fif, .hyp).")
    if not os.access(path, os.R_OK):
        raise SpindleScopeError(
            f"Cannot read the hypnogram {str(path)!r}: permission denied.")


def _read_bytes(path: Path, n=None) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read() if n is None else fh.read(n)
    except OSError as exc:
        raise SpindleScopeError(
            f"Cannot read the hypnogram {str(path)!r}: {exc.strerror or exc}.") from None


def _read_text_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise _err(path, f"it is {size / 1e6:.0f} MB, far larger than any text "
                         f"hypnogram: choose the hypnogram file, not a recording.")
    return _read_bytes(path)


def _decode(data: bytes, path) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _err(path, "it starts like UTF-16 text but is not valid UTF-16.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_hypnogram(path, *, epoch_length=None, recording_duration=None,
                   recording_start=None) -> Hypnogram:
    """Read a hypnogram in any supported format.

    Parameters
    ----------
    path : path-like
        The file (see the module docstring for the formats).
    epoch_length : float | None
        Seconds per epoch; default from the file (its intervals, or 5 s for
        DREAMS, else 30 s).
    recording_duration : float | None
        When given, a hypnogram longer or shorter than the recording by a
        full epoch or more is an error naming both lengths (unscored epochs
        past the end are trimmed first).
    recording_start : datetime.datetime | None
        The recording's start (``raw.info['meas_date']``); hypnograms with
        their own start time are shifted onto the recording's clock.

    Returns
    -------
    hypnogram : Hypnogram
    """
    from core.scoring.staging import _check_length

    path = Path(path)
    _check_file(path)
    if epoch_length is not None:
        try:
            epoch_length = float(epoch_length)
        except (TypeError, ValueError):
            epoch_length = float("nan")
        if not (math.isfinite(epoch_length) and epoch_length > 0):
            raise SpindleScopeError(
                f"Invalid value for the 'epoch_length' parameter: expected a "
                f"positive number of seconds, but got {epoch_length!r} instead.")
    name = path.name.lower()
    data = _read_bytes(path, 4096)
    if name.endswith((".fif", ".fif.gz")):
        rows, start = _read_fif_annotations(path)
        hyp = _from_annotations(rows, epoch_length, path, _offset(start, recording_start, path))
    elif name.endswith((".edf", ".bdf")) or data.startswith(b"0       "):
        rows, start = _read_edf_annotations(path)
        hyp = _from_annotations(rows, epoch_length, path, _offset(start, recording_start, path))
    elif name.endswith(".xml") or data.lstrip()[:5] in (b"<?xml", b"<PSGA", b"<CMPS"):
        hyp = _read_xml(path, _read_text_bytes(path), epoch_length, recording_start)
    else:
        if b"\0" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _err(path, "it is a binary file, not a text hypnogram. Hypnograms "
                             "in binary form must be EDF+ (.edf) or FIF (.fif).")
        hyp = _read_text(path, _decode(_read_text_bytes(path), path), epoch_length)
    if recording_duration is not None:
        n_need = int(math.ceil(float(recording_duration) / hyp.epoch_length - 1e-9))
        while hyp.n_epochs > n_need and hyp.stages[-1] == "?":
            hyp.stages.pop()
    return _check_length(hyp, recording_duration, path)


def read_hypnogram_for(path, recording, *, epoch_length=None) -> Hypnogram:
    """Read a hypnogram for an open recording: its length checked, its clock aligned.

    The one way every caller (CLI, session files, the app, batch) reads a
    hypnogram that belongs to a recording, so a hypnogram that starts at
    lights-off is shifted onto the recording's clock everywhere alike.

    Parameters
    ----------
    path : path-like
        The hypnogram file.
    recording : core.io.recording.Recording | None
        The recording it scores; None reads the file on its own.
    epoch_length : float | None
        As for :func:`read_hypnogram`.

    Returns
    -------
    hypnogram : Hypnogram
    """
    if recording is None:
        return read_hypnogram(path, epoch_length=epoch_length)
    info = getattr(recording, "info", None)
    start = info.get("meas_date") if info is not None else None
    return read_hypnogram(path, epoch_length=epoch_length,
                          recording_duration=recording.duration,
                          recording_start=start)


def _naive(t):
    if t is None:
        return None
    if isinstance(t, dt.datetime) and t.tzinfo is not None:
        return t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t


def _offset(hyp_start, rec_start, path) -> float:
    """Seconds from the recording's start to the hypnogram's start."""
    hyp_start, rec_start = _naive(hyp_start), _naive(rec_start)
    if hyp_start is None or rec_start is None:
        return 0.0
    if isinstance(hyp_start, dt.time):       # clock time only (NSRR XML)
        a = dt.datetime.combine(rec_start.date(), hyp_start)
        off = (a - rec_start).total_seconds()
        off = (off + 12 * 3600) % (24 * 3600) - 12 * 3600
    else:
        off = (hyp_start - rec_start).total_seconds()
    if abs(off) > 24 * 3600:
        logger.warning("Hypnogram %s starts %.0f s from the recording: dates do "
                       "not match (anonymised?); not aligned.", Path(path).name, off)
        return 0.0
    if off:
        logger.info("Hypnogram %s aligned by its start time: %+g s",
                    Path(path).name, off)
    return off


def _read_fif_annotations(path):
    import mne

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = mne.read_annotations(path)
    except Exception as exc:  # noqa: BLE001 - MNE raises many kinds on bad FIF
        raise _err(path, f"cannot read MNE annotations from it ({type(exc).__name__}: "
                         f"{exc}). It must be a FIF file of annotations.") from None
    return list(zip(a.onset, a.duration, a.description)), a.orig_time


def _read_edf_annotations(path):
    import edfio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            edf = edfio.read_edf(path, lazy_load_data=True)
            rows = [(x.onset, x.duration or 0.0, x.text) for x in edf.annotations]
    except Exception as exc:  # noqa: BLE001 - edfio raises many kinds on bad EDF
        raise _err(path, f"cannot read EDF+ annotations from it ({type(exc).__name__}: "
                         f"{exc}). It must be an EDF+ file with an 'EDF Annotations' "
                         f"signal.") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = dt.datetime.combine(edf.startdate, edf.starttime)
    except Exception:  # noqa: BLE001 - anonymised ('X') or invalid date
        start = None
    return rows, start


def _stage_of_annotation(text):
    d = str(text).strip()
    low = d.lower()
    if not d:
        return None
    try:
        st = normalize_stage(d)
    except SpindleScopeError:
        return "?" if low.startswith("sleep stage") else None
    if st == "?" and not (low.startswith("sleep stage") or low in (
            "unscored", "unknown", "movement", "movement time", "artefact", "artifact")):
        return None
    return st


def _from_annotations(items, epoch_length, path, offset=0.0):
    rows = []
    for onset, dur, desc in items:
        st = _stage_of_annotation(desc)
        if st is not None:
            rows.append((float(onset), float(dur), st))
    if not rows:
        raise _err(path, "it has no sleep-stage annotations ('Sleep stage W', "
                         "'N2', ...): it holds no hypnogram.")
    rows.sort(key=lambda r: r[0])
    on, du, st = (list(x) for x in zip(*rows))
    on_arr = np.asarray(on, float)
    if not np.all(np.isfinite(on_arr)):
        raise _err(path, "an annotation onset is not a finite number.")
    if any(d <= 0 for d in du):          # onsets only: durations from the steps
        L = epoch_length or infer_epoch_length(on_arr, np.zeros(len(on)))
        steps = np.diff(np.append(on_arr, on_arr[-1] + L))
        du = [s if d <= 0 and s > 0 else (d if d > 0 else L) for d, s in zip(du, steps)]
    return from_intervals(on, du, st, epoch_length, path, offset)


def _xml_float(node, tag, path, default=None):
    txt = node.findtext(tag)
    if txt is None:
        if default is not None:
            return default
        raise _err(path, f"a ScoredEvent lacks <{tag}>.")
    try:
        return float(txt)
    except ValueError:
        raise _err(path, f"<{tag}> holds {txt!r}, not a number.") from None


def _read_xml(path, data, epoch_length, recording_start):
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, LookupError, ValueError) as exc:   # bad encoding too
        raise _err(path, f"it is not valid XML ({exc}).") from None
    L_file = root.findtext(".//EpochLength")
    try:
        L_file = float(L_file) if L_file else None
        if L_file is not None and not (math.isfinite(L_file) and L_file > 0):
            L_file = None
    except ValueError:
        L_file = None
    events = root.findall(".//ScoredEvents/ScoredEvent")
    if events:                                   # NSRR
        on, du, st, start = [], [], [], None
        for ev in events:
            concept = (ev.findtext("EventConcept") or "").strip()
            etype = (ev.findtext("EventType") or "").lower()
            if concept.lower().startswith("recording start time"):
                clock = (ev.findtext("ClockTime") or "").split()
                if clock:
                    try:
                        start = dt.datetime.strptime(clock[-1], "%H.%M.%S").time()
                    except ValueError:
                        start = None
                continue
            if "stage" not in etype:
                continue
            code = concept.rsplit("|", 1)[-1].strip()
            try:
                stage = _NSRR_CODES.get(int(code), "?")
            except ValueError:
                try:
                    stage = normalize_stage(concept.split("|")[0])
                except SpindleScopeError:
                    stage = "?"
            on.append(_xml_float(ev, "Start", path))
            du.append(_xml_float(ev, "Duration", path))
            st.append(stage)
        if not on:
            raise _err(path, "its ScoredEvents hold no sleep stages (EventType "
                             "'Stages|Stages').")
        return from_intervals(on, du, st, epoch_length or L_file, path,
                              _offset(start, recording_start, path))
    stages = root.findall(".//SleepStages/SleepStage")
    if stages:                                   # Compumedics Profusion
        out = []
        for n, s in enumerate(stages, 1):
            try:
                out.append(_NSRR_CODES.get(int((s.text or "").strip()), "?"))
            except ValueError:
                raise _err(path, f"SleepStage {n} holds {s.text!r}, not a stage "
                                 f"code.") from None
        return Hypnogram(out, epoch_length or L_file or 30.0)
    raise _err(path, "it is XML but neither NSRR (ScoredEvents) nor Compumedics "
                     "Profusion (SleepStages).")


_HEADER_WORDS = ("stage", "hypnogram", "epoch", "sleep_stage", "state", "onset",
                 "time", "label", "value", "score")


def _looks_like_header(line: str) -> bool:
    low = line.strip().lower()
    if low.startswith(("[", "#", "%")):
        return True
    toks = [t for t in re.split(r"[\t,; ]+", low) if t]
    return bool(toks) and all(re.fullmatch(r"[a-z_\[\]()\-.]+", t) for t in toks) \
        and any(w in low for w in _HEADER_WORDS) and not _all_labels(toks)


def _all_labels(toks):
    try:
        for t in toks:
            normalize_stage(t)
        return True
    except SpindleScopeError:
        return False


def _read_text(path, text, epoch_length):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise _err(path, "it is empty.")
    first = lines[0].strip()
    if first.lower().startswith("wonambi") or "clock start time" in first.lower():
        return _read_wonambi(path, lines, epoch_length)
    if first.lower().startswith("time_base"):
        return _read_elan(path, lines, epoch_length)
    if first.startswith("*") or _is_visbrain(lines):
        return _read_visbrain(path, lines, epoch_length)
    delim = "\t" if "\t" in first else ("," if "," in first else (
        ";" if ";" in first else None))
    header = [h.strip().lower() for h in (first.split(delim) if delim else first.split())]
    stage_col = next((h for h in ("stage", "sleep_stage", "sleepstage") if h in header), None)
    if stage_col:
        return _read_table(path, lines, delim, header, stage_col, epoch_length)
    dreams = first.startswith("[") and "hypno" in first.lower()
    body = lines[1:] if _looks_like_header(first) else lines
    first_no = len(lines) - len(body) + 1
    out = []
    for n, ln in enumerate(body, start=first_no):
        tok = ln.strip().split()[0].strip(",;")
        if dreams:
            try:
                code = int(float(tok))
            except (ValueError, OverflowError):
                raise _err(path, f"line {n}: {tok!r} is not a DREAMS stage code.") from None
            out.append(DREAMS_CODES.get(code, "?"))
        else:
            try:
                out.append(normalize_stage(tok))
            except SpindleScopeError as exc:
                raise _err(path, f"line {n}: {exc}") from None
    return Hypnogram(out, epoch_length or (5.0 if dreams else 30.0))


def _read_table(path, lines, delim, header, stage_col, epoch_length):
    rows = list(csv.reader(lines[1:], delimiter=delim)) if delim else \
        [ln.split() for ln in lines[1:]]
    col = {h: i for i, h in enumerate(header)}
    stages, onsets, durs = [], [], []
    for n, r in enumerate(rows, start=2):
        try:
            stages.append(normalize_stage(r[col[stage_col]]))
            if "onset" in col:
                onsets.append(float(r[col["onset"]]))
            if "duration" in col:
                durs.append(float(r[col["duration"]]))
        except (IndexError, ValueError, OverflowError) as exc:
            raise _err(path, f"line {n}: cannot read the stage row {r!r} "
                             f"({exc}).") from None
    if onsets and durs:
        return from_intervals(onsets, durs, stages, epoch_length, path)
    if onsets:
        L = epoch_length or infer_epoch_length(onsets, np.zeros(len(onsets)))
        return from_intervals(onsets, [L] * len(onsets), stages, L, path)
    return Hypnogram(stages, epoch_length or 30.0)


def _is_visbrain(lines):
    rows = [ln.split() for ln in lines if not ln.startswith("*")]
    if len(rows) < 1 or any(len(r) != 2 for r in rows):
        return False
    try:
        ends = [float(r[1]) for r in rows]
        for r in rows:
            normalize_stage(r[0])
    except (ValueError, SpindleScopeError):
        return False
    return len(ends) > 1 and all(b > a for a, b in zip(ends, ends[1:])) and ends[0] > 4


def _read_visbrain(path, lines, epoch_length):
    on, du, st, prev = [], [], [], 0.0
    for n, ln in enumerate(lines, 1):
        if ln.startswith("*"):
            continue
        parts = ln.split()
        if len(parts) != 2:
            raise _err(path, f"line {n}: expected 'state<TAB>end time', got {ln!r}.")
        try:
            end = float(parts[1])
            stage = normalize_stage(parts[0])
        except ValueError:
            raise _err(path, f"line {n}: {parts[1]!r} is not a time in seconds.") from None
        except SpindleScopeError as exc:
            raise _err(path, f"line {n}: {exc}") from None
        if not math.isfinite(end) or end <= prev:
            raise _err(path, f"line {n}: end time {parts[1]} does not follow the "
                             f"previous one ({prev:g} s).")
        on.append(prev)
        du.append(end - prev)
        st.append(stage)
        prev = end
    return from_intervals(on, du, st, epoch_length, path)


def _read_elan(path, lines, epoch_length):
    try:
        base = float(lines[0].split()[1])
        codes = [int(float(x.split()[0])) for x in lines[4:]]
    except (IndexError, ValueError, OverflowError):
        raise _err(path, "it starts like an Elan .hyp file (time_base) but its "
                         "header or values cannot be read.") from None
    if not (math.isfinite(base) and base > 0):
        raise _err(path, f"invalid time_base {base!r}.")
    st = [_ELAN_CODES.get(c, "?") for c in codes]
    if not st:
        raise _err(path, "it holds no stage values after its header.")
    # one value per time_base: merge runs so the epoch length can be inferred
    cuts = [0] + [i for i in range(1, len(st)) if st[i] != st[i - 1]] + [len(st)]
    on = [a * base for a in cuts[:-1]]
    du = [(b - a) * base for a, b in zip(cuts[:-1], cuts[1:])]
    return from_intervals(on, du, [st[a] for a in cuts[:-1]], epoch_length, path)


def _read_wonambi(path, lines, epoch_length):
    body = lines[1:] if lines[0].lower().startswith("wonambi") else lines
    rows = list(csv.reader(body))
    if not rows or [h.strip().lower() for h in rows[0]][:4] != [
            "clock start time", "start", "end", "stage"]:
        raise _err(path, "a Wonambi export needs the columns 'clock start time, "
                         "start, end, stage'.")
    on, du, st = [], [], []
    for n, r in enumerate(rows[1:], start=3):
        try:
            a, b = float(r[1]), float(r[2])
            stage = normalize_stage(r[3])
        except (IndexError, ValueError) as exc:
            raise _err(path, f"line {n}: cannot read {r!r} ({exc}).") from None
        except SpindleScopeError as exc:
            raise _err(path, f"line {n}: {exc}") from None
        on.append(a)
        du.append(b - a)
        st.append(stage)
    return from_intervals(on, du, st, epoch_length, path)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _format_of(path: Path, fmt):
    if fmt is not None:
        if fmt not in FORMATS:
            raise SpindleScopeError(
                f"Invalid value for the 'fmt' parameter. Allowed values are "
                f"{', '.join(map(repr, FORMATS))}, but got {fmt!r} instead.")
        return fmt
    name = path.name.lower()
    for ext, f in ((".tsv", "tsv"), (".csv", "csv"), (".txt", "txt"),
                   (".xml", "nsrr"), (".edf", "edf"), (".fif", "fif"),
                   (".fif.gz", "fif")):
        if name.endswith(ext):
            return f
    raise SpindleScopeError(
        f"Cannot tell the hypnogram format of {path.name!r}: use .tsv, .csv, "
        f".txt, .xml (NSRR), .fif or .edf, or give fmt= (one of "
        f"{', '.join(FORMATS)}).")


def write_hypnogram(hyp, path, fmt=None, *, start=None):
    """Write a hypnogram atomically.

    Parameters
    ----------
    hyp : Hypnogram
    path : path-like
    fmt : str | None
        ``'tsv'``/``'csv'`` (onset, duration, stage: BIDS style), ``'txt'``
        (one stage per line), ``'yasa'`` (integers per line), ``'visbrain'``
        (state and end time), ``'wonambi'`` (CSV export), ``'nsrr'`` (XML
        ScoredEvents), ``'edf'`` (EDF+ annotations), ``'fif'`` (MNE
        annotations); from the extension when None.
    start : datetime.datetime | None
        Clock time of the first epoch (EDF+, FIF, NSRR and Wonambi keep it).
    """
    path = Path(path)
    fmt = _format_of(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    L = hyp.epoch_length
    S = hyp.stages
    start = _naive(start)
    if fmt in ("tsv", "csv"):
        d = "\t" if fmt == "tsv" else ","
        lines = [d.join(("onset", "duration", "stage"))]
        lines += [d.join((f"{i * L:g}", f"{L:g}", s)) for i, s in enumerate(S)]
        _write_text(path, "\n".join(lines) + "\n")
    elif fmt == "txt":
        _write_text(path, "".join(s + "\n" for s in S))
    elif fmt == "yasa":
        _write_text(path, "".join(f"{YASA_OF[s]}\n" for s in S))
    elif fmt == "visbrain":
        lines = [f"*Duration_sec\t{hyp.duration:g}", "*Datafile\tUnspecified"]
        for i, s in enumerate(S):
            if i + 1 == len(S) or S[i + 1] != s:
                lines.append(f"{_VISBRAIN_OF[s]}\t{(i + 1) * L:g}")
        _write_text(path, "\n".join(lines) + "\n")
    elif fmt == "wonambi":
        t0 = start or dt.datetime(2000, 1, 1)
        lines = ["Wonambi v7", "clock start time,start,end,stage"]
        names = {"W": "Wake", "N1": "NREM1", "N2": "NREM2", "N3": "NREM3",
                 "R": "REM", "?": "Undefined"}
        lines += [f"{(t0 + dt.timedelta(seconds=i * L)).strftime('%H:%M:%S')},"
                  f"{i * L:g},{(i + 1) * L:g},{names[s]}" for i, s in enumerate(S)]
        _write_text(path, "\n".join(lines) + "\n")
    elif fmt == "nsrr":
        root = ET.Element("PSGAnnotation")
        ET.SubElement(root, "SoftwareVersion").text = "SpindleScope"
        ET.SubElement(root, "EpochLength").text = f"{L:g}"
        evs = ET.SubElement(root, "ScoredEvents")
        if start is not None:
            ev = ET.SubElement(evs, "ScoredEvent")
            ET.SubElement(ev, "EventConcept").text = "Recording Start Time"
            ET.SubElement(ev, "Start").text = "0"
            ET.SubElement(ev, "Duration").text = f"{hyp.duration:g}"
            ET.SubElement(ev, "ClockTime").text = "00.00.00 " + start.strftime("%H.%M.%S")
        for i, s in enumerate(S):
            ev = ET.SubElement(evs, "ScoredEvent")
            ET.SubElement(ev, "EventType").text = "Stages|Stages"
            ET.SubElement(ev, "EventConcept").text = _NSRR_OF[s]
            ET.SubElement(ev, "Start").text = f"{i * L:g}"
            ET.SubElement(ev, "Duration").text = f"{L:g}"
        _write_text(path, '<?xml version="1.0" encoding="UTF-8"?>\n'
                    + ET.tostring(root, encoding="unicode") + "\n")
    elif fmt == "fif":
        import mne

        ann = mne.Annotations(np.arange(hyp.n_epochs) * L, [L] * hyp.n_epochs,
                              [f"Sleep stage {s}" for s in S],
                              orig_time=None if start is None else
                              start.replace(tzinfo=dt.timezone.utc))
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            tmp_file = Path(tmp) / "hypnogram-annot.fif"
            ann.save(tmp_file, overwrite=True, verbose="error")
            atomic_write_bytes(path, tmp_file.read_bytes())
    else:  # edf
        import edfio

        ann = [edfio.EdfAnnotation(i * L, L, f"Sleep stage {s}") for i, s in enumerate(S)]
        kw = {}
        if start is not None:
            kw = dict(starttime=start.time().replace(microsecond=0))
            kw["recording"] = edfio.Recording(startdate=start.date())
        edf = edfio.Edf([], annotations=ann, **kw)
        buf = io.BytesIO()
        edf.write(buf)
        with atomic_open(path, "wb") as fh:
            fh.write(buf.getvalue())
    logger.info("Wrote hypnogram (%d epochs, %s) to %s", hyp.n_epochs, fmt, path.name)


def _write_text(path, text):
    with atomic_open(path, "w", newline="") as fh:
        fh.write(text)


__all__ = ["read_hypnogram", "write_hypnogram", "from_intervals",
           "infer_epoch_length", "FORMATS", "STAGES"]
