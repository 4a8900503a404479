"""Command-line entry: ``python main.py COMMAND ...`` for headless work.

Each command lives in ``core.cli.commands.<name>`` with ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core import __version__
from core.utils import Cancelled, Progress, SpindleScopeError, logger

COMMANDS = {
    "analyze": "core.cli.commands.analyze",
    "detect": "core.cli.commands.detect",
    "compare": "core.cli.commands.compare",
    "resolution": "core.cli.commands.resolution",
    "stage": "core.cli.commands.stage",
    "compare-stages": "core.cli.commands.compare_stages",
    "batch": "core.cli.commands.batch",
}


#: What each command's ``--out`` names: checked before any computation.
OUTPUT_KIND = {"analyze": "folder", "detect": "file", "resolution": "folder"}


class TerminalProgress:
    """Print :class:`~core.utils.Progress` reports on one terminal line."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self._last = None

    def __call__(self, prog: Progress):
        line = f"[{prog.done:>4}/{prog.total}] {prog.message}"
        if line != self._last:
            end = "\n" if not self.stream.isatty() or prog.done >= prog.total else "\r"
            self.stream.write(line.ljust(70) + end)
            self.stream.flush()
            self._last = line
        return True


#: the tabs the app can show first (``--tab``)
APP_TABS = ("traces", "sources", "resolution")
#: the desktop app's mode: what runs when no command is given
OPEN = "open"


def add_app_arguments(parser: argparse.ArgumentParser, *, for_help: bool = False):
    """The desktop app's options (``python main.py [FILE] [--demo] ...``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser (or group) to add them to.
    for_help : bool
        Add them to the top-level help only: their defaults are suppressed so
        the ``open`` mode's own values are the ones parsed.
    """
    d = (lambda v: argparse.SUPPRESS) if for_help else (lambda v: v)
    parser.add_argument("--demo", action="store_true", default=d(False),
                        help="open the built-in simulated MEG+EEG demo recording")
    parser.add_argument("--screenshot", metavar="OUT", default=d(None),
                        help="render the window off-screen, save it as an image "
                             "and exit")
    parser.add_argument("--size", default=d("1600x1000"), metavar="WxH",
                        help="window size for --screenshot (default 1600x1000)")
    parser.add_argument("--tab", choices=APP_TABS, default=d("traces"),
                        help="tab shown (with --screenshot and --demo the "
                             "sources/resolution computation runs first)")
    parser.add_argument("--time", type=float, default=d(None), metavar="SECONDS",
                        help="start of the page shown first")


def build_parser() -> argparse.ArgumentParser:
    """The one parser of ``main.py``: the app's options and every command.

    Without a command the desktop app runs (the ``open`` mode, see
    :func:`parse_args`); ``python main.py --help`` lists both.
    """
    parser = argparse.ArgumentParser(
        prog="spindlescope",
        usage="%(prog)s [FILE] [app options]\n       %(prog)s COMMAND [options]",
        description="SpindleScope: sleep spindles in EEG and MEG. Without a "
                    "command the desktop app opens FILE (a recording or a "
                    "session .json); commands run headless.")
    parser.add_argument("--version", action="version",
                        version=f"SpindleScope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log details")
    add_app_arguments(parser.add_argument_group(
        "app options (the default mode, also 'open --help')"), for_help=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="spindlescope",
                                title="commands")
    p = sub.add_parser(OPEN, help="the desktop app (the default without a command)",
                       description="Start the desktop app.")
    p.add_argument("file", nargs="?", help="recording or session file to open")
    add_app_arguments(p)
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="log details")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """Parse ``main.py``'s arguments; no command means the ``open`` mode.

    Parameters
    ----------
    argv : list of str | None
        The arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    args : argparse.Namespace
        ``args.command`` is ``"open"`` for the app or a key of
        :data:`COMMANDS`.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    i = 0
    while i < len(argv) and argv[i] in ("-v", "--verbose"):
        i += 1
    first = argv[i] if i < len(argv) else None
    if first not in (*COMMANDS, OPEN, "-h", "--help", "--version"):
        argv.insert(i, OPEN)
    return build_parser().parse_args(argv)


def main(argv=None) -> int:
    """Run a command; user errors print a message and return 2.

    ``argv`` is a list of arguments or a namespace from :func:`parse_args`.
    """
    args = argv if isinstance(argv, argparse.Namespace) else parse_args(argv)
    if args.command == OPEN:
        print("error: give a command (see --help); the desktop app starts from "
              "'python main.py'.", file=sys.stderr)
        return 2
    logging.basicConfig(format="%(levelname)s: %(message)s",
                        level=logging.INFO if args.verbose else logging.WARNING)
    import mne

    mne.set_log_level("WARNING" if not args.verbose else "INFO")
    from core.utils.safe_io import check_output, os_error_message

    try:
        kind = OUTPUT_KIND.get(args.command)
        if kind is not None and getattr(args, "out", None) is not None:
            check_output(args.out, kind)   # before minutes of computing
        return int(args._run(args) or 0)
    except SpindleScopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:   # PermissionError, IsADirectoryError, ENOSPC, ...
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: not enough memory for this computation. Analyse a shorter "
              "period or fewer channels.", file=sys.stderr)
        return 2
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
