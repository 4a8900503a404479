"""Montages: which rows a scorer reads, each a derivation of recorded channels.

A :class:`Montage` is a named list of :class:`Derivation` rows, each "an
active channel minus the mean of reference channels" (an empty reference is the
channel as recorded). :func:`compile_montage` resolves the names against a
recording once and gives a :class:`CompiledMontage`: the recording channels to
read and a small weight matrix. It is applied to one page of data at a time
(:meth:`CompiledMontage.rows_for`, :meth:`CompiledMontage.apply`), never to the
whole night.

Schemes (:data:`PRESETS`): as recorded, average reference, linked mastoids,
contralateral mastoid, a longitudinal bipolar chain ("double banana"), the AASM
sleep montage (F4-M1, C4-M1, O2-M1 with backups F3-M2, C3-M2, O1-M2, E1-M2,
E2-M2 and the chin EMG, all found from channel names), all EEG,
magnetometers, gradiometers and EEG by region. User montages are lists of
derivation strings (``"C4-M1"``, ``"Cz-(M1+M2)"``, ``"Fz-avg"``, ``"Cz"``)
kept in the settings (``Settings.user_montages``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from core.utils import SpindleScopeError, check_option

#: Name of the montage that shows every channel as recorded.
AS_RECORDED = "As recorded"

#: Mastoid / ear-lobe aliases (left, right).
_LEFT_REF = ("M1", "A1", "TP9")
_RIGHT_REF = ("M2", "A2", "TP10")
#: EOG aliases: E1 (left outer canthus) and E2 (right).
_E1 = ("E1", "LOC", "EOGL", "EOG1", "LEOG", "EOG_L", "EOGLEFT", "HEOGL")
_E2 = ("E2", "ROC", "EOGR", "EOG2", "REOG", "EOG_R", "EOGRIGHT", "HEOGR")

#: AASM derivations: (recommended, backup).
AASM_EEG = (("F4-M1", "F3-M2"), ("C4-M1", "C3-M2"), ("O2-M1", "O1-M2"))

#: Longitudinal bipolar chain of the 10-20 system (double banana + midline).
BANANA = ("Fp1-F7", "F7-T7", "T7-P7", "P7-O1", "Fp1-F3", "F3-C3", "C3-P3",
          "P3-O1", "Fz-Cz", "Cz-Pz", "Fp2-F4", "F4-C4", "C4-P4", "P4-O2",
          "Fp2-F8", "F8-T8", "T8-P8", "P8-O2")

#: Region of a 10-20/10-10 EEG label, by its letters.
REGIONS = {"frontal": ("FP", "AF", "F"), "central": ("FC", "C"),
           "temporal": ("FT", "T", "TP"), "parietal": ("CP", "P"),
           "occipital": ("PO", "O", "I")}


def _clean(name: str) -> str:
    """Upper-case label without type prefixes, reference suffixes or spaces."""
    n = str(name).strip().upper()
    n = re.sub(r"^(EEG|EOG|EMG)[\s_:-]+", "", n)
    n = re.sub(r"(?:[-_ ](?:REF|LE|AVG|AR)|REF)$", "", n)
    return n.replace(" ", "")


@dataclass(frozen=True)
class Derivation:
    """One row: ``active`` minus the mean of ``reference`` channels.

    Parameters
    ----------
    name : str
        Row label.
    active : str
        Recording channel name.
    reference : tuple of str
        Recording channel names averaged and subtracted (empty: as recorded).
    group : str
        Display group (``'eeg'``, ``'eog'``, ``'mag'``, ``'grad'``, ``'other'``).
    """

    name: str
    active: str
    reference: tuple = ()
    group: str = "eeg"


@dataclass(frozen=True)
class Montage:
    """A named list of derivations (a user montage or a resolved preset)."""

    name: str
    derivations: tuple = ()

    def __len__(self):
        return len(self.derivations)


@dataclass(frozen=True, eq=False)
class CompiledMontage:
    """A montage resolved against one recording's channels.

    Attributes
    ----------
    name : str
        Montage name.
    names : tuple of str
        Row labels.
    groups : tuple of str
        Display group of each row.
    terms : tuple of tuple
        Per row, ``((channel_index, weight), ...)`` into the recording.
    """

    name: str
    names: tuple
    groups: tuple
    terms: tuple
    key: str = field(default="")

    def __len__(self):
        return len(self.names)

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, CompiledMontage) and other.key == self.key

    @property
    def is_identity(self) -> bool:
        """Every row one recorded channel with weight 1."""
        return all(len(t) == 1 and t[0][1] == 1.0 for t in self.terms)

    def channels_of(self, row: int) -> tuple:
        """Recording channel indices a row reads."""
        return tuple(ci for ci, _ in self.terms[row])

    def rows_for(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """What to read for some rows, and how to combine it.

        Parameters
        ----------
        rows : sequence of int
            Row indices of the montage (e.g. the rows visible on a page).

        Returns
        -------
        read_idx : array of int, shape (n_read,)
            Recording channel indices to read (sorted, unique).
        matrix : array, shape (n_rows, n_read)
            Weights: ``data_rows = matrix @ data_read``.
        """
        rows = [int(r) for r in rows]
        for r in rows:
            if not 0 <= r < len(self.names):
                raise SpindleScopeError(
                    f"Row {r} does not exist: the montage {self.name!r} has "
                    f"{len(self.names)} rows.")
        read = sorted({ci for r in rows for ci, _ in self.terms[r]})
        col = {ci: k for k, ci in enumerate(read)}
        mat = np.zeros((len(rows), len(read)))
        for i, r in enumerate(rows):
            for ci, w in self.terms[r]:
                mat[i, col[ci]] += w
        return np.array(read, int), mat

    def apply(self, data, rows) -> np.ndarray:
        """Derive rows from a page of the channels :meth:`rows_for` named.

        Parameters
        ----------
        data : array, shape (n_read, n_times)
            The channels ``rows_for(rows)[0]``, in that order.
        rows : sequence of int
            The montage rows wanted.

        Returns
        -------
        out : array, shape (n_rows, n_times)
        """
        read, mat = self.rows_for(rows)
        data = np.asarray(data)
        if data.shape[0] != len(read):
            raise SpindleScopeError(
                f"The page holds {data.shape[0]} channels but the montage rows "
                f"need {len(read)}.")
        if mat.shape[0] == mat.shape[1] and np.array_equal(mat, np.eye(len(read))):
            return data
        return mat @ data

    def read_rows(self, recording, start: int, stop: int, rows) -> np.ndarray:
        """Read samples ``[start, stop)`` of some rows from a recording."""
        read, _ = self.rows_for(rows)
        return self.apply(recording.get_samples(start, stop, read), rows)


# ---------------------------------------------------------------------------
# Parsing user derivations
# ---------------------------------------------------------------------------

_EXPR = re.compile(r"^\s*(?P<act>[^-()]+?)\s*(?:-\s*(?P<ref>\(.*\)|[^()]+?))?\s*$")


def parse_derivation(text: str, group: str = "eeg") -> Derivation:
    """Read ``"C4-M1"``, ``"Cz-(M1+M2)"``, ``"Fz-avg"`` or ``"Cz"``.

    ``avg`` stands for every EEG channel (resolved at compile time).
    Channel names containing a hyphen must be written as recorded, e.g.
    ``"EEG Fpz-Cz"`` is found as a whole name before any split.
    """
    text = str(text).strip()
    if not text:
        raise SpindleScopeError("A derivation is empty: write e.g. 'C4-M1' or 'Cz'.")
    m = _EXPR.match(text)
    if m is None:
        raise SpindleScopeError(
            f"Cannot read the derivation {text!r}: write ACTIVE-REFERENCE, e.g. "
            f"'C4-M1', 'Cz-(M1+M2)', 'Fz-avg', or one channel name.")
    ref = m.group("ref")
    refs = ()
    if ref:
        ref = ref.strip().strip("()")
        refs = tuple(r.strip() for r in ref.split("+") if r.strip())
    return Derivation(text, m.group("act").strip(), refs, group)


# ---------------------------------------------------------------------------
# Channel finding
# ---------------------------------------------------------------------------


class _Finder:
    """Find recording channels by clean label, with aliases."""

    def __init__(self, ch_names, ch_types):
        self.names = list(ch_names)
        self.types = list(ch_types)
        self.by_clean = {}
        for n in self.names:
            self.by_clean.setdefault(_clean(n), n)

    def find(self, *labels):
        for lab in labels:
            n = self.by_clean.get(_clean(lab))
            if n is not None:
                return n
        return None

    def exact(self, name):
        low = str(name).strip().lower()
        return next((n for n in self.names if n.lower() == low), None)

    def of_type(self, *types):
        return [n for n, t in zip(self.names, self.types) if t in types]

    def group(self, name):
        t = self.types[self.names.index(name)]
        return t if t in ("eeg", "eog", "mag", "grad") else "other"

    def emg_chin(self):
        """The chin EMG: an EMG channel named chin/submental/mentalis, else
        the first EMG-typed channel."""
        for n in self.names:
            c = _clean(n)
            if any(k in c for k in ("CHIN", "SUBMENT", "MENTAL")) or c in ("EMG", "CEMG"):
                return n
        emg = self.of_type("emg")
        return emg[0] if emg else None


def _ref_side(label: str) -> str:
    """'left', 'right' or 'mid' from a 10-20 label's number (odd left)."""
    m = re.search(r"(\d+)$", _clean(label))
    if not m:
        return "mid"
    return "left" if int(m.group(1)) % 2 else "right"


