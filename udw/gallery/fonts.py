"""A readable font without shipping one: a system TrueType font if present, else PIL's own."""

from __future__ import annotations

import functools

from PIL import ImageFont

_CANDIDATES = (
    "DejaVuSans.ttf",  # PIL finds it by name on most Linux systems
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "Arial.ttf", "arial.ttf",
    "/System/Library/Fonts/Helvetica.ttc",
)


@functools.lru_cache(maxsize=16)
def ui_font(size: int = 14) -> ImageFont.ImageFont:
    for name in _CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 scales its built-in font
    except TypeError:
        return ImageFont.load_default()
