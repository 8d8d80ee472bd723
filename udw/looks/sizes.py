"""Image sizes for SD1: an aspect ratio on a grid of multiples of 64 near a pixel budget."""

from __future__ import annotations

SD1_PIXELS = 512 * 512


def size_for_aspect(aspect: float, pixels: int = SD1_PIXELS, multiple: int = 64,
                    tolerance: float = 0.15) -> tuple[int, int]:
    """The (width, height) on the `multiple` grid closest to `aspect` with a pixel count within
    `tolerance` of `pixels` (closest pixel count breaks ties). 16:9 at SD1's 512x512 gives 704x384."""
    best = None
    for h in range(multiple, 4096 + 1, multiple):
        for w in range(multiple, 4096 + 1, multiple):
            area = w * h
            if abs(area - pixels) > tolerance * pixels:
                continue
            score = (abs(w / h - aspect) / aspect, abs(area - pixels) / pixels)
            if best is None or score < best[0]:
                best = (score, (w, h))
    if best is None:
        raise ValueError(f"no {multiple}-multiple size within {tolerance:.0%} of {pixels} pixels")
    return best[1]