def _region(label: str) -> str | None:
    c = _clean(label)
    m = re.match(r"^([A-Z]+)", c)
    if not m:
        return None
    letters = m.group(1).rstrip("Z") or m.group(1)
    best = None
    for region, prefixes in REGIONS.items():
        for p in prefixes:
            if letters == p and (best is None or len(p) > best[1]):
                best = (region, len(p))
    return best[0] if best else None


def _aasm(f: _Finder) -> list:
    out = []
    m1, m2 = f.find(*_LEFT_REF), f.find(*_RIGHT_REF)
    refs = {"M1": m1, "M2": m2}
    for pair in AASM_EEG:
        for label in pair:
            act, ref = label.split("-")
            whole = f.find(label, label.replace("M", "A"))
            if whole is not None:   # recorded already referenced
                out.append(Derivation(label, whole, (), "eeg"))
                continue
            a = f.find(act)
            if a is not None and refs[ref] is not None:
                out.append(Derivation(label, a, (refs[ref],), "eeg"))
    for label, aliases in (("E1-M2", _E1), ("E2-M2", _E2)):
        whole = f.find(label)
        a = f.find(*aliases)
        if whole is not None:
            out.append(Derivation(label, whole, (), "eog"))
        elif a is not None:
            ref = (m2,) if m2 is not None else ()
            out.append(Derivation(label if ref else a, a, ref, "eog"))
    if not any(d.group == "eog" for d in out):   # unnamed EOG channels as recorded
        out += [Derivation(n, n, (), "eog") for n in f.of_type("eog")[:2]]
    chin = f.emg_chin()
    if chin is not None:
        out.append(Derivation("Chin EMG", chin, (), "other"))
    if not any(d.group == "eeg" for d in out):   # e.g. Sleep-EDF's Fpz-Cz, Pz-Oz
        out = [Derivation(n, n, (), "eeg") for n in f.of_type("eeg")] + out
    return out


