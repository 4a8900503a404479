"""The source workspace: head model, inverse settings and cached results.

A :class:`SourceWorkspace` composes with a :class:`core.session.session.Session` (it
never edits it beyond :meth:`Session.set_result` of JSON summaries). It holds
what the source and resolution analyses need besides the recording and the
spindles — the head model choice, the noise covariance source, the inverse
settings — and caches results keyed by a hash of *all* their inputs, so that a
result is recomputed only when an input changed. It is Qt-free.

Threading (house rules 3 and 4): :meth:`iter_sources`, :meth:`iter_resolution`
and :meth:`iter_resolution_matrix` freeze their inputs into a
:class:`WorkInputs` snapshot when called (on the main thread) and return a
generator that reads only that snapshot; the key of the result is computed
from the snapshot. The generator returns a :class:`Computed` (the result and
the forward / covariance cache entries it built); the main thread keeps it
with :meth:`store`. No worker writes the workspace.

Signals (psygnal)
-----------------
settings_changed()
    The head model, noise covariance or inverse settings changed.
sources_changed(object)
    A source result (:class:`core.sources.analysis.AnalysisResult`) became current, or
    None when the current inputs have no result.
resolution_changed(object)
    Same for :class:`core.resolution.metrics.ResolutionResults`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from psygnal import Signal

from core.utils import Progress, SpindleScopeError, check_option, logger, relink

HEAD_KINDS = ("template", "forward", "subject")
#: template source spaces (ico4 = 5,124 sources, ico5 = 20,484)
TEMPLATE_SPACINGS = ("ico4", "ico5")
NOISE_KINDS = ("auto", "diagonal", "file")


@dataclass(frozen=True)
class HeadModelChoice:
    """Which head model the analyses use.

    Parameters
    ----------
    kind : 'template' | 'forward' | 'subject'
        The fsaverage template, a ``-fwd.fif`` file, or a subject's own
        (subjects folder + subject + trans + BEM solution).
    spacing : 'ico4' | 'ico5'
        Template source space.
    forward, subjects_dir, subject, trans, bem : str | None
        Files of the subject's head model.
    src : str | None
        The subject's source space (-src.fif); None: set up with
        ``source_spacing`` (as ``analyze --src / --spacing``).
    source_spacing : str
        Subject source spacing when no ``src`` is given (default oct6).
    """

    kind: str = "template"
    spacing: str = "ico4"
    forward: str | None = None
    subjects_dir: str | None = None
    subject: str | None = None
    trans: str | None = None
    bem: str | None = None
    src: str | None = None
    source_spacing: str = "oct6"

    def __post_init__(self):
        check_option("kind", self.kind, HEAD_KINDS)
        check_option("spacing", self.spacing, TEMPLATE_SPACINGS)
        if self.kind == "forward" and not self.forward:
            raise SpindleScopeError("Choose the forward-solution file (-fwd.fif).")
        if self.kind == "subject":
            missing = [n for n in ("subjects_dir", "subject", "trans", "bem")
                       if not getattr(self, n)]
            if missing:
                raise SpindleScopeError(
                    "A subject's head model needs the subjects folder, the "
                    f"subject, the trans and the BEM files; missing: "
                    f"{', '.join(missing)}.")

    def label(self) -> str:
        if self.kind == "template":
            return f"fsaverage template ({self.spacing})"
        if self.kind == "forward":
            return f"forward file {Path(self.forward).name}"
        return f"subject {self.subject}"


@dataclass(frozen=True)
class NoiseChoice:
    """Noise covariance source: 'auto' (spindle-free N2 segments, filtered like
    the data), 'diagonal' or a file (-cov.fif, empty-room or baseline)."""

    kind: str = "auto"
    path: str | None = None

    def __post_init__(self):
        check_option("noise covariance", self.kind, NOISE_KINDS)
        if self.kind == "file" and not self.path:
            raise SpindleScopeError("Choose the noise-covariance file.")


def _file_stamp(path) -> list:
    p = Path(path)
    try:
        st = p.stat()
        return [str(p.resolve()), st.st_size, int(st.st_mtime)]
    except OSError:
        return [str(path), None, None]


class SourceWorkspace:
    """Head model, inverse settings and cached source/resolution results.

    Parameters
    ----------
    session : core.session.session.Session
        The session whose recording, hypnogram and spindles are analysed.
    """

    settings_changed = Signal()
    sources_changed = Signal(object)
    resolution_changed = Signal(object)

    def __init__(self, session):
        from core.sources.analysis import AnalysisConfig

        self.session = session
        self.head = HeadModelChoice()
        self.noise = NoiseChoice()
        self.config = AnalysisConfig()
        #: analyse at most this many spindles (None: all); the first ones
        self.max_spindles: int | None = None
        self._cache: dict = {}        # key -> AnalysisResult / ResolutionResults
        self._cov_cache: dict = {}    # inputs key -> mne.Covariance
        self._fwd_cache: dict = {}    # head/info key -> mne.Forward
        self._resmat_cache: dict = {}  # key -> ResolutionMatrix
        self._watched = None
        session.recording_changed.connect(self._on_inputs_changed)
        session.spindles_changed.connect(self._on_spindle_set_changed)
        session.hypnogram_changed.connect(self._on_inputs_changed)
        self._on_spindle_set_changed(session.spindles)

    # -- inputs -----------------------------------------------------------
    def set_head_model(self, **kwargs):
        """Choose the head model (see :class:`HeadModelChoice`)."""
        self.head = HeadModelChoice(**kwargs)
        self._on_inputs_changed()

    def set_noise(self, kind="auto", path=None):
        """Choose the noise covariance source (see :class:`NoiseChoice`)."""
        self.noise = NoiseChoice(kind, path)
        self._on_inputs_changed()

    def set_inverse(self, **kwargs):
        """Change inverse settings (method, snr, loose, depth, orientation)."""
        inv = replace(self.config.inverse, **kwargs)
        self.config = replace(self.config, inverse=inv)
        self._on_inputs_changed()

    def set_config(self, **kwargs):
        """Change analysis settings (band, coherence_band, pad, modalities)."""
        self.config = replace(self.config, **kwargs)
        self._on_inputs_changed()

    def set_max_spindles(self, n: int | None):
        if n is not None and n < 1:
            raise SpindleScopeError(f"max_spindles must be at least 1, got {n}.")
        self.max_spindles = n
        self._on_inputs_changed()

    def update(self, *, head=None, noise=None, inverse=None, max_spindles=-1,
               **config):
        """Change several inputs at once (one notification).

        Parameters
        ----------
        head : HeadModelChoice | dict | None
        noise : NoiseChoice | dict | None
        inverse : InverseSettings | dict | None
        max_spindles : int | None
            -1 leaves it unchanged.
        **config
            Fields of :class:`core.sources.analysis.AnalysisConfig` (band, ...).
        """
        from core.sources.inverse import InverseSettings

        if isinstance(head, dict):
            head = HeadModelChoice(**head)
        if isinstance(noise, dict):
            noise = NoiseChoice(**noise)
        if isinstance(inverse, dict):
            inverse = InverseSettings(**inverse)
        if max_spindles != -1 and max_spindles is not None and max_spindles < 1:
            raise SpindleScopeError(
                f"max_spindles must be at least 1, got {max_spindles}.")
        config = replace(self.config, **config) if config else self.config
        if inverse is not None:
            config = replace(config, inverse=inverse)
        self.head = head or self.head
        self.noise = noise or self.noise
        self.config = config
        if max_spindles != -1:
            self.max_spindles = max_spindles
        self._on_inputs_changed()

    def _on_spindle_set_changed(self, spindles):
        self._watched = relink(self._watched, spindles, self._on_inputs_changed)
        self._on_inputs_changed()

    def _on_inputs_changed(self, *args):
        self.settings_changed.emit()
        self.sources_changed.emit(self.sources)
        self.resolution_changed.emit(None)

    def spindles(self) -> list:
        """(onset, duration) of the spindles analysed: all but rejected ones,
        as ``main.py analyze`` does, first ``max_spindles``."""
        kept = [(float(s.onset), float(s.duration)) for s in self.session.spindles
                if s.status != "rejected"]
        kept.sort()
        return kept[: self.max_spindles] if self.max_spindles else kept

    def _spindle_objects(self) -> list:
        """The Spindle objects of :meth:`spindles` (their types group the
        per-type figures)."""
        kept = sorted((s for s in self.session.spindles if s.status != "rejected"),
                      key=lambda s: (float(s.onset), float(s.duration)))
        return kept[: self.max_spindles] if self.max_spindles else kept

    # -- snapshots (main thread) ------------------------------------------
    def _head_key(self, head=None) -> dict:
        head = head or self.head
        d = asdict(head)
        for name in ("forward", "trans", "bem", "src"):
            if d.get(name):
                d[name] = _file_stamp(d[name])
        if head.kind == "template":
            d.pop("src", None)
            d.pop("source_spacing", None)
        else:
            d.pop("spacing")
        if head.kind == "forward":
            d.pop("source_spacing", None)
        return d

    def _recording(self):
        """The session's recording, or a clear error when none is open."""
        rec = self.session.recording
        if rec is None:
            raise SpindleScopeError("Open a recording first.")
        rec.check_source_ready()
        return rec

    def _n2(self) -> tuple:
        hyp = self.session.hypnogram
        return tuple((float(a), float(b)) for a, b in hyp.intervals(["N2"])) \
            if hyp is not None else ()

    def _base_key(self, n2=None) -> dict:
        rec = self._recording()
        noise = asdict(self.noise)
        if noise["path"]:
            noise["path"] = _file_stamp(noise["path"])
        if self.noise.kind == "auto":
            noise["n2"] = [list(iv) for iv in (self._n2() if n2 is None else n2)]
        return {"recording": _file_stamp(rec.path) if rec.path else id(rec),
                "bads": list(rec.info["bads"]), "head": self._head_key(),
                "noise": noise}

    @staticmethod
    def _digest(d: dict) -> str:
        text = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def sources_key(self) -> str:
        """Hash of every input of the source analysis (current state)."""
        d = self._base_key()
        d["config"] = asdict(self.config)
        d["spindles"] = self.spindles()
        return "src-" + self._digest(d)

    def resolution_key(self, methods, sensors, snr, functions, metrics) -> str:
        """Hash of every input of a resolution study (current state)."""
        d = self._base_key()
        d.update(methods=list(methods), sensors=list(sensors), snr=float(snr),
                 functions=list(functions), metrics=list(metrics),
                 band=self.config.band)
        return "res-" + self._digest(d)

    def snapshot(self, kind: str = "sources", **options) -> "WorkInputs":
        """Freeze every input of one computation (call on the main thread).

        The key is computed from the frozen values themselves, so the result
        a worker computes from the snapshot is stored under the key of what
        it was computed from, whatever the session does meanwhile.

        Parameters
        ----------
        kind : 'sources' | 'resolution' | 'matrix'
            The source analysis, a resolution study (``options``: methods,
            sensors, snr, functions, metrics) or one resolution matrix
            (``options``: method, sensors, snr).

        Returns
        -------
        inputs : WorkInputs
        """
        check_option("kind", kind, ("sources", "resolution", "matrix"))
        rec = self._recording()
        n2 = self._n2()
        base = self._base_key(n2)
        spindles = tuple(copy.copy(s) for s in self._spindle_objects())
        times = tuple((float(s.onset), float(s.duration)) for s in spindles)
        # the noise covariance leaves out every spindle, analysed or not
        exclude = tuple(sorted((float(s.onset), float(s.onset + s.duration))
                               for s in self.session.spindles if s.status != "rejected"))
        config = copy.deepcopy(self.config)
        if kind == "sources":
            d = dict(base, config=asdict(config), spindles=[list(t) for t in times])
            key = "src-" + self._digest(d)
        elif kind == "resolution":
            opts = dict(RESOLUTION_DEFAULTS, **options)
            d = dict(base, methods=list(opts["methods"]), sensors=list(opts["sensors"]),
                     snr=float(opts["snr"]), functions=list(opts["functions"]),
                     metrics=list(opts["metrics"]), band=config.band)
            extra = {k: v for k, v in opts.items() if k not in RESOLUTION_DEFAULTS}
            if extra:
                d["study"] = {k: _file_stamp(v) if k == "data_cov" and v else v
                              for k, v in extra.items()}
            key = "res-" + self._digest(d)
            options = opts
        else:
            key = (self._digest(base), options["method"], options["sensors"],
                   float(options["snr"]))
        fwd_key = self._fwd_key()
        cov_key = self._digest({"base": base, "exclude": [list(t) for t in exclude],
                                "band": config.band})
        return WorkInputs(kind=kind, key=key, recording=rec, info=rec.info.copy(),
                          spindles=spindles, times=times, exclude=exclude, n2=n2,
                          head=self.head,
                          noise=self.noise, config=config,
                          options=tuple(sorted(options.items())), fwd_key=fwd_key,
                          cov_key=cov_key, forward=self._fwd_cache.get(fwd_key),
                          cov=self._cov_cache.get(cov_key))

    # -- results ----------------------------------------------------------
    @property
    def sources(self):
        """The source result of the current inputs, or None."""
        try:
            return self._cache.get(self.sources_key())
        except SpindleScopeError:
            return None

    def resolution(self, methods, sensors, snr, functions, metrics):
        """The cached resolution result of these inputs, or None."""
        try:
            return self._cache.get(self.resolution_key(methods, sensors, snr,
                                                       functions, metrics))
        except SpindleScopeError:
            return None

    def store(self, computed: "Computed"):
        """Keep what a worker computed (main thread): the result under the key
        of its snapshot and the forward / covariance / matrix cache entries."""
        if "fwd" in computed.cache:
            key, fwd = computed.cache["fwd"]
            self._fwd_cache[key] = fwd
        if "cov" in computed.cache:   # one covariance kept: they are large
            key, cov = computed.cache["cov"]
            self._cov_cache = {key: cov}
        if computed.kind == "sources":
            self.store_sources(computed.key, computed.result)
        elif computed.kind == "resolution":
            self.store_resolution(computed.key, computed.result)
        elif computed.kind == "matrix":
            self._resmat_cache = {computed.key: computed.result}

    def store_sources(self, key: str, result):
        """Keep a finished source result (main thread); emits if current."""
        from core.report.writers import PAPER_VALUES

        self._cache[key] = result
        if key == self.sources_key():
            summary = result.summary()
            summary["paper"] = dict(PAPER_VALUES)
            summary["head_model"] = self.head.label()
            self.session.set_result("sources", summary)
            self.sources_changed.emit(result)

    def store_resolution(self, key: str, result):
        """Keep a finished resolution result (main thread) and emit it."""
        self._cache[key] = result
        self.session.set_result("resolution", result.summary())
        self.resolution_changed.emit(result)

    # -- computation ------------------------------------------------------
    def _fwd_key(self) -> str:
        from core.sources.headmodel import _info_key

        return self._digest({"head": self._head_key(),
                             "info": _info_key(self.session.recording.info)})

    def source_space(self):
        """The source space of the current head model if its forward model
        was loaded (for drawing subjects without surface files), else None."""
        try:
            fwd = self._fwd_cache.get(self._fwd_key())
        except (SpindleScopeError, AttributeError):
            return None
        return None if fwd is None else fwd["src"]

    def noise_label(self, inputs=None) -> str:
        """The noise covariance source, as the reports name it."""
        noise = inputs.noise if inputs is not None else self.noise
        band = (inputs.config if inputs is not None else self.config).band
        if noise.kind == "diagonal":
            return "diagonal (ad hoc)"
        if noise.kind == "file":
            return Path(noise.path).name
        n2 = inputs.n2 if inputs is not None else self._n2()
        return ("spindle-free N2 segments" if n2 else "spindle-free segments") + (
            f", {band[0]:g}–{band[1]:g} Hz" if band else "")

    def iter_forward(self):
        """Generator of the current head model's forward model (inputs frozen
        when called); returns :class:`Computed` for :meth:`store` (which only
        caches it). Lets a caller build it alone, e.g. under a lock."""
        inputs = self.snapshot("matrix", method="", sensors="", snr=0.0)
        return _iter_forward_only(inputs)

    def iter_sources(self, inputs=None, *, keep_stcs=True, stc_dtype=np.float32,
                     on_spindle=None):
        """The generator computing the source analysis of ``inputs``.

        Not itself a generator: the inputs are frozen when it is called (on
        the main thread; :class:`gui.workers.ProgressWorker` calls it there),
        and the returned generator reads only the snapshot.

        Parameters
        ----------
        inputs : WorkInputs | None
            A :meth:`snapshot`; None takes one now.
        keep_stcs : bool
            Keep every spindle's source estimates (the movies need them).
        stc_dtype : dtype
            Precision of the kept estimates; the figures are computed in
            double either way (26 demo spindles x 3 sets x 5,124 sources x
            ~300 samples = 0.5 GB in single precision instead of 1 GB).
        on_spindle : callable | None
            Called on the worker with each finished spindle (e.g. to stream
            its estimates to disk; see :func:`core.sources.analysis.iter_analysis`).

        Returns
        -------
        gen : generator
            Yields :class:`core.utils.Progress`, returns :class:`Computed`
            (unpacks as ``key, result``); store it with :meth:`store`.
        """
        inputs = inputs if inputs is not None else self.snapshot("sources")
        from core.sources.inverse import check_modality

        for mod in inputs.config.modalities:
            check_modality(inputs.info, mod)
        if not inputs.spindles:
            raise SpindleScopeError("There are no spindles to analyse: mark or "
                                    "detect spindles first.")
        return _iter_sources(inputs, keep_stcs, stc_dtype, self.noise_label(inputs),
                             on_spindle)

    def iter_resolution(self, methods=("MNE", "dSPM"), sensors=("meeg", "meg"),
                        snr=3.0, functions=("psf", "ctf"),
                        metrics=("peak_err", "sd_ext", "peak_amp"), *, inputs=None,
                        **study):
        """The generator computing a resolution study on the current head model
        (inputs frozen when called, as :meth:`iter_sources`).

        ``study``: more arguments of :func:`core.resolution.matrix.iter_resolution_study`
        (reg, data_cov, threshold, max_dense_bytes); they are part of the key.

        Returns
        -------
        gen : generator
            Returns :class:`Computed` (``key, results``:
            :class:`core.resolution.metrics.ResolutionResults`).
        """
        inputs = inputs if inputs is not None else self.snapshot(
            "resolution", methods=tuple(methods), sensors=tuple(sensors), snr=snr,
            functions=tuple(functions), metrics=tuple(metrics), **study)
        return _iter_resolution(inputs)

    def iter_resolution_matrix(self, method: str, sensors: str, snr: float = 3.0):
        """Generator of one resolution matrix (PSFs/CTFs of clicked sources);
        returns :class:`Computed` (``key, matrix``), the cached one at once."""
        inputs = self.snapshot("matrix", method=method, sensors=sensors, snr=float(snr))
        cached = self._resmat_cache.get(inputs.key)
        return _iter_matrix(inputs, cached)

    def resolution_matrix(self, method: str, sensors: str, snr: float = 3.0):
        """One resolution matrix, blocking (about a second at 5,124 sources);
        main thread only (it stores the cache entries)."""
        from core.utils import run_with_progress

        computed = run_with_progress(self.iter_resolution_matrix(method, sensors, snr))
        self.store(computed)
        return computed.result


