"""Cortical surface views: values on the cortex, linked cameras, vertex picking.

One :class:`BrainView` shows one cortex (both hemispheres, one actor each,
added ONCE); :meth:`BrainView.set_values` writes new scalars into the meshes
in place and asks for a repaint with ``update()`` (never ``render()`` +
``processEvents()``), with multi-sampling off. Views built with the same
``camera`` share one ``vtkCamera`` (linked cameras).

Two back ends:

``'qt'``
    a pyvistaqt :class:`~pyvistaqt.QtInteractor` (a QOpenGLWidget; needs a
    display: an X server, Xvfb, Wayland, Windows or macOS);
``'image'``
    an off-screen :class:`pyvista.Plotter` (EGL/OSMesa) whose image is shown in
    a label; used automatically on Qt's ``offscreen``/``minimal`` platforms
    (headless screenshots, tests), where QOpenGLWidget cannot work.

Sources are mapped to surface vertices by nearest source (per hemisphere) so a
5,124-source estimate colours the whole 20,484-vertex fsaverage5 surface.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

SURFACES = ("pial", "inflated", "white")
VIEWS = ("lateral", "medial", "dorsal", "ventral", "frontal", "occipital")
HEMIS = ("both", "lh", "rh")
NAN_COLOR = (0.78, 0.78, 0.78)


def default_backend() -> str:
    """'qt' where QOpenGLWidget works, else 'image'."""
    name = QGuiApplication.platformName() if QGuiApplication.instance() else ""
    return "image" if name in ("offscreen", "minimal", "") else "qt"


class CortexSurface:
    """Both hemispheres of a cortical surface and the source → vertex map.

    Parameters
    ----------
    vertices : list of array
        Source vertex numbers of the left and right hemispheres (as in a
        SourceEstimate).
    subject : str | None
        'fsaverage' uses the template surfaces (:func:`template_subjects_dir`).
    surface : 'pial' | 'inflated' | 'white'
    subjects_dir : path-like | None
        Where the subject's ``surf`` folder lives (template when None).
    src : mne.SourceSpaces | None
        Fallback geometry (its white surface) when no surface file exists.
    """

    def __init__(self, vertices, subject="fsaverage", surface="pial",
                 subjects_dir=None, src=None):
        if surface not in SURFACES:
            raise ValueError(f"Invalid value for the 'surface' parameter. Allowed "
                             f"values are {SURFACES}, but got {surface!r} instead.")
        self.vertices = [np.asarray(v) for v in vertices]
        self.subject = subject
        self.surface = surface
        self.n_sources = int(sum(len(v) for v in self.vertices))
        self.hemis = []  # (rr, tris, source_index_of_vertex)
        offset = 0
        for h, hemi in enumerate(("lh", "rh")):
            rr, tris = _read_surface(subject, hemi, surface, subjects_dir, src, h)
            vert = self.vertices[h]
            idx = _nearest_source(rr, vert) + offset
            self.hemis.append((rr, tris, idx))
            offset += len(vert)
        if surface == "inflated":  # inflated hemispheres overlap: move apart
            gap = 5.0 if np.abs(self.hemis[0][0]).max() > 1.0 else 0.005  # mm or m
            lh, rh = self.hemis[0][0], self.hemis[1][0]
            self.hemis[0] = (lh - [lh[:, 0].max() + gap, 0, 0], *self.hemis[0][1:])
            self.hemis[1] = (rh - [rh[:, 0].min() - gap, 0, 0], *self.hemis[1][1:])

    @property
    def n_vertices(self) -> int:
        return sum(len(h[0]) for h in self.hemis)

    def source_of_vertex(self, hemi: int, vertex: int) -> int:
        return int(self.hemis[hemi][2][vertex])

    def vertex_of_source(self, source: int) -> tuple[int, int]:
        """(hemisphere, surface vertex) of a source index."""
        n_lh = len(self.vertices[0])
        h = 0 if source < n_lh else 1
        return h, int(self.vertices[h][source - (0 if h == 0 else n_lh)])


def _read_surface(subject, hemi, surface, subjects_dir, src, h):
    import nibabel as nib

    if subjects_dir is None and (subject in (None, "fsaverage")):
        from core.sources.headmodel import template_subjects_dir

        subjects_dir, subject = template_subjects_dir(), "fsaverage"
    if subjects_dir is not None and subject is not None:
        path = Path(subjects_dir) / subject / "surf" / f"{hemi}.{surface}"
        if path.exists():
            rr, tris = nib.freesurfer.read_geometry(str(path))
            return np.asarray(rr, float), np.asarray(tris, np.int64)
    if src is None:
        raise FileNotFoundError(f"No {hemi}.{surface} surface for subject {subject!r}"
                                f" and no source space to fall back on.")
    return np.asarray(src[h]["rr"], float) * 1000.0, np.asarray(src[h]["tris"], np.int64)


def _nearest_source(rr, vert):
    """Index (into ``vert``) of the nearest source of each surface vertex."""
    from scipy.spatial import cKDTree

    vert = np.asarray(vert)
    if len(vert) == len(rr) and np.array_equal(vert, np.arange(len(rr))):
        return np.arange(len(rr))
    _, idx = cKDTree(rr[vert]).query(rr)
    return idx


_SURFACES: dict = {}


def cortex_surface(vertices, subject="fsaverage", surface="pial", subjects_dir=None,
                   src=None) -> CortexSurface:
    """A cached :class:`CortexSurface` (see there for the parameters)."""
    key = (tuple(np.asarray(v, np.int64).tobytes() for v in vertices), subject,
           surface, None if subjects_dir is None else str(subjects_dir),
           None if src is None else id(src))
    if key not in _SURFACES:
        if len(_SURFACES) >= 8:
            _SURFACES.pop(next(iter(_SURFACES)))
        _SURFACES[key] = CortexSurface(vertices, subject, surface, subjects_dir, src)
    return _SURFACES[key]


class _ImageLabel(QLabel):
    clicked = Signal(QPoint)

    def mouseReleaseEvent(self, event):  # noqa: N802 (Qt naming)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(event.position().toPoint())
        super().mouseReleaseEvent(event)


class BrainView(QWidget):
    """A cortical surface coloured by per-source values.

    Parameters
    ----------
    surface : CortexSurface
    title : str
        Shown in the corner of the view.
    camera : vtkCamera | None
        Share this camera (linked views); None makes a new one.
    backend : 'qt' | 'image' | None
        None chooses :func:`default_backend`.
    size : (int, int)
        Image size of the 'image' back end.
    multi_samples : int
        MSAA samples (0, the default: about 3x faster in software rendering).
    units : str
        Title of the colour bar (units; see :mod:`gui.widgets.colorbar`).

    Signals
    -------
    sigVertexPicked(int)
        Source index under a click (or :meth:`pick_source`).
    """

    sigVertexPicked = Signal(int)

    def __init__(self, surface: CortexSurface, title="", camera=None, backend=None,
                 size=(480, 400), parent=None, multi_samples=0, units="value"):
        super().__init__(parent)
        import pyvista as pv

        self.backend = backend or default_backend()
        self._closed = False
        self.surface = surface
        self.title = title
        self._linked: list = []
        self._press = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        if self.backend == "qt":
            from pyvistaqt import QtInteractor

            self.plotter = QtInteractor(self, multi_samples=multi_samples,
                                        auto_update=False)
            lay.addWidget(self.plotter.interactor)
            self.plotter.iren.add_observer("LeftButtonPressEvent", self._vtk_press)
            self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._vtk_release)
            self.plotter.iren.add_observer("InteractionEvent", self._vtk_interaction)
        else:
            self.plotter = pv.Plotter(off_screen=True, window_size=size)
            self.plotter.ren_win.SetMultiSamples(multi_samples)
            self.label = _ImageLabel(self)
            self.label.setMinimumSize(120, 100)
            self.label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                     QSizePolicy.Policy.Ignored)
            self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.label.clicked.connect(self._label_clicked)
            lay.addWidget(self.label)
        self.plotter.set_background("white")
        # one headlight: per-fragment lighting is the cost of software
        # rendering, and pyvista's 5-light kit costs ~30 % of the frame rate
        self.plotter.remove_all_lights()
        self.plotter.add_light(pv.Light(light_type="headlight"))
        if camera is not None:
            self.plotter.renderer.SetActiveCamera(camera)
        self.meshes, self.actors = [], []
        for rr, tris, _ in surface.hemis:  # added ONCE
            faces = np.hstack([np.full((len(tris), 1), 3), tris]).ravel()
            mesh = pv.PolyData(rr, faces)
            mesh.point_data["values"] = np.full(len(rr), np.nan)
            actor = self.plotter.add_mesh(
                mesh, scalars="values", cmap="hot", clim=(0.0, 1.0),
                nan_color=NAN_COLOR, show_scalar_bar=False, smooth_shading=True,
                reset_camera=False)
            # smooth shading may map a copy (with normals): update what is drawn
            self.meshes.append(actor.mapper.dataset)
            self.actors.append(actor)
        self._values = np.full(surface.n_sources, np.nan)
        self._threshold = None
        from gui.widgets.colorbar import ColorBar

        # drawn by the same render: both back ends, snapshots and movies
        self.colorbar = ColorBar(self.plotter, self.actors[0].mapper, units)
        self._marker = None
        self._title_actor = self.plotter.add_text(title, font_size=10, color="black")
        self.hemi, self.view = "both", "lateral"
        if camera is None:
            self.set_view("lateral")

    # -- camera -------------------------------------------------------------
    @property
    def camera(self):
        return self.plotter.renderer.GetActiveCamera()

    def link(self, other: "BrainView"):
        """Repaint ``other`` when this view's camera moves (share the camera
        by passing ``camera=`` at construction)."""
        if other not in self._linked:
            self._linked.append(other)

    def set_view(self, view: str = "lateral", hemi: str | None = None):
        """Standard views: lateral, medial, dorsal, ventral, frontal, occipital."""
        if view not in VIEWS:
            raise ValueError(f"Invalid value for the 'view' parameter. Allowed values "
                             f"are {VIEWS}, but got {view!r} instead.")
        hemi = hemi or self.hemi
        if hemi not in HEMIS:
            raise ValueError(f"Invalid value for the 'hemi' parameter. Allowed values "
                             f"are {HEMIS}, but got {hemi!r} instead.")
        self.view, self.hemi = view, hemi
        show = {"both": [True, True], "lh": [True, False], "rh": [False, True]}[hemi]
        if view == "medial" and hemi == "both":
            show = [True, False]
        for actor, vis in zip(self.actors, show):
            actor.SetVisibility(vis)
        right = hemi == "rh"
        vec = {"lateral": (1, 0, 0) if right else (-1, 0, 0),
               "medial": (-1, 0, 0) if right else (1, 0, 0),
               "dorsal": (0, 0, 1), "ventral": (0, 0, -1),
               "frontal": (0, 1, 0), "occipital": (0, -1, 0)}[view]
        up = (0, 1, 0) if view in ("dorsal", "ventral") else (0, 0, 1)
        self.plotter.view_vector(vec, up)
        self.plotter.reset_camera()
        self.refresh()
        for other in self._linked:
            other.set_view(view, hemi) if other.view != view or other.hemi != hemi \
                else other.refresh()

    def set_surface(self, surface: CortexSurface):
        """Switch geometry (pial / inflated / white) by moving the mesh points
        in place; the sources and vertex counts must match."""
        if [len(h[0]) for h in surface.hemis] != [len(h[0]) for h in self.surface.hemis]:
            raise ValueError("The new surface has other vertices; make a new view.")
        self.surface = surface
        for mesh, (rr, _, _) in zip(self.meshes, surface.hemis):
            mesh.points[:] = rr
            mesh.Modified()
        self.set_view(self.view, self.hemi)

    # -- colours --------------------------------------------------------------
    def set_cmap(self, cmap: str):
        for actor in self.actors:
            actor.mapper.lookup_table.cmap = cmap
            actor.mapper.lookup_table.nan_color = NAN_COLOR
        self.refresh()

    def set_clim(self, lo: float, hi: float):
        if not hi > lo:
            hi = lo + 1e-12
        for actor in self.actors:
            actor.mapper.scalar_range = (float(lo), float(hi))
            # the colour bar reads the table (also when its hemisphere is hidden)
            actor.mapper.lookup_table.SetRange(float(lo), float(hi))
        self.refresh()

    def set_units(self, units: str):
        """Title of the colour bar (units of the values shown)."""
        self.colorbar.set_label(units)
        self.refresh()

    @property
    def clim(self):
        return tuple(self.actors[0].mapper.scalar_range)

    def set_threshold(self, value: float | None):
        """Values below ``value`` are shown grey (None: no threshold)."""
        self._threshold = value
        self.set_values(self._values)

    def set_values(self, values: np.ndarray):
        """Colour the cortex by per-source values (in place, then update())."""
        values = np.asarray(values, float)
        if values.shape != (self.surface.n_sources,):
            raise ValueError(f"Expected {self.surface.n_sources} source values, got "
                             f"an array of shape {values.shape}.")
        self._values = values
        self.colorbar.set_threshold(self._threshold)
        shown = values
        if self._threshold is not None:
            shown = np.where(values >= self._threshold, values, np.nan)
        for mesh, (_, _, idx) in zip(self.meshes, self.surface.hemis):
            arr = mesh.point_data["values"]
            arr[:] = shown[idx]
            mesh.GetPointData().GetArray("values").Modified()
        self.refresh()

    @property
    def values(self) -> np.ndarray:
        return self._values

    def vertex_values(self) -> np.ndarray:
        """Scalars currently on the surface vertices (lh then rh)."""
        return np.concatenate([np.asarray(m.point_data["values"]) for m in self.meshes])

    # -- drawing ------------------------------------------------------------------
    def refresh(self):
        """Ask for a repaint: ``update()`` for the Qt back end (the paint
        event renders once, coalescing requests); a render into the label for
        the image back end."""
        if self._closed:
            return
        if self.backend == "qt":
            self.plotter.update()
        else:
            self.plotter.render()
            self._show_image(self.plotter.screenshot(return_img=True))

    def resizeEvent(self, event):  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        if self.backend == "image":
            w, h = self.label.width(), self.label.height()
            if w > 20 and h > 20 and tuple(self.plotter.window_size) != (w, h):
                self.plotter.window_size = (w, h)
                self.refresh()

    def _show_image(self, img):
        img = np.ascontiguousarray(img[..., :3])
        h, w = img.shape[:2]
        qimg = QImage(img.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.label.setPixmap(QPixmap.fromImage(qimg))
        self._last = img

    def image(self) -> np.ndarray:
        """The current picture, array (height, width, 3) uint8."""
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(return_img=True))[..., :3].copy()

    def close_view(self):
        """Release the render window (call before the widget goes away);
        later updates are ignored."""
        self._closed = True
        try:
            self.plotter.close()
        except Exception:  # pragma: no cover - already closed
            pass

    # -- picking --------------------------------------------------------------
    def pick_source(self, source: int):
        """Mark a source and emit :attr:`sigVertexPicked`."""
        source = int(source)
        if not 0 <= source < self.surface.n_sources:
            raise ValueError(f"Source index {source} is out of range (0 to "
                             f"{self.surface.n_sources - 1}).")
        h, v = self.surface.vertex_of_source(source)
        self._mark(self.surface.hemis[h][0][v])
        self.sigVertexPicked.emit(source)

    def pick_display(self, x: float, y: float) -> int | None:
        """Pick at VTK display coordinates (origin bottom-left); emits."""
        # the one VTK class needed; `import vtk` would load all of VTK
        from vtkmodules.vtkRenderingCore import vtkCellPicker

        picker = vtkCellPicker()
        picker.SetTolerance(0.0005)
        if not picker.Pick(float(x), float(y), 0.0, self.plotter.renderer):
            return None
        pos = np.array(picker.GetPickPosition())
        best = None
        for h, (mesh, actor) in enumerate(zip(self.meshes, self.actors)):
            if not actor.GetVisibility():
                continue
            v = mesh.find_closest_point(pos)
            d = np.linalg.norm(mesh.points[v] - pos)
            if best is None or d < best[0]:
                best = (d, h, v)
        if best is None:
            return None
        source = self.surface.source_of_vertex(best[1], best[2])
        self.pick_source(source)
        return source

    def source_display_position(self, source: int):
        """VTK display coordinates (x, y from bottom-left) of a source."""
        h, v = self.surface.vertex_of_source(source)
        ren = self.plotter.renderer
        ren.SetWorldPoint(*self.surface.hemis[h][0][v], 1.0)
        ren.WorldToDisplay()
        return ren.GetDisplayPoint()[:2]

    def _mark(self, pos):
        import pyvista as pv

        if self._marker is None:
            self._marker_src = pv.PolyData(np.asarray(pos, float)[None])
            self._marker = self.plotter.add_mesh(
                self._marker_src, color="cyan", point_size=12,
                render_points_as_spheres=True, reset_camera=False)
        else:
            self._marker_src.points[:] = np.asarray(pos, float)[None]
            self._marker_src.Modified()
        self.refresh()

    def _label_clicked(self, point: QPoint):
        pix = self.label.pixmap()
        if pix is None or pix.isNull():
            return
        w, h = self.plotter.window_size
        # the pixmap is centred in the label
        x0 = (self.label.width() - pix.width()) / 2
        y0 = (self.label.height() - pix.height()) / 2
        px, py = point.x() - x0, point.y() - y0
        if not (0 <= px < pix.width() and 0 <= py < pix.height()):
            return
        self.pick_display(px * w / pix.width(), h - 1 - py * h / pix.height())

    def _event_position(self):
        # pyvista passes the interactor *style* as ``obj``: ask the interactor
        return self.plotter.iren.interactor.GetEventPosition()

    def _vtk_press(self, obj, event):
        self._press = self._event_position()

    def _vtk_release(self, obj, event):
        pos = self._event_position()
        if self._press is not None and abs(pos[0] - self._press[0]) + abs(
                pos[1] - self._press[1]) <= 3:
            self.pick_display(*pos)
        self._press = None

    def _vtk_interaction(self, obj, event):
        for other in self._linked:
            other.refresh()
