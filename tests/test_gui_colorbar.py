"""Colour bars of the brain views and the path of the cycle maxima.

On the off-screen image back end (the QtInteractor back end is checked in the
X subprocess of tests/test_gui_sources.py): the bar's gradient is in the
screenshot where VTK puts it, with the colours of the view's colormap from
high (top) to low; its labels are the view's colour range; the threshold is
written in its title; a snapshot PNG holds it; the maxima path's points are
the cortical positions of :func:`core.sources.dynamics.cycle_maxima`'s sources and
the highlighted cycle follows the frame.
"""

from __future__ import annotations

import numpy as np
import pytest
from gui_fixtures import gui_env  # noqa: F401


def assert_colorbar_shown(view, img):
    """The view's colour bar is in ``img``: the pixels down the middle of
    the bar are the colormap's colours, high at the top, low at the bottom,
    and its labels are the view's colour range."""
    from gui.widgets.colorbar import format_value

    bar = view.colorbar
    assert bar.actor.GetVisibility()
    assert bar.range == pytest.approx(view.clim)
    assert bar.labels() == tuple(format_value(v) for v in view.clim)
    rows, cols = bar.rect(img.shape)
    assert rows.stop - rows.start > 50 and cols.stop - cols.start > 5
    h = rows.stop - rows.start
    col = img[rows.start + h // 20: rows.stop - h // 20, (cols.start + cols.stop) // 2]
    col = col.astype(float)
    grad = bar.gradient().astype(float)
    dist = np.linalg.norm(col[:, None, :] - grad[None], axis=2)
    assert np.median(dist.min(axis=1)) < 12  # the colormap's colours
    pos = dist.argmin(axis=1)  # 0 = low ... 255 = high
    assert pos[: len(pos) // 10].mean() > 200 and pos[-len(pos) // 10:].mean() < 55
    assert len(np.unique(col, axis=0)) > 20  # a gradient, not a block


@pytest.fixture
def view(qapp):
    from gui.widgets.brain_view import BrainView, cortex_surface

    surf = cortex_surface([np.arange(2562), np.arange(2562)], "fsaverage", "pial")
    v = BrainView(surf, "EEG-derived", backend="image", units="dSPM (F-like)")
    v.resize(480, 400)
    v.show()
    yield v
    v.close_view()


def test_bar_shows_range_units_and_threshold(view):
    vals = np.random.default_rng(0).random(view.surface.n_sources) * 8.0
    view.set_clim(0.0, 8.0)
    view.set_values(vals)
    assert_colorbar_shown(view, view.image())
    assert view.colorbar.title == "dSPM (F-like)"
    view.set_cmap("viridis")
    view.set_clim(-2.5, 6.25)
    view.set_threshold(3.0)
    img = view.image()
    assert_colorbar_shown(view, img)
    assert view.colorbar.labels() == ("-2.5", "6.25")
    assert view.colorbar.title == "dSPM (F-like)\ngrey < 3"
    view.set_units("MNE (A·m)")
    assert view.colorbar.title.startswith("MNE (A·m)")
    # hidden bar: the same region is white background
    view.colorbar.set_visible(False)
    rows, cols = view.colorbar.rect(img.shape)
    bare = view.image()[rows, cols]
    assert (bare.astype(int) == 255).all(axis=2).mean() > 0.9


def test_snapshot_png_holds_the_bar(view, tmp_path):
    from PIL import Image

    from gui.sources.movie_export import snapshot

    view.set_clim(0.0, 1.0)
    view.set_values(np.linspace(0, 1, view.surface.n_sources))
    path = snapshot([view, view], tmp_path / "two.png")
    img = np.asarray(Image.open(path))[..., :3]
    w = img.shape[1] // 2
    assert_colorbar_shown(view, img[:, :w])
    assert_colorbar_shown(view, img[:, w:])


def test_linked_clims():
    from gui.widgets.colorbar import linked_clims, map_unit, source_unit

    clims = {"eeg": (0.0, 4.0), "meg": (-1.0, 2.0), "meeg": (0.0, 9.0)}
    out = linked_clims(clims)
    assert out["eeg"] == out["meg"] == (-1.0, 4.0) and out["meeg"] == (0.0, 9.0)
    assert linked_clims({"eeg": (0.0, 1.0)}) == {"eeg": (0.0, 1.0)}
    assert source_unit("dSPM") == "dSPM (F-like)" and source_unit("MNE") == "MNE (A·m)"
    assert map_unit("coherence_welch_map") == "coherence (0–1)"


def test_maximum_path_follows_core_dynamics(view):
    from core.sources.dynamics import cycle_maxima
    from gui.sources.max_path import MaximumPath

    sfreq, freq = 200.0, 12.5  # 16 samples per cycle
    rng = np.random.default_rng(3)
    n_src = view.surface.n_sources
    tc = rng.standard_normal((n_src, 160)) * 0.1
    peaks = [5, 2600, 1200, 4000, 77, 3000, 10, 4500, 2000, 100]
    for k, s in enumerate(peaks):
        tc[s, k * 16:(k + 1) * 16] = 5.0
    maxima = cycle_maxima(tc, sfreq, freq)
    np.testing.assert_array_equal(maxima, peaks)
    path = MaximumPath(view)
    path.set_path(maxima, 16)
    surf = view.surface
    expected = [surf.hemis[h][0][v] for h, v in map(surf.vertex_of_source, peaks)]
    np.testing.assert_allclose(path.positions, expected)
    np.testing.assert_allclose(np.asarray(path._points.points), expected)
    np.testing.assert_allclose(np.asarray(path._line.points), expected)
    before = view.image()
    path.set_frame(16 * 3 + 5)
    assert path.cycle == 3 and path.current_source == 4000
    np.testing.assert_allclose(np.asarray(path._current.points)[0], expected[3])
    path.set_frame(10_000)  # past the end: the last cycle
    assert path.cycle == len(peaks) - 1
    # drawn: green pixels of the current maximum in the picture
    img = view.image().astype(int)
    green = (img[..., 1] > 150) & (img[..., 0] < 80) & (img[..., 2] < 120)
    assert green.sum() > 20
    assert np.abs(img - before).mean() > 0.01
    path.set_path(maxima[:4], 16)  # another spindle: fewer cycles
    assert path._points.n_points == path._points.n_verts == 4
    np.testing.assert_allclose(np.asarray(path._line.points), expected[:4])
    assert path.cycle == 0 and path.current_source == peaks[0]
    path.set_path(None)
    assert not path.visible and path.current_source is None


def test_movie_frames_hold_the_bar_and_the_moving_maximum(view, tmp_path):
    """Exported movie frames carry the bar, and the highlighted maximum
    moves with the frames."""
    from PIL import Image

    from core.utils import run_with_progress
    from gui.sources.max_path import MaximumPath
    from gui.sources.movie_export import iter_export_movie

    n = view.surface.n_sources
    view.set_clim(0.0, 1.0)
    path = MaximumPath(view)
    path.set_path(np.array([100, 900, 1500]), 2)
    shown = []

    def set_frame(f):
        view.set_values(np.full(n, f / 6.0))
        path.set_frame(f)
        shown.append(path.current_source)

    gif = run_with_progress(iter_export_movie([view], set_frame, range(6),
                                              tmp_path / "m.gif", fps=5))
    assert shown == [100, 100, 900, 900, 1500, 1500]
    movie = Image.open(gif)
    assert movie.n_frames == 6
    for k in (0, 5):
        movie.seek(k)
        assert_colorbar_shown(view, np.asarray(movie.convert("RGB")))
