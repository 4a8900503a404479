"""Read, filter and decimate the visible page of a recording.

:func:`compute_page` is pure (no Qt): it reads only the requested window (plus
a short pad for the display filters) through ``Recording.get_samples`` and
reduces each channel to alternating per-pixel minima and maxima ("peak"
decimation, as mne-qt-browser does), so a page costs the same whatever the
sampling rate. :class:`PageLoader` runs it inline when the page is small and on
a worker thread otherwise; requests that are superseded before they finish are
dropped (stale requests never reach the screen).
"""

from __future__ import annotations

import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.utils import logger

#: Seconds read on each side of the page so filters settle before the edges.
FILTER_PAD = 2.0

_read_lock = threading.Lock()  # MNE readers are not meant for concurrent use
_HEAP_TUNED = False


def limit_heap_growth() -> None:
    """Return big page buffers to the OS (glibc only; once per process).

    Pages are tens of MB each and are allocated from two threads; glibc's
    adaptive mmap threshold would keep freed pages in per-thread heaps and
    let the resident memory of a long browsing session creep up. A fixed
    1-MB threshold gives them back on free.
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

        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
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
    montage : core.montage.CompiledMontage | None
        When given, ``idx`` are rows of this montage, derived per page.
    raw_rows : tuple of int
        Rows (positions in ``idx``) drawn as events, not traces (stim /
        trigger channels): never filtered nor mean-removed, and reduced by
        the maximum, so event codes survive.
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


def _sos(kind, freqs, sfreq):
    key = (kind, freqs, sfreq)
    if key not in _SOS_CACHE:
        from scipy import signal

        nyq = sfreq / 2.0
        if kind == "notch":
            f0 = freqs
            lo, hi = (f0 - 1.0) / nyq, (f0 + 1.0) / nyq
            sos = (signal.butter(2, [lo, hi], "bandstop", output="sos")
                   if 0 < lo < hi < 1 else None)
        elif kind == "band":
            lo, hi = freqs
            if hi is not None and hi >= nyq * 0.99:
                hi = None
            if lo and hi:
                sos = signal.butter(2, [lo / nyq, hi / nyq], "bandpass", output="sos")
            elif lo:
                sos = signal.butter(2, lo / nyq, "highpass", output="sos")
            elif hi:
                sos = signal.butter(4, hi / nyq, "lowpass", output="sos")
            else:
                sos = None
        else:  # pragma: no cover
            raise ValueError(kind)
        _SOS_CACHE[key] = sos
    return _SOS_CACHE[key]


def _filter(data, sos):
    from scipy import signal

    return signal.sosfiltfilt(sos, data, axis=1)


#: Rows filtered at once (bounds the filter's temporary memory).
ROW_BLOCK = 48


def reduction_factor(sfreq, req: PageRequest, n_samples: int) -> int:
    """Samples averaged together before filtering (1 = none).

    Only with a display low-pass: the page is then computed at a rate of at
    least 8x the highest frequency shown (low-pass or sigma band), the block
    mean acting as anti-alias filter before the Butterworth low-pass; and never
    below two samples per pixel, so peak decimation keeps its detail.
    """
    if not req.lowpass:
        return 1
    top = max(req.lowpass, req.sigma_band[1] if req.sigma_band else 0.0)
    q = int(sfreq // (8 * top))
    q = min(q, n_samples // max(2 * req.n_px, 1))
    return max(q, 1)


def compute_page(recording, req: PageRequest) -> PageData:
    """Read, filter and decimate one page (pure; runs on any thread).

    Parameters
    ----------
    recording : core.recording.Recording
        The open recording.
    req : PageRequest
        What to draw.

    Returns
    -------
    page : PageData
        Times and decimated data in SI units (mean removed per channel).
    """
    tic = time.perf_counter()
    sfreq = recording.sfreq
    filt = bool(req.highpass or req.lowpass or req.notch or req.sigma_band)
    pad = FILTER_PAD if filt else 0.0
    s0 = max(0, int(round(req.t0 * sfreq)))
    s1 = min(recording.n_times, int(round(req.t1 * sfreq)))
    if s1 <= s0 or not req.idx:
        return PageData(req, np.zeros(0), np.zeros((len(req.idx), 0)))
    q = reduction_factor(sfreq, req, s1 - s0)
    n_pad = int(np.ceil(pad * sfreq / q)) * q
    p0 = max(0, s0 - n_pad)
    p1 = min(recording.n_times, s1 + n_pad)
    with _read_lock:
        if req.montage is not None:  # derivations of this page's rows only
            raw = req.montage.read_rows(recording, p0, p1, req.idx)
        else:
            raw = recording.get_samples(p0, p1, np.asarray(req.idx, int))
    t_read = time.perf_counter()
    # reduced sample k covers raw samples [p0 + k q, p0 + (k + 1) q)
    n_red = (p1 - p0) // q
    k0 = -(-(s0 - p0) // q)
    k1 = max(k0 + 1, (s1 - p0) // q)
    times = (p0 + np.arange(k0, k1) * q + (q - 1) / 2.0) / sfreq
    rate = sfreq / q
    band = _sos("band", (req.highpass or None, req.lowpass or None), rate)
    notch = (_sos("notch", float(req.notch), rate)
             if req.notch and req.notch < rate / 2 - 1 else None)
    sig_sos = _sos("band", tuple(req.sigma_band), rate) if req.sigma_band else None
    out, out_sigma, t_filt_total = [], [], 0.0
    gap_rows = []
    raw_rows = set(req.raw_rows)
    times_d = None
    for b0 in range(0, raw.shape[0], ROW_BLOCK):
        tb = time.perf_counter()
        x = raw[b0:b0 + ROW_BLOCK]
        bad = ~np.isfinite(x)
        has_bad = bool(bad.any())
        if has_bad:            # fill the gaps for the filters, blank them after
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                fill = np.nan_to_num(np.nanmean(np.where(bad, np.nan, x), axis=1,
                                                keepdims=True))
            x = np.where(bad, fill, x)
        rows_raw = [r - b0 for r in range(b0, b0 + x.shape[0]) if r in raw_rows]
        x_ev = None
        if rows_raw:
            x_ev = x[rows_raw]
            if q > 1:
                x_ev = x_ev[:, : n_red * q].reshape(len(rows_raw), n_red, q).max(axis=2)
        if q > 1:
            x = x[:, : n_red * q].reshape(x.shape[0], n_red, q).mean(axis=2)
            if has_bad:
                bad = bad[:, : n_red * q].reshape(bad.shape[0], n_red, q).any(axis=2)
        x = x - x.mean(axis=1, keepdims=True)
        y = x
        if x.shape[1] > 30:
            if band is not None:
                y = _filter(y, band)
            if notch is not None:
                y = _filter(y, notch)
        sig = _filter(x, sig_sos) if sig_sos is not None and x.shape[1] > 30 else None
        if x_ev is not None:
            y = np.array(y, copy=True)
            y[rows_raw] = x_ev
        y = np.ascontiguousarray(y[:, k0:k1])
        t_filt_total += time.perf_counter() - tb
        times_d, yd = peak_decimate(times, y, req.n_px)
        if has_bad:
            bad_d = peak_decimate(times, np.ascontiguousarray(
                bad[:, k0:k1], dtype=float), req.n_px)[1] > 0
            yd = np.where(bad_d, np.nan, yd)
            gap_rows += [b0 + r for r in np.flatnonzero(bad_d.any(axis=1))]
        out.append(yd)
        if sig is not None:
            sd = peak_decimate(times, np.ascontiguousarray(sig[:, k0:k1]), req.n_px)[1]
            out_sigma.append(np.where(bad_d, np.nan, sd) if has_bad else sd)
    toc = time.perf_counter()
    data_d = np.concatenate(out) if out else np.zeros((0, 0))
    sigma_d = np.concatenate(out_sigma) if out_sigma else None
    return PageData(req, times_d, data_d, sigma_d,
                    {"read": t_read - tic, "filter": t_filt_total,
                     "decimate": toc - t_read - t_filt_total, "total": toc - tic,
                     "reduction": q}, tuple(gap_rows))


def page_key(recording, req: PageRequest) -> tuple:
    """What identifies a page's content (everything but the request id)."""
    return (id(recording), round(req.t0, 6), round(req.t1, 6), tuple(req.idx), req.n_px,
            req.highpass, req.lowpass, req.notch,
            tuple(req.sigma_band) if req.sigma_band else None, req.montage,
            tuple(req.raw_rows))


