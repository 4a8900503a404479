"""installer/build_linux.sh reads the glibc version without dying of SIGPIPE.

Issue 14, item 13: under ``set -euo pipefail``, ``ldd --version | head -n1``
lets ``head`` close the pipe while ``ldd`` still writes; ``ldd`` dies of
SIGPIPE and the build exits 141 before doing anything. A fake ``ldd`` that
writes far more than a pipe buffer (64 KiB) makes that certain, not 1 in 5.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "installer" / "build_linux.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _glibc_lines() -> str:
    lines = [ln for ln in SCRIPT.read_text().splitlines()
             if ln.startswith(("LDD_OUT=", "GLIBC="))]
    assert lines, "build_linux.sh no longer sets GLIBC"
    return "\n".join(lines)


@pytest.mark.parametrize("first", ["ldd (Debian GLIBC 2.36-9+deb12u4) 2.36",
                                   "ldd (GNU libc) 2.39"])
def test_glibc_version_survives_a_long_ldd_output(tmp_path, first):
    fake = tmp_path / "ldd"
    # 300,000 lines (~2 MB) after the version line: head closes the pipe early
    fake.write_text(f"#!/bin/sh\necho '{first}'\nseq 1 300000\n")
    fake.chmod(0o755)
    code = f"set -euo pipefail\n{_glibc_lines()}\nprintf '%s' \"$GLIBC\"\n"
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(["bash", "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, (res.returncode, res.stderr)
    assert res.stdout == first.rsplit(" ", 1)[1]


def test_glibc_version_of_this_machine():
    if shutil.which("ldd") is None:
        pytest.skip("no ldd")
    code = f"set -euo pipefail\n{_glibc_lines()}\nprintf '%s' \"$GLIBC\"\n"
    res = subprocess.run(["bash", "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0
    major, minor = res.stdout.split(".")
    assert int(major) >= 2 and int(minor) >= 0
