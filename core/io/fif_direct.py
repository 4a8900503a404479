"""Read pages of a FIF recording straight from its data buffers.

MNE's reader is general (compensation, projection, skips, compressed files)
and pays for it on every call: it reads each buffer into a fresh array,
multiplies in float64 and picks channels afterwards. A page of a 366-channel
1-kHz file is dominated by that overhead. :class:`FifDirect` records once,
at opening, where each data buffer sits in each file (MNE's own directory
entries) and reads a page with ``readinto`` into a reused scratch buffer,
swaps bytes in place and writes the picked channels, calibrated, straight
into the caller's (float32) array — the same values as ``raw.get_data``
(``raw._cals``: range x cal, with the unit fix; projections not applied).

Anything it does not know how to read exactly (compressed files, skips or
acquisition gaps, complex data, pre-loaded or projected data, other formats)
makes :meth:`FifDirect.for_raw` return None, and the caller reads through MNE.
"""

from __future__ import annotations

import threading

import numpy as np

from core.utils import logger, parallel_map

# FIFF tag data types MNE's ``_call_dict`` reads as plain big-endian arrays.
_DTYPES = {4: ">f4", 5: ">f8", 3: ">i4", 2: ">i2", 16: ">i2"}
_TAG_HEADER = 16  # kind, type, size, next (4 x int32)
#: Samples transposed at once (a cache-friendly block of the (time, channel)
#: buffer into the (channel, time) page).
_BLOCK = 512

_SCRATCH = threading.local()
#: Samples of a buffer read as one piece (pieces are shared between threads).
_CHUNK = 4096
#: Pages of at least this many values are read on two threads.
PARALLEL_MIN_VALUES = 2_000_000


def _scratch(nbytes):
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < nbytes:
        buf = np.empty(int(nbytes), np.uint8)
        _SCRATCH.buf = buf
    return buf


def _read_exactly(fh, buf, message):
    """Fill ``buf`` from ``fh`` (a read may return less than asked)."""
    view = memoryview(buf)
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])
        if not n:
            raise OSError(message)
        got += n


class FifDirect:
    """Byte layout of a FIF recording's data buffers.

    Parameters
    ----------
    raw : mne.io.Raw
        The FIF raw (split files followed), opened with ``preload=False``.
    files : list of tuple
        Per file: ``(filename, bounds, entries, n_chan, read_picks)`` where
        ``entries`` are ``(position, dtype)`` per buffer.

    Notes
    -----
    Build it with :meth:`for_raw`, which checks the file can be read exactly.
    """

    def __init__(self, raw, files):
        self.raw = raw
        self.files = files
        lengths = np.asarray(raw._raw_lengths, np.int64)
        self.cumul = np.concatenate([[0], np.cumsum(lengths)])
        self.first_samps = np.asarray(raw._first_samps, np.int64)

    @classmethod
    def for_raw(cls, raw):
        """The direct reader for ``raw``, or None when MNE must read it.

        Parameters
        ----------
        raw : mne.io.BaseRaw
            Any raw object.

        Returns
        -------
        reader : FifDirect | None
            None for other formats, pre-loaded data, compressed files,
            skips or unknown buffer types.
        """
        if type(raw).__module__ != "mne.io.fiff.raw" or getattr(raw, "preload", True):
            return None
        files = []
        try:
            for fi, extra in enumerate(raw._raw_extras):
                fname = str(extra["filename"])
                if fname.endswith(".gz"):
                    return None
                bounds = np.asarray(extra["bounds"], np.int64)
                n_chan = int(extra["orig_nchan"])
                entries = []
                for k, ent in enumerate(extra["ent"]):
                    dt = _DTYPES.get(int(ent.type)) if ent is not None else None
                    n = int(bounds[k + 1] - bounds[k])
                    if dt is None or int(ent.size) != n * n_chan * np.dtype(dt).itemsize:
                        return None  # a skip, a gap or an unknown type: MNE reads it
                    entries.append((int(ent.pos) + _TAG_HEADER, dt))
                files.append((fname, bounds, entries, n_chan,
                              np.asarray(raw._read_picks[fi], np.int64)))
        except (AttributeError, KeyError, TypeError, IndexError) as exc:
            logger.debug("FIF layout not readable directly: %s", exc)
            return None
        if not files:
            return None
        return cls(raw, files)

    @staticmethod
    def _read_buffer(fname, pos, dt, n_chan, cols, lo, hi, offset, cals, out):
        """Rows ``lo:hi`` of one data buffer, columns ``cols`` (a slice when
        the channels are adjacent, else indices), into ``out``."""
        nbytes = (hi - lo) * n_chan * dt.itemsize
        buf = _scratch(nbytes)[:nbytes]
        with open(fname, "rb", buffering=0) as fh:
            fh.seek(pos + lo * n_chan * dt.itemsize)
            _read_exactly(fh, buf, f"{fname}: data buffer at byte {pos} is truncated")
        block = buf.view(dt).reshape(hi - lo, n_chan)   # big-endian: converted
        for b0 in range(0, hi - lo, _BLOCK):            # by the multiply below
            b1 = min(hi - lo, b0 + _BLOCK)
            part = block[b0:b1, cols]
            np.multiply(part.T, cals, out=out[:, offset + b0:offset + b1],
                        casting="unsafe")

    def read(self, start, stop, idx, out):
        """Fill ``out`` with samples ``[start, stop)`` of channels ``idx``.

        Parameters
        ----------
        start, stop : int
            Samples from the start of the recording (``raw.first_samp`` is 0).
        idx : array of int
            Channel indices (of ``raw.ch_names``).
        out : array, shape (len(idx), stop - start)
            Filled in place, in its own dtype.

        Returns
        -------
        out : array
            ``out``.
        """
        if out.shape != (len(idx), stop - start):
            raise ValueError(f"out has shape {out.shape}, expected "
                             f"{(len(idx), stop - start)}")
        cals = self.raw._cals[idx].astype(out.dtype)[:, None]
        tasks = []   # (file, byte position, dtype, first row, last row, columns)
        offset = 0
        for fi in range(len(self.files)):
            f0, f1 = self.cumul[fi], self.cumul[fi + 1]
            if stop <= f0 or start >= f1:
                continue
            fname, bounds, entries, n_chan, picks = self.files[fi]
            s0 = self.first_samps[fi] + max(start, f0) - f0
            s1 = self.first_samps[fi] + min(stop, f1) - f0
            chans = picks[idx]
            cols = (slice(int(chans[0]), int(chans[0]) + chans.size)
                    if chans.size and np.array_equal(
                        chans, np.arange(chans[0], chans[0] + chans.size)) else chans)
            for ei in np.flatnonzero((s1 > bounds[:-1]) & (s0 < bounds[1:])):
                first, last = int(bounds[ei]), int(bounds[ei + 1])
                pos, dt = entries[ei]
                lo, hi = max(s0 - first, 0), min(last, s1) - first
                for c0 in range(lo, hi, _CHUNK):   # pieces to share out
                    c1 = min(hi, c0 + _CHUNK)
                    tasks.append((fname, pos, np.dtype(dt), n_chan, cols, c0, c1, offset))
                    offset += c1 - c0
        total = sum(t[6] - t[5] for t in tasks) * len(idx)
        # buffers fill disjoint columns; reads and the calibrated copy release
        # the GIL, so a big page is read on every core
        parallel_map(lambda t: self._read_buffer(*t, cals, out), tasks,
                     parallel=total >= PARALLEL_MIN_VALUES)
        if offset != stop - start:
            raise ValueError(f"read {offset} samples of {stop - start}")
        return out