def _preset(name: str, f: _Finder) -> list:
    eeg = f.of_type("eeg")
    m1, m2 = f.find(*_LEFT_REF), f.find(*_RIGHT_REF)
    mastoids = [m for m in (m1, m2) if m is not None]
    scalp = [n for n in eeg if n not in mastoids]
    if name == AS_RECORDED:
        return [Derivation(n, n, (), f.group(n)) for n in f.names]
    if name == "Sleep (AASM)":
        return _aasm(f)
    if name == "All EEG":
        return [Derivation(n, n, (), "eeg") for n in eeg]
    if name == "Magnetometers":
        return [Derivation(n, n, (), "mag") for n in f.of_type("mag")]
    if name == "Gradiometers":
        return [Derivation(n, n, (), "grad") for n in f.of_type("grad")]
    if name == "Average reference":
        if len(eeg) < 2:
            return []
        return [Derivation(f"{n}-avg", n, tuple(eeg), "eeg") for n in eeg]
    if name == "Linked mastoids":
        if len(mastoids) < 2:
            return []
        return [Derivation(f"{n}-M1M2", n, (m1, m2), "eeg") for n in scalp]
    if name == "Contralateral mastoid":
        if len(mastoids) < 2:
            return []
        out = []
        for n in scalp:
            side = _ref_side(n)
            ref = (m2,) if side == "left" else (m1,) if side == "right" else (m1, m2)
            lab = {"left": "M2", "right": "M1", "mid": "M1M2"}[side]
            out.append(Derivation(f"{n}-{lab}", n, ref, "eeg"))
        return out
    if name == "Bipolar (longitudinal)":
        out = []
        for pair in BANANA:
            a, b = (f.find(x) for x in pair.split("-"))
            if a is not None and b is not None:
                out.append(Derivation(pair, a, (b,), "eeg"))
        return out
    if name.startswith("EEG by region: "):
        region = name.split(": ", 1)[1]
        return [Derivation(n, n, (), "eeg") for n in eeg if _region(n) == region]
    raise SpindleScopeError(  # pragma: no cover - guarded by check_option
        f"Unknown montage {name!r}.")


