"""Schedule, cache and deliver trace pages to the browser (the Qt side).

The page science (reading, anti-alias reduction, display filters, per-pixel
min/max) lives in :mod:`core.io.page`. :class:`PageLoader` runs
:func:`core.io.page.compute_page` inline when the page is small and on a worker
thread otherwise, and fills a :class:`PageCache` ahead of the user; requests
that are superseded before they finish are dropped (stale requests never
reach the screen).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.io.page import (  # noqa: F401  (re-exported for the browser and tests)
    FILTER_PAD,
    NYQUIST_CAP,
    PageCancelled,
    PageData,
    PageRequest,
    _sos,
    anti_alias_reduce,
    compute_page,
    limit_heap_growth,
    page_key,
    peak_decimate,
    reduction_factor,
)
from core.utils import logger


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

    def _hit(self, key):
        """The cached page, counted as a hit, or None (lock held by the caller)."""
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
            self.hits += 1
        return page

    def get(self, key, wait: bool = True):
        with self._lock:
            page = self._hit(key)
            if page is not None:
                return page
            event = self._inflight.get(key)
        if event is not None and wait:
            event.wait(30)  # computed right now on the worker: cheaper to wait
            with self._lock:
                page = self._hit(key)
                if page is not None:
                    return page
        with self._lock:
            self.misses += 1
        return None

    def peek(self, key):
        """The cached page (counted as a hit) or None, never waiting."""
        with self._lock:
            return self._hit(key)

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
                page = compute_page(self.recording, self.req, should_stop=lambda: (
                    self.loader.latest_rid != self.sched_rid
                    and self.loader.latest_key != key))   # jumped elsewhere
            except Exception:  # cancelled, or failing: retried in the open if needed
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
        self.latest_key = None
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
        """Compute ``req`` (inline or on the worker) and emit :attr:`loaded`.

        A page already cached (prefetched) is delivered at once, on the
        calling thread: no thread round trip, and no paint of the old page
        at the new time in between.
        """
        self.latest_rid = req.rid
        key = page_key(recording, req)
        self.latest_key = key
        page = self.cache.peek(key)
        if page is not None:
            self._on_done(replace(page, request=req))
            return
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