class PageCache:
    """A small thread-safe LRU of computed pages, with in-flight tracking.

    The worker fills it ahead of the user (the next and previous pages), so
    paging on through a night costs only the drawing.
    """

    def __init__(self, size: int = 8):
        self.size = int(size)
        self._pages: OrderedDict = OrderedDict()
        self._inflight: dict = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key, wait: bool = True):
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                self.hits += 1
                return page
            event = self._inflight.get(key)
        if event is not None and wait:
            event.wait(30)  # computed right now on the worker: cheaper to wait
            with self._lock:
                page = self._pages.get(key)
                if page is not None:
                    self.hits += 1
                    return page
        with self._lock:
            self.misses += 1
        return None

    def begin(self, key) -> bool:
        """Mark ``key`` in flight; False if cached or already in flight."""
        with self._lock:
            if key in self._pages or key in self._inflight:
                return False
            self._inflight[key] = threading.Event()
            return True

    def put(self, key, page):
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
            ev = self._inflight.pop(key, None)
        if ev is not None:
            ev.set()

    def abandon(self, key):
        with self._lock:
            ev = self._inflight.pop(key, None)
        if ev is not None:
            ev.set()

    def clear(self):
        with self._lock:
            self._pages.clear()


class _Emitter(QObject):
    done = Signal(object)
    failed = Signal(object, object)


