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


def test_source_estimates_and_reports_are_written_atomically(tmp_path, monkeypatch):
    """STC exports go through the one atomic writer (issue 14, item 5)."""
    from types import SimpleNamespace

    import mne
    import numpy as np

    import core.utils.safe_io
    from core.report.writers import write_stcs

    written = []
    real = core.utils.safe_io.atomic_write_bytes
    monkeypatch.setattr(core.utils.safe_io, "atomic_write_bytes",
                        lambda p, d: written.append(p.name) or real(p, d))
    stc = mne.SourceEstimate(np.arange(6.0).reshape(3, 2), [np.array([0, 1]), np.array([5])],
                             tmin=0.0, tstep=0.01, subject="fsaverage")
    result = SimpleNamespace(spindles=[SimpleNamespace(index=0, stcs={"eeg": stc})])
    paths = write_stcs(result, tmp_path)
    assert written == ["eeg_spindle0-stc.h5"]
    back = mne.read_source_estimate(paths[0])
    np.testing.assert_array_equal(back.data, stc.data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eeg_spindle0-stc.h5"]
