"""The path of the source maximum, cycle by cycle, drawn on a brain view.

For each spindle and modality :func:`core.sources.dynamics.cycle_maxima` gives the
source with the largest mean |value| in each spindle cycle (stored by the
analysis as ``SpindleSources.maps['<modality>_maxima']``). :class:`MaximumPath`
draws those sources on the cortical surface of a
:class:`~gui.widgets.brain_view.BrainView` as small spheres joined by a line (from
the first cycle, blue, to the last, white) and the current cycle's maximum as
a larger green sphere that moves as the movie plays. Its actors are added
once; points are rewritten in place.
"""

from __future__ import annotations

import numpy as np

from core.sources.dynamics import cycle_maxima

PATH_COLOR = (0.1, 0.35, 1.0)
CURRENT_COLOR = (0.0, 0.85, 0.2)


def spindle_maxima(sp, mod: str, sfreq: float, freq: float):
    """Cycle maxima of one spindle's estimate of ``mod``.

    The analysis's own maxima (``sp.maps['<mod>_maxima']``) when present,
    else :func:`core.sources.dynamics.cycle_maxima` of the stored estimate.

    Returns
    -------
    maxima : array of int, shape (n_cycles,) | None
    """
    mx = sp.maps.get(f"{mod}_maxima") if sp.maps else None
    if mx is None and mod in sp.stcs:
        mx = cycle_maxima(sp.stcs[mod].data, sfreq, freq)
    return None if mx is None else np.asarray(mx, int)


def cycle_frequency(config) -> float:
    """Frequency (Hz) setting the cycle length, as the analysis chose it."""
    band = config.band if config.band is not None else config.coherence_band
    return float(np.mean(band))


class MaximumPath:
    """Overlay of the maxima path on one brain view.

    Parameters
    ----------
    view : BrainView
    """

    def __init__(self, view):
        self.view = view
        self.maxima = None
        self.positions = np.zeros((0, 3))
        self.width = 1
        self.cycle = None
        self._actors = None

    def _ensure_actors(self):
        import pyvista as pv

        if self._actors is not None:
            return
        p = self.view.plotter
        self._line = pv.PolyData(np.zeros((2, 3)), lines=[2, 0, 1])
        self._points = pv.PolyData(np.zeros((1, 3)))
        self._points.point_data["order"] = np.zeros(1)
        self._current = pv.PolyData(np.zeros((1, 3)))
        line = p.add_mesh(self._line, color=PATH_COLOR, line_width=3,
                          reset_camera=False, render_lines_as_tubes=False)
        pts = p.add_mesh(self._points, scalars="order", cmap=["#1a59ff", "#ffffff"],
                         clim=(0.0, 1.0), point_size=9, render_points_as_spheres=True,
                         show_scalar_bar=False, reset_camera=False)
        cur = p.add_mesh(self._current, color=CURRENT_COLOR, point_size=16,
                         render_points_as_spheres=True, reset_camera=False)
        # drawn on a layer above the cortex (same camera): maxima in sulci or
        # behind the shown side stay visible; picking sees only the cortex
        from vtkmodules.vtkRenderingCore import vtkRenderer

        self.overlay = vtkRenderer()
        self.overlay.SetLayer(1)
        self.overlay.SetInteractive(False)
        self.overlay.SetActiveCamera(self.view.camera)
        ren_win = p.ren_win
        ren_win.SetNumberOfLayers(max(2, ren_win.GetNumberOfLayers()))
        ren_win.AddRenderer(self.overlay)
        for actor in (line, pts, cur):
            p.remove_actor(actor, render=False)
            self.overlay.AddActor(actor)
        self._actors = (line, pts, cur)

    def set_path(self, maxima, width: int = 1):
        """Show the maxima (source indices, one per cycle); None hides.

        Parameters
        ----------
        maxima : array of int | None
        width : int
            Samples per cycle (frame ``f`` is in cycle ``f // width``).
        """
        if maxima is None or len(maxima) == 0:
            self.maxima, self.positions, self.cycle = None, np.zeros((0, 3)), None
            self.set_visible(False)
            return
        self._ensure_actors()
        surf = self.view.surface
        self.maxima = np.asarray(maxima, int)
        self.width = max(1, int(width))
        pos = []
        for s in self.maxima:
            h, v = surf.vertex_of_source(int(s))
            pos.append(surf.hemis[h][0][v])
        self.positions = np.asarray(pos, float)
        n = len(self.positions)
        self._replace(self._points, self.positions)
        self._points.point_data["order"] = np.linspace(0.0, 1.0, n) if n > 1 \
            else np.zeros(1)
        line_pts = self.positions if n > 1 else np.repeat(self.positions, 2, axis=0)
        self._replace(self._line, line_pts, verts=False)
        self._line.lines = np.hstack([[len(line_pts)], np.arange(len(line_pts))])
        self.cycle = None
        self.set_visible(True)
        self.set_cycle(0)

    @staticmethod
    def _replace(mesh, points, verts: bool = True):
        """Rewrite a mesh's points in place (new arrays when the count
        changes, with one vertex cell per point when ``verts``)."""
        if mesh.n_points == len(points):
            mesh.points[:] = points
            mesh.Modified()
            return
        mesh.points = points
        if verts:
            mesh.verts = np.column_stack([np.ones(len(points), int),
                                          np.arange(len(points))]).ravel()

    def set_frame(self, frame: int):
        """Highlight the cycle holding sample ``frame`` of the spindle."""
        if self.maxima is None:
            return
        self.set_cycle(min(int(frame) // self.width, len(self.maxima) - 1))

    def set_cycle(self, cycle: int):
        """Highlight cycle ``cycle`` (its maximum drawn large and green)."""
        if self.maxima is None or cycle == self.cycle:
            return
        self.cycle = int(cycle)
        self._current.points[:] = self.positions[self.cycle][None]
        self._current.Modified()

    def set_visible(self, on: bool):
        if self._actors is None:
            return
        for a in self._actors:
            a.SetVisibility(bool(on))

    @property
    def visible(self) -> bool:
        return self._actors is not None and bool(self._actors[0].GetVisibility())

    @property
    def current_source(self):
        """Source index of the highlighted maximum (None when hidden)."""
        return None if self.maxima is None or self.cycle is None else \
            int(self.maxima[self.cycle])


def show_paths(tab):
    """Show, in every view of a Sources tab, the maxima path of the spindle
    shown (hidden for the pooled view, for maps, or when switched off).

    Parameters
    ----------
    tab : gui.sources.sources_tab.SourcesTab
    """
    sp, _ = tab._current()
    res = tab.result
    on = (sp is not None and res is not None and tab.controls.map_key is None
          and tab.controls.path.isChecked())
    if not on:
        for path in tab.paths.values():
            path.set_path(None)
        return
    freq = cycle_frequency(res.config)
    width = max(1, round(res.sfreq / freq))  # as core.sources.dynamics.cycle_maxima
    for mod, path in tab.paths.items():
        path.set_path(spindle_maxima(sp, mod, res.sfreq, freq), width)
        path.set_frame(tab.controls.frame)
