"""Crop matching, used only when the user asks for it (VerifySettings.allow_crops).

A crop of a larger picture shows part of it at a larger scale. `find_crop` tries each picture as
the crop of the other: the smaller view is shrunk over a range of scales and slid over the larger
one by normalised cross-correlation; the best place above a correlation floor gives the window of
the larger picture that the verifier then compares like any other pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from .align import luma

SCALES = np.geomspace(0.35, 0.97, 14)     # crop side / full side tried
MIN_CORRELATION = 0.6


@dataclass(frozen=True)
class Crop:
    big: np.ndarray          # the matching window of the larger picture (thumb pixels)
    small: np.ndarray        # the crop itself
    share: float             # the crop's side as a share of the larger picture's
    swapped: bool            # True: the first picture is the crop

    def describe(self) -> str:
        who = "the first" if self.swapped else "the second"
        return f"{who} picture is a crop ({100 * self.share:.0f}% of the side) of the other"


def _search(big: np.ndarray, small: np.ndarray) -> Optional[tuple[float, float, tuple[int, int, int, int]]]:
    """(correlation, scale, window x0, y0, x1, y1 in big) of the best placement of `small`."""
    hb, wb = big.shape[:2]
    hs, ws = small.shape[:2]
    g_big, g_small = luma(big), luma(small)
    best = None
    for s in SCALES:
        # The crop shows s of the big picture's width: shrink it to that many big-picture pixels.
        w = int(round(wb * s))
        h = int(round(w * hs / ws))
        if w < 16 or h < 16 or w > wb or h > hb:
            continue
        tpl = cv2.resize(g_small, (w, h), interpolation=cv2.INTER_AREA)
        if tpl.std() < 1.0:
            continue
        res = cv2.matchTemplate(g_big, tpl, cv2.TM_CCOEFF_NORMED)
        _, peak, _, (x, y) = cv2.minMaxLoc(res)
        if best is None or peak > best[0]:
            best = (float(peak), float(s), (x, y, x + w, y + h))
    return best


def find_crop(a: np.ndarray, b: np.ndarray) -> Optional[Crop]:
    """The crop relation between two thumbnails, or None when neither is a crop of the other
    (nearly the same framing is left to the ordinary alignment)."""
    found = []
    for swapped, big, small in ((False, a, b), (True, b, a)):
        hit = _search(big, small)
        if hit and hit[0] >= MIN_CORRELATION:
            found.append((hit, swapped, big, small))
    if not found:
        return None
    (peak, share, (x0, y0, x1, y1)), swapped, big, small = max(found, key=lambda f: f[0][0])
    if share > 0.95:
        return None
    window = big[y0:y1, x0:x1]
    return Crop(window, small, share, swapped)
