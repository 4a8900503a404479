"""Row drawing helpers of the trace browser: gaps, event ticks, nice scales, time axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from gui.traces.spindle_items import TracesItem

#: Display factor from volts for voltage units a file may name.
_VOLT_FACTORS = {"V": 1.0, "mV": 1e3, "uV": 1e6, "µV": 1e6, "nV": 1e9}


def format_time(t: float) -> str:
    """Seconds → ``h:mm:ss`` (tenths shown below a minute of page)."""
    t = max(0.0, float(t))
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h)}:{int(m):02d}:{s:04.1f}"


class TimeAxis(pg.AxisItem):
    """Bottom axis labelled in h:mm:ss."""

    def tickStrings(self, values, scale, spacing):
        return [format_time(v).rsplit(".", 1)[0] if spacing >= 1 else format_time(v)
                for v in values]


def _nice(x: float) -> float:
    """Round up to 1, 2 or 5 times a power of ten."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    e = np.floor(np.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if x <= m * 10 ** e * (1 + 1e-9):
            return float(m * 10 ** e)
    return float(10 ** (e + 1))


def _event_ticks(times, values, row):
    """A stim row as vertical ticks where its value changes (NaN elsewhere)."""
    v = np.nan_to_num(np.asarray(values, float))
    prev = np.concatenate([[v[0] if len(v) else 0.0], v[:-1]])
    at = np.flatnonzero((v != prev) & (v != 0))
    if len(v) and v[0] != 0:
        at = np.concatenate([[0], at])
    x = np.repeat(times[at], 3) if len(at) else np.zeros(0)
    y = np.tile([row + 0.4, row - 0.4, np.nan], len(at))
    return x, y


class GapTracesItem(TracesItem):
    """Traces whose non-finite points are gaps (one polyline per finite run)."""

    def set_rows(self, rows, pens, rect: QRectF):
        """``rows``: list of ``(x, y)`` arrays, one pen per row."""
        import pyqtgraph.functions as fn

        self.prepareGeometryChange()
        polys = []
        for (x, y), pen in zip(rows, pens):
            y = np.asarray(y, float)
            x = np.asarray(x, float)
            ok = np.isfinite(y) & np.isfinite(x)
            if ok.all():
                runs = [(0, len(y))]
            else:
                d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
                runs = list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))
            for a, b in runs:
                if b - a < 1:
                    continue
                poly = fn.create_qpolygonf(int(b - a))
                arr = fn.ndarray_from_qpolygonf(poly)
                arr[:, 0] = x[a:b]
                arr[:, 1] = y[a:b]
                polys.append((pen, poly))
        self._polys = polys
        self._rect = rect
        self.update()

    def set_traces(self, x, ys, pens, rect: QRectF):
        self.set_rows([(x, y) for y in ys], pens, rect)


class RowLabelsItem(pg.GraphicsObject):
    """Every row's label, painted by one item at the plot's left edge.

    A child of the ViewBox (its pixel coordinates, not the data's), so a page
    turn moves nothing: only the rows' vertical placement, read from the
    view's transform at paint time, positions the texts. One item instead of
    a ``TextItem`` per row (366 of them cost ~20 ms a page turn in moves and
    transform updates).
    """

    MARGIN_PX = 3

    def __init__(self, viewbox, color=(30, 30, 30)):
        super().__init__(viewbox)
        self._vb = viewbox
        self._texts: list[str] = []
        self._size = 10
        self._color = pg.mkColor(color)
        self.setZValue(30)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # marks are drawn below
        viewbox.sigTransformChanged.connect(self._changed)
        viewbox.sigResized.connect(self._resized)

    def _changed(self, *args):
        self.update()

    def _resized(self, *args):
        self.prepareGeometryChange()
        self.update()

    def set_labels(self, texts, size: int):
        """Texts top to bottom (row ``i`` at view y = ``i``), font size in points."""
        texts, size = list(texts), int(size)
        if texts != self._texts or size != self._size:
            self._texts, self._size = texts, size
            self.update()

    def texts(self) -> list[str]:
        return list(self._texts)

    def boundingRect(self):
        return self._vb.boundingRect()

    def paint(self, painter, *args):
        if not self._texts:
            return
        from PySide6.QtCore import QPointF

        tr = self._vb.childTransform()   # view (data) -> ViewBox pixels
        y0 = tr.map(QPointF(0.0, 0.0)).y()
        dy = tr.map(QPointF(0.0, 1.0)).y() - y0
        font = painter.font()
        font.setPointSize(self._size)
        painter.setFont(font)
        painter.setPen(self._color)
        half = painter.fontMetrics().ascent() / 2 - painter.fontMetrics().descent() / 2
        height = self._vb.height()
        for i, text in enumerate(self._texts):
            y = y0 + dy * i
            if -20 <= y <= height + 20:
                painter.drawText(QPointF(self.MARGIN_PX, y + half), text)
