"""SpindleScope entry point.

``python main.py analyze|detect|compare|resolution ...`` runs a headless
command (see ``python main.py analyze --help``); anything else starts the
desktop app (``python main.py [FILE] [--demo]``).
"""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from core.cli.main import COMMANDS

    if argv and argv[0] in COMMANDS:
        from core.cli.main import main as cli_main

        return cli_main(argv)
    if argv and argv[0] == "--version":
        from core import __version__

        print(f"SpindleScope {__version__}")
        return 0
    try:
        from gui.app import main as gui_main
    except ImportError as exc:
        print(f"error: the desktop app cannot start ({exc}).", file=sys.stderr)
        return 2
    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