#: Built-in montages, in menu order.
PRESETS = (AS_RECORDED, "Sleep (AASM)", "All EEG", "Average reference",
           "Linked mastoids", "Contralateral mastoid", "Bipolar (longitudinal)",
           "Magnetometers", "Gradiometers") + tuple(
    f"EEG by region: {r}" for r in REGIONS)


def available_montages(ch_names, ch_types, user_montages=None) -> list[str]:
    """Names of the presets that give rows on this recording, then user montages."""
    f = _Finder(ch_names, ch_types)
    out = [p for p in PRESETS if _preset(p, f)]
    for name, rows in (user_montages or {}).items():
        try:
            compile_montage(name, ch_names, ch_types, user_montages)
            out.append(name)
        except SpindleScopeError:
            continue
    return out


def validate_user_montages(value) -> dict:
    """Check user montages as stored in the settings: ``{name: [derivation, ...]}``."""
    if not isinstance(value, dict):
        raise SpindleScopeError(
            f"Invalid value for the 'user_montages' setting: expected an object "
            f"name -> list of derivations, but got {type(value).__name__}.")
    out = {}
    for name, rows in value.items():
        name = str(name).strip()
        if not name or name in PRESETS:
            raise SpindleScopeError(
                f"A user montage cannot be called {name!r}: that name is empty or "
                f"a built-in montage. Choose another name.")
        if isinstance(rows, str) or not isinstance(rows, (list, tuple)) or not rows:
            raise SpindleScopeError(
                f"The user montage {name!r} must be a non-empty list of derivations "
                f"such as ['C4-M1', 'C3-M2'], but got {rows!r}.")
        for r in rows:
            parse_derivation(r)
        out[name] = [str(r).strip() for r in rows]
    return out


def _resolve_user(rows, f: _Finder, name: str) -> list:
    out = []
    eeg = f.of_type("eeg")
    for text in rows:
        whole = f.exact(text)
        if whole is not None:    # a recorded channel whose name has a hyphen
            out.append(Derivation(text, whole, (), f.group(whole)))
            continue
        d = parse_derivation(text)
        a = f.find(d.active)
        if a is None:
            raise SpindleScopeError(
                f"The montage {name!r} needs channel {d.active!r} (in {text!r}), "
                f"which is not in the recording. Edit the montage or pick another.")
        refs = []
        for r in d.reference:
            if r.strip().lower() in ("avg", "average", "car"):
                refs += eeg
                continue
            rr = f.find(r) or (f.find(*_LEFT_REF) if _clean(r) in _LEFT_REF else None) \
                or (f.find(*_RIGHT_REF) if _clean(r) in _RIGHT_REF else None)
            if rr is None:
                raise SpindleScopeError(
                    f"The montage {name!r} needs reference {r!r} (in {text!r}), "
                    f"which is not in the recording.")
            refs.append(rr)
        out.append(Derivation(text, a, tuple(refs), f.group(a)))
    return out


def compile_montage(name, ch_names, ch_types, user_montages=None) -> CompiledMontage:
    """Resolve a montage by name against a recording's channels.

    Parameters
    ----------
    name : str
        One of :data:`PRESETS` or a key of ``user_montages``.
    ch_names, ch_types : list of str
        The recording's channel names and MNE types.
    user_montages : dict | None
        ``{name: [derivation strings]}`` from the settings.

    Returns
    -------
    montage : CompiledMontage
    """
    user_montages = user_montages or {}
    check_option("montage", name, tuple(PRESETS) + tuple(user_montages))
    f = _Finder(ch_names, ch_types)
    if name in user_montages:
        ders = _resolve_user(user_montages[name], f, name)
    else:
        ders = _preset(name, f)
    if not ders:
        raise SpindleScopeError(
            f"The montage {name!r} has no rows on this recording (its channels "
            f"or references were not found among {', '.join(list(ch_names)[:8])}...). "
            f"Choose another montage.")
    col = {n: i for i, n in enumerate(ch_names)}
    terms = []
    for d in ders:
        t = {col[d.active]: 1.0}
        if d.reference:
            w = 1.0 / len(d.reference)
            for r in d.reference:
                t[col[r]] = t.get(col[r], 0.0) - w
        terms.append(tuple(sorted(t.items())))
    key = f"{name}|" + ";".join(f"{d.name}={d.active}-{'+'.join(d.reference)}"
                                for d in ders) + f"|{hash(tuple(ch_names))}"
    return CompiledMontage(name, tuple(d.name for d in ders),
                           tuple(d.group for d in ders), tuple(terms), key)


