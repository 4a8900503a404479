"""Graphics items of the trace browser: spindle marks, drag preview, view box.

Spindle marks are drawn from a pool of :class:`SpindleItem` rectangles that is
reused from page to page, so a night with tens of thousands of marks costs no
more per page than the handful that fall in the visible window.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen

#: Fill colours: candidates orange, rejected grey, accepted by visibility.
STATUS_COLORS = {
    "candidate": (255, 150, 20, 70),
    "rejected": (150, 150, 150, 40),
}
VISIBILITY_COLORS = {
    "eeg": (40, 110, 230, 60),
    "meg": (220, 50, 60, 60),
    "both": (150, 60, 200, 60),
    "": (30, 170, 80, 60),
}
EDGE_PX = 6  # pixels from an edge where a drag resizes instead of moving


def spindle_color(spindle) -> QColor:
    rgba = STATUS_COLORS.get(spindle.status) or VISIBILITY_COLORS.get(
        spindle.visibility, VISIBILITY_COLORS[""])
    return QColor(*rgba)


class SpindleItem(pg.GraphicsObject):
    """A spindle mark: one or more rectangles in (time, row) coordinates.

    A whole-recording mark is one rectangle over all rows. A channel-specific
    mark is one rectangle per contiguous run of visible rows of its channels
    (rows of other channels in between stay uncovered), or a thin strip in the
    plot's margin when none of its channels is on the page (see
    :meth:`TraceBrowser._mark_spans <gui.traces.browser.TraceBrowser._mark_spans>`).
    All rectangles share the mark's time span and belong to one item: they are
    selected, moved and resized together.

    Click selects; dragging the body moves it; dragging within a few pixels of
    the left or right edge resizes it. The browser turns the finished drag into
    one ``SpindleSet.edit`` (so it is undoable). Only the rectangles take the
    mouse (:meth:`shape`); the gaps between them belong to the traces.
    """

    def __init__(self, browser):
        super().__init__()
        self.browser = browser
        self.uid = None
        self.off_page = False
        self._left = 0.0
        self._right = 0.0
        self._spans: list[tuple[float, float]] = []
        self._brush = QBrush(QColor(0, 0, 0, 0))
        self._pen = QPen(Qt.PenStyle.NoPen)
        self._selected = False
        self._drag = None
        self._tip = ""
        self.setZValue(-5)
        self.setAcceptHoverEvents(True)

    # -- content ------------------------------------------------------------
    def set_spindle(self, spindle, spans, selected: bool, off_page: bool = False,
                    tooltip: str = ""):
        """Show ``spindle`` on the rows ``spans``.

        Parameters
        ----------
        spindle : core.scoring.spindles.Spindle
            The mark (its onset, duration, status and visibility are used).
        spans : sequence of (float, float)
            ``(y0, y1)`` in row coordinates of each rectangle, top to bottom.
        selected : bool
            Draw the selection outline.
        off_page : bool
            The spans are an indicator of channels not on the page.
        tooltip : str
            Tool tip of the item ("" for none).
        """
        self.prepareGeometryChange()
        self.uid = spindle.uid
        self._left = float(spindle.onset)
        self._right = float(spindle.onset + spindle.duration)
        self._spans = [(float(min(a, b)), float(max(a, b))) for a, b in spans]
        self.off_page = bool(off_page)
        color = spindle_color(spindle)
        self._brush = QBrush(color)
        self._selected = selected
        if selected:
            pen = QPen(QColor(color.red(), color.green(), color.blue(), 255))
            pen.setWidth(2)
        else:
            pen = QPen(QColor(color.red(), color.green(), color.blue(), 160))
            pen.setWidth(1)
        pen.setCosmetic(True)
        self._pen = pen
        if tooltip != self._tip:
            self._tip = tooltip
            self.setToolTip(tooltip)
        self.setVisible(True)
        self.update()

    def time_range(self):
        return self._left, self._right

    def rects(self) -> list[QRectF]:
        """The rectangles drawn, in view (time, row) coordinates, top to bottom."""
        return [QRectF(QPointF(self._left, y0), QPointF(self._right, y1))
                for y0, y1 in self._spans]

    def boundingRect(self):
        rect = QRectF()
        for r in self.rects():
            rect = rect.united(r.normalized())
        return rect

    def shape(self):
        path = QPainterPath()
        for r in self.rects():
            path.addRect(r.normalized())
        return path

    def paint(self, p, *args):
        p.setBrush(self._brush)
        p.setPen(self._pen)
        for r in self.rects():
            p.drawRect(r)

    # -- mouse --------------------------------------------------------------
    def _edge_at(self, x: float):
        vb = self.getViewBox()
        if vb is None:
            return "body"
        px = vb.viewPixelSize()[0]
        tol = EDGE_PX * px
        if abs(x - self._left) <= tol:
            return "left"
        if abs(x - self._right) <= tol:
            return "right"
        return "body"

    def hoverEvent(self, ev):
        if ev.isExit():
            self.unsetCursor()
            return
        ev.acceptDrags(Qt.MouseButton.LeftButton)
        ev.acceptClicks(Qt.MouseButton.LeftButton)
        ev.acceptClicks(Qt.MouseButton.RightButton)
        edge = self._edge_at(ev.pos().x())
        self.setCursor(Qt.CursorShape.SizeHorCursor if edge != "body"
                       else Qt.CursorShape.OpenHandCursor)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.browser.select_spindle(self.uid)
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.browser.select_spindle(self.uid)
            self.browser.show_spindle_menu(self.uid, ev.screenPos().toPoint())

    def mouseDragEvent(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton or self.uid is None:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            x0 = ev.buttonDownPos().x()
            self._drag = (self._edge_at(x0), x0, self._left, self._right)
            self.browser.select_spindle(self.uid)
        if self._drag is None:
            return
        mode, x0, left, right = self._drag
        dx = ev.pos().x() - x0
        min_w = 0.05
        if mode == "body":
            left, right = left + dx, right + dx
        elif mode == "left":
            left = min(left + dx, right - min_w)
        else:
            right = max(right + dx, left + min_w)
        self.prepareGeometryChange()
        self._left, self._right = left, right
        self.update()
        if ev.isFinish():
            self._drag = None
            self.browser.edit_spindle_span(self.uid, left, right)


class TracesItem(pg.GraphicsObject):
    """All visible traces as one item: one polyline per row, one pen per group.

    Polylines with a cosmetic 1-px pen are Qt's fastest line path; building
    them fills QPolygonF memory straight from NumPy (no per-point Python).
    """

    def __init__(self):
        super().__init__()
        self._polys = []   # (QPen, QPolygonF)
        self._rect = QRectF()

    def set_traces(self, x, ys, pens, rect: QRectF):
        """``x`` (n_points,), ``ys`` list of (n_points,) arrays, a pen per row."""
        import pyqtgraph.functions as fn

        self.prepareGeometryChange()
        polys = []
        for y, pen in zip(ys, pens):
            poly = fn.create_qpolygonf(len(x))
            arr = fn.ndarray_from_qpolygonf(poly)
            arr[:, 0] = x
            arr[:, 1] = y
            polys.append((pen, poly))
        self._polys = polys
        self._rect = rect
        self.update()

    def clear(self):
        self.prepareGeometryChange()
        self._polys = []
        self.update()

    def n_points(self) -> int:
        return sum(poly.size() for _, poly in self._polys)

    def boundingRect(self):
        return self._rect

    def paint(self, p, *args):
        p.setRenderHint(p.RenderHint.Antialiasing, False)
        for pen, poly in self._polys:
            p.setPen(pen)
            p.drawPolyline(poly)


class DragPreview(pg.GraphicsObject):
    """The rectangle shown while a new mark is dragged out."""

    def __init__(self):
        super().__init__()
        self._rect = QRectF()
        self.setZValue(20)
        self.hide()

    def set_rect(self, rect: QRectF):
        self.prepareGeometryChange()
        self._rect = rect.normalized()
        self.show()
        self.update()

    def boundingRect(self):
        return self._rect

    def paint(self, p, *args):
        pen = QPen(QColor(20, 120, 60, 220))
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(QBrush(QColor(30, 170, 80, 50)))
        p.drawRect(self._rect)


class TraceViewBox(pg.ViewBox):
    """View box whose left drag marks a spindle (modifier: channel-specific).

    Signals
    -------
    sigMarkDragged(t0, t1, y0, y1, channel_specific)
        Emitted when a drag on empty traces finishes.
    sigClicked(t, y)
        A left click on empty traces.
    sigWheel(steps, modifiers)
        Mouse wheel (the browser scrolls time or channels).
    """

    sigMarkDragged = Signal(float, float, float, float, bool)
    sigClicked = Signal(float, float)
    sigWheel = Signal(float, object)

    #: Modifier making a drawn mark channel-specific.
    CHANNEL_MODIFIER = Qt.KeyboardModifier.ShiftModifier

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.preview = DragPreview()
        self.addItem(self.preview, ignoreBounds=True)
        self._drag_start = None

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        p0 = self.mapSceneToView(ev.buttonDownScenePos())
        p1 = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._drag_start = p0
        self.preview.set_rect(QRectF(p0, p1))
        if ev.isFinish():
            self.preview.hide()
            t0, t1 = sorted((p0.x(), p1.x()))
            y0, y1 = sorted((p0.y(), p1.y()))
            specific = bool(ev.modifiers() & self.CHANNEL_MODIFIER)
            self.sigMarkDragged.emit(t0, t1, y0, y1, specific)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.sigClicked.emit(p.x(), p.y())
        else:
            ev.ignore()

    def wheelEvent(self, ev, axis=None):
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        self.sigWheel.emit(-delta / 120.0, ev.modifiers())
        ev.accept()