class _PageJob(QRunnable):
    def __init__(self, loader, recording, req, prefetch=False):
        super().__init__()
        self.loader, self.recording, self.req = loader, recording, req
        self.prefetch = prefetch
        self.sched_rid = loader.latest_rid
        self.emitter = loader._emitter

    def run(self):
        key = page_key(self.recording, self.req)
        if self.prefetch:
            if self.loader.latest_rid != self.sched_rid:
                self.loader.cache.abandon(key)  # the user moved on: not needed
                return
            try:
                page = compute_page(self.recording, self.req)
            except Exception:  # a failing prefetch is retried in the open
                self.loader.cache.abandon(key)
                return
            self.loader.cache.put(key, page)
            return
        if self.loader.latest_rid != self.req.rid:
            return  # superseded before it started: drop
        page = self.loader.cache.get(key)
        try:
            if page is None:
                page = compute_page(self.recording, self.req)
                self.loader.cache.put(key, page)
        except Exception as exc:  # reported on the main thread
            self.emitter.failed.emit(self.req, exc)
            return
        self.emitter.done.emit(replace(page, request=self.req))


class PageLoader(QObject):
    """Serve page requests from a cache filled ahead; drop the stale ones.

    Parameters
    ----------
    sync_limit : int
        Pages with fewer samples (channels x samples) than this are computed
        inline (faster than a thread round trip); bigger ones on a worker.
    """

    loaded = Signal(object)   # PageData of the latest request
    failed = Signal(object, object)  # (PageRequest, exception)

    def __init__(self, parent=None, sync_limit: int = 4_000_000, cache_size: int = 8):
        super().__init__(parent)
        self.sync_limit = int(sync_limit)
        self.latest_rid = -1
        self.n_dropped = 0
        self.cache = PageCache(cache_size)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._prefetch_pool = QThreadPool(self)
        self._prefetch_pool.setMaxThreadCount(1)
        self._emitter = _Emitter()
        self._emitter.done.connect(self._on_done)
        self._emitter.failed.connect(self._on_failed)

    def request(self, recording, req: PageRequest) -> None:
        """Compute ``req`` (inline or on the worker) and emit :attr:`loaded`."""
        self.latest_rid = req.rid
        key = page_key(recording, req)
        cost = len(req.idx) * (req.t1 - req.t0) * recording.sfreq
        if cost <= self.sync_limit:
            page = self.cache.get(key)
            if page is None:
                try:
                    page = compute_page(recording, req)
                except Exception as exc:
                    self._on_failed(req, exc)
                    return
                self.cache.put(key, page)
            self._on_done(replace(page, request=req))
        else:
            self._pool.start(_PageJob(self, recording, req))

    def prefetch(self, recording, reqs) -> int:
        """Compute pages ahead on the worker (e.g. the next and previous)."""
        n = 0
        for req in reqs:
            if req.t1 <= req.t0:
                continue
            if self.cache.begin(page_key(recording, req)):
                self._prefetch_pool.start(_PageJob(self, recording, req, prefetch=True))
                n += 1
        return n

    def _on_done(self, page: PageData):
        if page.request.rid != self.latest_rid:
            self.n_dropped += 1
            logger.debug("dropped stale page %d", page.request.rid)
            return
        self.loaded.emit(page)

    def _on_failed(self, req, exc):
        if req.rid == self.latest_rid:
            self.failed.emit(req, exc)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the workers are idle (tests, shutdown)."""
        ok = self._pool.waitForDone(msecs)
        return self._prefetch_pool.waitForDone(msecs) and ok
