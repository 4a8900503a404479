"""Controls of the cortical movies: spindle, time, play/pause, speed, display.

:class:`MovieControls` owns the playback clock (a QTimer) and emits
``sigFrameChanged(int)`` with the sample index within the current spindle; the
source tab listens and updates the brain views in place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout,
                               QLabel, QPushButton, QSlider, QWidget)

from gui.widgets.brain_view import HEMIS, SURFACES, VIEWS

CMAPS = ("hot", "viridis", "inferno", "magma", "plasma", "coolwarm", "RdBu_r")
SPEEDS = {"0.05×": 0.05, "0.1×": 0.1, "0.25×": 0.25, "0.5×": 0.5, "1×": 1.0}
#: What the brain views show: the dSPM movie, or per-source maps of the spindle.
DISPLAYS = {"dSPM movie": None,
            "EEG–MEG correlation map": "between_r_map",
            "EEG–MEG coherence map (multitaper, pooled)": "coherence_multitaper_map",
            "EEG–MEG coherence map (Welch, pooled)": "coherence_welch_map",
            "EEG–MEG coherence map (MVDR, pooled)": "coherence_mvdr_map"}


class MovieControls(QWidget):
    """Spindle selector, time slider, play/pause, speed, threshold, colours,
    views.

    Signals
    -------
    sigFrameChanged(int)
        Sample index within the spindle.
    sigSpindleChanged(int)
        Index of the spindle shown; -1 for "all spindles (mean)" maps.
    sigAppearanceChanged()
        Threshold, colormap, view, hemisphere, surface, display, linked colour
        scale or path of the maximum changed.
    """

    sigFrameChanged = Signal(int)
    sigSpindleChanged = Signal(int)
    sigAppearanceChanged = Signal()
    sigSurfaceChanged = Signal(str)
    sigThirdViewToggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sfreq = 1.0
        self.tmin = 0.0
        self.n_frames = 0
        self.interval_ms = 40
        self._carry = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(self.interval_ms)
        self.timer.timeout.connect(self._tick)

        self.spindle = QComboBox()
        self.spindle.currentIndexChanged.connect(self._on_spindle)
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.toggled.connect(self._on_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        self.time_label = QLabel("–")
        self.time_label.setMinimumWidth(90)
        self.speed = QComboBox()
        self.speed.addItems(list(SPEEDS))
        self.speed.setCurrentText("0.1×")
        self.display = QComboBox()
        self.display.addItems(list(DISPLAYS))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 100.0)
        self.threshold.setSingleStep(5.0)
        self.threshold.setSuffix(" %")
        self.threshold.setToolTip("Values below this share of the colour range are "
                                  "shown grey")
        self.cmap = QComboBox()
        self.cmap.addItems(CMAPS)
        self.view = QComboBox()
        self.view.addItems(list(VIEWS))
        self.hemi = QComboBox()
        self.hemi.addItems(list(HEMIS))
        self.surface = QComboBox()
        self.surface.addItems(list(SURFACES))
        self.third = QCheckBox("MEG+EEG view")
        self.linked = QCheckBox("Linked colour scale")
        self.linked.setToolTip("One colour range for the EEG- and MEG-derived views "
                               "(the union of their ranges)")
        self.path = QCheckBox("Path of maximum")
        self.path.setChecked(True)
        self.path.setToolTip("The source maximum of each spindle cycle (blue to "
                             "white), the current cycle's in green")
        for w in (self.linked, self.path):
            w.toggled.connect(lambda *_: self.sigAppearanceChanged.emit())
        for w in (self.threshold,):
            w.valueChanged.connect(lambda *_: self.sigAppearanceChanged.emit())
        for w in (self.cmap, self.view, self.hemi, self.display):
            w.currentIndexChanged.connect(lambda *_: self.sigAppearanceChanged.emit())
        self.surface.currentTextChanged.connect(self.sigSurfaceChanged)
        self.third.toggled.connect(self.sigThirdViewToggled)

        g = QGridLayout(self)
        g.setContentsMargins(2, 2, 2, 2)
        row = [QLabel("Spindle"), self.spindle, self.play, self.slider, self.time_label,
               QLabel("Speed"), self.speed]
        for col, w in enumerate(row):
            g.addWidget(w, 0, col)
        g.setColumnStretch(3, 1)
        row2 = [QLabel("Show"), self.display, QLabel("Threshold"), self.threshold,
                QLabel("Colours"), self.cmap, QLabel("View"), self.view, self.hemi,
                self.surface, self.third, self.linked, self.path]
        sub = QGridLayout()
        for col, w in enumerate(row2):
            sub.addWidget(w, 0, col)
        g.addLayout(sub, 1, 0, 1, len(row))

    # -- state ---------------------------------------------------------------
    def set_spindles(self, spindles):
        """Fill the selector from a list of ``SpindleSources`` (or clear)."""
        self.stop()
        self.spindle.blockSignals(True)
        self.spindle.clear()
        for s in spindles or []:
            self.spindle.addItem(f"#{s.index + 1}  {s.onset:.1f} s ({s.duration:.2f} s)")
        if spindles:
            self.spindle.addItem("all spindles (mean maps)")
        self.spindle.blockSignals(False)
        if spindles:
            self.spindle.setCurrentIndex(0)
            self._on_spindle(0)

    def set_timing(self, n_frames: int, sfreq: float, tmin: float):
        self.n_frames, self.sfreq, self.tmin = int(n_frames), float(sfreq), float(tmin)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, self.n_frames - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._update_label(0)

    @property
    def frame(self) -> int:
        return self.slider.value()

    def set_frame(self, frame: int):
        self.slider.setValue(int(frame) % max(1, self.n_frames))

    @property
    def spindle_index(self) -> int:
        """Index of the chosen spindle; -1 for the mean over spindles."""
        i = self.spindle.currentIndex()
        return -1 if i == self.spindle.count() - 1 else i

    @property
    def map_key(self):
        """None for the movie, else the per-source map shown."""
        return DISPLAYS[self.display.currentText()]

    @property
    def threshold_fraction(self) -> float:
        return self.threshold.value() / 100.0

    @property
    def step(self) -> float:
        """Samples advanced per timer tick at the chosen speed."""
        return SPEEDS[self.speed.currentText()] * self.sfreq * self.interval_ms / 1000.0

    # -- playback ------------------------------------------------------------------
    def start(self):
        self.play.setChecked(True)

    def stop(self):
        self.play.setChecked(False)

    def _on_play(self, on: bool):
        self.play.setText("Pause" if on else "Play")
        if on and self.n_frames > 1:
            self._carry = 0.0
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self):
        # slow speeds advance one sample every few ticks, fast ones several
        self._carry += self.step
        adv = int(self._carry)
        if adv == 0:
            return
        self._carry -= adv
        self.set_frame(self.frame + adv)

    def _on_slider(self, value: int):
        self._update_label(value)
        self.sigFrameChanged.emit(value)

    def _update_label(self, value: int):
        self.time_label.setText(f"{self.tmin + value / self.sfreq:.3f} s")

    def _on_spindle(self, i: int):
        self.sigSpindleChanged.emit(self.spindle_index)
