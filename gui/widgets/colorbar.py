"""Colour bars of the brain views: units, range and threshold.

The bar is a VTK ``vtkScalarBarActor`` (pyvista's ``add_scalar_bar``) bound to
the view's lookup table, so it is drawn by the same render as the cortex:
both back ends of :class:`~gui.widgets.brain_view.BrainView` (QtInteractor and the
off-screen image) show it, and so do snapshots and exported movies, which are
screenshots of the render window. It follows ``set_clim`` / ``set_cmap`` by
itself (it reads the lookup table); the threshold is written in its title and
changed only when it changes, so playing a movie costs one more 2-D actor per
frame and nothing else.

Units are named as MNE names them: dSPM and sLORETA values are noise-normalised
and unitless (dSPM an F-like statistic), MNE and eLORETA estimates are source
currents in A·m.
"""

from __future__ import annotations

import numpy as np

#: Title of the colour bar of a source estimate, by inverse method.
SOURCE_UNITS = {"dSPM": "dSPM (F-like)",
                "sLORETA": "sLORETA (unitless)",
                "MNE": "MNE (A·m)",
                "eLORETA": "eLORETA (A·m)"}
#: Title of the colour bar of a per-source map, by map key.
MAP_UNITS = {"between_r_map": "EEG–MEG correlation r",
             "coherence_multitaper_map": "coherence (0–1)",
             "coherence_welch_map": "coherence (0–1)",
             "coherence_mvdr_map": "coherence (0–1)"}
#: Position of the bar in the view (fractions of the width and height).
BAR_POSITION = {"position_x": 0.80, "position_y": 0.08, "width": 0.13, "height": 0.72}
LABEL_FORMAT = "%.3g"


def source_unit(method: str) -> str:
    """Colour-bar title of a source estimate made with ``method``."""
    return SOURCE_UNITS.get(method, f"{method} (as computed)")


def map_unit(key: str) -> str:
    """Colour-bar title of a per-source map (``between_r_map``, ...)."""
    return MAP_UNITS.get(key, key.replace("_", " "))


def view_units(result, mod: str, map_key=None) -> str:
    """Colour-bar title of a Sources-tab view.

    Parameters
    ----------
    result : core.sources.synchrony_figures.AnalysisResult | None
    mod : str
        Modality of the view ('eeg', 'meg', 'meeg').
    map_key : str | None
        Per-source map shown, None for the source movie.
    """
    if map_key is not None:
        return map_unit(map_key)
    if result is None:
        return "value"
    return source_unit(result.config.inverse.method)


def format_value(value: float) -> str:
    """A value as the bar's labels write it."""
    return LABEL_FORMAT % value


def linked_clims(clims: dict, mods=("eeg", "meg")) -> dict:
    """One colour range for the views of ``mods`` (the union of their ranges).

    Parameters
    ----------
    clims : dict
        Modality -> (low, high).
    mods : tuple of str
        Views to link; others keep their range.

    Returns
    -------
    clims : dict
        A new dict; the linked views share ``(min of lows, max of highs)``.
    """
    shared = [clims[m] for m in mods if m in clims]
    if len(shared) < 2:
        return dict(clims)
    lo = float(min(c[0] for c in shared))
    hi = float(max(c[1] for c in shared))
    out = dict(clims)
    for m in mods:
        if m in out:
            out[m] = (lo, hi)
    return out


class ColorBar:
    """The colour bar of one :class:`~gui.widgets.brain_view.BrainView`.

    Parameters
    ----------
    plotter : pyvista.Plotter
        The view's plotter.
    mapper : vtkMapper
        Mapper whose lookup table (colormap and range) the bar shows.
    label : str
        Units (the first line of the title).
    """

    def __init__(self, plotter, mapper, label: str = "value"):
        self.plotter = plotter
        self.label = label
        self.threshold = None
        # the one VTK class needed (pyvista's add_scalar_bar shares one bar
        # per title across a plotter; ours is private to the view)
        from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

        bar = vtkScalarBarActor()
        bar.SetLookupTable(mapper.GetLookupTable())
        bar.SetOrientationToVertical()
        bar.SetNumberOfLabels(2)
        bar.SetLabelFormat(LABEL_FORMAT)
        bar.SetMaximumNumberOfColors(256)
        bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        bar.SetPosition(BAR_POSITION["position_x"], BAR_POSITION["position_y"])
        bar.SetWidth(BAR_POSITION["width"])
        bar.SetHeight(BAR_POSITION["height"])
        bar.SetUnconstrainedFontSize(True)
        for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
            prop.SetColor(0.0, 0.0, 0.0)
            prop.SetFontSize(11)
            prop.SetBold(False)
            prop.SetItalic(False)
            prop.SetShadow(False)
        plotter.renderer.AddViewProp(bar)
        self.actor = bar
        self._write_title()

    # -- state ------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self.actor.GetTitle()

    @property
    def range(self) -> tuple:
        """(low, high) the bar shows: its lookup table's range."""
        return tuple(float(v) for v in self.actor.GetLookupTable().GetRange())

    def labels(self) -> tuple:
        """The bar's end labels as written, (low, high)."""
        lo, hi = self.range
        return format_value(lo), format_value(hi)

    def set_label(self, label: str):
        """Units shown as the title."""
        if label != self.label:
            self.label = label
            self._write_title()

    def set_threshold(self, value):
        """Threshold written below the units (None: no threshold)."""
        value = None if value is None else float(value)
        if value != self.threshold:
            self.threshold = value
            self._write_title()

    def set_visible(self, on: bool):
        self.actor.SetVisibility(bool(on))

    def _write_title(self):
        title = self.label if self.threshold is None else \
            f"{self.label}\ngrey < {format_value(self.threshold)}"
        self.actor.SetTitle(title)

    def rect(self, image_shape) -> tuple:
        """Pixel box of the colour gradient in a screenshot of the view.

        Parameters
        ----------
        image_shape : tuple
            ``(height, width, ...)`` of the screenshot.

        Returns
        -------
        rows, cols : slice, slice
            Image rows (top to bottom) and columns of the gradient.
        """
        r = [0, 0, 0, 0]
        self.actor.GetScalarBarRect(r, self.plotter.renderer)
        x, y, w, h = r
        height = image_shape[0]
        return slice(height - (y + h), height - y), slice(x, x + w)

    def gradient(self, n: int = 256) -> np.ndarray:
        """Colours of the bar from low to high, array (n, 3) uint8."""
        lut = self.actor.GetLookupTable()
        lo, hi = self.range
        rgb = np.empty((n, 3))
        rgb_k = [0.0, 0.0, 0.0]
        for k, v in enumerate(np.linspace(lo, hi, n)):
            lut.GetColor(float(v), rgb_k)
            rgb[k] = rgb_k
        return np.round(rgb * 255).astype(np.uint8)
