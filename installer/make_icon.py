"""Draw SpindleScope's icon (a sleep spindle on a dark disc) as PNG and ICO.

Run ``python installer/make_icon.py`` to redraw ``resources/icons/``; the
build scripts call it only when the icons are missing.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"


def draw(size: int = 256) -> Image.Image:
    """A waxing-waning 13 Hz burst, white on a blue disc."""
    scale = 4  # draw large, then downsample: cheap anti-aliasing
    n = size * scale
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pad = n // 32
    d.ellipse([pad, pad, n - pad, n - pad], fill=(28, 52, 110, 255))
    pts = []
    for i in range(401):
        x = i / 400
        env = math.exp(-((x - 0.5) ** 2) / (2 * 0.13 ** 2))
        y = 0.5 - 0.30 * env * math.sin(2 * math.pi * 6.5 * x)
        pts.append((n * (0.12 + 0.76 * x), n * y))
    d.line(pts, fill=(255, 255, 255, 255), width=max(2, n // 40), joint="curve")
    return img.resize((size, size), Image.LANCZOS)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    img = draw(256)
    img.save(OUT / "spindlescope.png")
    img.save(OUT / "spindlescope.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64),
                                              (128, 128), (256, 256)])
    print(f"icons written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
