"""The colour check of the streaming near-duplicate rule: same drawing, or a small acting change?

Two frames that the grey screen lets through (aligned shift within the limit, little changed) are
compared on colour thumbnails (`COLOUR_SIDE` on the long side, as the pair verifier's) block by
block, the way `udw.dedupe.verify` does: each pixel's distance outside the other picture's 3x3
range, averaged over 4x4 blocks, against `BLOCK_LIMIT`. Frames of one video are not rescaled nor
tone-shifted, so the verifier's scale and tone fit (~0.3 s a pair, too slow for every candidate
frame) are replaced by the shift the grey phase correlation found, and a check costs a few ms.
A change over the limit keeps the frame, except a change shaped like a mouth flap or a blink
(one small spot, a pair of eyes, a row of tiny spots) when flaps merge (the default).
`BLOCK_LIMIT`, `SPECK` and the spot sizes were set on the sample episodes (udw.samples, bench/
bench_frames_quality.py); the verifier's own limit is calibrated for its own residual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dedupe.verify import BLOCK, THUMB_SIDE

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

COLOUR_SIDE = THUMB_SIDE  # long side of the colour thumbnail: the verifier's
BLOCK_LIMIT = 9.0      # largest 4x4-block residual (grey levels) of a copy within one video
SURELY_CHANGED = 0.015 # grey share changed (aligned) over which no colour check is needed (flaps: <= 0.01)
LAYER_MAX = 0.05       # over this share left, no second layer is looked for (a new picture)
LAYER_SHARE = 0.01     # a second sliding layer must explain this share of the picture
SPECK = 0.001          # changed share of the picture too small to be a new drawing
BLUR = 0.8             # Gaussian sigma (thumbnail pixels) before the residual
MOUTH_SIDE = 0.1       # a single compact spot this small (short side share) is a mouth flap
EYE_SIDE = 0.15        # an eye of a blinking pair: at most this share of the short side
SPOT_TALL, SPOT_WIDE = 0.05, 0.15  # one changed spot this small (short/long side shares) is a flap
ROW_TALL, ROW_SPOT_WIDE = 0.1, 0.08  # tiny spots in a row this tall: small faces blinking


@dataclass(frozen=True)
class ColourCheck:
    strictness: float = 1.0   # divides the verifier's block limit (2: keeps more frames apart)
    keep_flaps: bool = False  # True keeps blinks and mouth flaps as different drawings

    @property
    def limit(self) -> float:
        return BLOCK_LIMIT / self.strictness

    def same_drawing(self, kept, cand, fx: float, fy: float, grey_change: float, max_change: float,
                     max_shift: float = 0.0) -> bool:
        """Is `cand` (a Signature) a copy of `kept`, given the aligned shift (fx, fy) as shares of
        the size, the grey screen's changed share and the slide limit (a share of the width)?"""
        if grey_change > max(SURELY_CHANGED, max_change):
            return False
        a, b = kept.colour(), cand.colour()
        if a is None or b is None or a.shape != b.shape:
            return grey_change <= max_change
        over = self.changed_blocks(a, b, fx, fy, max_shift)
        if not over.any():
            return True
        if self.keep_flaps:
            return False
        return np.count_nonzero(over) <= SPECK * over.size or flap_like(over)

    def changed_blocks(self, a: np.ndarray, b: np.ndarray, fx: float, fy: float, reach: float = 0.0) -> np.ndarray:
        """Mask of the thumbnail's pixels whose 4x4 block residual exceeds the limit, each pixel
        taking the best of the aligned shift (fx, fy) (shares of the size), no shift and, when a
        little is left over, the one whole-pixel slide along the aligned shift, up to `reach` (a
        share of the width), that fits clearly better on at least `LAYER_SHARE` of the picture:
        a camera following characters slides the background only, and phase correlation finds
        a blend of the two motions. Thin lines are opened away."""
        h, w = a.shape[:2]
        # a light blur first: an odd shift moves 4:2:0 chroma fringes and sub-pixel lines, which
        # would otherwise read as change along every edge of a panned cel
        a_s = cv2.GaussianBlur(a, (0, 0), BLUR)
        b_s = cv2.GaussianBlur(b, (0, 0), BLUR)
        dx, dy = fx * w, fy * h
        first = self._residual(a_s, b_s, 0.0, 0.0)
        if abs(dx) >= 0.25 or abs(dy) >= 0.25:
            first = np.minimum(first, self._residual(a_s, b_s, dx, dy))
        over = self._over(first)
        left, r = np.count_nonzero(over), int(np.ceil(reach * w))
        if left <= SPECK * h * w or left > LAYER_MAX * h * w or not r or max(abs(dx), abs(dy)) < 0.5:
            return over
        best, most = None, LAYER_SHARE * h * w
        sign = 1 if (dx if abs(dx) >= abs(dy) else dy) >= 0 else -1
        for k in range(1, r + 1):
            slide = (sign * float(k), 0.0) if abs(dx) >= abs(dy) else (0.0, sign * float(k))
            here = self._residual(a_s, b_s, *slide)
            better = np.count_nonzero(here.astype(np.int16) + int(self.limit) < first)
            if better >= most:
                best, most = here, better
        return over if best is None else self._over(np.minimum(first, best))

    def _residual(self, a_s: np.ndarray, b_s: np.ndarray, dx: float, dy: float) -> np.ndarray:
        """Per-pixel colour residual of `b_s` slid back by (dx, dy) pixels (border: zero)."""
        h, w = a_s.shape[:2]
        moved = b_s if dx == dy == 0 else cv2.warpAffine(
            b_s, np.float32([[1, 0, -dx], [0, 1, -dy]]), (w, h), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE)
        here = pixel_residual(a_s, moved)
        m = int(np.ceil(max(abs(dx), abs(dy))))
        if m:  # the uncovered border is evidence of nothing
            here[:m], here[h - m:], here[:, :m], here[:, w - m:] = 0, 0, 0, 0
        return here

    def _over(self, residual: np.ndarray) -> np.ndarray:
        blocks = cv2.blur(residual.astype(np.float32), (BLOCK, BLOCK), borderType=cv2.BORDER_CONSTANT)
        over = (blocks > self.limit).astype(np.uint8)
        return cv2.morphologyEx(over, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def pixel_residual(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How far each pixel lies outside the other picture's 3x3 range, both ways, largest over the
    RGB channels: the pair verifier's first residual (before its luma/chroma split and edge
    allowance, which frames of one video do not need), in saturating uint8 arithmetic (~1 ms:
    this runs on candidate frames while decoding)."""
    k = np.ones((3, 3), np.uint8)
    out = cv2.max(cv2.max(cv2.subtract(a, cv2.dilate(b, k)), cv2.subtract(cv2.erode(b, k), a)),
                  cv2.max(cv2.subtract(b, cv2.dilate(a, k)), cv2.subtract(cv2.erode(a, k), b)))
    return cv2.max(cv2.max(out[..., 0], out[..., 1]), out[..., 2])


def flap_like(changed: np.ndarray) -> bool:
    """A change that is blinks or mouth flaps of one drawing, with no faces known: one small spot,
    two spots of one size side by side (a pair of eyes), or a row of tiny spots (the small faces
    of a wide shot blinking). A moved hand or arm, another outfit or a turned head changes a
    larger or other-shaped region. (A new expression of a face smaller than about a fifth of the
    frame height looks like this too: faces known to the verifier decide those.)"""
    h, w = changed.shape
    short, long = min(h, w), max(h, w)
    n, _, stats, centres = cv2.connectedComponentsWithStats(changed.astype(np.uint8), connectivity=8)
    spots, centres = stats[1:, :4], centres[1:]
    if len(spots) == 0:
        return True
    tiny = (spots[:, 3] <= SPOT_TALL * short) & (spots[:, 2] <= SPOT_WIDE * long)
    if len(spots) == 1:  # a mouth: small and compact
        return bool(tiny[0] or spots[0, 2:4].max() <= MOUTH_SIDE * short)
    if len(spots) == 2 and _eye_pair(spots, centres, EYE_SIDE * short):
        return True
    xs, ys = centres[:, 0], centres[:, 1]
    row = np.ptp(ys) <= ROW_TALL * short and np.ptp(xs) >= 3 * np.ptp(ys)  # side by side, not stacked
    return bool(tiny.all() and row and (spots[:, 2] <= ROW_SPOT_WIDE * long).all())


def _eye_pair(spots: np.ndarray, centres: np.ndarray, side: float) -> bool:
    (x1, _, w1, h1), (x2, _, w2, h2) = spots
    if max(w1, h1, w2, h2) > side or not 0.6 <= h1 / max(h2, 1) <= 1.67:
        return False
    level = abs(centres[0][1] - centres[1][1]) <= 0.5 * max(h1, h2)
    gap = max(x1, x2) - min(x1 + w1, x2 + w2)
    return bool(level and gap <= 3 * max(w1, w2))


def thumb_size(display: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the colour thumbnail of a picture of this display size."""
    w, h = display
    scale = min(1.0, COLOUR_SIDE / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))
