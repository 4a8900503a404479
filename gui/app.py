"""Start the desktop app: ``python main.py [FILE] [--demo] [--screenshot OUT]``.

``--screenshot OUT`` renders the window off-screen (no display needed), saves
its image to ``OUT`` and exits with status 0 (2 when the file cannot be opened).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import traceback

from core import __version__


def parse_args(argv=None) -> argparse.Namespace:
    """The app's arguments, parsed by the one parser of ``main.py``.

    Parameters
    ----------
    argv : list of str | argparse.Namespace | None
        Arguments of the ``open`` mode (``sys.argv[1:]`` when None), or a
        namespace already parsed by :func:`core.cli.main.parse_args`.
    """
    from core.cli.main import OPEN, parse_args as cli_parse_args

    if isinstance(argv, argparse.Namespace):
        return argv
    argv = list(sys.argv[1:] if argv is None else argv)
    return cli_parse_args([OPEN, *argv])


def _excepthook(exc_type, exc, tb):
    """Uncaught exceptions in slots end in a dialog, never a dead window."""
    from PySide6.QtWidgets import QApplication

    from gui.dialogs import common as dialogs

    text = "".join(traceback.format_exception(exc_type, exc, tb))
    logging.getLogger("spindlescope").error("Uncaught exception:\n%s", text)
    app = QApplication.instance()
    parent = app.activeWindow() if app is not None else None
    if app is not None:
        dialogs.show_error(parent, "Something went wrong.", exc, text)


def _render(app, window, out: str) -> int:
    from PySide6.QtCore import QCoreApplication

    window.show()
    for _ in range(5):
        QCoreApplication.processEvents()
    window.browser.loader.wait(30000)
    for _ in range(5):
        QCoreApplication.processEvents()
    img = window.grab()

    def save(tmp):
        if not img.save(str(tmp)):
            raise ValueError("Qt cannot write this image format")

    from core.utils.safe_io import write_via_temp

    try:
        write_via_temp(out, save)   # atomically: never half an image
    except (ValueError, OSError) as exc:
        print(f"error: cannot write the screenshot to {out!r} ({exc}; use .png "
              f"or .jpg in a folder you can write to).", file=sys.stderr)
        return 2
    print(f"screenshot saved to {out} ({img.width()}x{img.height()})")
    return 0


def _show_tab(window, tab: str, compute: bool):
    """Select a tab; for a screenshot run what the workspace tabs show."""
    from core.cli.main import TerminalProgress

    demo = getattr(window, "demo_paths", None) is not None
    if tab == "sources":
        from gui.sources.sources_tab import run_for_screenshot

        window.tabs.setCurrentWidget(window.sources_tab)
        if compute:
            run_for_screenshot(window.sources_tab, demo=demo,
                               progress=TerminalProgress())
    elif tab == "resolution":
        from gui.resolution.resolution_tab import run_for_screenshot

        window.tabs.setCurrentWidget(window.resolution_tab)
        if compute:
            run_for_screenshot(window.resolution_tab, demo=demo,
                               progress=TerminalProgress())


def main(argv=None) -> int:
    """Run the app; returns the exit status."""
    args = parse_args(argv)
    if args.time is not None and not (math.isfinite(args.time) and args.time >= 0):
        print(f"error: --time must be a finite number of seconds from the start of "
              f"the recording (0 or more), got {args.time!r}.", file=sys.stderr)
        return 2
    logging.basicConfig(format="%(levelname)s: %(message)s",
                        level=logging.INFO if args.verbose else logging.WARNING)
    if args.screenshot and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import mne
    from PySide6.QtWidgets import QApplication

    from core.session.settings import Settings

    from gui.main_window import MainWindow

    mne.set_log_level("WARNING")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("SpindleScope")
    app.setApplicationVersion(__version__)
    from gui.workers import MainThreadGC

    app._main_thread_gc = MainThreadGC(app)   # no collection on worker threads
    settings = Settings.load()
    window = MainWindow(settings)
    if args.screenshot:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"error: --size must look like 1600x1000, got {args.size!r}.",
                  file=sys.stderr)
            return 2
        window.resize(w, h)
        from core.utils.safe_io import check_output
        from core.utils import SpindleScopeError as _Err

        try:
            check_output(args.screenshot, "file", "--screenshot")
        except _Err as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        # nobody to answer a recovery question; crash data stay untouched
        window.autosave.interactive = False
        # headless: errors are printed, never shown in a dialog
        from core.utils import SpindleScopeError

        try:
            if args.demo:
                from core.session.simulate import demo_paths

                window._open_demo_paths(demo_paths())
            elif args.file:
                if args.file.endswith(".json"):
                    from core.session.session import Session

                    # the session's saved view, results and proposals too
                    window.adopt_session(Session.load(args.file, settings=settings),
                                         keep_path=False)
                else:
                    window._open_recording(args.file)
        except SpindleScopeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.time is not None:
            window.browser.set_time(args.time)
        try:
            _show_tab(window, args.tab, compute=args.demo or bool(args.file))
        except SpindleScopeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        code = _render(app, window, args.screenshot)
        window.sources_tab.shutdown(5000)
        window.resolution_tab.shutdown(5000)
        window.autosave.stop(clean=True)
        window.browser.loader.wait(5000)
        window.deleteLater()
        app._main_thread_gc.stop()   # collection back to Python for the caller
        return code

    sys.excepthook = _excepthook
    window.show()
    if args.demo:
        window.open_demo()
    elif args.file:
        window.open_path(args.file)
    else:
        from gui.dialogs.recovery import pending_recoveries

        for folder, rec in pending_recoveries()[:1]:
            window.open_path(rec)  # opening offers to restore
    if args.time is not None:
        window.browser.set_time(args.time)
    _show_tab(window, args.tab, compute=False)
    return app.exec()