@dataclass(frozen=True)
class WorkInputs:
    """Everything one computation reads, frozen on the main thread.

    ``spindles`` are copies of the analysed marks (``times`` their onsets and
    durations), ``exclude`` the (start, end) of every mark not rejected (left
    out of the noise covariance), ``n2`` the N2 intervals, ``info`` a copy,
    ``config`` a deep copy; the recording is read through its reader only; ``forward`` and ``cov`` are the
    cached objects of the same inputs (or None: the worker builds them).
    """

    kind: str
    key: object
    recording: object
    info: object
    spindles: tuple
    times: tuple
    exclude: tuple
    n2: tuple
    head: HeadModelChoice
    noise: NoiseChoice
    config: object
    options: tuple
    fwd_key: str
    cov_key: str
    forward: object = None
    cov: object = None

    def option(self, name):
        return dict(self.options)[name]


class Computed(tuple):
    """``(key, result)`` of a worker, with the cache entries it built.

    Attributes
    ----------
    kind : str
        'sources', 'resolution' or 'matrix'.
    cache : dict
        ``{"fwd": (key, forward), "cov": (key, cov)}`` for the main thread to
        store (:meth:`SourceWorkspace.store`).
    """

    def __new__(cls, kind, key, result, cache):
        self = super().__new__(cls, (key, result))
        self.kind, self.cache = kind, cache
        return self

    @property
    def key(self):
        return self[0]

    @property
    def result(self):
        return self[1]


