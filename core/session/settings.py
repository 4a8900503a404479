"""The app's typed settings, stored as JSON under the user's config folder.

One :class:`Settings` dataclass holds every persisted preference (display
scalings, page length, filters, recent files, scorer name...). It is an evented
dataclass (:func:`psygnal.evented`): ``settings.events.<field>`` emits the new
value whenever a field changes, so every widget showing a setting (a menu
check, a spin box) connects to that event instead of being updated by hand by
whoever wrote the field. It is written as
JSON with a ``schema_version`` (never pickled) to
``platformdirs.user_config_dir("spindlescope")/settings.json``; the environment
variable ``SPINDLESCOPE_CONFIG_DIR`` overrides the folder (tests point it at a
temporary folder).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from psygnal import evented

from core.utils import (SpindleScopeError, atomic_write_text, check_option, check_range,
                        logger, user_dir)
from core.utils.vocabulary import VISIBILITY

#: Version of the JSON layout; bump when a field changes meaning.
SCHEMA_VERSION = 1

#: Default display scalings (SI units per half channel spacing), like MNE's;
#: EEG at 25 µV per half spacing is the scorer's 50 µV per division.
DEFAULT_SCALINGS = {"eeg": 25e-6, "eog": 150e-6, "mag": 1e-12, "grad": 4e-11,
                    "other": 1e-3}

#: AASM display bands (high-pass, low-pass in Hz; None: off) of the channel
#: kinds that do not follow the general ``highpass``/``lowpass`` (EEG, EOG and
#: MEG do, 0.3–35 Hz by default). Low-pass edges above Nyquist are capped at
#: display time; stim channels are never filtered.
DEFAULT_DISPLAY_FILTERS = {"emg": (10.0, 100.0), "ecg": (0.3, 70.0),
                           "resp": (0.1, 15.0), "temp": (None, None)}

_MAX_RECENT = 10


def config_dir() -> Path:
    """Folder of the settings file (``SPINDLESCOPE_CONFIG_DIR`` overrides)."""
    return user_dir("config")


def settings_path() -> Path:
    """Path of the settings JSON file."""
    return config_dir() / "settings.json"


def _valid_detector_params(value) -> dict:
    """Keep the detectors' parameter overrides that a detector accepts.

    A hand-edited or outdated entry is dropped with a warning naming it (the
    detector then runs with its published defaults) rather than making the
    whole settings file unreadable.
    """
    from core.detection.detector import make_params, param_overrides

    if not isinstance(value, dict):
        logger.warning("Ignoring detector_params in the settings: expected an "
                       "object, got %s.", type(value).__name__)
        return {}
    out = {}
    for method, over in value.items():
        try:
            if not isinstance(over, dict):
                raise SpindleScopeError(f"expected an object, got {over!r}")
            out[str(method)] = param_overrides(make_params(str(method), **over))
        except SpindleScopeError as exc:
            logger.warning("Ignoring the saved %r detector parameters (%s); "
                           "using its published defaults.", method, exc)
    return out


def _valid_display_filters(value) -> dict:
    """Keep the per-kind display bands that read (a bad entry is dropped)."""
    if not isinstance(value, dict):
        logger.warning("Ignoring display_filters in the settings: expected an object, "
                       "got %s.", type(value).__name__)
        return {k: tuple(v) for k, v in DEFAULT_DISPLAY_FILTERS.items()}
    out = {}
    for kind, band in value.items():
        try:
            if not isinstance(band, (list, tuple)) or len(band) != 2:
                raise SpindleScopeError(f"expected [high-pass, low-pass], got {band!r}")
            hp, lp = (None if v is None else check_range(f"display_filters[{kind!r}]",
                                                         v, 0.0, 10000.0) for v in band)
            hp, lp = hp or None, lp or None
            if hp and lp and hp >= lp:
                raise SpindleScopeError(f"the high-pass ({hp} Hz) must be below the "
                                        f"low-pass ({lp} Hz)")
            out[str(kind)] = (hp, lp)
        except (SpindleScopeError, TypeError, ValueError) as exc:
            logger.warning("Ignoring the saved display filter of %r (%s).", kind, exc)
            if kind in DEFAULT_DISPLAY_FILTERS:
                out[str(kind)] = DEFAULT_DISPLAY_FILTERS[kind]
    return out


def _valid_user_montages(value) -> dict:
    """Keep the user montages that read (a bad entry is dropped with a warning)."""
    from core.io.montage import validate_user_montages

    if not isinstance(value, dict):
        logger.warning("Ignoring user_montages in the settings: expected an object, "
                       "got %s.", type(value).__name__)
        return {}
    out = {}
    for name, rows in value.items():
        try:
            out.update(validate_user_montages({name: rows}))
        except SpindleScopeError as exc:
            logger.warning("Ignoring the saved user montage %r (%s).", name, exc)
    return out


@evented
@dataclass
class Settings:
    """Persisted preferences of the app.

    Every field is observable: ``settings.events.sigma_overlay.connect(f)``
    calls ``f(new_value)`` after each change of that field (and
    ``settings.events.connect(f)`` after any change, with an
    :class:`psygnal.EmissionInfo`). Writing the same value again emits nothing.

    Attributes
    ----------
    page_duration : float
        Seconds of signal per page (5–60).
    n_channels : int
        Channels shown at once in the trace browser (1–400).
    scalings : dict
        Channel group → amplitude (SI units) spanning half a channel spacing.
    highpass, lowpass : float | None
        Display band-pass edges in Hz (None: off).
    notch : float | None
        Display notch frequency in Hz (None: off).
    sigma_overlay : bool
        Draw the 11–16 Hz band over the traces.
    sigma_band : tuple of float
        The sigma band edges in Hz.
    epoch_length : float
        Scoring epoch in seconds.
    scorer : str
        Name written with each manual mark.
    default_visibility : str
        Visibility of new marks (``'eeg'``, ``'meg'``, ``'both'`` or ``''``).
    detector : str
        Last detector used from the Analysis menu.
    detector_params : dict
        Detector name → the parameters changed from its published defaults
        (as :func:`core.detection.detector.param_overrides` gives them).
    recent_files : list of str
        Most recent first.
    autosave : bool
        Journal every change (recovery after a crash).
    window_geometry : str
        Base64 of the main window geometry ("" = default).
    montage : str
        Montage shown by the trace browser (:data:`core.io.montage.PRESETS` or a
        user montage; "" = as recorded).
    user_montages : dict
        Montage name → list of derivations (``"C4-M1"``, ``"Cz-(M1+M2)"``).
    display_filters : dict
        Channel kind → its own display ``(highpass, lowpass)`` in Hz (None:
        off); kinds not listed use ``highpass``/``lowpass``
        (:data:`DEFAULT_DISPLAY_FILTERS`: EMG 10–100, ECG 0.3–70, respiration
        0.1–15 Hz, temperature unfiltered).
    """

    page_duration: float = 30.0
    n_channels: int = 30
    scalings: dict = field(default_factory=lambda: dict(DEFAULT_SCALINGS))
    highpass: float | None = 0.3
    lowpass: float | None = 35.0
    notch: float | None = None
    sigma_overlay: bool = False
    sigma_band: tuple = (11.0, 16.0)
    epoch_length: float = 30.0
    scorer: str = ""
    default_visibility: str = ""
    detector: str = ""
    detector_params: dict = field(default_factory=dict)
    recent_files: list = field(default_factory=list)
    autosave: bool = True
    window_geometry: str = ""
    montage: str = ""
    user_montages: dict = field(default_factory=dict)
    display_filters: dict = field(default_factory=lambda: dict(DEFAULT_DISPLAY_FILTERS))

    def validate(self) -> "Settings":
        """Check every field; raise :class:`SpindleScopeError` if one is off."""
        for name in ("sigma_overlay", "autosave"):
            if not isinstance(getattr(self, name), bool):
                raise SpindleScopeError(
                    f"Invalid value for the {name!r} parameter: expected true or "
                    f"false, but got {getattr(self, name)!r} instead.")
        for name in ("scorer", "default_visibility", "detector", "window_geometry"):
            if not isinstance(getattr(self, name), str):
                raise SpindleScopeError(
                    f"Invalid value for the {name!r} parameter: expected text, but "
                    f"got {getattr(self, name)!r} instead.")
        if not isinstance(self.scalings, dict) or not isinstance(self.recent_files, list):
            raise SpindleScopeError(
                "Invalid 'scalings' or 'recent_files' in the settings: expected an "
                "object and a list.")
        self.page_duration = check_range("page_duration", self.page_duration, 5, 60)
        check_range("n_channels", self.n_channels, 1, 400)
        self.n_channels = int(self.n_channels)
        for name in ("highpass", "lowpass", "notch"):
            val = getattr(self, name)
            if val is not None:
                setattr(self, name, check_range(name, val, 0.0, 10000.0))
        if self.highpass and self.lowpass and self.highpass >= self.lowpass:
            raise SpindleScopeError(
                f"Invalid display filter: the high-pass ({self.highpass} Hz) "
                f"must be below the low-pass ({self.lowpass} Hz).")
        try:
            lo, hi = (float(v) for v in self.sigma_band)
        except (TypeError, ValueError):
            lo = hi = float("nan")
        if not 0 < lo < hi < 1e4:
            raise SpindleScopeError(
                f"Invalid value for the 'sigma_band' parameter: expected two "
                f"increasing positive frequencies, but got {self.sigma_band!r}.")
        self.sigma_band = (lo, hi)
        self.epoch_length = check_range("epoch_length", self.epoch_length, 1, 120)
        check_option("default_visibility", self.default_visibility, VISIBILITY)
        self.scalings = {str(key): check_range(f"scalings[{key!r}]", val, 1e-18, 1e3)
                         for key, val in self.scalings.items()}
        self.recent_files = [str(p) for p in self.recent_files][:_MAX_RECENT]
        self.detector_params = _valid_detector_params(self.detector_params)
        self.user_montages = _valid_user_montages(self.user_montages)
        self.montage = str(self.montage or "")
        self.display_filters = _valid_display_filters(self.display_filters)
        return self

    # -- copies ---------------------------------------------------------------
    def __getstate__(self) -> dict:
        """The fields only: copies and pickles carry no connections."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    # -- recent files -----------------------------------------------------
    def add_recent(self, path) -> None:
        """Put ``path`` first in :attr:`recent_files`."""
        path = str(Path(path).resolve())
        self.recent_files = [path] + [p for p in self.recent_files if p != path]
        del self.recent_files[_MAX_RECENT:]

    # -- (de)serialisation ------------------------------------------------
    def to_dict(self) -> dict:
        out = asdict(self)
        out["sigma_band"] = list(self.sigma_band)
        out["schema_version"] = SCHEMA_VERSION
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        """Build settings from a dict, ignoring unknown keys.

        Parameters
        ----------
        data : dict
            As written by :meth:`to_dict`.

        Returns
        -------
        settings : Settings
            Validated; defaults fill missing keys.
        """
        if not isinstance(data, dict):
            raise SpindleScopeError(
                f"Settings must be a JSON object, got {type(data).__name__}.")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise SpindleScopeError(
                f"The settings were written by a newer SpindleScope (schema "
                f"{version!r}, this version reads up to {SCHEMA_VERSION}). "
                f"Update the app or delete {settings_path()}.")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "scalings" in kwargs:
            if not isinstance(kwargs["scalings"], dict):
                raise SpindleScopeError(
                    f"Invalid value for the 'scalings' parameter: expected an "
                    f"object, but got {kwargs['scalings']!r} instead.")
            kwargs["scalings"] = {**DEFAULT_SCALINGS, **kwargs["scalings"]}
        if isinstance(kwargs.get("display_filters"), dict):
            kwargs["display_filters"] = {**DEFAULT_DISPLAY_FILTERS,
                                         **kwargs["display_filters"]}
        if "sigma_band" in kwargs:
            if not isinstance(kwargs["sigma_band"], (list, tuple)) or \
                    len(kwargs["sigma_band"]) != 2:
                raise SpindleScopeError(
                    f"Invalid value for the 'sigma_band' parameter: expected two "
                    f"frequencies, but got {kwargs['sigma_band']!r} instead.")
            kwargs["sigma_band"] = tuple(kwargs["sigma_band"])
        return cls(**kwargs).validate()

    def save(self, path=None) -> Path:
        """Write the settings atomically as JSON; return the path."""
        path = Path(path) if path is not None else settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2))
        return path

    @classmethod
    def load(cls, path=None) -> "Settings":
        """Read settings; defaults when the file is missing or unreadable.

        A corrupt file is logged and replaced by defaults (never a crash at
        start-up); the broken file is kept beside as ``settings.json.bad``.
        """
        path = Path(path) if path is not None else settings_path()
        if not path.exists():
            return cls()
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, RecursionError) as exc:
            logger.warning("Ignoring unreadable settings %s (%s); using defaults.",
                           path, exc)
            try:
                os.replace(path, path.with_suffix(".json.bad"))
            except OSError:
                pass
            return cls()
