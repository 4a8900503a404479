"""Installer files: fast checks only (the real build is installer/smoke_test.sh).

The NSIS script is compiled with ``makensis`` against a placeholder payload
(skipped when NSIS is absent; CI installs it), the CI workflow parses, the
PyInstaller spec runs with stubbed PyInstaller objects, and every script takes
its version from ``core.__version__``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "installer"
SPEC = INSTALLER / "spindlescope.spec"
NSI = INSTALLER / "windows" / "spindlescope.nsi"
WORKFLOW = ROOT / ".github" / "workflows" / "build.yml"


def _run_spec(monkeypatch, platform="linux"):
    """Execute the spec with PyInstaller's build objects replaced by recorders."""
    calls = {}

    def recorder(name):
        def fn(*args, **kwargs):
            calls.setdefault(name, []).append((args, kwargs))
            return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[],
                                         name=name, kwargs=kwargs)
        return fn

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda pkg, **kw: [(f"<{pkg} data {kw}>", pkg)]
    hooks.collect_submodules = lambda pkg, **kw: [f"{pkg}.<all>"]
    hooks.copy_metadata = lambda dist: [(f"<{dist} metadata>", ".")]
    pkg = types.ModuleType("PyInstaller")
    utils = types.ModuleType("PyInstaller.utils")
    for name, mod in (("PyInstaller", pkg), ("PyInstaller.utils", utils),
                      ("PyInstaller.utils.hooks", hooks)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(sys, "platform", platform)
    ns = {"SPECPATH": str(INSTALLER), "__file__": str(SPEC)}
    for name in ("Analysis", "PYZ", "EXE", "COLLECT"):
        ns[name] = recorder(name)
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), ns)
    return ns, calls


def test_spec_is_valid_python_and_collects_what_the_app_needs(monkeypatch):
    ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    ns, calls = _run_spec(monkeypatch, "linux")
    assert ns["VERSION"] == core.__version__
    (args, kw), = calls["Analysis"]
    assert args[0] == [str(ROOT / "main.py")]
    sources = " ".join(src for src, _ in kw["datas"])
    # MNE's data and .pyi stubs, nilearn's fsaverage5 (datasets), app resources
    assert "<mne data" in sources and "**/*.pyi" in sources
    assert "<nilearn data {'subdir': 'datasets'}>" in sources
    dests = {dest for _, dest in kw["datas"]}
    assert {"resources", "resources/icons"} <= dests
    for src, dest in kw["datas"]:
        if dest.startswith("resources"):
            assert Path(src).exists(), src
    assert {"mne.<all>", "core.<all>", "gui.<all>", "pyvistaqt"} <= set(kw["hiddenimports"])
    # automatic staging ships YASA with its classifier files and numba (antropy)
    assert not {"yasa", "numba", "llvmlite"} & set(kw["excludes"])
    assert "<yasa data {'includes': ['classifiers/*.joblib']}>" in sources
    assert "<lspopt data {}>" in sources   # read when yasa is imported
    assert {"yasa", "lightgbm.sklearn", "sklearn.preprocessing._label"} <= set(
        kw["hiddenimports"])
    assert [c[1]["name"] for c in calls["EXE"]] == ["spindlescope"]
    assert calls["COLLECT"][0][1]["name"] == "SpindleScope"
    assert calls["EXE"][0][1]["icon"] is None  # Linux: the .deb installs the PNG


def test_spec_on_windows_adds_a_console_build(monkeypatch):
    _, calls = _run_spec(monkeypatch, "win32")
    exes = {c[1]["name"]: c[1] for c in calls["EXE"]}
    assert set(exes) == {"spindlescope", "spindlescope-cli"}
    assert exes["spindlescope"]["console"] is False
    assert exes["spindlescope-cli"]["console"] is True
    assert exes["spindlescope"]["icon"].endswith(".ico")
    assert Path(exes["spindlescope"]["icon"]).is_file()


def test_version_comes_from_core():
    """One number: --version, the package names and the installer all read it."""
    from main import main

    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0
    assert out.stdout.strip() == f"SpindleScope {core.__version__}"
    assert callable(main)
    pytest.importorskip("PySide6")
    from gui.dialogs.common import versions

    assert versions()["SpindleScope"] == core.__version__  # Help > About
    for script in (INSTALLER / "build_linux.sh", INSTALLER / "smoke_test.sh",
                   INSTALLER / "windows" / "build_windows.ps1"):
        text = script.read_text(encoding="utf-8")
        assert "core.__version__" in text, script
        assert core.__version__ not in text, f"{script} hard-codes the version"
    nsi = NSI.read_text(encoding="utf-8")
    assert '!error "Pass the version' in nsi and core.__version__ not in nsi
    linux = (INSTALLER / "build_linux.sh").read_text(encoding="utf-8")
    assert 'SpindleScope-${VERSION}-linux-x86_64' in linux
    assert "spindlescope_${VERSION}_${ARCH_DEB}.deb" in linux


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("script", ["build_linux.sh", "smoke_test.sh"])
def test_shell_scripts_parse(script):
    res = subprocess.run(["bash", "-n", str(INSTALLER / script)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr


def test_workflow_yaml_parses():
    yaml = pytest.importorskip("yaml")
    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "tags" in on["push"] and "workflow_dispatch" in on
    jobs = wf["jobs"]
    assert jobs["linux"]["runs-on"].startswith("ubuntu")
    assert jobs["windows"]["runs-on"].startswith("windows")
    linux_cmds = " ".join(s.get("run", "") for s in jobs["linux"]["steps"])
    win_cmds = " ".join(s.get("run", "") for s in jobs["windows"]["steps"])
    assert "installer/smoke_test.sh" in linux_cmds and "nsis" in linux_cmds
    assert "build_windows.ps1" in win_cmds
    for job in jobs.values():
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step


@pytest.mark.skipif(shutil.which("makensis") is None,
                    reason="makensis not installed (apt-get install nsis)")
def test_makensis_compiles_against_placeholder_payload(tmp_path):
    payload = tmp_path / "SpindleScope"
    (payload / "_internal" / "resources").mkdir(parents=True)
    (payload / "spindlescope.exe").write_bytes(b"MZ placeholder")
    (payload / "spindlescope-cli.exe").write_bytes(b"MZ placeholder")
    (payload / "_internal" / "resources" / "demo.json").write_text("{}")
    out = tmp_path / f"SpindleScope-{core.__version__}-setup.exe"
    res = subprocess.run(
        ["makensis", "-V2", f"-DVERSION={core.__version__}", f"-DPAYLOAD={payload}",
         f"-DOUTFILE={out}", str(NSI)],
        capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    data = out.read_bytes()
    assert data[:2] == b"MZ" and len(data) > 50_000
    # without a version the script refuses to compile
    res = subprocess.run(["makensis", "-V1", f"-DPAYLOAD={payload}",
                          f"-DOUTFILE={tmp_path / 'x.exe'}", str(NSI)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    assert not (tmp_path / "x.exe").exists()
