"""Cohorts on Dask (issue 15): discovery, resume, faults, group statistics."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

from core.batch import (discover, figure_statistics, group_statistics, make_settings,
                        null_values, read_sample_list)
from core.utils import SpindleScopeError, run_with_progress

pytest.importorskip("distributed")
pytest.importorskip("mne_bids")


# --------------------------------------------------------------------------
# statistics on synthetic inputs with known answers
# --------------------------------------------------------------------------
def test_subject_mean_sd_and_pooled_exact():
    vals = [[1.0, 1.0, 1.0], [2.0], [3.0, 3.0]]
    st = figure_statistics(vals, n_boot=500, n_perm=200)
    assert st["n_subjects"] == 3 and st["n_spindles"] == 6
    assert st["subject_mean"] == pytest.approx(2.0)
    assert st["subject_sd"] == pytest.approx(1.0)
    assert st["pooled"] == pytest.approx((3 + 2 + 6) / 6)
    assert "excess" not in st  # no null: no excess, interval or p
    lo, hi = st["pooled_ci"]
    assert 1.0 <= lo <= st["pooled"] <= hi <= 3.0


def test_excess_shift_is_exact_and_significant():
    rng = np.random.default_rng(1)
    nulls = [rng.normal(0.2, 0.05, 40) for _ in range(6)]
    vals = [z[:10] + 0.3 for z in nulls]  # every spindle 0.3 above a null value
    st = figure_statistics(vals, nulls, n_boot=1000, n_perm=999, seed=3)
    expect = np.mean(np.concatenate(vals)) - np.mean(np.concatenate(nulls))
    assert st["excess"] == pytest.approx(expect)
    assert st["pooled_null"] == pytest.approx(np.mean(np.concatenate(nulls)))
    assert st["excess_ci"][0] > 0.2 and st["excess_ci"][1] < 0.4
    assert st["p"] == pytest.approx(1 / 1000)  # no permutation reaches it


def test_no_effect_is_not_significant_and_interval_covers_zero():
    rng = np.random.default_rng(7)
    vals = [rng.normal(0.5, 0.1, 8) for _ in range(12)]
    nulls = [rng.normal(0.5, 0.1, 30) for _ in range(12)]
    st = figure_statistics(vals, nulls, n_boot=2000, n_perm=1999, seed=0)
    assert st["p"] > 0.05
    assert st["excess_ci"][0] < 0 < st["excess_ci"][1]


def test_bootstrap_interval_width_matches_theory():
    # one spindle per subject: the subject bootstrap of the mean has SE = sd/sqrt(n)
    rng = np.random.default_rng(11)
    x = rng.normal(1.0, 2.0, 40)
    st = figure_statistics([[v] for v in x], n_boot=4000, seed=2)
    width = st["pooled_ci"][1] - st["pooled_ci"][0]
    theory = 2 * 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert width == pytest.approx(theory, rel=0.15)


def test_group_statistics_pools_subjects_and_finds_nulls():
    s1 = {"a_per_spindle": [1.0, 3.0], "a_null_values": [0.0, 0.0, 0.0],
          "b_per_spindle": [5.0]}
    s2 = {"a_per_spindle": [2.0], "a_null_values": [1.0], "b_per_spindle": [7.0]}
    s3 = {"a_per_spindle": [4.0], "a_null_values": [1.0, 1.0], "b_per_spindle": [9.0]}
    assert null_values(s1, "a") == [0.0, 0.0, 0.0] and null_values(s1, "b") is None
    assert null_values({"null": {"a": [1, 2]}}, "a") == [1, 2]
    out = group_statistics([("01", s1), ("02", s2), ("01", s3)], n_boot=200, n_perm=200)
    a, b = out["a"], out["b"]
    assert a["n_subjects"] == 2 and a["n_spindles"] == 4
    assert a["subject_mean"] == pytest.approx((8 / 3 + 2) / 2)  # 01 pools two recordings
    assert a["pooled"] == pytest.approx(10 / 4)
    assert a["pooled_null"] == pytest.approx(3 / 6)
    assert a["excess"] == pytest.approx(2.0)
    assert "excess" not in b and b["pooled"] == pytest.approx(7.0)
    # a coherence not estimable for a short spindle is stored as null (None): left out
    s4 = {"c_per_spindle": [1.0, None, 3.0], "c_null_values": [None, 1.0]}
    c = group_statistics([("01", s4), ("02", {"c_per_spindle": [5.0],
                                               "c_null_values": [2.0]})],
                         n_boot=100, n_perm=100)["c"]
    assert c["n_spindles"] == 3 and c["pooled"] == pytest.approx(3.0)
    assert c["pooled_null"] == pytest.approx(1.5)


def test_statistics_reject_bad_input():
    with pytest.raises(SpindleScopeError, match="at least one spindle"):
        figure_statistics([[1.0], []])
    with pytest.raises(SpindleScopeError, match="NaN"):
        figure_statistics([[1.0, np.nan]])


# --------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------
def test_sample_list_and_messages(tmp_path):
    (tmp_path / "a.fif").write_bytes(b"x")
    table = tmp_path / "samples.csv"
    table.write_text("subject,recording,spindles,forward\nsub-07,a.fif,a_events.tsv,f-fwd.fif\n"
                     "08,a.fif,,\n")
    items = read_sample_list(table)
    assert [it.subject for it in items] == ["07", "08"]
    assert items[0].spindles == str(tmp_path / "a_events.tsv")
    assert items[0].head == {"forward": str(tmp_path / "f-fwd.fif")}
    assert items[1].spindles is None and items[1].head == {}
    assert items[0].basename == "sub-07_rec-a"
    assert read_sample_list(table, participant_label=["sub-08"])[0].subject == "08"
    with pytest.raises(SpindleScopeError, match="09 not found"):
        read_sample_list(table, participant_label=["09"])
    bad = tmp_path / "bad.tsv"
    bad.write_text("subj\trecording\nx\ty\n")
    with pytest.raises(SpindleScopeError, match="lacks the column"):
        read_sample_list(bad)
    with pytest.raises(SpindleScopeError, match="not a BIDS dataset"):
        discover(tmp_path)
    with pytest.raises(SpindleScopeError, match="steps"):
        make_settings(steps="detect,fit")
    with pytest.raises(SpindleScopeError, match="Unknown batch setting"):
        make_settings(analyze={"snrr": 2})
    from core.batch.dataset import _sibling

    with pytest.raises(SpindleScopeError, match="Invalid file pattern"):
        _sibling(tmp_path / "a.fif", "a", "hypnogram", "{subj}_h.tsv",
                 dict(subject="1", session="", task="", run="", stem="a", root=str(tmp_path)))


def test_slurm_job_script(tmp_path):
    pytest.importorskip("dask_jobqueue")
    from core.batch.runner import slurm_cluster

    clus = slurm_cluster("queue=short,memory=6GB,walltime=01:30:00,cores=1", tmp_path)
    try:
        script = clus.job_script()
    finally:
        clus.close()
    assert "#SBATCH -p short" in script
    assert "#SBATCH -t 01:30:00" in script
    assert "--nthreads 1" in script and "--memory-limit 5.59GiB" in script
    with pytest.raises(SpindleScopeError, match="NAME=VALUE"):
        slurm_cluster("queue", tmp_path)


def test_detect_step_where_no_events(tmp_path):
    """A recording without events: the detector's spindles are written (in-process)."""
    from batch_fixtures import simulate_recording
    from core.batch import process_recording
    from core.io.marks import read_spindles

    paths = simulate_recording(tmp_path / "sim", 5)
    table = tmp_path / "samples.tsv"
    table.write_text(f"subject\trecording\thypnogram\n09\t{paths.raw}\t{paths.hypnogram}\n")
    item = read_sample_list(table)[0]
    settings = make_settings(steps="detect", detect={"modality": "eeg"})
    res = process_recording(item, settings, tmp_path / "deriv")
    assert res["status"] == "done" and list(res["outputs"]) == ["events"]
    found = read_spindles(tmp_path / "deriv" / "sub-09" / res["outputs"]["events"])
    truth = read_spindles(paths.spindles)
    assert len(found) >= 1
    hits = [any(f.onset < t.onset + t.duration and t.onset < f.onset + f.duration
                for t in truth) for f in found]
    assert np.mean(hits) >= 0.5  # most detections sit on a simulated spindle
    no_detect = process_recording(item, make_settings(steps="analyze"), tmp_path / "d2")
    assert no_detect["status"] == "error" and "no spindle events" in no_detect["message"]


