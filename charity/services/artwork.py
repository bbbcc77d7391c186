"""Abstract pictures drawn with Pillow: the demo's covers, and a poster's picture when a
campaign has no cover (issue 17 point 9).

Abstract only: soft hills, a sun and a few circles in each cause's colours. No people, no
photographs, nothing fetched. The same seed draws the same picture.
"""

from __future__ import annotations

import math
import random
import zlib

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter

SIZE = (1280, 720)
#: (sky top, sky bottom, hills, accent) per cause.
PALETTES = {
    "education": ((255, 236, 196), (255, 196, 140), (86, 148, 120), (232, 93, 63)),
    "health": ((214, 236, 246), (160, 206, 232), (70, 132, 168), (214, 72, 88)),
    "disaster": ((250, 220, 200), (236, 150, 120), (150, 84, 70), (255, 214, 102)),
    "elderly": ((246, 230, 214), (222, 186, 160), (140, 110, 90), (200, 80, 60)),
    "children": ((255, 240, 210), (255, 206, 170), (108, 170, 110), (70, 140, 220)),
    "environment": ((220, 244, 226), (168, 220, 180), (46, 120, 80), (250, 196, 70)),
}
DEFAULT_PALETTE = ((242, 226, 220), (222, 170, 160), (180, 35, 42), (255, 210, 120))


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def draw_cover(seed: str, cause: str) -> PILImage.Image:
    sky_top, sky_bottom, hills, accent = PALETTES.get(cause, DEFAULT_PALETTE)
    rng = random.Random(zlib.crc32(seed.encode()))  # noqa: S311 - shapes, not secrets
    width, height = SIZE
    picture = PILImage.new("RGB", SIZE)
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=_mix(sky_top, sky_bottom, y / height))
    sun_x, sun_y, radius = rng.randint(200, 1080), rng.randint(120, 260), rng.randint(70, 110)
    draw.ellipse([sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius], fill=accent)
    overlay = PILImage.new("RGBA", SIZE, (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    for _ in range(6):
        x, y, r = rng.randint(0, width), rng.randint(0, height // 2), rng.randint(30, 90)
        shapes.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255, 70))
    picture.paste(overlay, (0, 0), overlay)
    for layer in range(3):
        colour = _mix(hills, sky_bottom, 0.55 - layer * 0.25)
        base = height * (0.58 + layer * 0.13)
        phase, amplitude = rng.random() * 6.28, 30 + layer * 12
        points = [(0, height)]
        for x in range(0, width + 40, 40):
            wave = amplitude * (
                0.6 * math.sin(x / 210 + phase) + 0.4 * math.sin(x / 97 + phase * 2)
            )
            points.append((x, round(base + wave)))
        points.append((width, height))
        draw.polygon(points, fill=colour)
    return picture.filter(ImageFilter.GaussianBlur(1.2))
