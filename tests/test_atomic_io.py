import os, pytest
from core.utils import atomic_open, atomic_write_text, atomic_write_bytes

def test_atomic_write_replaces_and_cleans(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"
    atomic_write_bytes(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]

def test_atomic_open_failure_keeps_old(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "old")
    with pytest.raises(RuntimeError):
        with atomic_open(p) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_atomic_write_mode_follows_umask_and_old_file(tmp_path):
    p = tmp_path / "m.txt"
    old = os.umask(0o022)
    try:
        atomic_write_text(p, "x")
    finally:
        os.umask(old)
    assert (p.stat().st_mode & 0o777) == 0o644
    os.chmod(p, 0o640)
    atomic_write_text(p, "y")
    assert (p.stat().st_mode & 0o777) == 0o640
