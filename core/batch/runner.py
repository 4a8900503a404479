"""Running a cohort on Dask: one task per recording, then the group level.

A :class:`distributed.LocalCluster` (processes, one thread each, a memory
limit per worker) by default, an existing scheduler by its address, or a
SLURM cluster through ``dask-jobqueue``. Dask reschedules the tasks of a lost
worker; a recording that fails is listed in ``DERIV/errors.tsv``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
from pathlib import Path

from core.utils import (Progress, SpindleScopeError, atomic_write_text, check_option, dumps_json,
                        logger)
from core.batch.dataset import RecordingItem
from core.batch.group import group_key, write_group
from core.batch.task import (PROGRESS_TOPIC, WORK_FOLDER, process_recording, provenance_path,
                             read_provenance)

STEPS = ("detect", "analyze")
DETECT_DEFAULTS = {"method": "a7", "modality": "both", "picks": None,
                   "stages": ["N2", "N3"], "params": {}, "min_channels": None}
ANALYZE_DEFAULTS = {"method": "dSPM", "snr": 3.0, "loose": 0.2, "depth": 0.8,
                    "fixed": False, "band": [10.0, 15.0], "noise_cov": "auto",
                    "template_spacing": "ico4", "spacing": "oct6",
                    "spindle_stcs": False, "report": True}


def make_settings(steps=STEPS, trial_type: str = "spindle", detect: dict | None = None,
                  analyze: dict | None = None) -> dict:
    """Validated, JSON-ready settings of a batch run (they key the provenance)."""
    steps = [s.strip() for s in (steps.split(",") if isinstance(steps, str) else steps)
             if s.strip()]
    for s in steps:
        check_option("steps", s, STEPS)
    if not steps:
        raise SpindleScopeError("Give at least one step: detect, analyze.")
    dset = {**DETECT_DEFAULTS, **(detect or {})}
    aset = {**ANALYZE_DEFAULTS, **(analyze or {})}
    unknown = set(dset) - set(DETECT_DEFAULTS) | set(aset) - set(ANALYZE_DEFAULTS)
    if unknown:
        raise SpindleScopeError(f"Unknown batch setting(s): {', '.join(sorted(unknown))}.")
    from core.detection.detector import make_params
    from core.sources.inverse import InverseSettings

    make_params(dset["method"], **dset["params"])  # nonsense: say so before any work
    InverseSettings(method=aset["method"], snr=aset["snr"], loose=aset["loose"],
                    depth=aset["depth"], orientation="fixed" if aset["fixed"] else "loose")
    if aset["band"] is not None:
        aset["band"] = [float(x) for x in aset["band"]]
    if not str(trial_type).strip():
        raise SpindleScopeError("The events' trial_type must not be empty.")
    return json.loads(json.dumps({"steps": steps, "trial_type": str(trial_type),
                                  "detect": dset, "analyze": aset}))


def _parse_opts(text: str | None) -> dict:
    opts = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise SpindleScopeError(
                f"--cluster-opts expects NAME=VALUE pairs separated by commas "
                f"(e.g. queue=normal,cores=1,memory=8GB,walltime=02:00:00), got {part!r}.")
        k, v = part.split("=", 1)
        v = v.strip()
        opts[k.strip()] = int(v) if v.isdigit() else v
    return opts


def slurm_cluster(cluster_opts: str | dict | None, local_directory):
    """A ``dask_jobqueue.SLURMCluster`` (no job submitted until it is scaled).

    Defaults: one single-threaded worker process per job with 8 GB; options
    override them (``queue``, ``cores``, ``memory``, ``walltime``,
    ``account``, ``job_extra_directives``, ...).
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise SpindleScopeError(
            "--cluster slurm needs dask-jobqueue: pip install 'spindlescope[cluster]'."
        ) from None
    opts = {"cores": 1, "memory": "8GB", "processes": 1,
            **(cluster_opts if isinstance(cluster_opts, dict) else _parse_opts(cluster_opts))}
    opts.setdefault("local_directory", str(local_directory))
    try:
        return SLURMCluster(**opts)
    except TypeError as exc:
        raise SpindleScopeError(f"Invalid --cluster-opts for SLURM: {exc}.") from None


