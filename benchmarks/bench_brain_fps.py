"""Frames per second of two linked 20,484-vertex cortical views.

Two :class:`gui.widgets.brain_view.BrainView` (pyvistaqt QtInteractor) side by side on
the template's ico5 surfaces (all 2 x 10,242 fsaverage5 vertices are sources),
new scalars every frame. Measured in the same run:

* ours: scalars written in place, ``update()`` (Qt coalesces paints), MSAA off;
* ``render()`` + ``processEvents()`` per frame, MSAA off;
* ours with 4x MSAA;
* the naive way: the meshes re-added (``add_mesh``) every frame.

Frames are counted as renders actually done (the render window's EndEvent),
not as loop iterations. Needs an X server: without DISPLAY the script re-runs
itself under ``xvfb-run -a`` (software rendering, llvmpipe). Target >= 10 fps.

    python benchmarks/bench_brain_fps.py [--frames 60] [--size 640x480]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _views(app, multi_samples, size):
    import numpy as np
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from gui.widgets.brain_view import BrainView, cortex_surface

    surf = cortex_surface([np.arange(10242), np.arange(10242)], "fsaverage", "pial")
    win = QWidget()
    lay = QHBoxLayout(win)
    a = BrainView(surf, "EEG", backend="qt", multi_samples=multi_samples)
    b = BrainView(surf, "MEG", camera=a.camera, backend="qt",
                  multi_samples=multi_samples)
    a.link(b)
    b.link(a)
    lay.addWidget(a)
    lay.addWidget(b)
    win.resize(2 * size[0], size[1])
    win.show()
    for _ in range(10):
        app.processEvents()
    a.set_clim(0, 1)
    b.set_clim(0, 1)
    return win, a, b, surf


def _count_renders(views):
    counter = [0]

    def on_end(obj, event):
        counter[0] += 1

    for v in views:
        v.plotter.ren_win.AddObserver("EndEvent", on_end)
    return counter


def measure(app, mode, frames, size):
    import numpy as np

    win, a, b, surf = _views(app, 4 if mode == "msaa4" else 0, size)
    rng = np.random.default_rng(0)
    data = rng.random((8, surf.n_sources))
    for i in range(5):  # warm-up: shader compilation, first uploads
        a.set_values(data[i])
        b.set_values(data[i + 1])
        app.processEvents()
    counter = _count_renders((a, b))
    t0 = time.perf_counter()
    for i in range(frames):
        va, vb = data[i % 8], data[(i + 3) % 8]
        if mode == "naive":
            for view, vals in ((a, va), (b, vb)):
                for h, (mesh, actor) in enumerate(zip(view.meshes, view.actors)):
                    view.plotter.remove_actor(actor, render=False)
                    new = mesh.copy()
                    new.point_data["values"] = vals[surf.hemis[h][2]]
                    view.actors[h] = view.plotter.add_mesh(
                        new, scalars="values", cmap="hot", clim=(0, 1),
                        show_scalar_bar=False, smooth_shading=True,
                        reset_camera=False, render=False)
                    view.meshes[h] = view.actors[h].mapper.dataset
                view.plotter.update()
            app.processEvents()
        elif mode == "render":
            a.backend = b.backend = "render"  # refresh() below is explicit
            for view, vals in ((a, va), (b, vb)):
                view._values = vals
                for mesh, (_, _, idx) in zip(view.meshes, surf.hemis):
                    mesh.point_data["values"][:] = vals[idx]
                    mesh.GetPointData().GetArray("values").Modified()
                view.plotter.render()
            app.processEvents()
        else:
            a.set_values(va)
            b.set_values(vb)
            app.processEvents()
    app.processEvents()
    elapsed = time.perf_counter() - t0
    rendered = counter[0] / 2  # two views per frame
    shot = a.image()
    for v in (a, b):
        v.close_view()
    win.close()
    win.deleteLater()
    app.processEvents()
    return min(rendered, frames) / elapsed, rendered, float(shot.std())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--size", default="640x480", help="size of each view")
    args = p.parse_args()
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if not xvfb:
            sys.exit("No DISPLAY and no xvfb-run: install Xvfb.")
        env = dict(os.environ, QT_QPA_PLATFORM="xcb")
        sys.exit(subprocess.call([xvfb, "-a", "-s", "-screen 0 1920x1080x24",
                                  sys.executable, __file__] + sys.argv[1:], env=env))
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    size = tuple(int(v) for v in args.size.lower().split("x"))
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    import vtk

    print(f"two 20,484-vertex views, {size[0]}x{size[1]} each, {args.frames} frames, "
          f"platform {app.platformName()}, VTK {vtk.vtkVersion.GetVTKVersion()}")
    results = {}
    for mode, label in (("ours", "in place + update(), MSAA off"),
                        ("render", "in place + render() + processEvents()"),
                        ("msaa4", "in place + update(), 4x MSAA"),
                        ("naive", "meshes re-added every frame"),
                        ("ours", "in place + update(), MSAA off (again)")):
        fps, rendered, std = measure(app, mode, args.frames, size)
        results[mode] = max(fps, results.get(mode, 0.0))
        print(f"  {label:<42} {fps:6.1f} fps  ({rendered:.0f} frames rendered, "
              f"image std {std:.0f})")
    print(f"ours / render()+processEvents: {results['ours'] / results['render']:.2f}x; "
          f"ours / 4x MSAA: {results['ours'] / results['msaa4']:.2f}x; "
          f"ours / re-adding meshes: {results['ours'] / results['naive']:.2f}x")
    print(f"target >= 10 fps: {'met' if results['ours'] >= 10 else 'NOT met'} "
          f"({results['ours']:.1f} fps)")
    try:
        print(f"load average during the run: {os.getloadavg()[0]:.1f} "
              f"(on {os.cpu_count()} cores)")
    except OSError:  # pragma: no cover - Windows
        pass


if __name__ == "__main__":
    main()
