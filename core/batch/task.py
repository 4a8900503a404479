"""One recording's work in a cohort: detect (where needed), analyze, write.

:func:`process_recording` runs on a Dask worker (or in-process). It builds a
:class:`core.session.session.Session` of the recording and runs the one pipeline the
app and the ``detect`` / ``analyze`` commands run
(:meth:`~core.session.session.Session.iter_detect`,
:meth:`~core.session.session.Session.iter_analyze`, the writers of :mod:`core.report.writers`),
writes every output into a scratch folder inside DERIV, moves them into
``DERIV/sub-<label>/[ses-<label>/]`` and writes the provenance JSON last:
a recording whose provenance matches its inputs and settings is finished,
anything else is redone.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import time
import traceback
from pathlib import Path

import numpy as np

from core.utils import SpindleScopeError, atomic_write_text, dumps_json, fsync_dir, logger
from core.batch.dataset import RecordingItem

#: Bump when the outputs of a recording change for the same inputs and settings.
TASK_VERSION = 1
PROGRESS_TOPIC = "spindlescope-batch"
WORK_FOLDER = ".work"
_MAP_KEYS = ("between_r_map", "coherence_welch_map", "coherence_mvdr_map")


# --------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------
def file_hash(path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file (or of every file in a folder, e.g. a CTF ``.ds``)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fid:
            while block := fid.read(chunk):
                h.update(block)
    return h.hexdigest()


def _stat(path) -> list:
    st = Path(path).stat()
    return [st.st_size, st.st_mtime_ns]


def hash_inputs(files: dict, previous: dict | None = None) -> dict:
    """``{role: {path, size, mtime_ns, sha256}}``; unchanged files reuse ``previous``.

    A file whose path, size and modification time match the previous
    provenance keeps its recorded hash, so a rerun does not re-read
    whole nights; any change re-hashes it.
    """
    previous = previous or {}
    out = {}
    for role, path in files.items():
        if not Path(path).exists():
            raise SpindleScopeError(f"The {role} file {str(path)!r} does not exist.")
        size, mtime = _stat(path)
        old = previous.get(role) or {}
        if (old.get("path") == str(path) and old.get("size") == size
                and old.get("mtime_ns") == mtime and old.get("sha256")):
            digest = old["sha256"]
        else:
            digest = file_hash(path)
        out[role] = {"path": str(path), "size": size, "mtime_ns": mtime, "sha256": digest}
    return out


def versions() -> dict:
    """Versions of the software the outputs depend on."""
    import mne
    import numpy
    import scipy

    from core import __version__

    return {"spindlescope": __version__, "mne": mne.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__,
            "task": TASK_VERSION}


def recording_key(settings: dict, inputs: dict, vers: dict) -> str:
    """The digest that decides whether a recording's outputs are current."""
    blob = json.dumps({"settings": settings,
                       "inputs": {r: v["sha256"] for r, v in inputs.items()},
                       "versions": vers}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def provenance_path(deriv, item: RecordingItem) -> Path:
    return Path(deriv) / item.folder / f"{item.basename}_provenance.json"


def read_provenance(path) -> dict | None:
    """The provenance JSON, or None if absent or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------
# progress through Dask's event log (shown by the client; harmless in-process)
# --------------------------------------------------------------------------
def _report(item, step: str, done: int = 0, total: int = 0):
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return
    worker.log_event(PROGRESS_TOPIC, {"recording": item.basename, "step": step,
                                      "done": done, "total": total,
                                      "worker": worker.address, "pid": os.getpid()})


def _drain(gen, item, label):
    """Run a core generator, forwarding its progress to the Dask event log."""
    try:
        while True:
            prog = next(gen)
            _report(item, f"{label}: {prog.message}", prog.done, prog.total)
    except StopIteration as stop:
        return stop.value


@contextlib.contextmanager
def _cluster_lock(name):
    """A cluster-wide lock on a Dask worker (shared caches), else nothing."""
    try:
        from distributed import Lock, get_worker

        get_worker()
    except (ImportError, ValueError):
        yield
        return
    with Lock(name):
        yield


# --------------------------------------------------------------------------
# the steps
# --------------------------------------------------------------------------
def _read_events(path, trial_type: str, work: Path):
    """Spindles of an events file: rows whose ``trial_type`` is ``trial_type``."""
    from core.io.marks import read_spindles

    path = Path(path)
    if path.suffix.lower() != ".tsv":
        return [s for s in read_spindles(path) if s.status != "rejected"]
    with open(path, newline="", encoding="utf-8-sig") as fid:
        rows = list(csv.reader(fid, delimiter="\t"))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    if "trial_type" in header:
        col = header.index("trial_type")
        keep = [r for r in rows[1:] if len(r) > col and r[col].strip() == trial_type]
        for r in keep:
            r[col] = "spindle"
        rows = [rows[0]] + keep
    if len(rows) == 1:
        return []
    tmp = work / "input_events.tsv"
    with open(tmp, "w", newline="", encoding="utf-8") as fid:
        csv.writer(fid, delimiter="\t", lineterminator="\n").writerows(rows)
    spindles = [s for s in read_spindles(tmp) if s.status != "rejected"]
    tmp.unlink()
    return spindles


def _session(rec, item):
    """The recording (and its hypnogram) in a Session: the one pipeline the
    app and the ``detect`` / ``analyze`` commands use."""
    from core.session.session import Session
    from core.io.hypnograms import read_hypnogram_for

    session = Session()
    hyp = read_hypnogram_for(item.hypnogram, rec) if item.hypnogram else None
    session.set_recording(rec, hypnogram=hyp)
    return session


def _detect(session, item, dset: dict):
    from core.session.pipeline import DetectOptions

    options = DetectOptions(
        method=dset["method"], params=dict(dset.get("params", {})),
        modality=dset["modality"],
        picks=tuple(dset["picks"]) if dset.get("picks") else None,
        staged_only=bool(item.hypnogram), stages=tuple(dset["stages"]),
        min_channels=dset.get("min_channels"))
    result = _drain(session.iter_detect(options), item, "detect")
    return [s for s in result.events if s.status != "rejected"]


def _eeg_positions(rec) -> str:
    """Where the EEG positions come from; standard ones by name if the file has none.

    A recording without EEG positions (an EDF from a BIDS dataset, say) gets
    the template head's ``fsaverage_1005`` positions of its channels' 10-05
    labels (case-insensitive); EEG channels without such a label become
    'misc' (left out of the source analysis). Returns 'recording', 'template (by channel name)' or 'none'.
    """
    import mne

    from core.sources.headmodel import template_montage

    info = rec.info
    eeg = mne.pick_types(info, meg=False, eeg=True, exclude="bads")
    if len(eeg) == 0:
        return "none"
    locs = np.array([info["chs"][i]["loc"][:3] for i in eeg])
    if (np.isfinite(locs).all(1) & (np.abs(locs).sum(1) > 0)).all():
        return "recording"
    labels = {n.lower(): n for n in
              mne.channels.make_standard_montage("fsaverage_1005").ch_names}
    names = [info["ch_names"][i] for i in eeg]
    known = [labels[n.lower()] for n in names if n.lower() in labels]
    if len(known) < max(3, len(names) // 2):
        return "none"  # the analysis then says which positions are missing
    unknown = [n for n in names if n.lower() not in labels]
    if unknown:  # no position: not EEG for the source analysis
        rec.raw.set_channel_types({n: "misc" for n in unknown}, on_unit_change="ignore",
                                  verbose="error")
    rec.raw.set_montage(template_montage(known), match_case=False, on_missing="ignore",
                        verbose="error")
    logger.warning("%s: no EEG positions in the file; standard 10-05 positions of %d "
                   "channels used (%d without a 10-05 label left out).",
                   Path(rec.path).name if hasattr(rec, "path") else "recording",
                   len(known), len(unknown))
    return "template (by channel name)"


def _head(item, aset: dict):
    from core.session.workspace import HeadModelChoice

    head = item.head
    if head.get("forward"):
        return HeadModelChoice(kind="forward", forward=head["forward"])
    if head.get("subjects_dir"):
        return HeadModelChoice(kind="subject", subjects_dir=head.get("subjects_dir"),
                               subject=head.get("subject"), trans=head.get("trans"),
                               bem=head.get("bem"), src=head.get("src"),
                               source_spacing=aset["spacing"])
    return HeadModelChoice(kind="template", spacing=aset["template_spacing"])


def _analyze(session, item, spindles, settings, work: Path, base: str) -> dict:
    import mne

    from core.sources.inverse import MODALITIES, InverseSettings, check_modality
    from core.report.writers import write_maps, write_report, write_summary
    from core.scoring.spindles import SpindleSet
    from core.session.workspace import NoiseChoice

    rec = session.recording
    aset = settings["analyze"]
    inv = InverseSettings(method=aset["method"], snr=aset["snr"], loose=aset["loose"],
                          depth=aset["depth"],
                          orientation="fixed" if aset["fixed"] else "loose")
    positions = _eeg_positions(rec)
    mods, why = [], None
    for mod in MODALITIES:  # what the recording allows: EEG-only and MEG-only too
        try:
            check_modality(rec.info, mod)
            mods.append(mod)
        except SpindleScopeError as exc:
            why = why or exc
    if not mods:
        raise why
    kind = aset["noise_cov"]
    noise = NoiseChoice(kind) if kind in ("auto", "diagonal") else NoiseChoice("file", kind)
    session.set_spindles(SpindleSet(spindles))
    ws = session.workspace
    ws.update(head=_head(item, aset), noise=noise, inverse=inv, max_spindles=None,
              band=tuple(aset["band"]) if aset["band"] else None, modalities=tuple(mods))
    if ws.head.kind == "template":  # one worker builds the shared template at a time
        with _cluster_lock("spindlescope-template-forward"):
            ws.store(_drain(ws.iter_forward(), item, "head model"))
    keep = bool(aset.get("spindle_stcs"))
    outputs = {}

    def write_spindle(sp):  # stream: each spindle's estimates go to disk, then away
        for mod, stc in sp.stcs.items():
            name = f"{base}_desc-{mod}spindle{sp.index}-stc.h5"
            stc.save(work / name, ftype="h5", overwrite=True, verbose="error")
            outputs[f"stc_{mod}_spindle{sp.index}"] = name
        sp.stcs = {}

    computed = _drain(session.iter_analyze(keep_stcs=keep,
                                           on_spindle=write_spindle if keep else None),
                      item, "analyze")
    result = computed.result
    head = ws.head.label()
    cov_src = result.settings.get("noise_cov", ws.noise_label())
    extra = {"recording": Path(item.recording).name, "subject": item.subject,
             "modalities": list(mods), "eeg_positions": positions,
             "session": item.session, "head_model": head, "noise_cov": cov_src,
             "source_subject": result.subject,
             "n_sources": int(sum(len(v) for v in result.vertices)),
             "mne_version": mne.__version__}
    write_summary(result, work, extra)
    os.replace(work / "summary.json", work / f"{base}_desc-sources_summary.json")
    outputs["summary"] = f"{base}_desc-sources_summary.json"
    os.replace(work / "spindles.csv", work / f"{base}_desc-figures_spindles.csv")
    outputs["spindle_figures"] = f"{base}_desc-figures_spindles.csv"
    for path in write_maps(result, work):
        key = path.name.removesuffix("-stc.h5")
        name = f"{base}_desc-{key.replace('_', '')}-stc.h5"
        os.replace(path, work / name)
        outputs[key] = name
    if aset.get("report", True):
        write_report(result, work, title=f"SpindleScope: {base}",
                     notes=f"<p>Head model: {head}. Noise covariance: {cov_src}.</p>")
        os.replace(work / "report.html", work / f"{base}_desc-sources_report.html")
        outputs["report"] = f"{base}_desc-sources_report.html"
    return outputs


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def process_recording(item, settings: dict, deriv) -> dict:
    """Bring one recording's outputs up to date.

    Parameters
    ----------
    item : RecordingItem | dict
    settings : dict
        From :func:`core.batch.runner.make_settings`.
    deriv : path-like
        The derivatives root.

    Returns
    -------
    result : dict
        ``status`` ('done', 'skipped' or 'error'), ``recording`` (the output
        stem), ``subject``, ``session``, ``outputs`` (role -> file name, in
        the recording's folder), ``message`` (errors), ``seconds`` and
        ``peak_rss_mb`` and ``worker_pid`` (of the worker process).
    """
    if isinstance(item, dict):
        item = RecordingItem(**item)
    t0 = time.perf_counter()
    deriv = Path(deriv)
    base = item.basename
    out_dir = deriv / item.folder
    prov_path = provenance_path(deriv, item)
    res = {"recording": base, "subject": item.subject, "session": item.session,
           "folder": item.folder, "source": item.recording}
    work = deriv / WORK_FOLDER / base
    try:
        old = read_provenance(prov_path)
        inputs = hash_inputs(item.input_files(), (old or {}).get("inputs"))
        vers = versions()
        key = recording_key(settings, inputs, vers)
        if (old and old.get("key") == key
                and all((out_dir / f).exists() for f in old.get("outputs", {}).values())):
            res.update(status="skipped", outputs=old["outputs"],
                       seconds=time.perf_counter() - t0, peak_rss_mb=_peak_rss_mb(),
                       worker_pid=os.getpid())
            return res
        _report(item, "start")
        if prov_path.exists():
            prov_path.unlink()  # outputs are being replaced: not current any more
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        outputs = _run_steps(item, settings, work, base)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in outputs.values():
            os.replace(work / name, out_dir / name)
        for name in set((old or {}).get("outputs", {}).values()) - set(outputs.values()):
            with contextlib.suppress(OSError):  # outputs the new settings do not make
                (out_dir / name).unlink()
        fsync_dir(out_dir)
        prov = {"recording": item.to_dict(), "key": key, "settings": settings,
                "inputs": inputs, "versions": vers, "outputs": outputs,
                "output_sha256": {r: file_hash(out_dir / f) for r, f in outputs.items()
                                  if not f.endswith(".html")},
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        atomic_write_text(prov_path, dumps_json(prov, indent=2))
        shutil.rmtree(work, ignore_errors=True)
        res.update(status="done", outputs=outputs)
        _report(item, "done")
    except (SpindleScopeError, OSError) as exc:
        res.update(status="error", message=str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad recording must not stop a cohort
        logger.debug("Recording %s failed:\n%s", base, traceback.format_exc())
        res.update(status="error", message=f"{type(exc).__name__}: {exc}")
    if res["status"] == "error":
        shutil.rmtree(work, ignore_errors=True)
        logger.warning("Recording %s failed: %s", base, res["message"])
    res.update(seconds=time.perf_counter() - t0, peak_rss_mb=_peak_rss_mb(),
               worker_pid=os.getpid())
    return res


def _run_steps(item, settings, work: Path, base: str) -> dict:
    from core.io.recording import open_recording
    from core.io.marks import write_spindles

    steps = settings["steps"]
    rec = open_recording(item.recording)
    session = _session(rec, item)
    spindles, origin = [], None
    if item.spindles:
        spindles = _read_events(item.spindles, settings["trial_type"], work)
        origin = "events"
    if not spindles:
        if "detect" not in steps:
            raise SpindleScopeError(
                f"{base} has no spindle events (trial_type "
                f"{settings['trial_type']!r}) and 'detect' is not among the steps: "
                f"add it (--steps detect,analyze) or give the events.")
        _report(item, "detect")
        spindles = _detect(session, item, settings["detect"])
        origin = "detected"
        if not spindles:
            raise SpindleScopeError(f"{base}: the detector found no spindle.")
    events = f"{base}_desc-spindles_events.tsv"
    write_spindles(spindles, work / events)
    outputs = {"events": events}
    if "analyze" in steps:
        outputs.update(_analyze(session, item, spindles, settings, work, base))
    logger.info("%s: %d spindles (%s)", base, len(spindles), origin)
    return outputs