# -- the computations (worker thread): they read only their WorkInputs -------
def _iter_forward(inputs):
    from core.sources.headmodel import iter_template_forward, subject_forward

    if inputs.forward is not None:
        return inputs.forward
    h = inputs.head
    if h.kind == "template":
        fwd = yield from iter_template_forward(inputs.info, h.spacing)
    else:
        yield Progress(0, 1, f"Head model: {h.label()}")
        fwd = subject_forward(inputs.info, forward=h.forward if h.kind == "forward"
                              else None, subjects_dir=h.subjects_dir,
                              subject=h.subject, trans=h.trans, bem=h.bem,
                              src=h.src, spacing=h.source_spacing)
    return fwd


def _noise_cov(inputs):
    from core.sources.inverse import noise_cov_diagonal, noise_cov_from_file, noise_cov_from_recording

    if inputs.cov is not None:
        return inputs.cov
    noise, band = inputs.noise, inputs.config.band
    if noise.kind == "diagonal":
        return noise_cov_diagonal(inputs.info)
    if noise.kind == "file":
        return noise_cov_from_file(noise.path, band=band)
    intervals = list(inputs.n2)
    if not intervals:
        logger.warning("No N2 epochs scored; the noise covariance uses all "
                       "spindle-free data.")
        intervals = [(0.0, inputs.recording.duration)]
    return noise_cov_from_recording(inputs.recording, intervals, list(inputs.exclude),
                                    band=band)