# --------------------------------------------------------------------------
# the cohort on a two-worker LocalCluster
# --------------------------------------------------------------------------
def _snapshot(root: Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".work" not in p.relative_to(root).parts:  # Dask's scratch
            out[str(p.relative_to(root))] = (p.stat().st_mtime_ns,
                                             hashlib.sha256(p.read_bytes()).hexdigest())
    return out


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A BIDS root (3 simulated recordings + a corrupt one) and a 2-worker cluster."""
    import mne

    from batch_fixtures import make_bids
    from core.batch import make_client
    from core.sources.headmodel import template_forward

    base = tmp_path_factory.mktemp("cohort")
    root = make_bids(base / "bids", seeds=(1, 2, 3), corrupt=True, scratch=base / "sim")
    # a decimated template forward (every 12th source) keeps the test fast
    raw = mne.io.read_raw_fif(root / "sub-01" / "meg" / "sub-01_task-sleep_meg.fif",
                              verbose="error")
    fwd = template_forward(raw.info)
    verts = [s["vertno"][::12] for s in fwd["src"]]
    stc = mne.SourceEstimate(np.zeros((sum(map(len, verts)), 1)), verts, 0, 1)
    small = mne.forward.restrict_forward_to_stc(fwd, stc, on_missing="ignore")
    for k in range(1, 5):
        folder = root / "derivatives" / "forward" / f"sub-{k:02d}"
        folder.mkdir(parents=True)
        mne.write_forward_solution(folder / f"sub-{k:02d}_task-sleep-fwd.fif", small,
                                   verbose="error")
    deriv = base / "deriv"
    workdir = base / "cwd"
    workdir.mkdir()
    old_cwd = os.getcwd()
    os.chdir(workdir)
    client, cluster = make_client(deriv, workers=2, memory_limit="3GiB", dashboard=False)
    state = {"root": root, "deriv": deriv, "client": client, "cwd": workdir,
             "bids_before": _snapshot(root), "n_sources": small["nsource"]}
    yield state
    client.close()
    cluster.close()
    os.chdir(old_cwd)


def _run(cohort, settings, on_event=None):
    from core.batch import iter_batch

    items = discover(cohort["root"],
                     forward_pattern="derivatives/forward/sub-{subject}/*-fwd.fif")
    return run_with_progress(iter_batch(items, settings, cohort["deriv"], cohort["client"],
                                        n_boot=300, n_perm=300, source=str(cohort["root"]),
                                        on_event=on_event))


def _status(out):
    return {r["recording"]: r["status"] for r in out["results"]}


FAST = {"report": False}


def test_cohort_first_run(cohort):
    out = _run(cohort, make_settings(analyze=FAST))
    cohort["first"] = out
    print("first run", out["seconds"], [r.get("seconds") for r in out["results"]],
          [r.get("peak_rss_mb") for r in out["results"]])
    deriv = cohort["deriv"]
    assert _status(out) == {"sub-01_task-sleep": "done", "sub-02_task-sleep": "done",
                            "sub-03_task-sleep": "done", "sub-04_task-sleep": "error"}
    with open(deriv / "errors.tsv", newline="") as fid:
        errors = list(csv.DictReader(fid, delimiter="\t"))
    assert [e["recording"] for e in errors] == ["sub-04_task-sleep"]
    assert "corrupt" in errors[0]["message"]
    desc = json.loads((deriv / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative" and desc["GeneratedBy"][0]["Name"] == "SpindleScope"
    # per-recording outputs in BIDS-derivatives naming, with provenance
    summaries = {}
    for k in (1, 2, 3):
        folder = deriv / f"sub-{k:02d}"
        stem = f"sub-{k:02d}_task-sleep"
        prov = json.loads((folder / f"{stem}_provenance.json").read_text())
        for name in prov["outputs"].values():
            assert (folder / name).is_file()
        assert set(prov["inputs"]) == {"recording", "spindles", "hypnogram", "forward"}
        rec_hash = hashlib.sha256((cohort["root"] / f"sub-{k:02d}" / "meg" /
                                   f"{stem}_meg.fif").read_bytes()).hexdigest()
        assert prov["inputs"]["recording"]["sha256"] == rec_hash
        assert prov["versions"]["mne"]
        summary = json.loads((folder / f"{stem}_desc-sources_summary.json").read_text())
        assert summary["n_spindles"] == 3  # the 'arousal' rows are not spindles
        assert summary["n_sources"] == cohort["n_sources"]
        summaries[k] = summary
        events = (folder / f"{stem}_desc-spindles_events.tsv").read_text().splitlines()
        assert len(events) == 4
    # group level: counts, pooled values recomputed from the recordings
    g = json.loads((deriv / "group" / "summary.json").read_text())
    assert (g["n_subjects"], g["n_recordings"], g["n_spindles"]) == (3, 3, 9)
    assert g["n_errors"] == 1
    for fig in ("eeg_within_r", "meg_within_r", "between_r", "coherence_welch",
                "coherence_mvdr"):
        allv = np.concatenate([summaries[k][fig + "_per_spindle"] for k in summaries])
        subj = [np.mean(summaries[k][fig + "_per_spindle"]) for k in summaries]
        st = g["figures"][fig]
        assert st["pooled"] == pytest.approx(allv.mean())
        assert st["subject_mean"] == pytest.approx(np.mean(subj))
        assert st["subject_sd"] == pytest.approx(np.std(subj, ddof=1))
        assert st["pooled_ci"][0] <= st["pooled"] <= st["pooled_ci"][1]
    with open(deriv / "group" / "participants_figures.tsv", newline="") as fid:
        rows = list(csv.DictReader(fid, delimiter="\t"))
    assert [r["level"] for r in rows] == ["recording"] * 3 + ["subject"] * 3
    assert float(rows[0]["eeg_within_r"]) == pytest.approx(summaries[1]["eeg_within_r"],
                                                           rel=1e-5)
    # group maps on the template, the mean of the subjects where they have values
    import mne

    gm = mne.read_source_estimate(deriv / "group" / g["maps"]["between_r_map"])
    assert gm.subject == "fsaverage" and gm.data.shape[0] == 5124
    finite = np.isfinite(gm.data[:, 0])
    assert finite.sum() == cohort["n_sources"]
    maps = [mne.read_source_estimate(deriv / f"sub-{k:02d}" /
                                     f"sub-{k:02d}_task-sleep_desc-betweenrmap-stc.h5")
            for k in (1, 2, 3)]
    np.testing.assert_allclose(gm.data[finite, 0], np.mean([m.data[:, 0] for m in maps], 0),
                               rtol=1e-6)
    assert (deriv / "group" / "report.html").stat().st_size > 10_000
    # nothing written outside DERIV (and the cache): dataset and cwd untouched
    assert _snapshot(cohort["root"]) == cohort["bids_before"]
    assert not any(cohort["cwd"].iterdir())


def test_cohort_rerun_recomputes_nothing(cohort):
    deriv = cohort["deriv"]
    before = _snapshot(deriv)
    out = _run(cohort, make_settings(analyze=FAST))
    assert sorted(_status(out).values()) == ["error", "skipped", "skipped", "skipped"]
    assert _snapshot(deriv) == before  # not one output rewritten
    assert out["seconds"] * 5 < cohort["first"]["seconds"]


def test_cohort_events_change_redoes_that_one(cohort):
    events = cohort["root"] / "sub-02" / "meg" / "sub-02_task-sleep_events.tsv"
    lines = events.read_text().splitlines(keepends=True)
    spindle_rows = [i for i, ln in enumerate(lines) if "\tspindle\t" in ln]
    del lines[spindle_rows[-1]]
    events.write_text("".join(lines))
    cohort["bids_before"] = _snapshot(cohort["root"])
    deriv = cohort["deriv"]
    keep = deriv / "sub-01" / "sub-01_task-sleep_desc-sources_summary.json"
    mtime = keep.stat().st_mtime_ns
    out = _run(cohort, make_settings(analyze=FAST))
    assert _status(out) == {"sub-01_task-sleep": "skipped", "sub-02_task-sleep": "done",
                            "sub-03_task-sleep": "skipped", "sub-04_task-sleep": "error"}
    assert keep.stat().st_mtime_ns == mtime
    g = json.loads((deriv / "group" / "summary.json").read_text())
    assert g["n_spindles"] == 8


def test_cohort_setting_change_redoes_all(cohort):
    out = _run(cohort, make_settings(analyze={**FAST, "snr": 2.0}))
    assert sorted(_status(out).values()) == ["done", "done", "done", "error"]
    s = json.loads((cohort["deriv"] / "sub-03" /
                    "sub-03_task-sleep_desc-sources_summary.json").read_text())
    assert s["snr"] == 2.0


def test_cohort_worker_killed_mid_run(cohort):
    killed = {}
    lock = threading.Lock()

    def on_event(msg):
        # the first worker that starts a spindle's sources dies on the spot
        if "Spindle" in str(msg.get("step")):
            with lock:
                if not killed:
                    killed.update(msg)
                    os.kill(msg["pid"], signal.SIGKILL)

    out = _run(cohort, make_settings(analyze={**FAST, "snr": 4.0}), on_event=on_event)
    assert killed, "no worker reported a spindle step"
    assert _status(out)[killed["recording"]] == "done"
    assert sorted(_status(out).values()) == ["done", "done", "done", "error"]
    deriv = cohort["deriv"]
    for k in (1, 2, 3):
        prov = json.loads((deriv / f"sub-{k:02d}" /
                           f"sub-{k:02d}_task-sleep_provenance.json").read_text())
        assert prov["settings"]["analyze"]["snr"] == 4.0
        for role, name in prov["outputs"].items():
            path = deriv / f"sub-{k:02d}" / name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == prov["output_sha256"][role]
    g = json.loads((deriv / "group" / "summary.json").read_text())
    assert (g["n_recordings"], g["n_spindles"]) == (3, 8)
    assert not (deriv / ".work" / killed["recording"]).exists()
    assert _snapshot(cohort["root"]) == cohort["bids_before"]


def test_cohort_command_line(cohort, capsys):
    from core.cli.main import main

    addr = cohort["client"].scheduler.address
    code = main(["batch", str(cohort["root"]), "--out", str(cohort["deriv"]),
                 "--scheduler", addr, "--snr", "4", "--no-report", "--n-boot", "300",
                 "--n-perm", "300",
                 "--forward-pattern", "derivatives/forward/sub-{subject}/*-fwd.fif"])
    text = capsys.readouterr().out
    assert code == 1  # one recording failed
    assert "0 recordings computed, 3 up to date, 1 failed" in text
    assert "group: 3 recordings, 3 subjects, 8 spindles" in text


def test_spindle_stcs_are_streamed_to_disk(cohort, tmp_path):
    """--spindle-stcs: each spindle's estimates written as it finishes (in-process)."""
    import mne

    from core.batch import process_recording

    item = discover(cohort["root"], participant_label=["01"],
                    forward_pattern="derivatives/forward/sub-{subject}/*-fwd.fif")[0]
    settings = make_settings(analyze={**FAST, "spindle_stcs": True})
    res = process_recording(item, settings, tmp_path / "deriv")
    assert res["status"] == "done"
    names = sorted(k for k in res["outputs"] if k.startswith("stc_"))
    assert names == [f"stc_{m}_spindle{i}" for m in ("eeg", "meeg", "meg") for i in range(3)]
    events = read_spindles_sorted(tmp_path / "deriv" / "sub-01" / res["outputs"]["events"])
    for i, sp in enumerate(events):
        stc = mne.read_source_estimate(tmp_path / "deriv" / "sub-01" /
                                       res["outputs"][f"stc_eeg_spindle{i}"])
        assert stc.data.shape[0] == cohort["n_sources"]
        assert stc.tmin == pytest.approx(sp.onset, abs=1 / 200)
        assert stc.times[-1] - stc.tmin == pytest.approx(sp.duration, abs=2 / 200)


def read_spindles_sorted(path):
    from core.io.marks import read_spindles

    return sorted(read_spindles(path), key=lambda s: s.onset)


def test_eeg_only_recording_is_analysed(cohort, tmp_path):
    """A recording without MEG: EEG sources only, no EEG-MEG figures (in-process)."""
    import mne

    from core.batch import process_recording

    meg = cohort["root"] / "sub-02" / "meg"
    raw = mne.io.read_raw_fif(meg / "sub-02_task-sleep_meg.fif", verbose="error")
    raw.load_data(verbose="error").pick("eeg").save(tmp_path / "eeg_raw.fif", verbose="error")
    fwd = next((cohort["root"] / "derivatives" / "forward" / "sub-02").glob("*-fwd.fif"))
    table = tmp_path / "samples.tsv"
    table.write_text("subject\trecording\tspindles\thypnogram\tforward\n"
                     f"05\teeg_raw.fif\t{meg / 'sub-02_task-sleep_events.tsv'}\t"
                     f"{meg / 'sub-02_task-sleep_hypnogram.tsv'}\t{fwd}\n")
    item = read_sample_list(table)[0]
    res = process_recording(item, make_settings(analyze=FAST), tmp_path / "deriv")
    assert res["status"] == "done", res.get("message")
    s = json.loads((tmp_path / "deriv" / "sub-05" / res["outputs"]["summary"]).read_text())
    n_events = (meg / "sub-02_task-sleep_events.tsv").read_text().count("\tspindle\t")
    assert s["modalities"] == ["eeg"] and s["n_spindles"] == n_events
    assert "eeg_within_r" in s and "between_r" not in s and "meg_within_r" not in s


def test_eeg_without_positions_gets_template_positions(cohort, tmp_path):
    """An EDF without EEG positions: standard 10-05 positions by channel name
    on the template head; a channel without a 10-05 label is left out."""
    import mne

    meg = cohort["root"] / "sub-03" / "meg"
    raw = mne.io.read_raw_fif(meg / "sub-03_task-sleep_meg.fif", verbose="error")
    raw.load_data(verbose="error").pick("eeg").set_montage(None)
    raw.rename_channels({raw.ch_names[0]: "XYZ1"})
    mne.export.export_raw(tmp_path / "night.edf", raw, overwrite=True, verbose="error")
    table = tmp_path / "samples.tsv"
    table.write_text("subject\trecording\tspindles\n"
                     f"06\tnight.edf\t{meg / 'sub-03_task-sleep_events.tsv'}\n")
    from core.batch import process_recording

    res = process_recording(read_sample_list(table)[0], make_settings(analyze=FAST),
                            tmp_path / "deriv")
    assert res["status"] == "done", res.get("message")
    s = json.loads((tmp_path / "deriv" / "sub-06" / res["outputs"]["summary"]).read_text())
    assert s["eeg_positions"] == "template (by channel name)"
    assert s["modalities"] == ["eeg"] and s["n_sources"] == 5124
    assert np.isfinite(s["eeg_within_r"])
