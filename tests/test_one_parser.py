"""One parser for ``main.py``: the app's options and every headless command."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.main import APP_TABS, COMMANDS, OPEN, build_parser, parse_args
from core.session.pipeline import (
    COMPARE_MARKS,
    DETECT_METHODS,
    DETECT_MODALITIES,
    INVERSE_METHODS,
)

REPO = Path(__file__).resolve().parents[1]


def _choices(command: str, dest: str):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if a.dest == dest).choices


def test_help_lists_app_options_and_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for opt in ("--demo", "--screenshot", "--size", "--tab", "--time", "--version",
                "--verbose"):
        assert opt in text, opt
    for name in (*COMMANDS, OPEN):
        assert f"\n    {name} " in text, name


@pytest.mark.parametrize("argv, expected", [
    ([], dict(command=OPEN, file=None, demo=False, screenshot=None, tab="traces",
              time=None, size="1600x1000", verbose=False)),
    (["rec.fif"], dict(command=OPEN, file="rec.fif", demo=False)),
    (["--demo", "--screenshot", "out.png"], dict(command=OPEN, demo=True,
                                                  screenshot="out.png", file=None)),
    (["-v", "rec.fif", "--time", "12.5", "--tab", "sources"],
     dict(command=OPEN, file="rec.fif", time=12.5, tab="sources", verbose=True)),
    (["open", "s.json", "--size", "800x600"], dict(command=OPEN, file="s.json",
                                                    size="800x600")),
    (["detect", "rec.fif", "--out", "o.tsv", "--method", "yasa"],
     dict(command="detect", recording="rec.fif", out="o.tsv", method="yasa")),
    (["-v", "compare", "a.tsv", "b.tsv", "--marks", "accepted"],
     dict(command="compare", marks="accepted", verbose=True)),
])
def test_parse_results(argv, expected):
    args = vars(parse_args(argv))
    assert {k: args[k] for k in expected} == expected


def test_choices_come_from_core():
    assert tuple(_choices("detect", "method")) == DETECT_METHODS
    assert tuple(_choices("detect", "modality")) == DETECT_MODALITIES
    assert tuple(_choices("analyze", "method")) == tuple(INVERSE_METHODS)
    assert tuple(_choices("compare", "marks")) == COMPARE_MARKS
    assert tuple(_choices(OPEN, "tab")) == APP_TABS
    assert tuple(_choices("batch", "detect_method")) == DETECT_METHODS
    assert tuple(_choices("batch", "modality")) == DETECT_MODALITIES
    assert tuple(_choices("batch", "method")) == tuple(INVERSE_METHODS)


@pytest.mark.parametrize("argv", [["--tab", "nowhere"], ["detect", "x", "--out", "o",
                                                          "--method", "nope"],
                                  ["--bogus"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_gui_app_receives_the_parsed_namespace():
    from gui.app import parse_args as app_parse

    ns = parse_args(["--demo"])
    assert app_parse(ns) is ns
    assert vars(app_parse(["rec.fif", "--time", "3"])) == vars(parse_args(["rec.fif",
                                                                          "--time", "3"]))


def test_cli_main_refuses_the_open_mode(capsys):
    from core.cli.main import main

    assert main(parse_args([])) == 2
    assert "give a command" in capsys.readouterr().err


def test_main_py_help_and_version_run_headless():
    out = subprocess.run([sys.executable, str(REPO / "main.py"), "--help"], cwd=REPO, check=False,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "--screenshot" in out.stdout and "resolution" in out.stdout
    out = subprocess.run([sys.executable, str(REPO / "main.py"), "--version"], cwd=REPO, check=False,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("SpindleScope ")


def test_main_py_dispatches_the_namespace(monkeypatch):
    import core.cli.main as cli
    import gui.app
    from main import main

    got = {}
    monkeypatch.setattr(gui.app, "main", lambda args: got.setdefault("app", args) and 0)
    monkeypatch.setattr(cli, "main", lambda args: got.setdefault("cli", args) and 0)
    assert main(["rec.fif", "--tab", "resolution"]) == 0
    assert (got["app"].command, got["app"].file, got["app"].tab) == (OPEN, "rec.fif",
                                                                   "resolution")
    assert main(["compare", "a.tsv", "b.tsv"]) == 0
    assert (got["cli"].command, got["cli"].reference) == ("compare", "a.tsv")