def make_client(deriv, *, workers: int | None = None, scheduler: str | None = None,
                cluster: str = "local", cluster_opts: str | dict | None = None,
                memory_limit: str = "auto", dashboard: bool = True):
    """A Dask client, and the cluster this function started (None for a scheduler).

    Parameters
    ----------
    deriv : path-like
        Derivatives root: workers' scratch space goes to ``DERIV/.work/dask``.
    workers : int | None
        Workers (processes with one thread each); default 2 locally, 4 SLURM jobs.
    scheduler : str | None
        Address of a running scheduler (``tcp://host:8786``); overrides ``cluster``.
    cluster : 'local' | 'slurm'
    cluster_opts : str | dict
        SLURM options: queue, cores, memory, walltime, account, ...
    memory_limit : str
        Per local worker ('4GiB', 'auto' for the machine's memory / workers).
    """
    from distributed import Client, LocalCluster

    check_option("cluster", cluster, ("local", "slurm"))
    if scheduler:
        return Client(scheduler), None
    scratch = Path(deriv) / WORK_FOLDER / "dask"
    scratch.mkdir(parents=True, exist_ok=True)
    if cluster == "slurm":
        clus = slurm_cluster(cluster_opts, scratch)
        clus.scale(jobs=workers or 4)
        return Client(clus), clus
    n = int(workers or 2)
    if n < 1:
        raise SpindleScopeError(f"--workers must be at least 1, got {n}.")
    clus = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                        memory_limit=memory_limit, local_directory=str(scratch),
                        dashboard_address=":0" if dashboard else None)
    return Client(clus), clus


