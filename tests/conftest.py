"""Shared fixtures: real-data folder, a cache for built head models."""

from __future__ import annotations

import gc
import getpass
import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Built artefacts (template head model, demo recording) are cached across test
# runs in a per-user folder of the system's temporary directory (never in the
# checkout) unless the caller chose a folder.
os.environ.setdefault(
    "SPINDLESCOPE_CACHE_DIR",
    str(Path(tempfile.gettempdir()) / f"spindlescope-test-cache-{getpass.getuser()}"))


def data_dir() -> Path:
    return Path(os.environ.get("SPINDLESCOPE_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder; tests using it are skipped where it is absent."""
    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent (set SPINDLESCOPE_DATA)")
    return path


@pytest.fixture(scope="session")
def sample_dir(shared_data) -> Path:
    path = shared_data / "mne_sample"
    if not path.is_dir():
        pytest.skip("mne_sample data absent")
    return path


@pytest.fixture(scope="session")
def dreams_dir(shared_data) -> Path:
    path = shared_data / "dreams"
    if not path.is_dir():
        pytest.skip("DREAMS data absent")
    return path


# Property-based tests keep no example database in the checkout.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY",
    str(Path(tempfile.gettempdir()) / f"spindlescope-hypothesis-{getpass.getuser()}"))
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("spindlescope", database=None)
    _hypothesis_settings.load_profile("spindlescope")
except ImportError:  # pragma: no cover - the test extra brings hypothesis
    pass


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread(request):
    """GUI tests: no automatic garbage collection while they run (a cycle
    holding Qt objects collected on a worker thread deadlocks against the
    main thread, as the app's ``gui.workers.MainThreadGC`` prevents there);
    collected on the main thread before and after instead."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if enabled:
            gc.enable()


@pytest.fixture(scope="module")
def sample_problem(sample_dir):
    """The real sample recording, a small-source-space forward and its noise
    covariance (shared by the inverse tests)."""
    import mne

    from core.io.recording import open_recording

    rec = open_recording(sample_dir / "SSS/sample_audvis_trunc_raw_sss.fif")
    src = mne.read_source_spaces(sample_dir / "mne_python_tests/small-src.fif.gz",
                                 verbose="error")
    fwd = mne.make_forward_solution(
        rec.info, sample_dir / "MEG/sample/sample_audvis_trunc-trans.fif", src,
        sample_dir / "subjects/sample/bem/sample-320-320-320-bem-sol.fif",
        verbose="error")
    cov = mne.read_cov(sample_dir / "MEG/sample/sample_audvis_trunc-cov.fif",
                       verbose="error")
    return rec, fwd, cov
