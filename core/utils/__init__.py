"""Shared helpers of the core: logging, input validation, progress, folders."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

logger = logging.getLogger("spindlescope")

T = TypeVar("T")


class SpindleScopeError(ValueError):
    """An input problem with a message meant for the user.

    The CLI prints the message and exits with status 2; the GUI shows it in a
    dialog. The message names the problem and what to do about it.
    """


class RecordingError(SpindleScopeError):
    """A recording cannot be opened or lacks what an analysis needs."""


class Cancelled(Exception):
    """Raised by :func:`run_with_progress` when the callback asks to stop."""


@dataclass(frozen=True)
class Progress:
    """One progress report of a long computation.

    Parameters
    ----------
    done : int
        Steps finished.
    total : int
        Steps in all.
    message : str
        What is being done.
    """

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


# A long computation is a generator that yields Progress and returns its result.
ProgressGenerator = Generator[Progress, None, T]


def run_with_progress(
    gen: ProgressGenerator[T],
    callback: Callable[[Progress], bool | None] | None = None,
) -> T:
    """Drive a progress generator to the end and return its result.

    Parameters
    ----------
    gen : generator
        Yields :class:`Progress`, returns the result.
    callback : callable | None
        Called with each :class:`Progress`. If it returns ``False`` the
        generator is closed (it stops between steps) and :class:`Cancelled`
        is raised.

    Returns
    -------
    result : object
        What the generator returned.
    """
    try:
        while True:
            prog = next(gen)
            if callback is not None and callback(prog) is False:
                gen.close()
                raise Cancelled(prog.message)
    except StopIteration as stop:
        return stop.value


def rescale_progress(gen: ProgressGenerator[T], start: int, steps: int, total: int,
                     prefix: str = "") -> ProgressGenerator[T]:
    """Run a sub-generator inside a parent's progress range.

    Each :class:`Progress` of ``gen`` (``done`` of its own ``total``) is
    re-yielded as ``start + steps * done // total`` of the parent's
    ``total`` (integer arithmetic: a sub-generator whose total equals
    ``steps`` maps one to one), with ``prefix`` before its message.

    Parameters
    ----------
    gen : generator
        Yields Progress, returns a result.
    start, steps : int
        The parent's range given to ``gen``: ``[start, start + steps]``.
    total : int
        The parent's total.
    prefix : str
        Put before each message (e.g. ``"EEG: "``).

    Returns
    -------
    result : object
        What ``gen`` returned (use ``yield from``).
    """
    while True:
        try:
            prog = next(gen)
        except StopIteration as stop:
            return stop.value
        sub = steps if not prog.total else steps * prog.done // prog.total
        yield Progress(min(start + sub, total), total, prefix + prog.message)


def json_default(obj):
    """The ``default=`` of every JSON file the app writes.

    NumPy scalars become Python numbers, arrays lists, paths strings and
    sets sorted lists; anything else raises :class:`TypeError` (as
    :mod:`json` does), so an unexpected object is found rather than
    written as its ``repr``.
    """
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        try:
            return sorted(obj)
        except TypeError:  # mixed types
            return sorted(obj, key=repr)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps_json(obj, **kwargs) -> str:
    """:func:`json.dumps` with :func:`json_default` (keyword arguments passed on)."""
    import json

    return json.dumps(obj, default=json_default, **kwargs)


def relink(old, new, slot):
    """Move ``slot`` from ``old.changed`` to ``new.changed``; either may be None.

    Views and models watch a model that the session can replace (a new
    spindle set or hypnogram); this keeps exactly one connection to the
    current one.

    Returns
    -------
    new : object
        The model now watched.
    """
    if old is new:
        return new
    if old is not None:
        try:
            old.changed.disconnect(slot)
        except Exception:  # noqa: BLE001 - was not connected
            pass
    if new is not None:
        new.changed.connect(slot)
    return new


class UndoStacks:
    """The undo and redo stacks of an editable model (a spindle set, a
    session's edit history): ``_undo`` / ``_redo`` lists and their state."""

    def _init_stacks(self):
        self._undo: list = []
        self._redo: list = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)


_POOL = None
_POOL_LOCK = threading.Lock()


def _helper_pool():
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            n = max(1, min(3, (os.cpu_count() or 1) - 1))
            _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="ss-helper")
        return _POOL


