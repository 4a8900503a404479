"""Choose and run MNE's reader for a recording, by content where needed.

Extensions lie or clash: ``.cnt`` is Neuroscan or ANT, ``.eeg`` is a
BrainVision data file or a Nihon Kohden recording, ``.dat`` is Curry or
BCI2000, BTi/4D recordings are extension-less files in a folder, CTF ``.ds``
and EGI ``.mff`` are folders. :func:`read_raw` looks at the first bytes (or
the folder's contents) and calls the matching ``mne.io.read_raw_*`` reader,
always lazily (``preload=False``), except for files that can only be read
whole (FieldTrip) or that hold epochs (concatenated end to end, with boundary
annotations at the joins).

The file formats themselves are MNE's; this module only recognises them and
reads EDF headers for validation (:func:`read_edf_header`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.utils import RecordingError, logger

#: Largest epoched/averaged file concatenated in memory (bytes of float64).
MAX_EPOCHED_BYTES = 2 * 1024 ** 3

# Human names of what we open, for messages and the File ▸ Open filter.
FORMATS = {
    ".fif": "FIF (MEGIN/Neuromag, MNE; split files followed)",
    ".fif.gz": "FIF (gzipped)",
    ".edf": "EDF/EDF+",
    ".bdf": "BDF (BioSemi)",
    ".gdf": "GDF",
    ".vhdr": "BrainVision",
    ".ahdr": "BrainVision VAmp",
    ".set": "EEGLAB",
    ".mat": "FieldTrip",
    ".ds": "CTF (a .ds folder)",
    ".sqd": "KIT/Yokogawa",
    ".con": "KIT/Yokogawa",
    ".raw": "EGI simple binary",
    ".mff": "EGI MFF (a folder)",
    ".cnt": "Neuroscan or ANT",
    ".cdt": "Curry 8",
    ".dat": "Curry 7 (or BCI2000)",
    ".eeg": "Nihon Kohden (or BrainVision data: open its .vhdr)",
    ".lay": "Persyst",
    ".data": "Nicolet",
    ".nxe": "Nexstim eXimia",
    ".mefd": "MEF3 (a folder)",
    ".nedf": "NEDF",
    ".snirf": "SNIRF",
    **{f".ns{i}": "Blackrock NSx" for i in range(1, 7)},
    "(folder)": "BTi/4D (a folder holding 'config' and e.g. 'c,rfDC')",
}

#: Folder formats (File ▸ Open offers to pick these as folders).
FOLDER_SUFFIXES = (".ds", ".mff", ".mefd")

_NIHON_MAGIC = (b"EEG-1100", b"EEG-1200", b"EEG-2100", b"QI-403A", b"DAE-2100")


class NoSignalsError(RecordingError):
    """The file holds annotations only (e.g. a Sleep-EDF ``*-Hypnogram.edf``).

    The GUI catches it to offer importing the file as a hypnogram or as
    marks for the recording on screen.
    """


@dataclass
class ReadResult:
    """What :func:`read_raw` found besides the raw object.

    Attributes
    ----------
    raw : mne.io.BaseRaw
    kind : str
        The format recognised (``'FIF'``, ``'EDF'``, ``'ANT'``, ...).
    maxshield : bool
        MEGIN raw data recorded with Internal Active Shielding.
    n_epochs : int
        Epochs/averages concatenated end to end (0 for continuous data).
    notes : list of str
        Findings for the user (also logged as warnings by the caller).
    edf_header : EdfHeader | None
    """

    raw: object
    kind: str
    maxshield: bool = False
    n_epochs: int = 0
    notes: list = field(default_factory=list)
    edf_header: object = None


# ---------------------------------------------------------------------------
# EDF header (validation only; MNE reads the data)
# ---------------------------------------------------------------------------


@dataclass
class EdfHeader:
    """Fields of an EDF/BDF header that the checks need."""

    n_records: int
    record_duration: float
    labels: list
    units: list
    phys_min: np.ndarray
    phys_max: np.ndarray
    dig_min: np.ndarray
    dig_max: np.ndarray
    n_samples: np.ndarray
    header_bytes: int
    sample_bytes: int
    file_size: int
    startdate: str = ""
    starttime: str = ""

    @property
    def signal_idx(self) -> list:
        """Indices of real signals (not ``EDF Annotations`` channels)."""
        return [i for i, lab in enumerate(self.labels)
                if lab.strip() not in ("EDF Annotations", "BDF Annotations")]

    @property
    def records_in_file(self) -> int:
        """Whole data records the file really holds (from its size)."""
        per = int(self.n_samples.sum()) * self.sample_bytes
        if per <= 0:
            return 0
        return max(0, (self.file_size - self.header_bytes) // per)

    @property
    def broken_channels(self) -> list:
        """Signals whose digital (or physical) range is empty: no scale."""
        bad = (self.dig_max == self.dig_min) | (self.phys_max == self.phys_min)
        return [self.labels[i] for i in self.signal_idx if bad[i]]


def _field(buf: bytes, name: str, path: Path) -> str:
    try:
        return buf.decode("ascii").strip()
    except UnicodeDecodeError:
        raise RecordingError(
            f"{path.name!r} is not a valid EDF/BDF file: its header field "
            f"{name!r} holds non-ASCII bytes. Re-export the file from the "
            f"acquisition software.") from None


def _num(text: str, name: str, path: Path, kind=float):
    try:
        val = kind(text) if kind is float else int(float(text))
    except (ValueError, OverflowError):
        raise RecordingError(
            f"{path.name!r} is not a valid EDF/BDF file: its header field "
            f"{name!r} should be a number but is {text!r}. Re-export the file "
            f"from the acquisition software.") from None
    if kind is float and not np.isfinite(val):
        raise RecordingError(
            f"{path.name!r} is not a valid EDF/BDF file: its header field "
            f"{name!r} is {text!r}.")
    return val


def read_edf_header(path) -> EdfHeader:
    """Read and validate an EDF/BDF header.

    Parameters
    ----------
    path : path-like
        The ``.edf``/``.bdf`` file.

    Returns
    -------
    header : EdfHeader

    Raises
    ------
    RecordingError
        The header is too short or a field is not what EDF requires.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fid:
            head = fid.read(256)
            if len(head) < 256:
                raise RecordingError(
                    f"{path.name!r} is not a valid EDF/BDF file: it is shorter "
                    f"than the 256-byte EDF header ({len(head)} bytes).")
            bdf = head[:1] == b"\xff"
            ns = _num(_field(head[252:256], "number of signals", path),
                      "number of signals", path, int)
            if not 0 <= ns <= 10000:
                raise RecordingError(
                    f"{path.name!r} is not a valid EDF/BDF file: it claims "
                    f"{ns} signals.")
            sig = fid.read(256 * ns)
            size = path.stat().st_size
    except OSError as exc:
        raise RecordingError(f"Cannot read {str(path)!r}: {exc.strerror or exc}.") from None
    if len(sig) < 256 * ns:
        raise RecordingError(
            f"{path.name!r} is truncated inside its header ({ns} signals "
            f"declared). Copy it again from the source.")

    def col(offset, width, i):
        start = ns * offset + i * width
        return sig[start:start + width]

    widths = [("label", 16), ("transducer", 80), ("unit", 8), ("phys_min", 8),
              ("phys_max", 8), ("dig_min", 8), ("dig_max", 8), ("prefilter", 80),
              ("n_samples", 8)]
    cols, off = {}, 0
    for name, w in widths:
        cols[name] = [col(off, w, i) for i in range(ns)]
        off += w
    labels = [_field(b, "label", path) for b in cols["label"]]
    units = [b.decode("latin-1").strip() for b in cols["unit"]]
    arr = {k: np.array([_num(_field(b, k, path), k, path) for b in cols[k]], float)
           for k in ("phys_min", "phys_max", "dig_min", "dig_max")}
    n_samp = np.array([_num(_field(b, "samples per record", path),
                            "samples per record", path, int)
                       for b in cols["n_samples"]], int)
    if np.any(n_samp < 0):
        raise RecordingError(
            f"{path.name!r} is not a valid EDF/BDF file: a signal claims a "
            f"negative number of samples per record.")
    return EdfHeader(
        n_records=_num(_field(head[236:244], "number of records", path),
                       "number of records", path, int),
        record_duration=_num(_field(head[244:252], "record duration", path),
                             "record duration", path),
        labels=labels, units=units, n_samples=n_samp,
        header_bytes=256 * (ns + 1), sample_bytes=3 if bdf else 2,
        file_size=size, startdate=head[168:176].decode("latin-1"),
        starttime=head[176:184].decode("latin-1"), **arr)


