"""The full-night trace browser (pyqtgraph).

Channels are grouped by type (EEG, EOG, MAG, GRAD, other) with per-type
scalings and units; only the visible page and rows are read from the lazily
opened file and decimated per pixel (:mod:`gui.traces.loader`). Spindle marks
falling in the page are drawn from a reusable pool (:mod:`gui.traces.spindle_items`).

Keys (mne-qt-browser's where they apply): ←/→ scroll a quarter page
(Shift: a page), ↑/↓ one channel (Shift: a page of channels), PgUp/PgDn more /
fewer channels, Home/End shorter / longer page, +/− scale up / down, = reset
scalings; staging W 1 2 3 R (0 or Backspace: unscored) and advance; Delete
removes the selected mark, E / M / B set its visibility (EEG / MEG / both).

Mouse: drag on the traces marks a spindle (Shift+drag: only on the channels
spanned); drag a mark to move it, drag its edge to resize it; right-click a
mark for its menu; wheel scrolls time (Shift+wheel: channels); a click places
the time cursor.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout,
                               QWidget)

from core.io.recording import GROUPS
from core.session.settings import DEFAULT_SCALINGS
from core.utils import relink

from gui.traces.spindle_items import SpindleItem, TraceViewBox
from gui.traces.loader import PageLoader, PageRequest, limit_heap_growth
from gui.traces.rows import (GapTracesItem, RowLabelsItem, TimeAxis, _event_ticks,
                             format_time)
from gui.traces.settings_link import BrowserSettingsLink
from gui.traces.scales import (GROUP_COLORS, KIND_OF_TYPE, KINDS, PERSISTED_KINDS, UNITS,
                              auto_scalings, kind_filter, legend_text)

SIGMA_COLOR = (230, 90, 0)
STAGE_KEYS = {Qt.Key.Key_W: "W", Qt.Key.Key_1: "N1", Qt.Key.Key_2: "N2",
              Qt.Key.Key_3: "N3", Qt.Key.Key_R: "R", Qt.Key.Key_0: "?",
              Qt.Key.Key_Backspace: "?"}
REVIEW_KEYS = {Qt.Key.Key_A: "accept", Qt.Key.Key_X: "reject",
               Qt.Key.Key_N: "next", Qt.Key.Key_P: "previous",
               Qt.Key.Key_BracketLeft: "shrink", Qt.Key.Key_BracketRight: "extend",
               Qt.Key.Key_Comma: "earlier", Qt.Key.Key_Period: "later"}
PAGE_RANGE = (5.0, 60.0)
#: Longest time the plot keeps the old page on screen while the new one is
#: computed (then it paints the new range, traces following when they land).
PAINT_HOLD_MS = 400


class TraceBrowser(QWidget):
    """Browse a recording page by page, stage epochs and mark spindles.

    Parameters
    ----------
    session : core.session.session.Session
        The model observed (recording, hypnogram, spindles, settings).
    """

    sigWindowChanged = Signal(float, float)
    sigPageDrawn = Signal(object)
    sigSelectionChanged = Signal(object)
    sigStatus = Signal(str)
    sigNote = Signal(str)
    sigReviewKey = Signal(str)
    sigError = Signal(str, object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        s = session.settings
        self.t0 = 0.0
        self.duration = float(s.page_duration)
        self.first_row = 0
        self.n_rows = int(s.n_channels)
        self.scalings = {**DEFAULT_SCALINGS, **s.scalings}
        self.shown_groups = list(GROUPS)
        self.excluded: set[str] = set()
        self.order: list[int] = []
        self.montage = None   # core.io.montage.CompiledMontage; None: as recorded
        self.selected_uid = None
        self.cursor_time = None
        self._rid = 0
        self._page = None
        self.gap_note = ""
        self._kind_of: dict = {}
        self._spindle_pool: list[SpindleItem] = []
        self._epoch_pool: list = []
        self._models = (None, None)

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.legend = QLabel(self)
        self.legend.setObjectName("scaleLegend")
        self.vb = TraceViewBox()
        self.plot = pg.PlotWidget(viewBox=self.vb, background="w",
                                  axisItems={"bottom": TimeAxis("bottom")})
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.vb.invertY(True)
        self.plot.getAxis("left").setWidth(80)
        self.plot.setAntialiasing(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        top = QHBoxLayout()
        top.addWidget(self.legend, 1)
        self.display_button = QToolButton(self)
        self.display_button.setText("Scales && filters…")
        self.display_button.setToolTip("Scale and display filter per channel type")
        self.display_button.clicked.connect(self.display_defaults_dialog)
        top.addWidget(self.display_button)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)

        self.pens = {g: pg.mkPen(GROUP_COLORS[g], width=1) for g in GROUP_COLORS}
        self.sigma_pen = pg.mkPen(SIGMA_COLOR, width=1)
        for pen in list(self.pens.values()) + [self.sigma_pen]:
            pen.setCosmetic(True)
        self.traces = GapTracesItem()
        self.vb.addItem(self.traces)
        self.row_label_item = RowLabelsItem(self.vb)
        self._units = {}
        self.sigma_traces = GapTracesItem()
        self.vb.addItem(self.sigma_traces)
        self.cursor = pg.InfiniteLine(angle=90, movable=True,
                                      pen=pg.mkPen((200, 0, 0), width=1),
                                      label="{value:.2f} s",
                                      labelOpts={"position": 0.02, "color": (200, 0, 0)})
        self.cursor.hide()
        self.vb.addItem(self.cursor, ignoreBounds=True)
        self.settings_link = BrowserSettingsLink(self)   # follows setting events

        limit_heap_growth()
        self.loader = PageLoader(self)
        # neighbours are computed once the user pauses (not while jumping around)
        self._prefetch_timer = QTimer(self)
        self._prefetch_timer.setSingleShot(True)
        self._prefetch_timer.setInterval(80)
        self._prefetch_timer.timeout.connect(self._prefetch_neighbours)
        self._paint_hold = QTimer(self)
        self._paint_hold.setSingleShot(True)
        self._paint_hold.setInterval(PAINT_HOLD_MS)
        self._paint_hold.timeout.connect(self._release_paint)
        self.loader.loaded.connect(self._on_page_loaded)
        self.loader.failed.connect(self._on_page_failed)
        self.vb.sigMarkDragged.connect(self._on_mark_dragged)
        self.vb.sigClicked.connect(self._on_clicked)
        self.vb.sigWheel.connect(self._on_wheel)
        self.vb.sigResized.connect(self._on_resized)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        session.recording_changed.connect(self._on_recording_changed)
        session.spindles_changed.connect(self._on_spindles_changed)
        session.hypnogram_changed.connect(self._on_hypnogram_changed)
        self._connect_models()
        self._on_recording_changed(session.recording)

    # -- model wiring ---------------------------------------------------------
    def _connect_models(self):
        old_sp, old_hyp = self._models
        self._models = (relink(old_sp, self.session.spindles, self._on_spindle_set_edited),
                        relink(old_hyp, self.session.hypnogram, self._on_stages_edited))

    def _on_recording_changed(self, recording):
        self.montage = None
        self.loader.cache.clear()
        self._page = None
        self.selected_uid = None
        self.first_row = 0
        self.t0 = 0.0
        self.traces.clear()
        self.sigma_traces.clear()
        self._connect_models()
        for kind in ("resp", "temp", "misc", "stim"):   # per-file scales
            self.scalings.pop(kind, None)
        self._build_order()
        if recording is not None:
            self.set_time(float(self.session.view.get("t0", 0.0)))

    def _on_spindles_changed(self, spindles):
        self._connect_models()
        self.selected_uid = None
        self._draw_spindles()

    def _on_hypnogram_changed(self, hyp):
        self._connect_models()
        self._draw_epochs()

    def _on_spindle_set_edited(self, change=None):
        if self.selected_uid is not None:
            try:
                self.session.spindles.get(self.selected_uid)
            except Exception:
                self.selected_uid = None
                self.sigSelectionChanged.emit(None)
        self._draw_spindles()

    def _on_stages_edited(self, *args):
        self._draw_epochs()

    # -- channels -------------------------------------------------------------
    @property
    def recording(self):
        return self.session.recording

    def _build_order(self):
        rec = self.recording
        self.order = []
        if rec is None:
            return
        if self.montage is not None:   # rows are the montage's derivations
            m = self.montage
            self.order = [i for i, (n, g) in enumerate(zip(m.names, m.groups))
                          if g in self.shown_groups and n not in self.excluded]
            self._group_of = dict(enumerate(m.groups))
            # a derivation is drawn as the kind of its first channel (C4-M1: EEG)
            self._kind_of = {i: KIND_OF_TYPE.get(rec.ch_types[t[0][0]], "misc") if t
                             else "misc" for i, t in enumerate(m.terms)}
            self.first_row = min(self.first_row, max(0, len(self.order) - 1))
            self._update_legend()
            return
        names = rec.ch_names
        groups = rec.groups
        for g in GROUPS:
            if g in self.shown_groups:
                self.order += [names.index(n) for n in groups[g] if n not in self.excluded]
        self._group_of = {}
        for g, chs in groups.items():
            for n in chs:
                self._group_of[names.index(n)] = g
        self._kind_of = {i: KIND_OF_TYPE.get(t, "misc") for i, t in enumerate(rec.ch_types)}
        self._auto_scalings(rec)
        self.first_row = min(self.first_row, max(0, len(self.order) - 1))
        self._update_legend()

    def visible_indices(self) -> list[int]:
        """Recording channel indices shown, top to bottom."""
        return self.order[self.first_row:self.first_row + self.n_rows]

    def visible_names(self) -> list[str]:
        names = self.recording.ch_names if self.recording else []
        if self.montage is not None:
            names = self.montage.names
        return [names[i] for i in self.visible_indices()]

    def set_montage(self, montage):
        """Show the rows of a :class:`core.io.montage.CompiledMontage` (None: as recorded)."""
        self.montage = montage
        self.first_row = 0
        self._build_order()
        self.refresh()

    def set_shown_groups(self, groups):
        self.shown_groups = [g for g in GROUPS if g in groups]
        self._build_order()
        self.refresh()

    def set_excluded(self, names):
        self.excluded = set(names)
        self._build_order()
        self.refresh()

    def set_n_rows(self, n: int):
        self.n_rows = int(np.clip(n, 1, 400))
        self.session.settings.n_channels = self.n_rows
        self.refresh()

    def scroll_rows(self, delta: int):
        n = len(self.order)
        self.first_row = int(np.clip(self.first_row + delta, 0, max(0, n - self.n_rows)))
        self.refresh()

    # -- scaling --------------------------------------------------------------
    def scale_by(self, factor: float):
        """Multiply the displayed amplitude by ``factor`` (all kinds)."""
        for g in self.scalings:
            self.scalings[g] /= factor
        self._store_scalings()
        self._update_legend()
        self._redraw_page()

    def reset_scalings(self):
        self.scalings = dict(DEFAULT_SCALINGS)
        self._auto_scalings(self.recording, force=True)
        self._store_scalings()
        self._update_legend()
        self._redraw_page()

    def _store_scalings(self):
        # only the kinds with physical units persist across recordings
        self.session.settings.scalings = {k: v for k, v in self.scalings.items()
                                          if k in PERSISTED_KINDS}

    def _auto_scalings(self, rec, force=False):
        """Own scale and unit for kinds without a standard one (trace_scales)."""
        self._units = auto_scalings(rec, self._kind_of, self.scalings, force)

    def _update_legend(self):
        rec = self.recording
        present = {self._kind_of.get(i, "misc") for i in self.order} if rec else set()
        self.legend.setText(legend_text(present, self.scalings, self._units,
                                        self.session.settings, rec.sfreq) if rec else "")

    # -- time -----------------------------------------------------------------
    @property
    def t1(self) -> float:
        return self.t0 + self.duration

    def set_time(self, t0: float):
        """Show the page starting at ``t0`` seconds (clipped to the recording)."""
        rec = self.recording
        if rec is None:
            return
        t0 = float(np.clip(t0, 0.0, max(0.0, rec.duration - self.duration)))
        self.t0 = t0
        self.session.view["t0"] = t0
        self.refresh()
        self.sigWindowChanged.emit(self.t0, self.t1)

    def center_on(self, t: float):
        self.set_time(t - self.duration / 2)

    def page_forward(self):
        self.set_time(self.t0 + self.duration)

    def page_back(self):
        self.set_time(self.t0 - self.duration)

    def set_duration(self, duration: float):
        """Page length in seconds, 5–60."""
        self.duration = float(np.clip(duration, *PAGE_RANGE))
        self.session.settings.page_duration = self.duration
        self.set_time(self.t0)

    def refresh(self):
        """Request the current page and redraw the overlays."""
        rec = self.recording
        if rec is None:
            return
        self.vb.setRange(xRange=(self.t0, self.t1), yRange=(-0.7, self.n_rows - 0.3),
                         padding=0)
        names = self.visible_names()
        self.plot.getAxis("left").setTicks([[], []])
        self._draw_labels(names)
        self._request_page()
        self._draw_spindles()
        self._draw_epochs()

    def _draw_labels(self, names):
        """One label per visible row, inside the plot at its left edge.

        Axis tick labels drop those that would collide; these never do:
        their font shrinks with the row height instead. One item paints them
        all (:class:`gui.traces.rows.RowLabelsItem`); a page turn moves none.
        """
        row_px = (self.vb.height() or 400) / max(self.n_rows, 1)
        size = int(np.clip(row_px * 0.6, 6, 10))
        kinds = [self._kind_of.get(i, "misc") for i in self.visible_indices()]
        self.row_label_item.set_labels(
            [f"{name}  [{kinds[i].upper()}]" if i < len(kinds) else name
             for i, name in enumerate(names)], size)

    def row_labels(self) -> list[str]:
        """Texts of the row labels shown, top to bottom."""
        return self.row_label_item.texts()

    def _n_px(self) -> int:
        return max(200, int(self.vb.width() or 0) or 1000)

    def _page_request(self, t0, rid=0) -> PageRequest:
        s = self.session.settings
        idx = tuple(self.visible_indices())
        return PageRequest(
            rid=rid, t0=t0, t1=min(t0 + self.duration, self.recording.duration),
            idx=idx, n_px=self._n_px(),
            highpass=s.highpass, lowpass=s.lowpass, notch=s.notch,
            sigma_band=tuple(s.sigma_band) if s.sigma_overlay else None,
            montage=self.montage,
            raw_rows=tuple(r for r, ci in enumerate(idx)
                           if self._kind_of.get(ci) == "stim"),
            row_filters=tuple(kind_filter(self._kind_of.get(ci, "misc"), s) or (None, None)
                              for ci in idx))

    def _request_page(self):
        self._rid += 1
        self.loader.request(self.recording, self._page_request(self.t0, self._rid))
        if self._page is not None and self._page.request.rid != self._rid:
            # computed on the worker: paint once it lands, not the old page
            # at the new time first (that paint also slowed the worker down);
            # never longer than PAINT_HOLD_MS, so the window never looks stuck
            self.plot.setUpdatesEnabled(False)
            if not self._paint_hold.isActive():  # held from the first request on
                self._paint_hold.start()

    def _release_paint(self):
        self._paint_hold.stop()
        if not self.plot.updatesEnabled():
            self.plot.setUpdatesEnabled(True)

    def _prefetch_neighbours(self):
        """Compute the pages ahead on the worker: the next one (and, unless the
        scorer is paging forward, the previous one)."""
        rec = self.recording
        if rec is None or self._page is None or self._page.request.rid != self._rid:
            return   # the page asked for is still being computed: it goes first
        last = max(0.0, rec.duration - self.duration)
        ahead = [min(self.t0 + self.duration, last), max(self.t0 - self.duration, 0.0)]
        step = self.t0 - getattr(self, "_prev_t0", self.t0)
        self._prev_t0 = self.t0
        if 0 < step <= self.duration + 1e-9:
            ahead = ahead[:1]
        elif -self.duration - 1e-9 <= step < 0:
            ahead = ahead[::-1][:1]
        self.loader.prefetch(rec, [self._page_request(t) for t in ahead if t != self.t0])

    def _on_resized(self, *args):
        if self._page is not None and abs(self._page.request.n_px - self._n_px()) > 50:
            self._request_page()

    def _on_page_failed(self, req, exc):
        self._release_paint()
        self.sigError.emit("Reading the recording failed.", exc)

    def _on_page_loaded(self, page):
        self._page = page
        self._redraw_page()
        self._release_paint()
        self.sigPageDrawn.emit(page)
        # paging through in order: the next page is wanted at once
        step = abs(self.t0 - getattr(self, "_prev_t0", self.t0))
        self._prefetch_timer.start(0 if 0 < step <= self.duration + 1e-9 else 80)

    def _redraw_page(self):
        page = self._page
        if page is None:
            return
        idx = page.request.idx
        kinds = [self._kind_of.get(ci, "misc") for ci in idx]
        gains = [0.5 / self.scalings.get(k, 1.0) for k in kinds]
        rect = QRectF(page.request.t0, -1.0, page.request.t1 - page.request.t0, len(idx) + 1)
        rows = []
        for row, (k, gain) in enumerate(zip(kinds, gains)):
            if k == "stim":
                rows.append(_event_ticks(page.times, page.data[row], row))
            else:
                rows.append((page.times, row - page.data[row] * gain))
        self.traces.set_rows(rows, [self.pens[k] for k in kinds], rect)
        if page.sigma is not None and len(idx):
            self.sigma_traces.set_rows(
                [(page.times, row - page.sigma[row] * k) for row, k in enumerate(gains)
                 if kinds[row] != "stim"], [self.sigma_pen] * len(idx), rect)
        else:
            self.sigma_traces.clear()
        names = self.recording.ch_names
        gaps = [names[idx[r]] for r in page.gap_rows]
        self.gap_note = (f"No data (NaN/inf) in this page on {len(gaps)} channel(s): "
                         f"{', '.join(gaps[:5])}{'...' if len(gaps) > 5 else ''} "
                         f"— drawn as gaps." if gaps else "")
        self.sigNote.emit(self.gap_note)

    # -- display filters --------------------------------------------------------
    def set_filters(self, highpass=None, lowpass=None, notch=None):
        s = self.session.settings   # the settings link redraws on the events
        s.highpass, s.lowpass, s.notch = highpass, lowpass, notch
        s.validate()

    def set_sigma_overlay(self, on: bool):
        self.session.settings.sigma_overlay = bool(on)   # redrawn by the link

    def set_display_defaults(self, values: dict):
        """Per kind ``(scale per division, highpass, lowpass)``; stored in the settings."""
        from core.utils import SpindleScopeError

        for kind, (per_div, hp, lp) in values.items():
            if not per_div or per_div <= 0 or (hp and lp and hp >= lp):
                raise SpindleScopeError(
                    f"Invalid display setting for {kind.upper()}: the scale must be "
                    f"positive and the high-pass below the low-pass, but got "
                    f"{per_div!r} per division, {hp!r}-{lp!r} Hz. Lower the high-pass "
                    f"or turn it off (0).")
        s = self.session.settings
        filters = dict(s.display_filters)
        for kind, (per_div, hp, lp) in values.items():
            fac = self._units.get(kind, UNITS.get(kind, ("", 1.0)))[1]
            self.scalings[kind] = float(per_div) / 2.0 / fac
            filters[kind] = (hp or None, lp or None)
        s.display_filters = filters
        s.validate()
        self._store_scalings()
        self._update_legend()
        self.refresh()

    def display_defaults_dialog(self):
        """Open the per-type scales and filters dialog (OK applies)."""
        from gui.traces.display_defaults import DisplayDefaultsDialog

        dlg = DisplayDefaultsDialog(self, self)
        dlg.accepted.connect(lambda: self._apply_display_dialog(dlg))
        dlg.open()
        return dlg

    def _apply_display_dialog(self, dlg):
        try:
            dlg.apply()
        except Exception as exc:  # noqa: BLE001 - shown, never a traceback
            self.sigError.emit("Setting the display filters failed.", exc)

    # -- spindles -------------------------------------------------------------
    def _mark_spans(self, channels, row_of, pos_of):
        """Where a mark is drawn on the current page of rows.

        Parameters
        ----------
        channels : tuple of str
            The mark's channels (empty: a whole-recording mark).
        row_of : dict
            Row on the page of each visible channel name.
        pos_of : dict
            Position in the full channel order of each shown channel name.

        Returns
        -------
        spans : list of (float, float)
            ``(y0, y1)`` of each rectangle, top to bottom. A whole-recording
            mark spans all rows. A channel-specific mark gets one rectangle per
            contiguous run of its visible rows, so a mark on two channels far
            apart never covers the rows between them.
        off_page : bool
            True when none of the mark's channels is on the page. The mark is a thin
            strip in the 0.2-row margin :meth:`refresh` leaves at the edge of
            the plot the scorer would scroll towards: the bottom margin when
            all its shown channels lie below the page, the top margin otherwise
            (channels above the page, hidden or excluded, or not in the
            recording). A strip rather than nothing, so the mark stays
            discoverable, selectable, movable and deletable from any page of
            rows, and at the page edge like the scroll it asks for; a tool tip
            names the channels.
        """
        if not channels:
            return [(-0.5, self.n_rows - 0.5)], False
        rows = sorted({row_of[c] for c in channels if c in row_of})
        if not rows:
            pos = [pos_of[c] for c in channels if c in pos_of]
            if pos and min(pos) >= self.first_row + self.n_rows:
                return [(self.n_rows - 0.5, self.n_rows - 0.3)], True
            return [(-0.7, -0.5)], True
        spans = []
        start = prev = rows[0]
        for r in rows[1:]:
            if r != prev + 1:
                spans.append((start - 0.5, prev + 0.5))
                start = r
            prev = r
        spans.append((start - 0.5, prev + 0.5))
        return spans, False

    def _mark_tooltip(self, channels, row_of, pos_of, off_page) -> str:
        """Tool tip of a channel-specific mark: its channels (and where)."""
        if not channels:
            return ""
        text = "Spindle on " + ", ".join(channels)
        if off_page:
            pos = [pos_of[c] for c in channels if c in pos_of]
            if not pos:
                where = "not shown"
            elif min(pos) >= self.first_row + self.n_rows:
                where = "below this page of channels"
            elif max(pos) < self.first_row:
                where = "above this page of channels"
            else:
                where = "off this page of channels"
            text += f" ({where})"
        return text

    def _draw_spindles(self):
        if self.recording is None:
            for it in self._spindle_pool:
                it.hide()
            return
        visible = self.session.spindles.in_window(self.t0, self.t1)
        while len(self._spindle_pool) < len(visible):
            item = SpindleItem(self)
            self.vb.addItem(item, ignoreBounds=True)
            self._spindle_pool.append(item)
        names = self.recording.ch_names
        row_of = {n: r for r, n in enumerate(self.visible_names())}
        pos_of = {names[ci]: k for k, ci in enumerate(self.order)}
        for item, sp in zip(self._spindle_pool, visible):
            spans, off_page = self._mark_spans(sp.channels, row_of, pos_of)
            tip = self._mark_tooltip(sp.channels, row_of, pos_of, off_page)
            item.set_spindle(sp, spans, sp.uid == self.selected_uid, off_page, tip)
        for item in self._spindle_pool[len(visible):]:
            if item.isVisible():
                item.hide()
                item.uid = None

    def spindle_items(self, uid=None) -> list[SpindleItem]:
        """The mark items drawn (of mark ``uid`` only, if given)."""
        return [it for it in self._spindle_pool if it.isVisible()
                and (uid is None or it.uid == uid)]

    def n_drawn_spindles(self) -> int:
        return sum(1 for it in self._spindle_pool if it.isVisible())

    def select_spindle(self, uid):
        self.selected_uid = uid
        self._draw_spindles()
        self.sigSelectionChanged.emit(uid)

    def show_spindle(self, uid):
        """Select mark ``uid`` and bring it into view."""
        sp = self.session.spindles.get(uid)
        if not (self.t0 <= sp.onset and sp.end <= self.t1):
            self.center_on(sp.onset + sp.duration / 2)
        self.select_spindle(uid)

    def _on_mark_dragged(self, t0, t1, y0, y1, specific):
        rec = self.recording
        if rec is None:
            return
        t0, t1 = max(0.0, t0), min(rec.duration, t1)
        if t1 - t0 < 0.1:  # too short to be a spindle: a sloppy click
            return
        channels = ()
        if specific:
            names = self.visible_names()
            r0 = int(np.clip(round(y0), 0, len(names) - 1))
            r1 = int(np.clip(round(y1), 0, len(names) - 1))
            channels = tuple(names[r0:r1 + 1])
        self.mark_spindle(t0, t1 - t0, channels)

    def mark_spindle(self, onset, duration, channels=()):
        """Add a manual, accepted mark (undoable) and select it."""
        from core.scoring.spindles import Spindle

        s = self.session.settings
        sp = Spindle(onset=float(onset), duration=float(duration),
                     channels=tuple(channels), visibility=s.default_visibility,
                     scorer=s.scorer, origin="manual", status="accepted")
        uid = self.session.spindles.add(sp)[0]
        self.select_spindle(uid)
        return uid

    def edit_spindle_span(self, uid, left, right):
        rec = self.recording
        left = max(0.0, left)
        right = min(rec.duration, right) if rec is not None else right
        if right - left <= 0:
            self._draw_spindles()
            return
        self.session.spindles.edit(uid, onset=float(left), duration=float(right - left))

    def set_selected_visibility(self, vis: str):
        if self.selected_uid is not None:
            self.session.spindles.edit(self.selected_uid, visibility=vis)

    def delete_selected(self):
        if self.selected_uid is not None:
            uid, self.selected_uid = self.selected_uid, None
            self.session.spindles.delete(uid)
            self.sigSelectionChanged.emit(None)

    def show_spindle_menu(self, uid, pos: QPoint):
        menu = QMenu(self)
        for label, vis in (("Visible in EEG", "eeg"), ("Visible in MEG", "meg"),
                           ("Visible in both", "both"), ("Visibility unknown", "")):
            act = QAction(label, menu)
            act.triggered.connect(lambda _=False, v=vis: self.session.spindles.edit(
                uid, visibility=v))
            menu.addAction(act)
        menu.addSeparator()
        for label, status in (("Accept", "accepted"), ("Reject", "rejected")):
            act = QAction(label, menu)
            act.triggered.connect(lambda _=False, st=status: self.session.spindles.edit(
                uid, status=st))
            menu.addAction(act)
        act = QAction("Delete", menu)
        act.triggered.connect(lambda: self.session.spindles.delete(uid))
        menu.addAction(act)
        menu.popup(pos)
        self._menu = menu

    # -- epochs / staging -------------------------------------------------------
    def _draw_epochs(self):
        hyp = self.session.hypnogram
        for line, text in self._epoch_pool:
            line.hide()
            text.hide()
        if hyp is None or self.recording is None:
            return
        el = hyp.epoch_length
        first = int(np.floor(self.t0 / el))
        last = int(np.ceil(self.t1 / el))
        k = 0
        for ep in range(first, last):
            if ep < 0 or ep >= hyp.n_epochs:
                continue
            if k >= len(self._epoch_pool):
                line = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen((120, 120, 120), width=1,
                                                    style=Qt.PenStyle.DashLine))
                text = pg.TextItem(anchor=(0, 0), color=(60, 60, 60))
                self.vb.addItem(line, ignoreBounds=True)
                self.vb.addItem(text, ignoreBounds=True)
                self._epoch_pool.append((line, text))
            line, text = self._epoch_pool[k]
            line.setValue(ep * el)
            line.show()
            stage = hyp.stages[ep]
            text.setText(f"epoch {ep + 1}: {stage if stage != '?' else 'unscored'}")
            text.setPos(max(ep * el, self.t0), -0.7)
            text.show()
            k += 1

    def current_epoch(self) -> int:
        hyp = self.session.hypnogram
        return hyp.epoch_of(self.t0 + 1e-6)

    def stage_current_epoch(self, stage: str, advance: bool = True):
        """Set the stage of the epoch at the page start, then go to the next."""
        hyp = self.session.hypnogram
        if hyp is None:
            return
        ep = self.current_epoch()
        hyp.set_stage(ep, stage)
        if advance and ep + 1 < hyp.n_epochs:
            self.set_time((ep + 1) * hyp.epoch_length)

    # -- input ----------------------------------------------------------------
    def _on_clicked(self, t, y):
        self.setFocus()
        self.cursor_time = t
        self.cursor.setValue(t)
        self.cursor.show()
        if self.selected_uid is not None:
            self.select_spindle(None)

    def _on_wheel(self, steps, modifiers):
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.scroll_rows(int(np.sign(steps)) * 3)
        else:
            self.set_time(self.t0 + steps * self.duration / 4)

    def _on_mouse_moved(self, pos):
        if self.recording is None or not self.vb.sceneBoundingRect().contains(pos):
            return
        p = self.vb.mapSceneToView(pos)
        names = self.visible_names()
        row = int(round(p.y()))
        ch = names[row] if 0 <= row < len(names) else ""
        self.sigStatus.emit(f"{format_time(p.x())}  {ch}")

    def keyPressEvent(self, ev):
        key, mods = ev.key(), ev.modifiers()
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(mods & (Qt.KeyboardModifier.ControlModifier
                            | Qt.KeyboardModifier.MetaModifier))
        if ctrl:
            return super().keyPressEvent(ev)
        if key == Qt.Key.Key_Right:
            self.set_time(self.t0 + (self.duration if shift else self.duration / 4))
        elif key == Qt.Key.Key_Left:
            self.set_time(self.t0 - (self.duration if shift else self.duration / 4))
        elif key == Qt.Key.Key_Down:
            self.scroll_rows(self.n_rows if shift else 1)
        elif key == Qt.Key.Key_Up:
            self.scroll_rows(-(self.n_rows if shift else 1))
        elif key == Qt.Key.Key_PageUp:
            self.set_n_rows(self.n_rows + 5)
        elif key == Qt.Key.Key_PageDown:
            self.set_n_rows(max(1, self.n_rows - 5))
        elif key == Qt.Key.Key_Home:
            self.set_duration(self.duration - 5)
        elif key == Qt.Key.Key_End:
            self.set_duration(self.duration + 5)
        elif key == Qt.Key.Key_Plus:
            self.scale_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.scale_by(0.8)
        elif key == Qt.Key.Key_Equal:
            self.reset_scalings()
        elif key in STAGE_KEYS:
            self.stage_current_epoch(STAGE_KEYS[key])
        elif key in (Qt.Key.Key_Delete,):
            self.delete_selected()
        elif key in (Qt.Key.Key_E, Qt.Key.Key_M, Qt.Key.Key_B):
            self.set_selected_visibility({Qt.Key.Key_E: "eeg", Qt.Key.Key_M: "meg",
                                          Qt.Key.Key_B: "both"}[key])
        elif key in REVIEW_KEYS:
            self.sigReviewKey.emit(REVIEW_KEYS[key])
        elif key == Qt.Key.Key_S and shift:
            self.set_sigma_overlay(not self.session.settings.sigma_overlay)
        else:
            return super().keyPressEvent(ev)
        ev.accept()