def compile_for(recording, name, user_montages=None) -> CompiledMontage:
    """:func:`compile_montage` for a :class:`core.io.recording.Recording`."""
    return compile_montage(name, recording.ch_names, recording.ch_types, user_montages)


def single_row(ch_names, ch_types, text) -> CompiledMontage:
    """One row from a channel name, an AASM row name or a derivation string.

    ``"C4-M1"`` uses the AASM finder (aliases such as A1 for M1), ``"Chin EMG"``
    the chin EMG found by name, ``"EEG Fpz-Cz"`` a recorded channel,
    ``"Cz-(M1+M2)"`` a user derivation.
    """
    f = _Finder(ch_names, ch_types)
    text = str(text).strip()
    whole = f.exact(text)
    if whole is not None:
        ders = [Derivation(whole, whole, (), f.group(whole))]
    else:
        aasm = {d.name.lower(): d for d in _aasm(f)}
        d = aasm.get(text.lower())
        ders = [d] if d is not None else _resolve_user([text], f, text)
    col = {n: i for i, n in enumerate(ch_names)}
    d = ders[0]
    t = {col[d.active]: 1.0}
    for r in d.reference:
        t[col[r]] = t.get(col[r], 0.0) - 1.0 / len(d.reference)
    key = f"row|{d.name}={d.active}-{'+'.join(d.reference)}|{hash(tuple(ch_names))}"
    return CompiledMontage(d.name, (d.name,), (d.group,), (tuple(sorted(t.items())),), key)


def has_sleep_derivations(ch_names, ch_types) -> bool:
    """Whether the AASM EEG derivations (or their backups) exist on this recording."""
    names = {lab for pair in AASM_EEG for lab in pair}
    return any(d.name in names for d in _aasm(_Finder(ch_names, ch_types)))


def default_rows(ch_names, ch_types) -> dict:
    """The scorer's usual EEG, EOG and EMG rows found from channel names.

    Returns
    -------
    rows : dict
        ``{'eeg': name, 'eog': name or None, 'emg': name or None}``; names
        :func:`single_row` reads (C4-M1 first, then C3-M2, then the first EEG
        channel; E1-M2 or an EOG channel; the chin EMG).
    """
    f = _Finder(ch_names, ch_types)
    rows = _aasm(f)
    eeg = [d.name for d in rows if d.group == "eeg"]
    pref = [n for n in ("C4-M1", "C3-M2") if n in eeg]
    eog = [d.name for d in rows if d.group == "eog"]
    emg = [d.name for d in rows if d.name == "Chin EMG"]
    if not eeg:
        raise SpindleScopeError(
            "The recording has no EEG channel: automatic staging and the "
            "whole-night spectrogram need one (check the channel types).")
    return {"eeg": (pref or eeg)[0], "eog": eog[0] if eog else None,
            "emg": emg[0] if emg else None}


class MontageSource:
    """A recording seen through a montage: each row reads as a channel.

    Detection (:func:`core.detection.detector.iter_detect`) accepts it in place of a
    :class:`core.io.recording.Recording`; only the rows it asks for are read and
    derived, chunk by chunk. ``montage_name`` is recorded in the result.

    Parameters
    ----------
    recording : core.io.recording.Recording
        The recording read.
    montage : CompiledMontage
        The rows.
    """

    _TYPES = {"eeg": "eeg", "eog": "eog", "mag": "mag", "grad": "grad", "other": "misc"}

    def __init__(self, recording, montage: CompiledMontage):
        self.recording = recording
        self.montage = montage
        self.montage_name = montage.name
        self.sfreq = recording.sfreq
        self.path = getattr(recording, "path", None)
        self.ch_names = list(montage.names)
        self.ch_types = [self._TYPES.get(g, "misc") for g in montage.groups]

    @property
    def n_times(self):
        return self.recording.n_times

    @property
    def duration(self):
        return self.recording.duration

    @property
    def groups(self):
        out = {g: [] for g in ("eeg", "mag", "grad", "eog", "other")}
        for name, g in zip(self.ch_names, self.montage.groups):
            out[g if g in out else "other"].append(name)
        return out

    def pick_indices(self, picks=None):
        from core.io.recording import Recording

        return Recording.pick_indices(self, picks)

    def get_samples(self, start, stop, idx):
        return self.montage.read_rows(self.recording, start, stop, list(idx))
