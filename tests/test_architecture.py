"""House rule 1: core never imports Qt or the GUI stack; the package layout's
import contracts, no import cycles in core, no module over 800 lines."""

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "core"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "qtpy", "pyqtgraph", "pyvistaqt",
             "superqt", "gui")


def test_core_sources_import_no_gui():
    bad = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert bad == []


def test_importing_core_loads_no_qt():
    code = ("import sys, pkgutil, importlib, core\n"
            "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            f"{FORBIDDEN!r}]\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, cwd=CORE.parent, check=True)
    assert out.stdout.strip() == ""


# -- the package layout (issue #12 item 3) -----------------------------------

ROOT = CORE.parent
MAX_LINES = 800


def _lint_imports(*args):
    pytest.importorskip("importlinter")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = "import sys; from importlinter.cli import lint_imports_command as c; c()"
    return subprocess.run([sys.executable, "-c", code, "--no-cache", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env)


def test_import_contracts_are_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 3
    assert {c["type"] for c in contracts} >= {"forbidden", "layers", "independence"}
    out = _lint_imports()
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in out.stdout


def test_import_contracts_can_break(tmp_path):
    """The same machinery reports a broken contract: core's layers upside down."""
    cfg = tmp_path / "upside_down.toml"
    cfg.write_text('[tool.importlinter]\nroot_packages = ["core"]\n\n'
                   '[[tool.importlinter.contracts]]\nname = "upside down"\n'
                   'type = "layers"\ncontainers = ["core"]\n'
                   'layers = ["utils", "scoring", "io"]\n')
    out = _lint_imports("--config", str(cfg))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Contracts: 0 kept, 1 broken." in out.stdout
    # io reads hypnograms into the scoring models: the import named in the report
    assert "core.io.hypnograms -> core.scoring.staging" in out.stdout


def _core_graph():
    grimp = pytest.importorskip("grimp")
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph("core", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def test_no_import_cycles_in_core():
    graph = _core_graph()
    cycles = []
    for a in sorted(graph.modules):
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            back = graph.find_shortest_chain(importer=b, imported=a)
            if back is not None:
                cycles.append(" -> ".join((a,) + tuple(back)))
    assert len(graph.modules) > 50     # the graph holds the whole core package
    assert cycles == []


def test_no_module_over_800_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for top in ("core", "gui") for p in (ROOT / top).rglob("*.py")}
    assert len(sizes) > 80
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}
