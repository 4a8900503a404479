"""Row drawing helpers of the trace browser: gaps, event ticks, nice scales, time axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

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
