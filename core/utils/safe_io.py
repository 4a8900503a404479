"""Safe outputs: check where results go before computing, write them atomically,
and say what an operating-system error means.

Every file the app writes goes through :func:`core.utils.atomic_open` (or
its ``atomic_write_*`` shortcuts). Libraries that only write to a file name
(MNE, edfio, h5io) write into a private temporary folder first;
:func:`write_via_temp` then moves the bytes into place with the atomic
writer, so a killed process never leaves a truncated output.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from core.utils import SpindleScopeError, atomic_write_bytes, check_option


def write_via_temp(path, write) -> Path:
    """Let ``write(tmp_path)`` produce ``path``, then put it in place atomically.

    Parameters
    ----------
    path : path-like
        The output file.
    write : callable
        Writes a file at the path it is given (same file name as ``path``,
        inside a private temporary folder, so name checks still pass).

    Returns
    -------
    path : Path
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=".spindlescope-") as tmpdir:
        tmp = Path(tmpdir) / path.name
        write(tmp)
        atomic_write_bytes(path, tmp.read_bytes())
    return path


def write_folder_via_temp(folder, write) -> list[Path]:
    """Let ``write(tmp_folder)`` fill a folder, then move each file into
    ``folder`` atomically (sub-folders included).

    Returns
    -------
    paths : list of Path
        The files written under ``folder``.
    """
    folder = Path(folder)
    out = []
    with tempfile.TemporaryDirectory(prefix=".spindlescope-") as tmpdir:
        tmp = Path(tmpdir) / folder.name
        write(tmp)
        for src in sorted(tmp.rglob("*")):
            if src.is_file():
                dest = folder / src.relative_to(tmp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                out.append(atomic_write_bytes(dest, src.read_bytes()))
    return out


def check_output(path, kind: str = "file", option: str = "--out") -> Path:
    """Check an output path before a long computation starts.

    Parameters
    ----------
    path : path-like
        Where results will be written.
    kind : str
        ``"file"`` or ``"folder"`` (created later if missing).
    option : str
        How the user gave it (named in the message).

    Returns
    -------
    path : Path
    """
    check_option("kind", kind, ("file", "folder"))
    path = Path(path)
    if str(path).strip() == "" or "\x00" in str(path):
        raise SpindleScopeError(f"{option} needs a path, got {str(path)!r}.")
    try:
        if kind == "folder" and path.exists() and not path.is_dir():
            raise SpindleScopeError(
                f"{option} {str(path)!r} is an existing file, but the results are a "
                f"folder of files. Give a folder path (it is created if needed).")
        if kind == "file" and path.is_dir():
            raise SpindleScopeError(
                f"{option} {str(path)!r} is a folder; give a file name inside it "
                f"(e.g. {str(path / 'spindles.tsv')!r}).")
        # the nearest existing ancestor must be a writable folder
        probe = path if kind == "folder" else path.parent
        probe = probe.absolute()
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir():
            raise SpindleScopeError(
                f"{option} {str(path)!r} cannot be created: {str(probe)!r} is a "
                f"file, not a folder.")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise SpindleScopeError(
                f"{option} {str(path)!r} cannot be written: no permission to write "
                f"in {str(probe)!r}. Choose a folder you can write to.")
    except OSError as exc:
        raise SpindleScopeError(f"{option} {str(path)!r}: {os_error_message(exc)}") \
            from None
    return path


def os_error_message(exc: OSError) -> str:
    """A sentence saying what an operating-system error means and what to do."""
    name = getattr(exc, "filename", None)
    where = f" {str(name)!r}" if name else ""
    if isinstance(exc, PermissionError):
        return (f"permission denied for{where or ' a file'}. Check its permissions "
                f"(or choose another location).")
    if isinstance(exc, IsADirectoryError):
        return f"{where.strip() or 'the path'} is a folder where a file was expected."
    if isinstance(exc, NotADirectoryError):
        return (f"a part of the path{where} is a file where a folder was "
                f"expected.")
    if isinstance(exc, FileNotFoundError):
        return f"no such file or folder{where}."
    if isinstance(exc, FileExistsError):
        return f"{where.strip() or 'the path'} already exists."
    if exc.errno == errno.ENOSPC:
        return f"the disk is full (writing{where}). Free some space and run again."
    if exc.errno == errno.EROFS:
        return f"the file system is read-only{where and ' at' + where}. Choose another location."
    if exc.errno == errno.ENAMETOOLONG:
        return "a file name is too long. Choose a shorter one."
    return f"{exc.strerror or exc}{where}."