def parallel_map(fn: Callable[[Any], T], items: Iterable[Any],
                 parallel: bool = True) -> list[T]:
    """``[fn(x) for x in items]``, shared between this thread and helpers.

    For work that releases the GIL (NumPy, SciPy's FFT, file reads): the
    calling thread takes items too, so the call never waits for a helper
    that has not started (a helper still queued when the items run out is
    cancelled) and never deadlocks when called from a helper. At most
    ``min(3, cores - 1)`` helpers are shared by the whole process. The first
    exception raised by ``fn`` is raised here (remaining items are skipped).
    """
    items = list(items)
    n_extra = min(len(items) - 1, (os.cpu_count() or 1) - 1, 3) if parallel else 0
    if n_extra <= 0:
        return [fn(x) for x in items]
    results: list = [None] * len(items)
    errors: list = []
    lock = threading.Lock()
    order = iter(range(len(items)))

    def drain():
        while True:
            with lock:
                i = None if errors else next(order, None)
            if i is None:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
                with lock:
                    errors.append(exc)
                return

    pool = _helper_pool()
    futures = [pool.submit(drain) for _ in range(n_extra)]
    drain()
    for fut in futures:
        if not fut.cancel():
            fut.result()
    if errors:
        raise errors[0]
    return results


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``allowed`` (MNE-style message)."""
    allowed = list(allowed)
    if value not in allowed:
        allowed_str = ", ".join(repr(a) for a in allowed[:-1])
        if len(allowed) > 1:
            allowed_str += f" and {allowed[-1]!r}"
        else:
            allowed_str = repr(allowed[0])
        raise SpindleScopeError(
            f"Invalid value for the {name!r} parameter. Allowed values are "
            f"{allowed_str}, but got {value!r} instead."
        )
    return value


def check_range(name: str, value: float, low: float | None = None,
                high: float | None = None) -> float:
    """Check a number lies within ``[low, high]`` (either end optional)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SpindleScopeError(
            f"Invalid value for the {name!r} parameter: expected a number, "
            f"but got {value!r} instead."
        ) from None
    if value != value or (low is not None and value < low) or (
            high is not None and value > high):
        rng = f"[{'-inf' if low is None else low}, " \
              f"{'inf' if high is None else high}]"
        raise SpindleScopeError(
            f"Invalid value for the {name!r} parameter: it must lie in {rng}, "
            f"but got {value!r} instead."
        )
    return value


def user_dir(kind: str) -> Path:
    """The platform's per-user folder of ``kind`` ('cache' or 'config'), created.

    ``SPINDLESCOPE_CACHE_DIR`` / ``SPINDLESCOPE_CONFIG_DIR`` override it.
    """
    check_option("kind", kind, ("cache", "config"))
    env = os.environ.get(f"SPINDLESCOPE_{kind.upper()}_DIR")
    if env:
        path = Path(env)
    else:
        import platformdirs

        finder = getattr(platformdirs, f"user_{kind}_dir")
        path = Path(finder("spindlescope", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Folder for built artefacts (template head model, demo recording)."""
    return user_dir("cache")


def resources_dir() -> Path:
    """The app's ``resources/`` folder (shipped data, parameters, icons)."""
    return Path(__file__).resolve().parent.parent.parent / "resources"


def fsync_dir(folder) -> None:
    """Flush a folder's entries to disk (after a rename); a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None):
    """Open a temporary file beside ``path`` that replaces it atomically on success.

    The one writer for every file the app writes: the data go to a uniquely
    named temporary file in the same folder, are flushed and fsync'd, then
    moved over ``path`` with :func:`os.replace`, and the folder is fsync'd.
    If the block raises, ``path`` is left as it was and the temporary file
    is removed. A reader therefore sees either the old or the new file,
    never a truncated one, whatever kills the process.

    Parameters
    ----------
    path : path-like
        The file to (re)write; its folder must exist.
    mode : str
        ``"w"`` (text) or ``"wb"`` (bytes).
    encoding, newline : str | None
        As for :func:`open` (text mode only).
    """
    check_option("mode", mode, ("w", "wb"))
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                               dir=path.parent)
    binary = mode == "wb"
    try:
        # mkstemp creates 0600; keep the old file's mode, else the umask's default
        try:
            perm = path.stat().st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            perm = 0o666 & ~umask
        with contextlib.suppress(OSError):
            os.chmod(tmp, perm)
        with os.fdopen(fd, mode, **({} if binary else
                                    {"encoding": encoding, "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)
