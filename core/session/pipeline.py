"""The one pipeline: every analysis a :class:`core.session.session.Session` runs.

The GUI and the command line call the same functions here (through the
Session's methods), so one file gives one set of numbers whichever way it was
analysed:

- detection: the Detect dialog and ``detect`` -> :meth:`Session.iter_detect`
  (:func:`iter_detect`), stored with :meth:`Session.add_detection`;
- comparison of scorings: the Compare dock and ``compare`` ->
  :meth:`Session.compare` (:func:`compare`);
- source analysis: the Sources tab and ``analyze`` (and ``batch``) ->
  :meth:`Session.iter_analyze` (:func:`iter_analyze`);
- resolution study: the Resolution tab and ``resolution --demo`` ->
  :meth:`Session.iter_resolution` (:func:`iter_resolution`);
- reports: ``analyze --out`` -> :meth:`Session.export` (:func:`export`).

Long work follows the house rules: the function is called on the main thread,
freezes its inputs there (a copy of the hypnogram, the spindles, the settings)
and returns a progress generator that reads only that snapshot; the result is
stored by the caller on the main thread (:func:`add_detection`,
:meth:`core.session.workspace.SourceWorkspace.store`).

The option choices offered by ``argparse`` and the GUI combos are defined
here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from core.detection.params import DETECTORS
from core.sources.inverse import METHODS as _INVERSE_METHODS
from core.sources.synchrony_figures import TIMECOURSES as _TIMECOURSES
from core.session.workspace import TEMPLATE_SPACINGS as _TEMPLATE_SPACINGS
from core.utils import SpindleScopeError, check_option, logger

#: detectors (``detect --method``, the detection dialog)
DETECT_METHODS = tuple(DETECTORS)
#: sensor types to detect on (``detect --modality``)
DETECT_MODALITIES = ("eeg", "meg", "mag", "grad", "both")
#: inverse methods of the source analysis (``analyze --method``, the Sources tab)
INVERSE_METHODS = _INVERSE_METHODS
#: source time courses the correlations use (``analyze --timecourse``, the Sources tab)
TIMECOURSES = _TIMECOURSES
#: template source spaces (``analyze --template-spacing``, the Sources tab)
TEMPLATE_SPACINGS = _TEMPLATE_SPACINGS
#: subject source spacings offered when no source-space file is given
#: (``analyze --spacing``; any MNE spacing is accepted)
SOURCE_SPACINGS = ("oct6", "oct5", "ico5", "ico4")
#: which marks a comparison uses, on both sides (``compare --marks``):
#: every mark not rejected (default), only accepted marks, or all
COMPARE_MARKS = ("not-rejected", "accepted", "all")




# -- detection -----------------------------------------------------------------
@dataclass(frozen=True)
class DetectOptions:
    """What a detection run uses (frozen; the GUI dialog and ``detect`` build it).

    Parameters
    ----------
    method : str
        One of :data:`DETECT_METHODS`.
    params : dict
        Detector parameters changed from the published defaults.
    modality : str
        One of :data:`DETECT_MODALITIES`.
    picks : tuple of str | None
        Channel names or groups; None for every EEG/MEG channel.
    staged_only : bool
        Restrict detection to ``stages`` when the hypnogram has such epochs.
    stages : tuple of str
        Stages searched (default N2, N3).
    min_channels : int | None
        Channels of a modality needed to call an event visible in it; None
        for core's rule (2 % of the modality's channels, at least 1).
    montage : str | None
        Detect on a montage's rows (:mod:`core.io.montage`), None for the
        channels as recorded.
    """

    method: str = "a7"
    params: dict = field(default_factory=dict)
    modality: str = "both"
    picks: tuple | None = None
    staged_only: bool = True
    stages: tuple = ("N2", "N3")
    min_channels: int | None = None
    montage: str | None = None

    def __post_init__(self):
        from core.detection.detector import make_params

        check_option("method", self.method, DETECT_METHODS)
        check_option("modality", self.modality, DETECT_MODALITIES)
        if self.min_channels is not None and int(self.min_channels) < 1:
            raise SpindleScopeError(
                f"Invalid value for min_channels (--min-channels): it must be 1 or more (channels "
                f"of a modality that must see an event), but got "
                f"{self.min_channels}.")
        make_params(self.method, **dict(self.params))  # nonsense settings: say so now
        # read-only copies: the options are frozen for the worker
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        if self.picks is not None:
            object.__setattr__(self, "picks", tuple(self.picks))
        object.__setattr__(self, "stages", tuple(self.stages))


def iter_detect(session, options: DetectOptions):
    """Detection on the session's recording (call on the main thread).

    Parameters
    ----------
    session : core.session.session.Session
    options : DetectOptions

    Returns
    -------
    gen : generator
        Yields progress, returns :class:`core.detection.detector.DetectionResult`
        (its ``montage`` names the montage used). Add the events with
        :func:`add_detection` on the main thread.
    """
    from core.detection.detector import iter_detect as _iter_detect
    from core.detection.detector import make_params
    from core.scoring.staging import Hypnogram, check_option_stages

    if not isinstance(options, DetectOptions):
        raise SpindleScopeError(
            f"Expected DetectOptions, got {type(options).__name__}.")
    rec = session.recording
    if rec is None:
        raise SpindleScopeError("Open a recording first.")
    hyp, stages = session.hypnogram, check_option_stages(list(options.stages))
    use = None
    if options.staged_only and hyp is not None:
        if any(s in stages for s in hyp.stages):
            use = Hypnogram(list(hyp.stages), hyp.epoch_length)  # a copy: frozen
        else:
            logger.warning("No %s epochs are scored: detecting on the whole "
                           "recording.", "/".join(stages))
    source = rec
    if options.montage:
        from core.io.montage import MontageSource, compile_for

        source = MontageSource(rec, compile_for(rec, options.montage,
                                                session.settings.user_montages))
    return _iter_detect(source, method=options.method,
                        picks=list(options.picks) if options.picks else None,
                        modality=options.modality, hypnogram=use,
                        stages=stages if use is not None else None,
                        params=make_params(options.method, **options.params),
                        min_channels=options.min_channels)


def add_detection(session, result, status: str = "candidate") -> list:
    """Add a detection's events to the session's marks (main thread).

    Returns
    -------
    uids : list of int
    """
    events = list(result.events)
    for e in events:
        e.status = status
    uids = session.spindles.add(events) if events else []
    session.set_result("detection", {
        "method": result.method, "montage": result.montage,
        "n_events": len(events), "channels": list(result.channels)})
    return uids


# -- comparison ----------------------------------------------------------------
def select_marks(spindles, marks: str = "not-rejected") -> list:
    """The marks a comparison uses (one rule for the GUI and ``compare``)."""
    check_option("marks", marks, COMPARE_MARKS)
    if marks == "accepted":
        return [s for s in spindles if s.status == "accepted"]
    if marks == "not-rejected":
        return [s for s in spindles if s.status != "rejected"]
    return list(spindles)


def compare(session, reference, *, iou=0.2, duration=None, window=None,
            marks="not-rejected"):
    """Agreement of the session's marks with a reference scoring.

    Parameters
    ----------
    session : core.session.session.Session
        Its spindles are the scoring evaluated.
    reference : path-like | iterable of Spindle
        The reference (another scorer's file or marks).
    iou : float
        Intersection-over-union threshold of a match.
    duration : float | None
        Scored duration for kappa; default the recording's (or the last end).
    window : (float, float) | None
        Only events starting in this period.
    marks : str
        Which marks of both sides count, one of :data:`COMPARE_MARKS`.

    Returns
    -------
    agreement : core.scoring.evaluation.Agreement
    reference, other : list of Spindle
        The marks compared (for listing the disagreements).
    """
    from core.scoring.evaluation import compare as _compare
    from core.io.marks import read_spindles

    rec = session.recording
    if duration is None and rec is not None:
        duration = rec.duration
    if isinstance(reference, (str, Path)):
        reference = read_spindles(reference, sfreq=rec.sfreq if rec else None,
                                  duration=duration)
    ref = select_marks(reference, marks)
    other = select_marks(session.spindles, marks)
    agr = _compare(ref, other, iou=iou, duration=duration, window=window)
    return agr, ref, other


# -- sources, resolution, reports ----------------------------------------------
def iter_analyze(session, *, keep_stcs=True, stc_dtype=None, on_spindle=None, **inputs):
    """The source analysis of the session (call on the main thread).

    Parameters
    ----------
    session : core.session.session.Session
    keep_stcs : bool
        Keep the per-spindle source estimates (the movies and STC files).
    stc_dtype : dtype | None
        Precision of the kept estimates (default single).
    on_spindle : callable | None
        Called with each finished spindle (streaming its estimates to disk).
    **inputs
        Workspace inputs to set first (head, noise, inverse, max_spindles,
        fields of :class:`core.sources.analysis.AnalysisConfig`), see
        :meth:`core.session.workspace.SourceWorkspace.update`.

    Returns
    -------
    gen : generator
        Returns :class:`core.session.workspace.Computed` (``key, result``); keep it
        with ``session.workspace.store`` on the main thread.
    """
    import numpy as np

    ws = session.workspace
    if inputs:
        ws.update(**inputs)
    return ws.iter_sources(keep_stcs=keep_stcs, on_spindle=on_spindle,
                           stc_dtype=np.float32 if stc_dtype is None else stc_dtype)


def iter_resolution(session, *, forward=None, noise_cov=None, info=None, **options):
    """A resolution study on the session's head model and noise covariance
    (see :meth:`core.session.workspace.SourceWorkspace.iter_resolution`).

    With ``forward`` and ``noise_cov`` (files or MNE objects) the study runs on
    those instead, and needs no recording (``resolution --forward``): ``info``
    (a measurement file or :class:`mne.Info`; the session recording's by
    default) gives bad channels, projections and Maxwell filtering.

    Returns
    -------
    gen : generator
        Returns :class:`core.session.workspace.Computed` (``key, results``);
        the key is None for given files (nothing to cache).
    """
    if forward is None and noise_cov is None:
        if info is not None:
            raise SpindleScopeError("info is only used with forward and noise_cov: "
                                    "the session's own study reads its recording.")
        return session.workspace.iter_resolution(**options)
    if forward is None or noise_cov is None:
        raise SpindleScopeError("A resolution study of given files needs both a "
                                "forward model and a noise covariance (--forward "
                                "and --noise-cov).")
    if info is None and session.recording is not None:
        info = session.recording.info
    return _iter_resolution_files(forward, noise_cov, info, options)


def _iter_resolution_files(forward, noise_cov, info, options):
    from core.resolution.matrix import iter_resolution_study
    from core.session.workspace import RESOLUTION_DEFAULTS, Computed

    o = dict(RESOLUTION_DEFAULTS, **options)
    res = yield from iter_resolution_study(
        forward, noise_cov, list(o.pop("methods")), list(o.pop("sensors")),
        info=info, **o)
    return Computed("resolution", None, res, {})


def export(session, result, out, *, stcs=True, report=True, extra=None) -> dict:
    """Write a source result as ``analyze`` does: summary.json, maps, STCs, HTML.

    Parameters
    ----------
    session : core.session.session.Session
    result : core.sources.analysis.AnalysisResult
    out : path-like
        Output folder.
    stcs, report : bool
        Also write the STC files / the HTML report.
    extra : dict | None
        More fields for summary.json.

    Returns
    -------
    summary : dict
        What summary.json holds.
    """
    import mne

    from core.report.writers import write_maps, write_report, write_stcs, write_summary

    ws, rec = session.workspace, session.recording
    out = Path(out)
    info = {"recording": Path(rec.path).name if rec is not None and rec.path else None,
            "head_model": ws.head.label(),
            "noise_cov": result.settings.get("noise_cov", ws.noise_label()),
            "n_sources": int(sum(len(v) for v in result.vertices)),
            "mne_version": mne.__version__}
    info.update(extra or {})
    summary = write_summary(result, out, info)
    write_maps(result, out)
    if stcs:
        write_stcs(result, out)
    if report:
        write_report(result, out, title=f"SpindleScope: {info['recording']}",
                     notes=f"<p>Head model: {info['head_model']}. Noise covariance: "
                           f"{info['noise_cov']}.</p>", summary=summary)
    return summary


__all__ = ["DETECT_METHODS", "DETECT_MODALITIES", "INVERSE_METHODS",
           "TIMECOURSES", "TEMPLATE_SPACINGS", "SOURCE_SPACINGS",
           "COMPARE_MARKS", "DetectOptions", "iter_detect", "add_detection",
           "select_marks", "compare", "iter_analyze", "iter_resolution", "export"]
