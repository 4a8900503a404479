"""Export cortical movies (MP4 through imageio-ffmpeg, GIF through Pillow) and
snapshots of brain views."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from core.safe_io import write_via_temp
from core.utils import Progress, SpindleScopeError, atomic_write_bytes


def compose(images) -> np.ndarray:
    """Images side by side (padded to the tallest), array (h, w, 3) uint8."""
    h = max(im.shape[0] for im in images)
    padded = [np.pad(im[..., :3], ((0, h - im.shape[0]), (0, 0), (0, 0)),
                     constant_values=255) for im in images]
    return np.concatenate(padded, axis=1).astype(np.uint8)


def snapshot(views, path) -> Path:
    """Save the views side by side as one PNG (or any Pillow format)."""
    from PIL import Image

    path = Path(path)
    img = compose([v.image() for v in views])
    try:
        write_via_temp(path, lambda tmp: Image.fromarray(img).save(tmp))
    except (ValueError, OSError) as exc:
        raise SpindleScopeError(f"Cannot write the snapshot {str(path)!r} ({exc}).") \
            from exc
    return path


def iter_export_movie(views, set_frame, frames, path, fps: float = 10.0):
    """Generator writing a movie of ``views`` while ``set_frame(f)`` steps.

    Runs on the main thread (it renders the views): drive it with a timer or
    :func:`core.utils.run_with_progress`.

    Parameters
    ----------
    views : list of BrainView
    set_frame : callable
        Shows frame ``f`` in every view.
    frames : sequence of int
    path : path-like
        ``.mp4`` (H.264 through imageio-ffmpeg) or ``.gif``.
    fps : float

    Returns
    -------
    path : Path
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise SpindleScopeError(f"Movies are written as .mp4 or .gif, not "
                                f"{suffix or 'a file without extension'!r}.")
    frames = list(frames)
    if not frames:
        raise SpindleScopeError("There are no frames to export.")
    images = []
    writer = None
    # frames go to a private temporary file; the finished movie is put in
    # place atomically (a cancelled or killed export leaves no broken file)
    tmpdir = tempfile.TemporaryDirectory(prefix=".spindlescope-")
    tmp = Path(tmpdir.name) / path.name
    try:
        for k, f in enumerate(frames):
            yield Progress(k, len(frames), f"Frame {k + 1}/{len(frames)}")
            set_frame(f)
            img = compose([v.image() for v in views])
            h, w = img.shape[:2]
            img = img[: h - h % 2, : w - w % 2]  # H.264 needs even sizes
            if suffix == ".gif":
                images.append(img)
                continue
            if writer is None:
                import imageio_ffmpeg

                writer = imageio_ffmpeg.write_frames(
                    str(tmp), (img.shape[1], img.shape[0]), fps=fps,
                    codec="libx264", pix_fmt_out="yuv420p", macro_block_size=1,
                    quality=7)
                writer.send(None)
            writer.send(np.ascontiguousarray(img))
        if writer is not None:
            writer.close()
            writer = None
        if suffix == ".gif":
            from PIL import Image

            pics = [Image.fromarray(im) for im in images]
            pics[0].save(tmp, save_all=True, append_images=pics[1:],
                         duration=int(round(1000 / fps)), loop=0)
        atomic_write_bytes(path, tmp.read_bytes())
    finally:
        if writer is not None:
            writer.close()
        tmpdir.cleanup()
    yield Progress(len(frames), len(frames), f"Movie written to {path.name}")
    return path
