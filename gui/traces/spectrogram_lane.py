"""Whole-night spectrogram lane with the sigma-power trace; click to jump.

The image is :attr:`core.detection.spectrogram.Spectrogram.db` (multitaper PSD in dB,
one column per window) over the night; under it, the sigma-band (11–16 Hz)
power trace, scaled to its strip. The current page is marked like in the
other lanes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from gui.traces.overview_bar import NightLane

#: Vertical layout of the lane (view coordinates).
IMAGE_Y = (0.32, 1.0)
SIGMA_Y = (0.02, 0.28)


class SpectrogramLane(NightLane):
    """Spectrogram image and sigma-power trace of one row over the night.

    Signals
    -------
    sigJump(t)
        The user clicked at ``t`` seconds.
    """

    def __init__(self, parent=None):
        super().__init__(110, parent=parent)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.sigma = pg.PlotCurveItem(pen=pg.mkPen((230, 90, 0), width=1))
        self.addItem(self.sigma)
        self.spectrogram = None
        self.clear_spectrogram()

    def clear_spectrogram(self):
        self.spectrogram = None
        self.image.clear()
        self.sigma.setData([], [])
        self.getAxis("left").setTicks([[(0.66, "spectrogram"), (0.15, "sigma")], []])
        self.setToolTip("Analysis → Whole-night spectrogram")

    def set_spectrogram(self, spec, duration=None):
        """Draw a :class:`core.detection.spectrogram.Spectrogram`."""
        self.spectrogram = spec
        db = spec.db().T              # (n_windows, n_freqs): x = time, y = frequency
        lo, hi = np.percentile(db, [2, 98])
        self.image.setImage(db, autoLevels=False, levels=(lo, hi))
        half = spec.params["window"] / 2.0
        x0, x1 = spec.times[0] - half, spec.times[-1] + half
        step = spec.times[1] - spec.times[0] if len(spec.times) > 1 else 2 * half
        width = step * len(spec.times)
        self.image.setRect(QRectF(x0, IMAGE_Y[0], width, IMAGE_Y[1] - IMAGE_Y[0]))
        s = spec.sigma_db()
        span = max(float(np.ptp(s)), 1e-9)
        y = SIGMA_Y[0] + (s - s.min()) / span * (SIGMA_Y[1] - SIGMA_Y[0])
        self.sigma.setData(spec.times, y)
        f0, f1 = float(spec.freqs[0]), float(spec.freqs[-1])
        ticks = [(IMAGE_Y[0] + (f - f0) / (f1 - f0) * (IMAGE_Y[1] - IMAGE_Y[0]), f"{f:g} Hz")
                 for f in (5, 10, 15, 20) if f0 <= f <= f1]
        self.getAxis("left").setTicks([[(0.15, "sigma")] + ticks, []])
        self.setToolTip(f"{spec.row}: multitaper spectrogram "
                        f"({f0:g}–{f1:g} Hz, {lo:.0f}–{hi:.0f} dB re 1 µV²/Hz) and "
                        f"{spec.params['sigma_band'][0]:g}–{spec.params['sigma_band'][1]:g} Hz "
                        f"power")
        self.cvb.setRange(xRange=(0, duration or x1), yRange=(0, 1), padding=0)