def write_errors(path: Path, results: list[dict]) -> Path:
    """``errors.tsv``: each failed recording, its source file and message."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(["recording", "subject", "session", "source", "message"])
    for r in results:
        if r["status"] == "error":
            w.writerow([r["recording"], r["subject"], r["session"] or "n/a", r["source"],
                        " ".join(str(r["message"]).split())])
    text = buf.getvalue()
    if path.exists() and path.read_text() == text:
        return path  # unchanged: leave the file (and its time stamp) alone
    return atomic_write_text(path, text)


def write_dataset_description(deriv: Path, source: str):
    """``dataset_description.json`` as BIDS derivatives require (written once)."""
    path = deriv / "dataset_description.json"
    from core import __version__

    desc = {"Name": "SpindleScope spindle sources", "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "SpindleScope", "Version": __version__,
                             "Description": "Sleep-spindle detection, EEG/MEG sources "
                                            "(dSPM) and their synchrony"}],
            "SourceDatasets": [{"URL": Path(source).resolve().as_uri()}]}
    text = dumps_json(desc, indent=2)
    if not path.exists() or path.read_text() != text:
        atomic_write_text(path, text)


def iter_batch(items: list[RecordingItem], settings: dict, deriv, client, *,
               retries: int = 2, n_boot: int = 2000, n_perm: int = 2000,
               source: str = "", on_event=None):
    """Run every recording on ``client`` and write the group level.

    Yields
    ------
    progress : Progress
        One step per finished recording, then the group step.

    Returns
    -------
    result : dict
        ``results`` (one dict per recording, see
        :func:`~core.batch.task.process_recording`), ``group`` (the group
        summary) and ``seconds``.

    Notes
    -----
    ``on_event``, if given, is called (on the client's event thread) with
    each step the workers report: a dict with ``recording``, ``step``,
    ``done``, ``total``, ``worker`` and ``pid``.
    """
    from distributed import as_completed

    t0 = time.perf_counter()
    deriv = Path(deriv)
    deriv.mkdir(parents=True, exist_ok=True)
    write_dataset_description(deriv, source or ".")
    total = len(items) + 1
    yield Progress(0, total, f"{len(items)} recordings on "
                             f"{len(client.scheduler_info().get('workers', {}))} workers")

    def _handle(event):
        _, msg = event
        logger.info("%s [%s]: %s", msg.get("recording"), msg.get("worker"), msg.get("step"))
        if on_event is not None:
            on_event(msg)

    try:
        client.subscribe_topic(PROGRESS_TOPIC, _handle)
    except (AttributeError, TypeError):  # pragma: no cover - old distributed
        pass
    futures = {}
    for it in items:
        fut = client.submit(process_recording, it.to_dict(), settings, str(deriv),
                            key=f"spindlescope-{it.basename}-{time.time_ns()}",
                            retries=retries, pure=False)
        futures[fut] = it
    results = []
    try:
        for fut in as_completed(futures):
            it = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after retries
                res = {"recording": it.basename, "subject": it.subject,
                       "session": it.session, "folder": it.folder, "source": it.recording,
                       "status": "error", "message": f"{type(exc).__name__}: {exc}"}
            res["head"] = it.head
            results.append(res)
            yield Progress(len(results), total, f"{res['recording']}: {res['status']}")
    finally:
        for fut in futures:
            fut.cancel()
        try:
            client.unsubscribe_topic(PROGRESS_TOPIC)
        except (AttributeError, TypeError, KeyError):  # pragma: no cover
            pass
    results.sort(key=lambda r: r["recording"])
    write_errors(deriv / "errors.tsv", results)
    keys = {}
    for it in items:
        prov = read_provenance(provenance_path(deriv, it))
        keys[it.basename] = (prov or {}).get("key", "")
    gkey = group_key(results, keys, {**settings, "n_boot": n_boot, "n_perm": n_perm})
    group = write_group(deriv, results, settings, gkey, n_boot=n_boot, n_perm=n_perm)
    yield Progress(total, total, "Group level written")
    return {"results": results, "group": group, "seconds": time.perf_counter() - t0}


def clean_scratch(deriv):
    """Remove ``DERIV/.work`` (recordings' scratch folders, Dask's spill space)."""
    shutil.rmtree(Path(deriv) / WORK_FOLDER, ignore_errors=True)


def run_batch(dataset, deriv, settings: dict | None = None, *, client=None,
              participant_label=None, hypnogram_pattern=None, events_pattern=None,
              forward_pattern=None, progress=None, **client_kwargs) -> dict:
    """Discover a dataset, run it on Dask and write the group level.

    Parameters
    ----------
    dataset : path-like
        BIDS root or sample list.
    deriv : path-like
        Derivatives root (the only folder written, with the cache).
    settings : dict | None
        From :func:`make_settings` (default settings when None).
    client : distributed.Client | None
        Use this client; by default one is made with :func:`make_client`
        (``client_kwargs``) and closed at the end.
    progress : callable | None
        Receives :class:`~core.utils.Progress`.

    Returns
    -------
    result : dict
        See :func:`iter_batch`.
    """
    from core.utils import run_with_progress
    from core.batch.dataset import discover

    settings = settings or make_settings()
    items = discover(dataset, participant_label=participant_label,
                     **({"hypnogram_pattern": hypnogram_pattern,
                         "events_pattern": events_pattern,
                         "forward_pattern": forward_pattern} if Path(dataset).is_dir() else {}))
    own = client is None
    cluster = None
    if own:
        client, cluster = make_client(deriv, **client_kwargs)
        link = getattr(client, "dashboard_link", None)
        if link:
            logger.warning("Dask dashboard: %s", link)
    try:
        return run_with_progress(iter_batch(items, settings, deriv, client,
                                            source=str(dataset)), progress)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
            clean_scratch(deriv)
