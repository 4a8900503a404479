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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spindlescope",
        description="SpindleScope: sleep spindles in EEG and MEG, headless commands.")
    parser.add_argument("--version", action="version",
                        version=f"SpindleScope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv=None) -> int:
    """Run a command; user errors print a message and return 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
