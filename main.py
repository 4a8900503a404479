"""SpindleScope entry point.

``python main.py analyze|detect|compare|resolution ...`` runs a headless
command (see ``python main.py --help``: one parser, built in
``core.cli.main``, lists the app's options and every command); anything
else starts the desktop app (``python main.py [FILE] [--demo]``).
"""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    from core.cli.main import OPEN, parse_args

    args = parse_args(argv)   # one parser: the app's options and every command
    if args.command != OPEN:
        from core.cli.main import main as cli_main

        return cli_main(args)
    try:
        from gui.app import main as gui_main
    except ImportError as exc:
        print(f"error: the desktop app cannot start ({exc}).", file=sys.stderr)
        return 2
    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
