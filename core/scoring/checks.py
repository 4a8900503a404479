"""Checks of spindle files: readable, decodable, plausible marks.

Used by the readers of :mod:`core.scoring.spindles`: a file that is a folder, cannot
be read, is not text or holds marks outside the recording ends in a
:class:`~core.utils.SpindleScopeError` that names the problem and what to do.
"""

from __future__ import annotations

import math
from pathlib import Path

from core.utils import SpindleScopeError, logger

#: Longest mark a spindle file may hold (s): spindles last 0.5-3 s; anything
#: near this is a unit mix-up (samples or milliseconds given as seconds).
MAX_MARK_DURATION = 3600.0
#: Latest onset without a recording to check against (s): a week.
MAX_ONSET = 7 * 24 * 3600.0

_STATUS_WORDS = {
    "accepted": "accepted", "accept": "accepted", "true": "accepted",
    "yes": "accepted", "y": "accepted", "1": "accepted", "confirmed": "accepted",
    "rejected": "rejected", "reject": "rejected", "false": "rejected",
    "no": "rejected", "n": "rejected", "0": "rejected",
    "candidate": "candidate", "maybe": "candidate", "unsure": "candidate",
    "?": "candidate", "pending": "candidate",
}


def _status_of(value, path, line):
    word = str(value).strip().lower()
    if word == "":
        return "accepted"
    try:
        return _STATUS_WORDS[word]
    except KeyError:
        raise SpindleScopeError(
            f"{path.name}, line {line}: unknown spindle status {value!r}. Allowed "
            f"values are 'accepted', 'rejected' and 'candidate' (or yes/no, "
            f"true/false, maybe). Fix that cell.") from None


def _check_file(path: Path, what: str = "spindle file"):
    """A readable file, or a message naming what is wrong and what to do."""
    try:
        if path.is_dir():
            raise SpindleScopeError(
                f"{str(path)!r} is a folder, not a {what}: choose the file itself.")
        if not path.exists():
            raise SpindleScopeError(f"The {what} {str(path)!r} does not exist.")
        with open(path, "rb"):
            pass
    except PermissionError:
        raise SpindleScopeError(
            f"The {what} {str(path)!r} cannot be read: permission denied. Check "
            f"the file's permissions (or copy it somewhere you can read).") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, SpindleScopeError):
            raise
        raise SpindleScopeError(
            f"The {what} {str(path)!r} cannot be read "
            f"({getattr(exc, 'strerror', None) or exc}).") from None


def _check_extent(spindles, path, duration):
    """Marks inside the recording (or plausible without one)."""
    tol = 0.5  # s: rounding of exported onsets at the very end
    for i, s in enumerate(spindles, start=1):
        where = f"{path.name}: spindle {i} (onset {s.onset:g} s, duration {s.duration:g} s)"
        if s.onset < 0:
            raise SpindleScopeError(
                f"{where} starts before the recording (negative onset). Onsets are "
                f"seconds from the start of the recording; fix or delete that mark.")
        if s.duration > MAX_MARK_DURATION:
            raise SpindleScopeError(
                f"{where} lasts more than {MAX_MARK_DURATION:g} s, which no spindle "
                f"does: the durations are probably samples or milliseconds. Give "
                f"them in seconds.")
        if duration is not None and s.end > duration + tol:
            raise SpindleScopeError(
                f"{where} ends after the recording, which lasts {duration:g} s. "
                f"These marks belong to another recording, or their onsets are "
                f"not in seconds from its start.")
        if duration is None and s.onset > MAX_ONSET:
            raise SpindleScopeError(
                f"{where} starts more than a week into the recording: the onsets "
                f"are probably samples or milliseconds. Give them in seconds.")


def _decode(path: Path) -> str:
    """Text of a table: UTF-8 (BOM or not), UTF-16 with a BOM, else Latin-1."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SpindleScopeError(
                f"{path.name} starts like UTF-16 text but is not ({exc}). Save it "
                f"as UTF-8 text.") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        logger.info("%s is not UTF-8; reading it as Latin-1.", path.name)
        return raw.decode("latin-1")


def _num(value, col, path, line):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpindleScopeError(
            f"{path.name}, line {line}: the {col!r} value {value!r} is not a "
            f"number. Fix the file (onset and duration are seconds).") from None
    if not math.isfinite(v):
        raise SpindleScopeError(
            f"{path.name}, line {line}: the {col!r} value {value!r} is not finite.")
    return v
