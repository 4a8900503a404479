"""Open sleep recordings lazily and read them in chunks.

A :class:`Recording` wraps an MNE ``Raw`` opened with ``preload=False`` (the
data stay on disk; a full night never sits in memory), sorts its channels into
groups (EEG / MAG / GRAD / EOG / other), checks what source analysis will need
and repairs unit mistakes that some EDF writers make.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.utils import RecordingError, SpindleScopeError, logger

from core.io.formats import FORMATS as SUPPORTED  # noqa: E402  (re-exported)
from core.io.formats import MAXSHIELD_MESSAGE, NoSignalsError, read_raw, suffix

#: Channel groups, in display order.
GROUPS = ("eeg", "mag", "grad", "eog", "other")

# Plausible robust amplitude (median absolute deviation, SI units) per type.
# Anything far above the upper bound is almost surely a unit mistake.
_PLAUSIBLE = {
    "eeg": (1e-8, 5e-3),
    "eog": (1e-8, 5e-3),
    "emg": (1e-9, 5e-3),
    "ecg": (1e-8, 2e-2),
    "mag": (1e-16, 1e-9),
    "grad": (1e-15, 1e-7),
}
# Candidate unit fixes, tried in order: value written in µV, mV, nV, fT, pT.
_FIXES = ((1e-6, "µ"), (1e-3, "m"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))
_PREFIX_FACTOR = {p: f for f, p in _FIXES}

# Channel types from names, tried in order on channels a reader typed EEG or
# misc (MNE's type names; "other" in the channel groups except EEG/EOG).
_TYPE_BY_NAME = (
    (re.compile(r"EOG|^LOC|^ROC|^E[12]$|HEOG|VEOG", re.I), "eog"),
    (re.compile(r"EMG|CHIN|LEG|TIBIA|SUBMENT", re.I), "emg"),
    (re.compile(r"ECG|EKG", re.I), "ecg"),
    (re.compile(r"RESP|THOR|ABDO|NASAL|FLOW|SNORE|EFFORT|BELT|CANNULA", re.I), "resp"),
    (re.compile(r"TEMP", re.I), "temperature"),
    (re.compile(r"^STI|TRIG|^STATUS$|EVENT|MARKER|^DC\d", re.I), "stim"),
    (re.compile(r"SAO2|SPO2|PLETH|POS|HYPNO|PHONO|PULSE|^PR$|^NAF|^VAB|^VTH|"
                r"LIGHT|^HR$|OXI", re.I), "misc"),
)
# Old 10-20 names and reference electrodes not in the 10-05 montage.
_EXTRA_EEG = {"T3", "T4", "T5", "T6", "A1", "A2", "M1", "M2", "TP9", "TP10"}


def _eeg_labels() -> set:
    """Upper-case 10-20/10-10/10-05 electrode labels."""
    global _EEG_LABELS
    if _EEG_LABELS is None:
        import mne

        names = mne.channels.make_standard_montage("fsaverage_1005").ch_names
        _EEG_LABELS = {n.upper() for n in names} | _EXTRA_EEG
    return _EEG_LABELS


_EEG_LABELS = None


def is_eeg_label(name: str) -> bool:
    """Whether ``name`` is a 10-05 electrode or a derivation of them.

    ``Cz``, ``EEG Fpz-Cz``, ``C3-A2``, ``EEG C3-REF``, ``C3:M2`` all count.
    """
    n = re.sub(r"^(EEG|EEG:)\s*", "", str(name).strip(), flags=re.I)
    parts = [q for q in re.split(r"[-:/ ]+", n) if q]
    if not parts:
        return False
    labels = _eeg_labels()
    return parts[0].upper() in labels and all(
        q.upper() in labels or q.upper() in ("REF", "AVG", "AR", "LE", "RE")
        for q in parts[1:])


@dataclass
class SanityReport:
    """What the checks at opening found.

    Attributes
    ----------
    rescaled : dict
        Channel name → factor applied to bring it into SI units (undo with
        :meth:`Recording.set_unit_fix`).
    broken : list of str
        Channels whose header gives no usable scale (EDF digital min = max);
        they are marked bad and never rescaled.
    retyped : dict
        Channel name → type given from its name or position.
    warnings : list of str
        Human-readable findings (also logged).
    has_eeg_positions, has_meg_geometry, has_digitization : bool
        What source analysis can rely on.
    """

    rescaled: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    broken: list = field(default_factory=list)
    retyped: dict = field(default_factory=dict)
    has_eeg_positions: bool = False
    has_meg_geometry: bool = False
    has_digitization: bool = False


_suffix = suffix


def is_maxfiltered(info) -> bool:
    """Whether an info's MEG was Maxwell-filtered (SSS): the one test.

    Used by :class:`Recording` and by the resolution analysis
    (:mod:`core.resolution.matrix`) to take the rank from the info.

    Parameters
    ----------
    info : mne.Info

    Returns
    -------
    maxfiltered : bool
        True when a processing-history entry holds MaxFilter information.
    """
    return bool(info.get("proc_history")) and any(
        "max_info" in p for p in info["proc_history"])


def open_recording(path, *, fix_units: bool = True) -> "Recording":
    """Open a recording lazily.

    Parameters
    ----------
    path : path-like
        FIF (split files followed), EDF/BDF, BrainVision ``.vhdr``, EEGLAB
        ``.set``, FieldTrip ``.mat`` or a CTF ``.ds`` folder.
    fix_units : bool
        Rescale channels whose amplitudes are implausible by a power of ten
        that makes them plausible (e.g. EDF files that write "UV").

    Returns
    -------
    recording : Recording
        The opened recording.

    Raises
    ------
    RecordingError
        The file is missing, truncated, corrupt or of an unsupported type.
    """
    path = Path(path)
    if not path.exists():
        raise RecordingError(
            f"The recording {str(path)!r} does not exist. Check the path "
            f"(and that the drive or network share is available)."
        )
    if not os.access(path, os.R_OK):
        raise RecordingError(
            f"Cannot read {str(path)!r}: permission denied. Ask for read access "
            f"or copy the file somewhere you can read it.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = read_raw(path)
    except RecordingError:
        raise
    except MemoryError as exc:
        raise RecordingError(
            f"Not enough memory to open {path.name!r}.") from exc
    except Exception as exc:  # MNE raises many kinds for a broken file
        raise RecordingError(_reader_failure(path, exc)) from exc
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="mne")
            rec = Recording(res.raw, path)
            rec.format = res.kind
            rec.maxshield = res.maxshield
            rec.n_epochs = res.n_epochs
            rec.edf_header = res.edf_header
            for note in res.notes:
                rec._warn(note)
            rec._check(fix_units=fix_units)
    except RecordingError:
        raise
    except Exception as exc:  # a header MNE accepted but cannot use
        raise RecordingError(_reader_failure(path, exc)) from exc
    return rec


def _reader_failure(path, exc) -> str:
    """Word a reader's exception: missing companion, truncated or corrupt."""
    what = SUPPORTED.get(suffix(path), "a recording")
    if isinstance(exc, FileNotFoundError) or "No such file" in str(exc):
        missing = getattr(exc, "filename", None)
        return (f"Cannot read {path.name!r} as {what}: a file it refers to is "
                f"missing ({Path(missing).name if missing else exc}). Keep the "
                f"recording's companion files (same name, other extensions) "
                f"in the same folder with their original names.")
    if isinstance(exc, PermissionError):
        return (f"Cannot read {path.name!r}: permission denied on "
                f"{getattr(exc, 'filename', None) or 'a file it needs'}.")
    return (f"Cannot read {path.name!r} as {what}: the file looks truncated or "
            f"corrupt ({type(exc).__name__}: {exc}). Re-export or copy the file "
            f"again from the acquisition system.")


