"""Read, filter and decimate the visible page of a recording (no Qt).

:func:`compute_page` reads only the requested window (plus a short pad for
the display filters) once, as float32, through
:meth:`core.io.recording.Recording.read_into` (straight from the file's data
buffers where the format allows), holding the recording's read lock; it
anti-alias reduces rows with a display low-pass towards pixel resolution,
filters them in float32, and reduces each channel to alternating per-pixel
minima and maxima ("peak" decimation, as mne-qt-browser does) on one pixel
grid, so a page costs the same whatever the sampling rate. The GUI side
(:mod:`gui.traces.loader`) only schedules pages and caches them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from core.utils import parallel_map
from core.utils.dsp import butter_sos

#: Seconds read on each side of the page so filters settle before the edges.
FILTER_PAD = 2.0

_HEAP_TUNED = False


def limit_heap_growth() -> None:
    """Return big page buffers to the OS (glibc only; once per process).

    Pages were tens of MB each, allocated from two threads; glibc's
    adaptive mmap threshold would keep freed pages in per-thread heaps and
    let the resident memory of a long browsing session creep up. A fixed
    threshold gives blocks above it back on free. The page buffer itself is
    now reused (:func:`read_page`), and the per-block temporaries of the
    filters (a few MB) stay below the 32-MB threshold: served from the heap
    without fresh page faults (a 1-MB threshold made filtering 2x slower).
    """
    global _HEAP_TUNED
    if _HEAP_TUNED:
        return
    _HEAP_TUNED = True
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        pass


@dataclass(frozen=True)
class PageRequest:
    """What to draw.

    Attributes
    ----------
    rid : int
        Request id (increasing); results of older ids are dropped.
    t0, t1 : float
        Window in seconds.
    idx : tuple of int
        Channel indices, top to bottom.
    n_px : int
        Plot width in pixels (decimation target).
    highpass, lowpass, notch : float | None
        Display filters (Hz).
    sigma_band : tuple of float | None
        Band of the sigma overlay, or None for no overlay.
    montage : core.io.montage.CompiledMontage | None
        When given, ``idx`` are rows of this montage, derived per page.
    raw_rows : tuple of int
        Rows (positions in ``idx``) drawn as events, not traces (stim /
        trigger channels): never filtered nor mean-removed, and reduced by
        the maximum, so event codes survive.
    row_filters : tuple of (float | None, float | None)
        Per row, its display (high-pass, low-pass) in Hz (the channel
        type's); empty: ``highpass`` and ``lowpass`` for every row.
    """

    rid: int
    t0: float
    t1: float
    idx: tuple
    n_px: int
    highpass: float | None = None
    lowpass: float | None = None
    notch: float | None = None
    sigma_band: tuple | None = None
    montage: object = None
    raw_rows: tuple = ()
    row_filters: tuple = ()


@dataclass
class PageData:
    """A decimated page: ``times`` shared by all rows of ``data``/``sigma``.

    Non-finite samples (NaN/inf stretches) are NaN in ``data`` over the
    pixels they touch, on their rows only; ``gap_rows`` lists those rows.
    """

    request: PageRequest
    times: np.ndarray
    data: np.ndarray
    sigma: np.ndarray | None = None
    timings: dict = field(default_factory=dict)
    gap_rows: tuple = ()


def peak_decimate(times, data, n_px):
    """Reduce columns to alternating min/max per pixel.

    Parameters
    ----------
    times : array, shape (n_times,)
        Sample times.
    data : array, shape (n_channels, n_times)
        Signals.
    n_px : int
        Number of pixel columns.

    Returns
    -------
    times : array, shape (n_points,)
        ``2 * n_px`` times (two per pixel) or the input when already short.
    data : array, shape (n_channels, n_points)
        Per pixel, the minimum and the maximum in the order they occur is not
        tracked: min first, then max (like mne-qt-browser's "peak" mode).
    """
    n_times = data.shape[1]
    n_px = max(int(n_px), 1)
    per = -(-n_times // n_px)  # samples per pixel, rounded up
    if per < 2:
        return times, data
    n_blk = n_times // per
    n_use = n_blk * per
    blocks = data[:, :n_use].reshape(data.shape[0], n_blk, per)
    out = np.empty((data.shape[0], n_blk, 2), dtype=data.dtype)
    np.min(blocks, axis=2, out=out[:, :, 0])
    np.max(blocks, axis=2, out=out[:, :, 1])
    tt = np.empty((n_blk, 2))
    tt[:, 0] = times[0:n_use:per]
    tt[:, 1] = times[per // 2:n_use:per]
    out = out.reshape(data.shape[0], 2 * n_blk)
    tt = tt.reshape(-1)
    if n_use < n_times:  # remainder (less than a pixel): one last min/max pair
        rest = data[:, n_use:]
        out = np.concatenate([out, rest.min(1, keepdims=True),
                              rest.max(1, keepdims=True)], axis=1)
        tt = np.concatenate([tt, times[[n_use, -1]]])
    return tt, out


_SOS_CACHE: dict = {}

#: Highest low-pass edge drawn, as a fraction of the Nyquist frequency (a
#: display low-pass at or above Nyquist is capped here rather than dropped).
NYQUIST_CAP = 0.9


def _sos(kind, freqs, sfreq):
    """Butterworth second-order sections in float32 (cached), or None."""
    key = (kind, freqs, sfreq)
    if key not in _SOS_CACHE:
        nyq = sfreq / 2.0
        if kind == "notch":
            lo, hi = freqs - 1.0, freqs + 1.0
            sos = (butter_sos(2, [lo, hi], "bandstop", sfreq)
                   if 0 < lo < hi < nyq else None)
        elif kind == "band":
            lo, hi = freqs
            if hi is not None and hi > nyq * NYQUIST_CAP:
                hi = nyq * NYQUIST_CAP
            if lo is not None and hi is not None and lo >= hi:
                lo = None  # the high-pass alone no longer fits: keep the low-pass
            if lo and hi:
                sos = butter_sos(2, [lo, hi], "bandpass", sfreq)
            elif lo:
                sos = butter_sos(2, lo, "highpass", sfreq)
            elif hi:
                sos = butter_sos(4, hi, "lowpass", sfreq)
            else:
                sos = None
        else:  # pragma: no cover
            raise ValueError(kind)
        _SOS_CACHE[key] = None if sos is None else sos.astype(np.float32)
    return _SOS_CACHE[key]


_GAINS: dict = {}


def _gain(sos_list, n_fft):
    """``|H|^2`` of the cascade ``sos_list`` on the rfft grid of ``n_fft``."""
    sos_list = [s for s in sos_list if s is not None]
    if not sos_list:
        return None
    key = (tuple(s.tobytes() for s in sos_list), n_fft)
    if key not in _GAINS:
        from scipy import signal

        w = np.linspace(0.0, np.pi, n_fft // 2 + 1)
        g = np.ones(w.size)
        for sos in sos_list:
            g *= np.abs(signal.sosfreqz(sos.astype(np.float64), worN=w)[1]) ** 2
        _GAINS[key] = g.astype(np.float32)
        if len(_GAINS) > 64:
            _GAINS.pop(next(iter(_GAINS)))
    return _GAINS[key]


def _zero_phase(y, sos_list, sig_sos, ext):
    """Zero-phase filtering of rows ``y`` in the frequency domain (float32).

    A forward-backward IIR filter (``sosfiltfilt``) has the gain ``|H|^2``
    and no phase; applying ``|H|^2`` to the spectrum of the rows (extended
    by ``ext`` samples of odd reflection at each end, as ``sosfiltfilt``
    extends them) gives the same page away from the ends, at a fraction of
    the cost (one real FFT pair per row block for the display filters and
    the sigma overlay together; SciPy's ``sosfilt`` runs sample by sample).

    Returns
    -------
    y : array
        Rows through the cascade ``sos_list`` (None entries skipped).
    sig : array | None
        Rows through ``sig_sos`` alone (the sigma overlay), or None.
    """
    from scipy import fft as sfft

    n = y.shape[1]
    ext = max(0, min(int(ext), n - 1))
    n_fft = sfft.next_fast_len(n + 2 * ext, real=True)
    g = _gain(sos_list, n_fft)
    gs = _gain([sig_sos], n_fft) if sig_sos is not None else None
    if g is None and gs is None:
        return y, None
    x = y
    if ext:
        x = np.concatenate([2 * y[:, :1] - y[:, ext:0:-1], y,
                            2 * y[:, -1:] - y[:, -2:-ext - 2:-1]], axis=1)
    spec = sfft.rfft(x, n_fft, axis=1)
    out = y if g is None else sfft.irfft(spec * g, n_fft, axis=1)[:, ext:ext + n]
    sig = None if gs is None else sfft.irfft(spec * gs, n_fft, axis=1)[:, ext:ext + n]
    return out, sig


#: Rows filtered at once (bounds the filter's temporary memory).
ROW_BLOCK = 64
#: Pages with at least this many samples read are filtered on two threads.
PARALLEL_MIN_SAMPLES = 2_000_000
#: Samples per period of the highest frequency shown kept before filtering.
SAMPLES_PER_PERIOD = 6


def reduction_factor(sfreq, req: PageRequest, n_samples: int, lowpass=None,
                     per_pixel=None, exact=True) -> int:
    """Samples merged (anti-aliased) into one before filtering (1 = none).

    Only rows with a display low-pass are reduced: they are then filtered at
    a rate of at least :data:`SAMPLES_PER_PERIOD` times the highest frequency
    shown (their low-pass, or the sigma band's top), and never below two
    samples per pixel, so peak decimation keeps its detail. The factor divides
    the pixel width ``per_pixel`` (raw samples per pixel) so every row shares
    one pixel grid (``exact=False``: the factor wanted, divisor or not).
    """
    lowpass = req.lowpass if lowpass is None else lowpass
    if not lowpass:
        return 1
    top = max(lowpass, req.sigma_band[1] if req.sigma_band else 0.0)
    q = int(sfreq // (SAMPLES_PER_PERIOD * top))
    if per_pixel is None:
        per_pixel = -(-n_samples // max(req.n_px, 1))
    q = min(q, per_pixel // 2)
    while exact and q > 1 and per_pixel % q:
        q -= 1
    return max(q, 1)


_WEIGHTS: dict = {}


def _tri_weights(q):
    """Weights of a length-``2q - 1`` triangle over three blocks of ``q``.

    Column ``b`` weights the samples of block ``k - 1 + b`` for the output
    centred on block ``k``: two cascaded ``q``-sample means (a second-order
    CIC filter, about -27 dB where the plain block mean gives -13 dB).
    """
    if q not in _WEIGHTS:
        c = (q - 1) / 2.0
        m = np.arange(-q, 2 * q) - c          # offsets from the block centre
        w = np.clip(q - np.abs(m), 0.0, None)
        w /= w.sum()
        _WEIGHTS[q] = np.ascontiguousarray(w.reshape(3, q).T, dtype=np.float32)
    return _WEIGHTS[q]


def anti_alias_reduce(x, q):
    """Reduce ``q`` samples to one through a triangular (CIC-2) low-pass.

    Parameters
    ----------
    x : array, shape (n_rows, n_times)
        Signals (float32); ``n_times`` is cut to a multiple of ``q``.
    q : int
        Reduction factor.

    Returns
    -------
    y : array, shape (n_rows, n_times // q)
        Sample ``k`` is centred on the middle of input block ``k``.
    """
    if q <= 1:
        return x
    n_blk = x.shape[1] // q
    blocks = x[:, : n_blk * q].reshape(x.shape[0], n_blk, q)
    m = blocks @ _tri_weights(q)                        # (rows, n_blk, 3)
    y = m[:, :, 1].copy()
    y[:, 1:] += m[:, :-1, 0]                            # block k - 1
    y[:, 0] += m[:, 0, 0]                               # edges: the block repeated
    y[:, :-1] += m[:, 1:, 2]                            # block k + 1
    y[:, -1] += m[:, -1, 2]
    return y


def _pixel_peaks(y, per, n_blk, out, cols):
    """Min/max per pixel of ``y`` (pixels of ``per`` samples) into ``out``."""
    n_use = n_blk * per
    blocks = y[:, :n_use].reshape(y.shape[0], n_blk, per)
    view = out[:, : 2 * n_blk].reshape(out.shape[0], n_blk, 2)
    if per <= 64:  # a reduction along a short axis is slow: fold column by
        # column into contiguous accumulators (2-5x faster than min(axis=2))
        lo = blocks[:, :, 0].copy()
        hi = lo.copy()
        for j in range(1, per):
            np.minimum(lo, blocks[:, :, j], out=lo)
            np.maximum(hi, blocks[:, :, j], out=hi)
        view[:, :, 0] = lo
        view[:, :, 1] = hi
    else:
        view[:, :, 0] = blocks.min(axis=2)
        view[:, :, 1] = blocks.max(axis=2)
    if cols > 2 * n_blk:  # remainder (less than a pixel): one last min/max pair
        rest = y[:, n_use:] if y.shape[1] > n_use else y[:, -1:]
        out[:, -2] = rest.min(axis=1)
        out[:, -1] = rest.max(axis=1)


_BUFFERS = threading.local()


def _page_buffer(n_rows, n_times):
    """A float32 buffer of this shape, reused by the thread from page to page."""
    flat = getattr(_BUFFERS, "flat", None)
    if flat is None or flat.size < n_rows * n_times:
        flat = np.empty(int(n_rows * n_times * 1.1) + 1, np.float32)
        _BUFFERS.flat = flat
    return flat[: n_rows * n_times].reshape(n_rows, n_times)


def read_page(recording, start, stop, idx, montage=None):
    """Read samples ``[start, stop)`` of rows ``idx`` once, as float32.

    Plain channels go through :meth:`core.io.recording.Recording.read_into`
    into a preallocated float32 buffer (reused by the thread; straight from
    the file's data buffers for FIF); montage rows and recordings without
    ``read_into`` go through their own readers. The result is only valid
    until the thread's next read.
    """
    if montage is not None:  # derivations of this page's rows only
        return np.asarray(montage.read_rows(recording, start, stop, idx), np.float32)
    idx = np.asarray(idx, int)
    if not hasattr(recording, "read_into"):
        return np.asarray(recording.get_samples(start, stop, idx), np.float32)
    return recording.read_into(start, stop, idx, _page_buffer(len(idx), stop - start))


_FALLBACK_LOCK = threading.RLock()


def read_lock(recording):
    """The lock every reader of ``recording``'s file holds while reading."""
    return getattr(recording, "read_lock", None) or _FALLBACK_LOCK


def _row_specs(req: PageRequest):
    """(high-pass, low-pass) per row; None for rows drawn raw (stim)."""
    raw_rows = set(req.raw_rows)
    filters = req.row_filters or ((req.highpass, req.lowpass),) * len(req.idx)
    return [None if r in raw_rows else (f[0] or None, f[1] or None)
            for r, f in enumerate(filters)]


class PageCancelled(Exception):
    """Raised inside :func:`compute_page` when its ``should_stop`` says so."""


def compute_page(recording, req: PageRequest, should_stop=None) -> PageData:
    """Read, filter and decimate one page (pure; runs on any thread).

    The page is read once (float32). Rows are grouped by display filter;
    each group with a low-pass is first reduced towards pixel resolution
    through an anti-alias filter (:func:`anti_alias_reduce`), then
    band-passed (zero phase, float32, :func:`_zero_phase`) at that rate, then reduced to
    alternating per-pixel minima and maxima on a pixel grid shared by every
    row. Stim rows are never filtered nor mean-removed (per-pixel min/max of
    the raw codes).

    Parameters
    ----------
    recording : core.io.recording.Recording
        The open recording.
    req : PageRequest
        What to draw.
    should_stop : callable | None
        Asked between steps; True abandons the page (:class:`PageCancelled`),
        e.g. a prefetch the scorer has jumped away from.

    Returns
    -------
    page : PageData
        Times and decimated data in SI units (mean removed per channel).
    """
    tic = time.perf_counter()
    sfreq = recording.sfreq
    specs = _row_specs(req)
    filt = bool(req.notch or req.sigma_band
                or any(s is not None and (s[0] or s[1]) for s in specs))
    s0 = max(0, int(round(req.t0 * sfreq)))
    s1 = min(recording.n_times, int(round(req.t1 * sfreq)))
    if s1 <= s0 or not req.idx:
        return PageData(req, np.zeros(0), np.zeros((len(req.idx), 0)))
    n = s1 - s0
    n_px = max(int(req.n_px), 1)
    per = -(-n // n_px)                        # raw samples per pixel
    if per < 2:
        per = 1
    else:  # widen pixels a little so the main reduction factor divides them
        q_main = max([reduction_factor(sfreq, req, n, sp[1], per, exact=False)
                      for sp in specs if sp is not None] or [1])
        per = -(-per // q_main) * q_main
    n_pad = int(np.ceil(FILTER_PAD * sfreq / per)) * per if filt else 0
    lead = (min(n_pad, s0) // per) * per       # a multiple of every factor used
    p0, p1 = s0 - lead, min(recording.n_times, s1 + n_pad)
    if p0 + ((p1 - p0) // per) * per >= s1:    # whole pixels: reshapes without copies
        p1 = p0 + ((p1 - p0) // per) * per
    with read_lock(recording):
        if should_stop is not None and should_stop():
            raise PageCancelled
        t_lock = time.perf_counter()
        raw = read_page(recording, p0, p1, req.idx, req.montage)
    t_read = time.perf_counter()

    # the shared pixel grid (raw sample times)
    if per >= 2:
        n_blk = n // per
        cols = 2 * n_blk + (2 if n > n_blk * per else 0)
        tt = np.empty((n_blk, 2))
        tt[:, 0] = (s0 + np.arange(n_blk) * per) / sfreq
        tt[:, 1] = tt[:, 0] + (per // 2) / sfreq
        times = tt.reshape(-1)
        if cols > 2 * n_blk:
            times = np.concatenate([times, [(s0 + n_blk * per) / sfreq, (s1 - 1) / sfreq]])
    else:
        n_blk, cols = n, n
        times = np.arange(s0, s1) / sfreq
    n_rows = len(req.idx)
    data = np.empty((n_rows, cols), np.float32)
    sigma = np.full((n_rows, cols), np.nan, np.float32) if req.sigma_band else None
    groups: dict = {}
    for r, spec in enumerate(specs):
        groups.setdefault(spec, []).append(r)
    blocks = [(spec, np.asarray(rows[b0:b0 + ROW_BLOCK]))
              for spec, rows in groups.items() for b0 in range(0, len(rows), ROW_BLOCK)]

    def one_block(spec, sel):
        """Filter and reduce rows ``sel`` into ``data``/``sigma`` (their rows only).

        Returns (seconds filtering, reduction factor, rows with gaps).
        """
        if should_stop is not None and should_stop():
            raise PageCancelled
        t_filt, red, gap_rows = 0.0, 1, []
        if sel[-1] - sel[0] == len(sel) - 1:  # adjacent rows: work in the buffer
            x = raw[sel[0]:sel[-1] + 1]      # (each row is in one group only)
        else:
            x = raw[sel]
        bad_rows = np.flatnonzero(~np.isfinite(x.sum(axis=1)))
        bad = None
        if bad_rows.size:                    # fill gaps for the filters, blank after
            bad = ~np.isfinite(x[bad_rows])
            xb = x[bad_rows]
            cnt = (~bad).sum(axis=1)
            fill = np.where(cnt > 0, np.where(bad, 0, xb).sum(axis=1)
                            / np.maximum(cnt, 1), 0.0).astype(np.float32)
            xb[bad] = np.broadcast_to(fill[:, None], xb.shape)[bad]
            x[bad_rows] = xb
        sig = None
        if spec is None:                     # stim: raw codes, per-pixel min/max
            y, q = x[:, lead:lead + n], 1
        else:
            tb = time.perf_counter()
            q = reduction_factor(sfreq, req, n, spec[1], per) if per >= 2 else 1
            red = q
            y = anti_alias_reduce(x, q)
            k0, k1 = lead // q, lead // q + -(-n // q)
            # baseline: the page's own mean (not the filter pads')
            y -= y[:, k0:k1].mean(axis=1, dtype=np.float64,
                                  keepdims=True).astype(np.float32)
            rate = sfreq / q
            if y.shape[1] > 30:
                band = _sos("band", spec, rate)
                notch = (_sos("notch", float(req.notch), rate)
                         if req.notch and req.notch < rate / 2 - 1 else None)
                sig_sos = (_sos("band", tuple(req.sigma_band), rate)
                           if req.sigma_band else None)
                y, sig = _zero_phase(y, [band, notch], sig_sos, int(FILTER_PAD * rate))
            y = y[:, k0:k1]
            if sig is not None:
                sig = sig[:, k0:k1]
            t_filt = time.perf_counter() - tb
        if per >= 2:
            out = np.empty((len(sel), cols), np.float32)
            _pixel_peaks(y, per // q, n_blk, out, cols)
            data[sel] = out
            if sig is not None:
                _pixel_peaks(sig, per // q, n_blk, out, cols)
                sigma[sel] = out
        else:
            data[sel] = y
            if sig is not None:
                sigma[sel] = sig
        if bad is not None:                  # pixels touched by a gap: NaN
            bb = bad[:, lead:lead + n]
            if per >= 2:
                mask = np.zeros((len(bad_rows), cols), bool)
                _pixel_peaks(bb, per, n_blk, mask, cols)
                mask[:, ::2] |= mask[:, 1::2]  # both points of a pixel
                mask[:, 1::2] = mask[:, ::2]
            else:
                mask = bb
            hit = mask.any(axis=1)
            rows_abs = sel[bad_rows]
            data[rows_abs] = np.where(mask, np.nan, data[rows_abs])
            if sigma is not None:
                sigma[rows_abs] = np.where(mask, np.nan, sigma[rows_abs])
            gap_rows += [int(r) for r in rows_abs[hit]]
        return t_filt, red, gap_rows

    # blocks write disjoint rows; NumPy and SciPy's FFT release the GIL, so a
    # big page is filtered on every core (a jump is waited for, not hidden)
    def timed(b):
        t = time.perf_counter()
        out = one_block(*b)
        return out + (time.perf_counter() - t,)

    done = parallel_map(timed, blocks,
                        parallel=len(blocks) > 1 and raw.size >= PARALLEL_MIN_SAMPLES)
    # wall time, split between filtering and reduction as the blocks' CPU time was
    busy = sum(d[3] for d in done)
    t_filt = (time.perf_counter() - t_read) * (sum(d[0] for d in done) / busy if busy else 0.0)
    red = max([d[1] for d in done] or [1])
    gap_rows = [r for d in done for r in d[2]]
    toc = time.perf_counter()
    return PageData(req, times, data, sigma,
                    {"wait": t_lock - tic, "read": t_read - t_lock, "filter": t_filt,
                     "decimate": toc - t_read - t_filt, "total": toc - tic,
                     "reduction": red}, tuple(sorted(gap_rows)))


def page_key(recording, req: PageRequest) -> tuple:
    """What identifies a page's content (everything but the request id)."""
    return (id(recording), round(req.t0, 6), round(req.t1, 6), tuple(req.idx), req.n_px,
            req.highpass, req.lowpass, req.notch,
            tuple(req.sigma_band) if req.sigma_band else None, req.montage,
            tuple(req.raw_rows), tuple(req.row_filters))