def _iter_head_and_cov(inputs):
    fwd = yield from _iter_forward(inputs)
    yield Progress(0, 1, "Noise covariance")
    cov = _noise_cov(inputs)
    return fwd, cov, {"fwd": (inputs.fwd_key, fwd), "cov": (inputs.cov_key, cov)}


def _iter_forward_only(inputs):
    fwd = yield from _iter_forward(inputs)
    return Computed("forward", inputs.fwd_key, fwd, {"fwd": (inputs.fwd_key, fwd)})


def _iter_sources(inputs, keep_stcs, stc_dtype, noise_label, on_spindle=None):
    from core.sources.inverse import cov_regularisation
    from core.sources.analysis import iter_analysis

    fwd, cov, cache = yield from _iter_head_and_cov(inputs)
    result = yield from iter_analysis(inputs.recording, list(inputs.spindles), fwd, cov,
                                      inputs.config, keep_stcs=keep_stcs,
                                      stc_dtype=stc_dtype, on_spindle=on_spindle,
                                      null_intervals=list(inputs.n2) or None)
    result.settings["noise_cov"] = f"{noise_label}; {cov_regularisation(cov)}"
    return Computed("sources", inputs.key, result, cache)


def _iter_resolution(inputs):
    from core.resolution.matrix import iter_resolution_study

    fwd, cov, cache = yield from _iter_head_and_cov(inputs)
    o = dict(inputs.options)
    extra = {k: v for k, v in o.items() if k not in RESOLUTION_DEFAULTS}
    res = yield from iter_resolution_study(
        fwd, cov, list(o["methods"]), list(o["sensors"]), info=inputs.info,
        snr=o["snr"], functions=list(o["functions"]), metrics=list(o["metrics"]),
        **extra)
    return Computed("resolution", inputs.key, res, cache)


def _iter_matrix(inputs, cached):
    from core.resolution.matrix import make_resolution_matrix

    o = dict(inputs.options)
    if cached is not None:
        return Computed("matrix", inputs.key, cached, {})
    yield Progress(0, 1, f"Resolution matrix {o['method']} / {o['sensors']}")
    fwd, cov, cache = yield from _iter_head_and_cov(inputs)
    R = make_resolution_matrix(fwd, cov, o["method"], o["sensors"], info=inputs.info,
                               snr=o["snr"])
    return Computed("matrix", inputs.key, R, cache)


RESOLUTION_DEFAULTS = {"methods": ("MNE", "dSPM"), "sensors": ("meeg", "meg"),
                       "snr": 3.0, "functions": ("psf", "ctf"),
                       "metrics": ("peak_err", "sd_ext", "peak_amp")}


def workspace_for(session) -> SourceWorkspace:
    """The one :class:`SourceWorkspace` of a session (``session.workspace``),
    so that the source and resolution tabs share head model and caches."""
    return session.workspace


__all__ = ["SourceWorkspace", "workspace_for", "HeadModelChoice", "NoiseChoice", "HEAD_KINDS",
           "NOISE_KINDS", "TEMPLATE_SPACINGS", "WorkInputs", "Computed"]