class Recording:
    """A lazily opened recording with channel groups.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The raw object; not loaded into memory.
    path : path-like | None
        Where it came from.
    """

    def __init__(self, raw, path=None):
        self.raw = raw
        self.path = Path(path) if path is not None else None
        self.report = SanityReport()
        #: Format recognised by :func:`core.io.formats.sniff` (None for memory).
        self.format = None
        #: Raw MEGIN data recorded with MaxShield (no MaxFilter yet).
        self.maxshield = False
        #: Epochs/averages shown end to end (0 = continuous).
        self.n_epochs = 0
        self.edf_header = None
        self._unit_fix_on = True
        #: Held by every reader of the file (trace pages, detection, sources):
        #: MNE's readers are not meant for concurrent use. Re-entrant, so a
        #: reader holding it may call :meth:`get_samples`.
        self.read_lock = threading.RLock()
        self._direct = False  # the direct FIF reader, built on first use
        self._infer_types()
        # Probe the last sample: a file truncated after its header was
        # written claims more samples than it has.
        self._probe_readable()

    # -- properties -------------------------------------------------------
    @property
    def info(self):
        return self.raw.info

    @property
    def sfreq(self) -> float:
        return float(self.raw.info["sfreq"])

    @property
    def n_times(self) -> int:
        return int(self.raw.n_times)

    @property
    def duration(self) -> float:
        return self.n_times / self.sfreq

    @property
    def ch_names(self) -> list[str]:
        return list(self.raw.ch_names)

    @property
    def ch_types(self) -> list[str]:
        return self.raw.get_channel_types()

    @property
    def groups(self) -> dict[str, list[str]]:
        """Channel names per group (``eeg, mag, grad, eog, other``)."""
        out = {g: [] for g in GROUPS}
        for name, kind in zip(self.ch_names, self.ch_types):
            out[kind if kind in out else "other"].append(name)
        return out

    def has(self, group: str) -> bool:
        """Whether the recording has channels of ``group``."""
        return bool(self.groups.get(group))

    @property
    def is_maxfiltered(self) -> bool:
        """Whether MEG was Maxwell-filtered (SSS), so rank must come from info."""
        return is_maxfiltered(self.info)

    def check_source_ready(self):
        """Raise if source analysis must not run on this recording.

        Raises
        ------
        RecordingError
            For raw MaxShield data (MEG distorted until MaxFilter/SSS).
        """
        if self.maxshield:
            name = self.path.name if self.path else "This recording"
            raise RecordingError(
                MAXSHIELD_MESSAGE.format(name=name) + " Run MaxFilter (or "
                "mne.preprocessing.maxwell_filter and save the result), then "
                "open the filtered file for source analysis.")

    # -- reading ----------------------------------------------------------
    def pick_indices(self, picks=None) -> np.ndarray:
        """Channel indices for names, group names or indices (None = all)."""
        if picks is None:
            return np.arange(len(self.ch_names))
        if isinstance(picks, str):
            picks = [picks]
        groups = self.groups
        idx = []
        for p in picks:
            if isinstance(p, (int, np.integer)):
                if not 0 <= p < len(self.ch_names):
                    raise SpindleScopeError(
                        f"Channel index {p} is out of range: the recording has "
                        f"{len(self.ch_names)} channels.")
                idx.append(int(p))
            elif p in groups:
                idx.extend(self.ch_names.index(n) for n in groups[p])
            elif p == "meg":
                idx.extend(self.ch_names.index(n)
                           for n in groups["mag"] + groups["grad"])
            elif p in self.ch_names:
                idx.append(self.ch_names.index(p))
            else:
                raise SpindleScopeError(
                    f"Channel {p!r} is not in the recording. Available groups: "
                    f"{', '.join(g for g in GROUPS if groups[g])}; channels "
                    f"include {', '.join(self.ch_names[:8])}...")
        return np.array(idx, int)

    def time_to_sample(self, t: float) -> int:
        return int(round(float(t) * self.sfreq))

    def get_chunk(self, start: float, stop: float, picks=None) -> np.ndarray:
        """Read a time window from disk.

        Parameters
        ----------
        start, stop : float
            Window in seconds from the start of the recording; clipped to the
            recording.
        picks : list of str | str | None
            Channel names, group names (``'eeg'``, ``'mag'``, ``'grad'``,
            ``'meg'``, ``'eog'``, ``'other'``) or indices; None for all.

        Returns
        -------
        data : array, shape (n_picks, n_samples)
            In SI units (V, T, T/m), units mistakes already repaired.
        """
        s0 = max(0, self.time_to_sample(start))
        s1 = min(self.n_times, self.time_to_sample(stop))
        idx = self.pick_indices(picks)
        if s1 <= s0:
            return np.zeros((len(idx), 0))
        return self.get_samples(s0, s1, idx)

    def get_samples(self, start: int, stop: int, idx) -> np.ndarray:
        """Read samples ``[start, stop)`` of channel indices ``idx``."""
        try:
            with self.read_lock, warnings.catch_warnings():
                # EDF channels at other rates are resampled on the fly; the
                # edge effect MNE warns about is reported once at opening.
                warnings.filterwarnings("ignore", "Loading an EDF with mixed")
                return self.raw.get_data(picks=np.asarray(idx, int),
                                         start=int(start), stop=int(stop))
        except Exception as exc:
            where = f" in {self.path.name!r}" if self.path else ""
            raise RecordingError(
                f"Reading samples {start}–{stop}{where} failed ({exc}); the "
                f"file may be truncated or damaged.") from exc

    def read_into(self, start: int, stop: int, idx, out: np.ndarray) -> np.ndarray:
        """Read samples ``[start, stop)`` of channels ``idx`` into ``out``.

        Same values as :meth:`get_samples` (calibrated, unit fix applied,
        projections not applied) in ``out``'s dtype (float32 for pages). A
        plain FIF is read straight from its data buffers
        (:class:`~core.io.fif_direct.FifDirect`); other files through MNE's
        reader into ``out``, or :meth:`get_samples` when neither applies.

        Parameters
        ----------
        start, stop : int
            Sample range, within the recording.
        idx : array of int
            Channel indices.
        out : array, shape (len(idx), stop - start)
            Filled in place.

        Returns
        -------
        out : array
            ``out``.
        """
        idx = np.asarray(idx, int)
        raw = self.raw
        with self.read_lock:
            if self._direct is False:
                from core.io.fif_direct import FifDirect

                self._direct = FifDirect.for_raw(raw)
            plain = (not getattr(raw, "preload", True)
                     and getattr(raw, "_projector", None) is None
                     and getattr(raw, "_comp", None) is None)
            try:
                if plain and self._direct is not None:
                    return self._direct.read(int(start), int(stop), idx, out)
                if plain and hasattr(raw, "_read_segment"):
                    # get_data starts from zeros, and some readers leave
                    # samples untouched (EDF channels with one sample per record)
                    out[...] = 0
                    with warnings.catch_warnings():
                        warnings.filterwarnings("ignore", "Loading an EDF with mixed")
                        raw._read_segment(int(start), int(stop), idx, data_buffer=out,
                                          verbose="error")
                    return out
            except Exception as exc:  # noqa: BLE001 - MNE's path below says what failed
                logger.debug("fast read failed (%s); reading through MNE", exc)
            out[...] = self.get_samples(start, stop, idx)
            return out

    # -- checks -----------------------------------------------------------
    def _infer_types(self):
        """Type channels a reader left as EEG or misc, by name then position.

        EOG/EMG/ECG/respiration/temperature/stim names win over EEG; misc
        channels named like 10-05 electrodes (``EEG Fpz-Cz``) become EEG, as
        do misc channels with scalp positions when a reader typed every
        channel misc (FieldTrip files converted from Neuroscan).
        """
        mapping = {}
        types = self.ch_types
        for name, kind in zip(self.ch_names, types):
            if kind not in ("eeg", "misc"):
                continue
            new = next((t for pat, t in _TYPE_BY_NAME if pat.search(name)), None)
            if new is None and kind == "misc" and is_eeg_label(name):
                new = "eeg"
            if new is not None and new != kind:
                mapping[name] = new
        if "eeg" not in types and "eeg" not in mapping.values():
            chs = self.info["chs"]
            pos = [(c["ch_name"], np.asarray(c["loc"][:3], float)) for c, t in
                   zip(chs, types) if t == "misc" and c["ch_name"] not in mapping]
            scalp = [n for n, xyz in pos if np.isfinite(xyz).all()
                     and 0.03 < np.linalg.norm(xyz) < 0.2]
            if len(scalp) >= 3:
                mapping.update({n: "eeg" for n in scalp})
        if mapping:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.raw.set_channel_types(mapping, on_unit_change="ignore")
            self.report.retyped.update(mapping)

    def _probe_readable(self):
        if self.n_times == 0:
            raise RecordingError("The recording has no samples.")
        try:
            self.raw.get_data(picks=[0], start=self.n_times - 1, stop=self.n_times)
        except Exception as exc:
            raise RecordingError(
                f"The recording's header promises {self.n_times} samples but "
                f"the data end earlier ({type(exc).__name__}: {exc}): the file "
                f"is truncated. Copy it again from the source.") from exc

    def _warn(self, msg: str):
        self.report.warnings.append(msg)
        logger.warning(msg)

    def _check(self, fix_units=True):
        rep = self.report
        self._mark_broken()
        if fix_units:
            self._fix_units()
        types = self.ch_types
        info = self.info
        # EEG positions
        eeg = [i for i, t in enumerate(types) if t == "eeg"]
        if eeg:
            locs = np.array([info["chs"][i]["loc"][:3] for i in eeg])
            ok = np.isfinite(locs).all(1) & (np.abs(locs).sum(1) > 0)
            rep.has_eeg_positions = bool(ok.all())
            if not ok.any():
                self._warn(
                    "The EEG channels have no sensor positions: EEG source "
                    "analysis is impossible until a montage is set (for a "
                    "standard cap, mne.channels.make_standard_montage; or the "
                    "digitised positions).")
            elif not ok.all():
                missing = [self.ch_names[i] for i, k in zip(eeg, ok) if not k]
                self._warn(
                    f"{len(missing)} EEG channels have no position "
                    f"({', '.join(missing[:5])}...): they will be left out of "
                    f"source analysis.")
        # MEG geometry
        meg = [i for i, t in enumerate(types) if t in ("mag", "grad")]
        if meg:
            locs = np.array([info["chs"][i]["loc"][:3] for i in meg])
            has_locs = bool(np.isfinite(locs).all() and (np.abs(locs).sum(1) > 0).all())
            rep.has_meg_geometry = has_locs and info["dev_head_t"] is not None
            if not has_locs:
                self._warn("The MEG channels have no sensor geometry: MEG "
                           "source analysis is impossible with this file.")
            elif info["dev_head_t"] is None:
                self._warn("The MEG device-to-head transform is missing: MEG "
                           "source analysis needs head-position information.")
        extras = getattr(self.raw, "_raw_extras", [{}])[0] or {}
        n_samps = np.atleast_1d(extras.get("n_samps", []))
        tal = set(np.atleast_1d(extras.get("tal_idx", [])).tolist())
        rates = [n for i, n in enumerate(n_samps) if i not in tal]
        if len(set(rates)) > 1:
            self._warn("The channels of this file have different sampling "
                       "rates; slower ones are resampled on reading, with small "
                       "edge effects at chunk borders.")
        dig = info.get("dig") or []
        rep.has_digitization = len(dig) > 0
        if (eeg or meg) and not dig:
            self._warn(
                "The recording has no digitisation (fiducials, head shape): "
                "coregistration with an individual MRI is impossible; source "
                "analysis falls back on the template head's fiducials.")

    def _mark_broken(self):
        """Report EDF/BDF channels whose header gives no scale."""
        hdr = self.edf_header
        if hdr is None:
            return
        broken = [n for n in hdr.broken_channels if n in self.ch_names]
        if not broken:
            return
        self.report.broken = broken
        self.raw.info["bads"] = sorted(set(self.raw.info["bads"]) | set(broken))
        self._warn(
            f"{len(broken)} channel(s) ({', '.join(broken[:6])}"
            f"{'...' if len(broken) > 6 else ''}) have a broken header: their "
            f"digital (or physical) minimum equals the maximum, so their values "
            f"cannot be scaled to physical units. They are marked bad and left "
            f"out of detection and analysis; fix the header or re-export.")

    def _robust_amplitude(self, idx) -> np.ndarray:
        """Median absolute deviation per channel from a few spread windows."""
        n_win = 8
        win = max(1, min(self.n_times // n_win, int(2 * self.sfreq)))
        starts = np.linspace(0, self.n_times - win, n_win).astype(int)
        data = np.concatenate(
            [self.get_samples(s, s + win, idx) for s in starts], axis=1)
        with np.errstate(invalid="ignore"):
            data = data - np.nanmedian(data, axis=1, keepdims=True)
            return np.nanmedian(np.abs(data), axis=1)

    def _fix_units(self):
        """Rescale a whole channel type when all of it is off by one factor.

        A type is rescaled only when its typical amplitude is implausible
        and one power of ten makes most of its channels (≥ 80 %) plausible;
        a lone implausible channel among plausible ones is reported, never
        "repaired" (it may really be that large). The decision is recorded
        in ``report.rescaled`` and undone by :meth:`set_unit_fix`.
        """
        types = np.array(self.ch_types)
        broken = set(self.report.broken)
        cand = [i for i, t in enumerate(types) if t in _PLAUSIBLE
                and self.ch_names[i] not in broken]
        if not cand:
            return
        mad = dict(zip(cand, self._robust_amplitude(cand)))
        factors = {}
        for kind in sorted({types[i] for i in cand}):
            lo, hi = _PLAUSIBLE[kind]
            idx = [i for i in cand if types[i] == kind and np.isfinite(mad[i])
                   and mad[i] > 0]
            if not idx:
                continue
            amps = np.array([mad[i] for i in idx])
            ok = (amps >= lo) & (amps <= hi)
            typical = float(np.median(amps))
            if typical <= hi:
                odd = [self.ch_names[i] for i, good in zip(idx, ok)
                       if not good and mad[i] > hi]
                if odd:
                    self._warn(
                        f"{len(odd)} {kind.upper()} channel(s) ({', '.join(odd[:6])}) "
                        f"have amplitudes implausible for {kind.upper()} while the "
                        f"others are plausible: left unchanged (check them; a "
                        f"unit fix applies to whole channel types only).")
                continue
            for fac, prefix in _FIXES:
                if (lo <= typical * fac <= hi
                        and np.mean((amps * fac >= lo) & (amps * fac <= hi)) >= 0.8):
                    factors.update({i: (fac, prefix) for i in idx})
                    break
        if not factors:
            return
        self._apply_scale({ci: f for ci, (f, _) in factors.items()})
        by_prefix = {}
        for ci, (fac, prefix) in factors.items():
            by_prefix.setdefault(prefix, []).append(self.ch_names[ci])
            self.report.rescaled[self.ch_names[ci]] = fac
        for prefix, names in by_prefix.items():
            self._warn(
                f"{len(names)} channel(s) ({', '.join(names[:6])}"
                f"{'...' if len(names) > 6 else ''}) had implausible amplitudes "
                f"for their type; the file most likely stores {prefix}-units "
                f"under a unit MNE does not recognise. They were rescaled by "
                f"{_PREFIX_FACTOR[prefix]:g} (undo: open with fix_units=False "
                f"or Recording.set_unit_fix(False)).")

    def set_unit_fix(self, on: bool):
        """Apply (True) or undo (False) the unit fix decided at opening.

        Parameters
        ----------
        on : bool
            Whether channels in ``report.rescaled`` carry their factor.
        """
        on = bool(on)
        if on == self._unit_fix_on or not self.report.rescaled:
            self._unit_fix_on = on
            return
        idx = {self.ch_names.index(n): (f if on else 1.0 / f)
               for n, f in self.report.rescaled.items()}
        self._apply_scale(idx)
        self._unit_fix_on = on
        logger.info("Unit fix %s for %d channel(s)", "applied" if on else "undone",
                    len(idx))

    @property
    def unit_fix_applied(self) -> bool:
        """Whether the channels in ``report.rescaled`` are rescaled now."""
        return self._unit_fix_on and bool(self.report.rescaled)

    def _apply_scale(self, factors: dict):
        raw = self.raw
        idx = np.array(sorted(factors))
        fac = np.array([factors[i] for i in idx])
        with self.read_lock:  # not while a page is being read
            self._scale_locked(raw, idx, fac)

    @staticmethod
    def _scale_locked(raw, idx, fac):
        if raw.preload:
            raw._data[idx] *= fac[:, None]
        else:
            # The readers multiply each channel by its calibration while
            # reading, so the fix costs nothing and survives crop/load_data.
            raw._cals[idx] *= fac

    def __repr__(self):
        g = ", ".join(f"{len(v)} {k}" for k, v in self.groups.items() if v)
        name = self.path.name if self.path else "<memory>"
        return f"<Recording {name!r}: {self.duration:.1f} s at {self.sfreq:g} Hz; {g}>"
