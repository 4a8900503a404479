"""One pipeline: the GUI and the command line give the same numbers.

The demo runs through the GUI path (the main window's detection dialog and
compare dock; the worker the Sources and Resolution tabs start, on the
workspace methods they call) and through ``core.cli.main([...])`` writing
files, for detect, compare, analyze and resolution; the outputs must be
equal. Also: a result computed while the hypnogram is re-scored is stored
under the key of the snapshot it was computed from.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from gui_fixtures import demo_recording, gui_env, window  # noqa: F401

N_SPINDLES = 2
N_BOOT = 50


@pytest.fixture(scope="module")
def demo():
    from core.session.simulate import demo_paths

    return demo_paths()


@pytest.fixture
def demo_window(window, demo):  # noqa: F811
    from core.io.hypnograms import read_hypnogram

    window._open_recording(demo.raw, hypnogram=read_hypnogram(demo.hypnogram))
    return window


def _rows(path):
    from core.io.marks import read_spindles

    return [(s.onset, s.duration, s.visibility, tuple(s.channels))
            for s in sorted(read_spindles(path), key=lambda s: s.onset)]


def _run_worker(qtbot, make_gen):
    """What the tabs do: a ProgressWorker; returns the value it finished with."""
    from gui.workers import ProgressWorker

    worker = ProgressWorker(make_gen)
    failed = []
    worker.failed.connect(lambda exc, details: failed.append(details))
    with qtbot.waitSignal(worker.finished, timeout=600_000,
                          raising=False) as blocker:
        worker.start()
    assert not failed, failed[0]
    return blocker.args[0]


@pytest.mark.parametrize("montage", [None, "Sleep (AASM)"])
def test_detect_and_compare_gui_equal_cli(demo_window, demo, qtbot, tmp_path, capsys,
                                          montage):
    from core.cli.main import main
    from core.io.marks import write_spindles

    w = demo_window
    dlg = w.detect_dialog()
    dlg.method.setCurrentText("a7")
    dlg.group.setCurrentText("eeg")
    assert dlg.n2_only.isChecked()
    if montage:
        items = [dlg.montage.itemText(i) for i in range(dlg.montage.count())]
        assert montage in items
        dlg.montage.setCurrentText(montage)
    with qtbot.waitSignal(w.sigDetectionDone, timeout=300_000) as blocker:
        dlg.accept()
    uids = blocker.args[0]
    assert len(uids) > 3
    sp = w.session.spindles
    gui_tsv = tmp_path / "gui.tsv"
    write_spindles([sp.get(u) for u in uids], gui_tsv)
    # the result records the montage used
    rec_montage = w.session.results["detection"]["montage"]
    if montage:
        assert montage in rec_montage
    cli_tsv = tmp_path / "cli.tsv"
    argv = ["detect", str(demo.raw), "--hypnogram", str(demo.hypnogram), "--method",
            "a7", "--modality", "eeg", "--out", str(cli_tsv)]
    if montage:
        argv += ["--montage", montage]
    assert main(argv) == 0
    gui_rows, cli_rows = _rows(gui_tsv), _rows(cli_tsv)
    assert len(gui_rows) == len(uids)
    assert gui_rows == cli_rows
    assert f"({rec_montage})" in capsys.readouterr().out
    if montage:
        return
    # compare: the session's marks against the demo's true spindles
    summary = w.compare.compare_file(demo.spindles)
    capsys.readouterr()
    assert main(["compare", str(demo.spindles), str(gui_tsv), "--duration",
                 str(w.session.recording.duration), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert summary["matched"] == cli["tp"] > 0
    for gkey, ckey in (("F1", "f1"), ("precision", "precision"), ("recall", "recall"),
                       ("kappa", "kappa")):
        assert summary[gkey] == pytest.approx(cli[ckey], rel=1e-12, abs=1e-12), gkey
    assert 0.0 < summary["kappa"] < 1.0
    # one marks rule: rejecting a mark drops it from both sides' counts
    sp.edit(uids[0], status="rejected")
    assert w.compare.compare_file(demo.spindles)["mine"] == summary["mine"] - 1


def _demo_session(max_spindles=None):
    from core.cli.commands.resolution import demo_session

    return demo_session(max_spindles=max_spindles)


def test_analyze_gui_equals_cli(demo, qtbot, tmp_path):
    from core.cli.main import main
    from core.session.session import Session
    from core.sources.synchrony_figures import FIGURES
    from gui.sources.sources_tab import prepare_demo

    session = Session()
    prepare_demo(session, max_spindles=N_SPINDLES)   # what the Sources tab's demo does
    ws = session.workspace
    ws.update(n_boot=N_BOOT, n_perm=N_BOOT)          # small: a quick test
    value = _run_worker(qtbot, session.iter_analyze)  # what SourcesTab.run starts
    ws.store(value)
    gui = session.results["sources"]
    out = tmp_path / "cli"
    assert main(["analyze", str(demo.raw), "--spindles", str(demo.spindles),
                 "--hypnogram", str(demo.hypnogram), "--forward", str(demo.forward),
                 "--max-spindles", str(N_SPINDLES), "--n-boot", str(N_BOOT),
                 "--out", str(out), "--no-stc",
                 "--no-report"]) == 0
    cli = json.loads((out / "summary.json").read_text())
    assert cli["n_spindles"] == gui["n_spindles"] == N_SPINDLES
    n = 0
    for key in FIGURES:
        for suffix in ("", "_null", "_excess", "_p"):
            if gui.get(key + suffix) is None:
                continue
            assert gui[key + suffix] == pytest.approx(cli[key + suffix], rel=1e-12,
                                                      abs=1e-12), key + suffix
            n += 1
        if gui.get(key + "_ci") is not None:
            np.testing.assert_allclose(gui[key + "_ci"], cli[key + "_ci"], rtol=1e-7,
                                       atol=1e-9, err_msg=key)
    assert n >= 40
    assert cli["noise_cov"].startswith("spindle-free N2 segments, 10–15 Hz")


def test_resolution_gui_equals_cli(qtbot, tmp_path):
    from core.cli.main import main

    session = _demo_session()
    sel = {"methods": ("MNE", "dSPM"), "sensors": ("meg",), "snr": 3.0,
           "functions": ("psf", "ctf"), "metrics": ("peak_err", "sd_ext", "peak_amp")}
    ws = session.workspace
    # what ResolutionTab.compute starts
    value = _run_worker(qtbot, lambda: session.iter_resolution(**sel))
    ws.store(value)
    res = ws.resolution(**sel)
    assert res is value.result
    out = tmp_path / "res"
    assert main(["resolution", "--demo", "--methods", "MNE,dSPM", "--sensors", "meg",
                 "--no-maps", "--no-report", "--out", str(out)]) == 0
    with open(out / "metrics.csv", newline="") as fid:
        rows = list(csv.DictReader(fid))
    n_checked = 0
    for method in sel["methods"]:
        mine = [r for r in rows if r["method"] == method and r["sensors"] == "meg"]
        assert len(mine) == res.n_sources > 1000
        for name in res.names:
            cli = np.array([float(r[name]) for r in mine])
            # the CSV holds 9 significant digits
            np.testing.assert_allclose(cli, res.get(method, "meg", name), rtol=6e-9,
                                       atol=1e-12, err_msg=f"{method} {name}")
            n_checked += 1
    assert n_checked == 2 * 6


def test_rescoring_during_a_run_keeps_the_snapshot_key(qtbot):
    """Scoring N2 epochs while the analysis runs: the result lands under the
    key of the inputs it was computed from, never under the new ones."""
    from gui.workers import ProgressWorker

    session = _demo_session(max_spindles=1)
    ws = session.workspace
    ws.update(null=False, modalities=("eeg",))
    hyp = session.hypnogram
    k0 = ws.sources_key()
    worker = ProgressWorker(ws.iter_sources)
    with qtbot.waitSignal(worker.finished, timeout=600_000) as blocker:
        worker.start()
        # main thread, while the worker computes: score an epoch N2
        i = next(i for i, s in enumerate(hyp.stages) if s != "N2")
        old = hyp.stages[i]
        hyp.set_stage(i, "N2")
        k1 = ws.sources_key()
    assert k1 != k0
    value = blocker.args[0]
    assert value.key == k0
    ws.store(value)
    assert ws.sources is None            # not the result of the current inputs
    assert "sources" not in session.results
    assert ws._cache[k0] is value.result
    # the covariance cached is the one of the snapshot's N2 epochs
    (cov_key, cov), = ws._cov_cache.items()
    hyp.set_stage(i, old)
    assert ws.sources is value.result     # back to the inputs it was computed from
    assert ws.snapshot("sources").cov_key == cov_key
    assert ws.snapshot("sources").cov is cov


def test_snapshot_is_frozen(demo):
    import dataclasses

    session = _demo_session(max_spindles=3)
    ws = session.workspace
    snap = ws.snapshot("sources")
    assert len(snap.spindles) == 3 and snap.key == ws.sources_key()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.key = "x"
    onset = snap.spindles[0].onset
    live = min((s for s in session.spindles if s.status != "rejected"),
               key=lambda s: s.onset)
    assert live is not snap.spindles[0] and live.onset == onset
    # editing the live marks leaves the snapshot alone and changes the key
    session.spindles.edit(live.uid, onset=onset + 0.5)
    assert snap.spindles[0].onset == onset
    assert ws.sources_key() != snap.key
    assert snap.info is not session.recording.info
