"""The source workspace: head model, inverse settings and cached results.

A :class:`SourceWorkspace` composes with a :class:`core.session.Session` (it
never edits it beyond :meth:`Session.set_result` of JSON summaries). It holds
what the source and resolution analyses need besides the recording and the
spindles — the head model choice, the noise covariance source, the inverse
settings — and caches results keyed by a hash of *all* their inputs, so that a
result is recomputed only when an input changed. It is Qt-free: the GUI runs
its generators (:meth:`iter_sources`, :meth:`iter_resolution`) on a worker
thread and stores the returned values on the main thread with
:meth:`store_sources` / :meth:`store_resolution` (house rules 3 and 4).

Signals (psygnal)
-----------------
settings_changed()
    The head model, noise covariance or inverse settings changed.
sources_changed(object)
    A source result (:class:`core.sources.AnalysisResult`) became current, or
    None when the current inputs have no result.
resolution_changed(object)
    Same for :class:`core.resolution_metrics.ResolutionResults`.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from psygnal import Signal

from .utils import Progress, SpindleScopeError, check_option, logger, relink

HEAD_KINDS = ("template", "forward", "subject")
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
    """

    kind: str = "template"
    spacing: str = "ico4"
    forward: str | None = None
    subjects_dir: str | None = None
    subject: str | None = None
    trans: str | None = None
    bem: str | None = None

    def __post_init__(self):
        check_option("kind", self.kind, HEAD_KINDS)
        check_option("spacing", self.spacing, ("ico4", "ico5"))
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
    session : core.session.Session
        The session whose recording, hypnogram and spindles are analysed.
    """

    settings_changed = Signal()
    sources_changed = Signal(object)
    resolution_changed = Signal(object)

    def __init__(self, session):
        from .sources import AnalysisConfig

        self.session = session
        self.head = HeadModelChoice()
        self.noise = NoiseChoice()
        self.config = AnalysisConfig()
        #: analyse at most this many spindles (None: all); the first ones
        self.max_spindles: int | None = None
        self._cache: dict = {}
        self._cov_cache: dict = {}        # key -> AnalysisResult / ResolutionResults
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
            Fields of :class:`core.sources.AnalysisConfig` (band, ...).
        """
        from .inverse import InverseSettings

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

    # -- keys -------------------------------------------------------------
    def _head_key(self) -> dict:
        d = asdict(self.head)
        for name in ("forward", "trans", "bem"):
            if d[name]:
                d[name] = _file_stamp(d[name])
        if self.head.kind != "template":
            d.pop("spacing")
        return d

    def _recording(self):
        """The session's recording, or a clear error when none is open."""
        rec = self.session.recording
        if rec is None:
            raise SpindleScopeError("Open a recording first.")
        rec.check_source_ready()
        return rec

    def _base_key(self) -> dict:
        rec = self._recording()
        hyp = self.session.hypnogram
        noise = asdict(self.noise)
        if noise["path"]:
            noise["path"] = _file_stamp(noise["path"])
        if self.noise.kind == "auto" and hyp is not None:
            noise["n2"] = hyp.intervals(["N2"])
        return {"recording": _file_stamp(rec.path) if rec.path else id(rec),
                "bads": list(rec.info["bads"]), "head": self._head_key(),
                "noise": noise}

    @staticmethod
    def _digest(d: dict) -> str:
        text = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def sources_key(self) -> str:
        """Hash of every input of the source analysis."""
        d = self._base_key()
        d["config"] = asdict(self.config)
        d["spindles"] = self.spindles()
        return "src-" + self._digest(d)

    def resolution_key(self, methods, sensors, snr, functions, metrics) -> str:
        """Hash of every input of a resolution study."""
        d = self._base_key()
        d.update(methods=list(methods), sensors=list(sensors), snr=float(snr),
                 functions=list(functions), metrics=list(metrics),
                 band=self.config.band)
        return "res-" + self._digest(d)

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

    def store_sources(self, key: str, result):
        """Keep a finished source result (main thread); emits if current."""
        from .report import PAPER_VALUES

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

    # -- computation (worker thread) --------------------------------------
    def _fwd_key(self) -> str:
        from .headmodel import _info_key

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

    def _iter_forward(self):
        from .headmodel import iter_template_forward, subject_forward

        rec = self.session.recording
        key = self._fwd_key()
        if key in self._fwd_cache:
            return self._fwd_cache[key]
        if self.head.kind == "template":
            fwd = yield from iter_template_forward(rec.info, self.head.spacing)
        else:
            yield Progress(0, 1, f"Head model: {self.head.label()}")
            h = self.head
            fwd = subject_forward(rec.info, forward=h.forward if h.kind == "forward"
                                  else None, subjects_dir=h.subjects_dir,
                                  subject=h.subject, trans=h.trans, bem=h.bem)
        self._fwd_cache[key] = fwd
        return fwd

    def _noise_cov(self, spindles, band):
        key = self._digest({"base": self._base_key(), "spindles": spindles,
                            "band": band})
        if key not in self._cov_cache:
            self._cov_cache = {key: self._make_noise_cov(spindles, band)}
        return self._cov_cache[key]

    def _make_noise_cov(self, spindles, band):
        from .inverse import noise_cov_diagonal, noise_cov_from_file, \
            noise_cov_from_recording

        rec = self.session.recording
        if self.noise.kind == "diagonal":
            return noise_cov_diagonal(rec.info)
        if self.noise.kind == "file":
            return noise_cov_from_file(self.noise.path, band=band)
        hyp = self.session.hypnogram
        intervals = hyp.intervals(["N2"]) if hyp is not None else []
        if not intervals:
            logger.warning("No N2 epochs scored; the noise covariance uses all "
                           "spindle-free data.")
            intervals = [(0.0, rec.duration)]
        return noise_cov_from_recording(rec, intervals,
                                        [(a, a + d) for a, d in spindles], band=band)

    def iter_sources(self):
        """Generator computing the source analysis of the current inputs.

        Safe to run on a worker thread: it reads the inputs once at the start
        and returns ``(key, result)`` without storing anything; pass them to
        :meth:`store_sources` on the main thread.

        Yields
        ------
        progress : Progress

        Returns
        -------
        key : str
        result : core.sources.AnalysisResult
        """
        from .inverse import check_modality, cov_regularisation
        from .sources import iter_analysis

        rec = self._recording()
        key = self.sources_key()
        config = self.config
        spindles = self.spindles()
        for mod in config.modalities:
            check_modality(rec.info, mod)
        if not spindles:
            raise SpindleScopeError("There are no spindles to analyse: mark or "
                                    "detect spindles first.")
        fwd = yield from self._iter_forward()
        yield Progress(0, 1, "Noise covariance")
        cov = self._noise_cov(spindles, config.band)
        # the movies need every spindle's time courses: keep them in single
        # precision as each spindle finishes (the figures are computed in
        # double); 26 demo spindles x 3 modalities x 5,124 sources x ~300
        # samples = 0.5 GB instead of 1 GB
        result = yield from iter_analysis(rec, self._spindle_objects(), fwd, cov, config,
                                          stc_dtype=np.float32,
                                          null_intervals=self._n2_intervals())
        result.settings["noise_cov"] = f"{self.noise_label()}; {cov_regularisation(cov)}"
        return key, result

    def _n2_intervals(self):
        hyp = self.session.hypnogram
        intervals = hyp.intervals(["N2"]) if hyp is not None else []
        return intervals or None

    def noise_label(self) -> str:
        """The noise covariance source, as the reports name it."""
        band = self.config.band
        if self.noise.kind == "diagonal":
            return "diagonal (ad hoc)"
        if self.noise.kind == "file":
            return Path(self.noise.path).name
        return "spindle-free N2 segments" + (
            f", {band[0]:g}–{band[1]:g} Hz" if band else "")

    def iter_resolution(self, methods=("MNE", "dSPM"), sensors=("meeg", "meg"),
                        snr=3.0, functions=("psf", "ctf"),
                        metrics=("peak_err", "sd_ext", "peak_amp")):
        """Generator computing a resolution study on the current head model.

        Returns
        -------
        key : str
        results : core.resolution_metrics.ResolutionResults
        """
        from .resolution import iter_resolution_study

        rec = self._recording()
        key = self.resolution_key(methods, sensors, snr, functions, metrics)
        fwd = yield from self._iter_forward()
        yield Progress(0, 1, "Noise covariance")
        cov = self._noise_cov(self.spindles(), self.config.band)
        res = yield from iter_resolution_study(
            fwd, cov, list(methods), list(sensors), info=rec.info, snr=snr,
            functions=list(functions), metrics=list(metrics))
        return key, res

    def resolution_matrix(self, method: str, sensors: str, snr: float = 3.0):
        """One resolution matrix (for PSFs/CTFs of clicked sources); cached.

        Blocking (about a second at 5,124 sources): call it on a worker.
        """
        from .resolution import make_resolution_matrix

        key = (self._digest(self._base_key()), method, sensors, float(snr))
        if key not in self._resmat_cache:
            from .utils import run_with_progress

            fwd = run_with_progress(self._iter_forward())
            cov = self._noise_cov(self.spindles(), self.config.band)
            self._resmat_cache = {key: make_resolution_matrix(
                fwd, cov, method, sensors, info=self.session.recording.info,
                snr=snr)}
        return self._resmat_cache[key]


def workspace_for(session) -> SourceWorkspace:
    """The one :class:`SourceWorkspace` of a session (made on first use), so
    that the source and resolution tabs share head model and caches."""
    ws = _WORKSPACES.get(session)
    if ws is None:
        ws = _WORKSPACES[session] = SourceWorkspace(session)
    return ws


_WORKSPACES = weakref.WeakKeyDictionary()

__all__ = ["SourceWorkspace", "workspace_for", "HeadModelChoice", "NoiseChoice", "HEAD_KINDS",
           "NOISE_KINDS"]