def _edf_checks(path: Path, hdr: EdfHeader, notes: list):
    if not hdr.signal_idx:
        raise NoSignalsError(
            f"{path.name!r} holds no signals, only annotations (an EDF+ "
            f"annotations file such as a Sleep-EDF hypnogram or an event "
            f"list). Open the recording it belongs to, then import this file "
            f"as its hypnogram or as marks.")
    if hdr.record_duration <= 0:
        raise RecordingError(
            f"{path.name!r} has a data-record duration of "
            f"{hdr.record_duration:g} s; EDF requires a positive one. The "
            f"header is damaged: re-export the file.")
    if np.all(hdr.n_samples[hdr.signal_idx] == 0):
        raise RecordingError(
            f"{path.name!r} declares 0 samples per record for every signal: "
            f"it holds no data.")
    found = hdr.records_in_file
    promised = hdr.n_records
    if found == 0:
        raise RecordingError(
            f"{path.name!r} holds a header but no complete data record: the "
            f"file is truncated. Copy it again from the source.")
    if promised == -1:
        notes.append(
            f"{path.name!r} does not state its number of data records (-1, as "
            f"written while recording): {found} records were counted from the "
            f"file size.")
    elif promised <= 0:
        raise RecordingError(
            f"{path.name!r} claims {promised} data records; EDF requires a "
            f"positive number (or -1 while recording). Re-export the file.")
    elif promised > found:
        raise RecordingError(
            f"{path.name!r} is truncated: its header promises {promised} data "
            f"records but the file holds only {found}. Copy it again from the "
            f"source.")
    elif promised < found:
        notes.append(
            f"{path.name!r}: the header claims {promised} data records but the "
            f"file holds {found}; all {found} were read "
            f"({found * hdr.record_duration:g} s). Check that the file was "
            f"not appended to or written twice.")


# ---------------------------------------------------------------------------
# Recognising the format
# ---------------------------------------------------------------------------


def suffix(path: Path) -> str:
    """Lower-case extension (``.fif.gz`` and ``.cdt.dpa`` kept whole)."""
    name = path.name.lower()
    for double in (".fif.gz", ".cdt.dpa", ".cdt.cef"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def _magic(path: Path, n=32) -> bytes:
    try:
        with open(path, "rb") as fid:
            return fid.read(n)
    except OSError as exc:
        raise RecordingError(
            f"Cannot read {str(path)!r}: {exc.strerror or exc}. Check that the "
            f"file is readable by you (permissions) and not locked.") from None


def _bti_pdf(folder: Path):
    if not (folder / "config").is_file():
        return None
    pdfs = sorted(p for p in folder.iterdir()
                  if p.is_file() and re.match(r"^[ce],rf", p.name))
    return pdfs[0] if pdfs else None


def sniff(path) -> str:
    """Name the format of ``path`` from its content (or folder layout).

    Returns
    -------
    kind : str
        One of ``'FIF', 'EDF', 'BDF', 'GDF', 'BrainVision', 'EEGLAB',
        'FieldTrip', 'CTF', 'KIT', 'EGI', 'MFF', 'CNT', 'ANT', 'Curry',
        'BCI2000', 'Nihon', 'Persyst', 'Nicolet', 'eXimia', 'NSx', 'BTi',
        'MEF', 'NEDF', 'SNIRF'``.
    """
    path = Path(path)
    ext = suffix(path)
    if path.is_dir():
        if ext == ".ds":
            return "CTF"
        if ext == ".mff":
            return "MFF"
        if ext == ".mefd":
            return "MEF"
        if _bti_pdf(path) is not None:
            return "BTi"
        raise RecordingError(
            f"The folder {path.name!r} is not a recording MNE can read: "
            f"folders must be a CTF '.ds', an EGI '.mff', a MEF3 '.mefd' or a "
            f"BTi/4D folder holding 'config' and a 'c,rf...' file. To open a "
            f"file inside it, choose the file itself.")
    head = _magic(path)
    if re.match(r"^[ce],rf", path.name) and (path.parent / "config").is_file():
        return "BTi"
    if head.startswith(b"0       ") and ext not in (".eeg",):
        return "EDF"
    if head.startswith(b"\xffBIOSEMI"):
        return "BDF"
    if head.startswith(b"GDF"):
        return "GDF"
    if ext == ".cnt" or head[:4] in (b"RIFF", b"RF64"):
        if head[:4] in (b"RIFF", b"RF64"):
            return "ANT"
        if ext == ".cnt":
            return "CNT"
    if ext == ".eeg":
        if head.startswith(_NIHON_MAGIC):
            return "Nihon"
        for hdr in (".vhdr", ".ahdr", ".VHDR", ".AHDR"):
            if path.with_suffix(hdr).exists():
                return "BrainVision"
        raise RecordingError(
            f"{path.name!r} is neither a Nihon Kohden recording nor a "
            f"BrainVision data file with its header beside it: a BrainVision "
            f"recording is opened through its '.vhdr' file, which is missing.")
    if ext == ".dat":
        return "BCI2000" if head.startswith(b"HeaderLen=") else "Curry"
    if ext == ".vmrk":
        return "BrainVision"
    simple = {".fif": "FIF", ".fif.gz": "FIF", ".edf": "EDF", ".bdf": "BDF",
              ".gdf": "GDF", ".vhdr": "BrainVision", ".ahdr": "BrainVision",
              ".set": "EEGLAB", ".mat": "FieldTrip", ".sqd": "KIT", ".con": "KIT",
              ".raw": "EGI", ".cdt": "Curry", ".cdt.dpa": "Curry",
              ".cdt.cef": "Curry", ".dap": "Curry", ".rs3": "Curry",
              ".lay": "Persyst", ".data": "Nicolet", ".nxe": "eXimia",
              ".nedf": "NEDF", ".snirf": "SNIRF",
              **{f".ns{i}": "NSx" for i in range(1, 7)}}
    if ext in simple:
        return simple[ext]
    if head[:4] == b"\x00\x00\x00\x64":      # FIFF_FILE_ID tag
        return "FIF"
    raise RecordingError(
        f"Cannot open {path.name!r}: the file type {ext or '(none)'!r} is not "
        f"supported and its content is not a format we recognise. Supported "
        f"are: " + "; ".join(f"{k} {v}" for k, v in FORMATS.items())
        + ". Convert the file with MNE-Python or your acquisition software.")


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _cnt_data_format(path: Path) -> str:
    """Guess Neuroscan's sample width from the data (header says nothing).

    Reading 32-bit samples as 16-bit words makes every other word a sign
    extension (0 or -1); 16-bit data do not look like that.
    """
    with open(path, "rb") as fid:
        fid.seek(370)
        n_ch = int(np.frombuffer(fid.read(2), "<u2")[0])
        fid.seek(900 + 75 * n_ch)
        words = np.frombuffer(fid.read(8192) or b"\0\0", "<i2")
    if words.size < 64:
        return "int16"
    hi = words[1::2]
    return "int32" if np.mean((hi == 0) | (hi == -1)) > 0.95 else "int16"


def _epochs_to_raw(data, info, kind, path, what="epochs"):
    """Concatenate epochs (n_epochs, n_ch, n_times) with boundary annotations."""
    import mne

    n_ep, n_ch, n_t = data.shape
    raw = mne.io.RawArray(np.concatenate(list(data), axis=1) if n_ep else
                          np.zeros((n_ch, 0)), info, verbose="error")
    if n_ep > 1:
        onsets = np.arange(1, n_ep) * n_t / info["sfreq"]
        raw.set_annotations(mne.Annotations(
            np.repeat(onsets, 2), 0.0,
            ["BAD boundary", "EDGE boundary"] * (n_ep - 1)))
    res = ReadResult(raw, kind, n_epochs=n_ep)
    res.notes.append(
        f"{path.name!r} holds {n_ep} {what} of {n_t / info['sfreq']:g} s, not a "
        f"continuous recording: they are shown end to end with a boundary "
        f"mark at each join (detections across joins are not meaningful).")
    return res


def _check_epoch_size(shape, path):
    n = int(np.prod(shape)) * 8
    if n > MAX_EPOCHED_BYTES:
        raise RecordingError(
            f"{path.name!r} holds epochs ({shape[0]} of {shape[1]} channels) "
            f"that need {n / 1e9:.1f} GB in memory to show end to end. Export "
            f"the continuous recording instead, or fewer epochs.")


def _read_epochs(reader, path, kind, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = reader(path, **kw)
    _check_epoch_size((len(ep), len(ep.ch_names), len(ep.times)), path)
    return _epochs_to_raw(ep.get_data(), ep.info, kind, path)


def check_fif_tags(path: Path, max_tags: int = 5_000_000):
    """Walk a FIF file's tag chain before MNE does, without reading data.

    A damaged ``next`` pointer can send MNE's directory scan round in a
    loop (growing a list until memory runs out) or past the end of the
    file; this bounded walk turns both into a clear error.

    Raises
    ------
    RecordingError
        The chain loops, points outside the file, or a tag is larger than
        what is left of the file.
    """
    import struct

    if suffix(path) == ".fif.gz":
        return
    size = path.stat().st_size
    seen = set()
    pos = 0
    with open(path, "rb") as fid:
        while pos is not None:
            if pos in seen or len(seen) > max_tags:
                raise RecordingError(
                    f"{path.name!r} is damaged (corrupt): its FIF tag chain loops back to "
                    f"byte {pos}. Copy the file again from the source.")
            seen.add(pos)
            fid.seek(pos)
            head = fid.read(16)
            if len(head) < 16:
                break                      # MNE tolerates a short last tag
            kind, _, tsize, nxt = struct.unpack(">iIii", head)
            if pos == 0 and kind != 100:
                return                     # not FIF at all: MNE says so
            if tsize < 0 or pos + 16 + tsize > size:
                raise RecordingError(
                    f"{path.name!r} is truncated or damaged: the FIF tag at byte "
                    f"{pos} claims {tsize} bytes but the file ends at {size}. "
                    f"Copy the file again from the source.")
            if nxt == 0:
                pos = pos + 16 + tsize
            elif nxt == -1:
                pos = None
            elif 0 < nxt < size:
                pos = nxt
            else:
                raise RecordingError(
                    f"{path.name!r} is damaged: the FIF tag at byte {pos} points "
                    f"to byte {nxt}, outside the file. Copy it again.")
            if pos is not None and pos >= size:
                break


def _read_fif(path: Path) -> ReadResult:
    import mne

    check_fif_tags(path)

    try:
        return ReadResult(mne.io.read_raw_fif(path, preload=False, verbose="error"),
                          "FIF")
    except ValueError as exc:
        if "Active Shielding" not in str(exc) and "MaxShield" not in str(exc):
            first = exc
        else:
            raw = mne.io.read_raw_fif(path, preload=False, allow_maxshield=True,
                                      verbose="error")
            res = ReadResult(raw, "FIF", maxshield=True)
            res.notes.append(MAXSHIELD_MESSAGE.format(name=path.name))
            return res
    except Exception as exc:  # noqa: BLE001 - tried as epochs/evoked next
        first = exc
    # not raw: epochs, evoked, or annotations only?
    try:
        return _read_epochs(mne.read_epochs, path, "FIF", preload=False,
                            verbose="error")
    except Exception:  # noqa: BLE001
        pass
    try:
        evokeds = mne.read_evokeds(path, verbose="error")
    except Exception:  # noqa: BLE001
        evokeds = None
    if evokeds:
        data = np.stack([e.data for e in evokeds])
        _check_epoch_size(data.shape, path)
        return _epochs_to_raw(data, evokeds[0].info, "FIF", path, "averages")
    try:
        ann = mne.read_annotations(path)
    except Exception:  # noqa: BLE001
        ann = None
    if ann is not None and len(ann):
        raise NoSignalsError(
            f"{path.name!r} holds no signals, only {len(ann)} annotations: it "
            f"is a hypnogram or an event list, not a recording. Open the "
            f"recording it belongs to, then import this file as its hypnogram "
            f"or as marks.")
    raise first


MAXSHIELD_MESSAGE = (
    "{name!r} is raw MEGIN data recorded with Internal Active Shielding "
    "(MaxShield): it can be browsed, scored and searched for spindles, but "
    "its MEG is distorted by the shielding until MaxFilter/SSS is applied. "
    "Source analysis needs the file after MaxFilter (or "
    "mne.preprocessing.maxwell_filter).")


def read_raw(path) -> ReadResult:
    """Open any recording MNE reads, choosing the reader by content.

    Parameters
    ----------
    path : path-like
        A file, or a folder for CTF ``.ds``, EGI ``.mff``, MEF3 ``.mefd`` and
        BTi/4D recordings.

    Returns
    -------
    result : ReadResult

    Raises
    ------
    RecordingError
        Unrecognised or unreadable content (NoSignalsError for annotations
        only). Reader failures are left to the caller, which words them.
    """
    import mne

    path = Path(path)
    if path.is_file() and path.parent.suffix.lower() in FOLDER_SUFFIXES:
        path = path.parent          # a file inside a CTF .ds / EGI .mff folder
    kind = sniff(path)
    io = mne.io
    lazy = dict(preload=False, verbose="error")
    if kind in ("EDF", "BDF"):
        want = "." + kind.lower()
        if suffix(path) != want:
            raise RecordingError(
                f"{path.name!r} is an {kind} file by its content, but MNE reads "
                f"{kind} only from files named '*{want}': rename (or copy) it "
                f"with that extension and open it again.")
        hdr = read_edf_header(path)
        res = ReadResult(None, kind, edf_header=hdr)
        _edf_checks(path, hdr, res.notes)
        res.raw = (io.read_raw_edf if kind == "EDF" else io.read_raw_bdf)(path, **lazy)
        return res
    if kind == "FIF":
        return _read_fif(path)
    if kind == "EEGLAB":
        try:
            return ReadResult(io.read_raw_eeglab(path, **lazy), kind)
        except TypeError as exc:
            if "trials" not in str(exc):
                raise
        return _read_epochs(mne.read_epochs_eeglab, path, kind, verbose="error")
    if kind == "FieldTrip":
        try:
            return ReadResult(io.read_raw_fieldtrip(path, info=None), kind)
        except Exception as exc:  # noqa: BLE001 - trials? try the epochs reader
            first = exc
        try:
            with mne.utils.use_log_level("error"):
                return _read_epochs(mne.read_epochs_fieldtrip, path, kind, info=None)
        except RecordingError:
            raise
        except Exception:  # noqa: BLE001 - neither raw nor epochs: first error
            if "not seem to be raw" in str(first) or "inhomogeneous" in str(first):
                raise RecordingError(
                    f"{path.name!r} holds FieldTrip trials that MNE cannot read as "
                    f"epochs (trials of different lengths?). Save the continuous "
                    f"data (ft_preprocessing without trial definition) or "
                    f"equal-length trials.") from first
            raise first
    if kind == "BrainVision":
        hdr = path
        if suffix(path) in (".eeg", ".vmrk"):
            hdr = next(p for p in (path.with_suffix(s) for s in
                                   (".vhdr", ".ahdr", ".VHDR", ".AHDR")) if p.exists()) \
                if any(path.with_suffix(s).exists() for s in
                       (".vhdr", ".ahdr", ".VHDR", ".AHDR")) else path
        return ReadResult(io.read_raw_brainvision(hdr, **lazy), kind)
    if kind == "CNT":
        try:
            return ReadResult(io.read_raw_cnt(path, **lazy), kind)
        except Exception as exc:  # noqa: BLE001 - header lacks the sample count
            fmt = _cnt_data_format(path)
            logger.info("Neuroscan 'auto' failed (%s); reading as %s", exc, fmt)
            res = ReadResult(io.read_raw_cnt(path, data_format=fmt, **lazy), kind)
            res.notes.append(
                f"{path.name!r}: the Neuroscan header does not give the sample "
                f"width; the data look like {fmt} samples and were read so.")
            return res
    if kind == "BTi":
        folder = path if path.is_dir() else path.parent
        pdf = _bti_pdf(folder) if path.is_dir() else path
        hs = folder / "hs_file"
        return ReadResult(io.read_raw_bti(pdf, folder / "config",
                                          hs if hs.is_file() else None, **lazy), kind)
    readers = {
        "GDF": io.read_raw_gdf, "CTF": io.read_raw_ctf, "KIT": io.read_raw_kit,
        "EGI": io.read_raw_egi, "MFF": io.read_raw_egi, "ANT": io.read_raw_ant,
        "Curry": io.read_raw_curry, "BCI2000": io.read_raw_bci2k,
        "Nihon": io.read_raw_nihon, "Persyst": io.read_raw_persyst,
        "eXimia": io.read_raw_eximia, "NSx": io.read_raw_nsx,
        "MEF": io.read_raw_mef, "NEDF": io.read_raw_nedf, "SNIRF": io.read_raw_snirf,
    }
    if kind == "Nicolet":
        return ReadResult(io.read_raw_nicolet(path, ch_type="eeg", **lazy), kind)
    try:
        return ReadResult(readers[kind](path, **lazy), kind)
    except (ImportError, ModuleNotFoundError) as exc:
        pkg = {"MFF": "mffpy", "ANT": "antio", "Curry": "curryreader"}.get(kind, exc.name)
        raise RecordingError(
            f"Reading {path.name!r} ({kind}) needs the Python package {pkg!r}, "
            f"which is not installed: pip install {pkg}.") from exc
