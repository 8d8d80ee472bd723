"""Streaming near-duplicate removal: is this decoded frame a copy of a recently kept one?

A near-duplicate of a kept frame shows the same drawing, possibly slid a little (a slow pan) or
with a blink or a mouth flap; another expression, outfit colour, hand, arm or head angle is a
different drawing (issue 14). So the test aligns, then decides on local colour evidence:

1. each candidate gets a cheap signature from its luma plane: the shared `grey_thumb` (32x32,
   zero-mean, unit norm: dot products are correlations) and a 128x128 grey picture;
2. the kept frames of the window whose thumbs correlate best (at least `PREFILTER`) are aligned
   with the candidate by phase correlation on the grey pictures; a shift over `max_shift` of the
   frame width (default 1/80: 8 px at 640) reveals new picture: not a copy;
3. grey screen: once aligned, at most `max_change` of the picture may have changed (by more than
   `CHANGE_LEVEL` grey levels, with a tolerance for layers sliding by different amounts);
4. colour check (with a `ColourCheck`): the candidate's colour thumbnail, shifted back, is held
   against the kept one block by block (`udw.dedupe.verify.block_residual`: each pixel's distance
   outside the other picture's 3x3 range, per channel, averaged over 4x4 blocks); the largest block
   must stay under the verifier's calibrated limit. A change confined to one small spot or to a
   pair of spots side by side (a mouth flap, a blink) still merges unless `keep_flaps`.
Step 3 alone is the old rule; it merged acting changes (coverage 0.74): step 4 keeps them.
Flat frames (black, white, one colour) have no shape: they match by mean brightness.
Memory is `window` signatures (~17 KiB each, ~110 KiB with the colour thumbnail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..dedupe.signatures import grey_thumb, phash
from .colour import ColourCheck

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

THUMB = 32
FLAT_TOLERANCE = 6.0   # grey levels
PREFILTER = 0.5        # thumb correlation below which frames are not even aligned
TOP_K = 3              # kept frames aligned per candidate
CHANGE_LEVEL = 24      # grey levels that count as a changed pixel after alignment
SHIFT_SLACK = 0.75     # frame pixels of estimation error allowed on the shift limit


@dataclass
class Signature:
    thumb: np.ndarray  # (THUMB*THUMB,) float32, zero-mean, unit norm (all zero when flat)
    mean: float        # mean brightness 0..255 of the source luma
    phash: np.uint64
    grey: Optional[np.ndarray] = None  # the small grey picture, for alignment
    # the colour thumbnail for the colour check, made on first use (most candidates never need it)
    colour_fn: Optional[Callable[[], np.ndarray]] = field(default=None, repr=False, compare=False)
    _colour: Optional[np.ndarray] = field(default=None, repr=False, compare=False)

    @property
    def flat(self) -> bool:
        return not self.thumb.any()

    def colour(self) -> Optional[np.ndarray]:
        if self._colour is None and self.colour_fn is not None:
            self._colour, self.colour_fn = self.colour_fn(), None
        return self._colour


def signature(grey: np.ndarray, colour_fn: Optional[Callable[[], np.ndarray]] = None) -> Signature:
    """Signature of a small grey picture (uint8), e.g. `frames.thumb_source(luma)`; `colour_fn`
    makes the colour thumbnail (HxWx3 uint8, `colour.COLOUR_SIDE` on the long side) when asked."""
    g = grey.astype(np.float32)
    return Signature(grey_thumb(g, THUMB), float(g.mean()), phash(grey), grey, colour_fn)


class RecentKept:
    """The last `window` kept signatures; `match` finds one the candidate near-duplicates.

    `frame_size` (width, height) converts shifts measured on the grey pictures to frame pixels.
    """

    def __init__(self, window: int, max_shift: float, max_change: float, frame_size: tuple[int, int],
                 colour: Optional[ColourCheck] = None):
        self.window = max(1, int(window))
        self.max_shift = float(max_shift)
        self.max_change = float(max_change)
        self.frame_size = frame_size
        self.colour = colour
        self.thumbs = np.zeros((self.window, THUMB * THUMB), np.float32)
        self.means = np.full(self.window, np.nan, np.float32)
        self.greys: list[Optional[np.ndarray]] = [None] * self.window
        self.sigs: list[Optional[Signature]] = [None] * self.window
        self.refs: list[object] = [None] * self.window
        self.n = 0

    def add(self, sig: Signature, ref: object) -> None:
        slot = self.n % self.window
        self.thumbs[slot] = sig.thumb
        self.means[slot] = sig.mean
        self.greys[slot] = sig.grey
        if self.colour is not None and not sig.flat:
            sig.colour()  # made now, so the window never holds on to a decoded frame
        self.sigs[slot] = sig
        self.refs[slot] = ref
        self.n += 1

    def _reach(self, gw: int, gh: int) -> tuple[int, int]:
        """The shift allowance in grey-picture pixels (at least one)."""
        limit = self.max_shift * self.frame_size[0]
        return (max(1, round(limit * gw / self.frame_size[0])), max(1, round(limit * gh / self.frame_size[1])))

    def match(self, sig: Signature) -> Optional[tuple[object, float]]:
        """(ref, changed fraction) of a kept frame that `sig` near-duplicates, else None."""
        used = min(self.n, self.window)
        if used == 0:
            return None
        if sig.flat:
            found = flat_match(self.thumbs[:used], self.means[:used], sig)
            return (self.refs[found], 0.0) if found is not None else None
        sims = self.thumbs[:used] @ sig.thumb
        for i in np.argsort(-sims)[:TOP_K]:
            if sims[i] < PREFILTER or self.greys[i] is None or sig.grey is None:
                break
            gh, gw = sig.grey.shape
            dx, dy, change = aligned_change(self.greys[i], sig.grey, self._reach(gw, gh))
            shift = max(abs(dx) * self.frame_size[0] / gw, abs(dy) * self.frame_size[1] / gh)  # frame px
            if shift > self.max_shift * self.frame_size[0] + SHIFT_SLACK:
                continue
            if self.colour is None:
                if change <= self.max_change:
                    return self.refs[i], change
                continue
            if self.colour.same_drawing(self.sigs[i], sig, dx / gw, dy / gh, change, self.max_change, self.max_shift):
                return self.refs[i], change
        return None


def aligned_change(kept: np.ndarray, cand: np.ndarray, reach: tuple[int, int] = (2, 2)) -> tuple[float, float, float]:
    """(dx, dy, changed fraction) of the candidate against the kept picture.

    The dominant shift (in grey-picture pixels) comes from phase correlation. Once it is undone,
    a pixel counts as changed when its value lies outside the range the other picture takes within
    `reach` (x, y) pixels around it, by more than CHANGE_LEVEL, checked both ways (what appeared
    and what vanished). So layers that slid by different small amounts (a background panning behind
    characters that the camera follows) are not changes, while a moved arm or a new drawing is.
    """
    a, b = kept.astype(np.float32), cand.astype(np.float32)
    h, w = a.shape
    if cv2 is None:  # pragma: no cover - no alignment without OpenCV: compare in place
        return 0.0, 0.0, float((np.abs(a - b) > CHANGE_LEVEL).mean())
    (dx, dy), _ = cv2.phaseCorrelate(a, b, _hanning(w, h))
    moved = cv2.warpAffine(b, np.float32([[1, 0, -dx], [0, 1, -dy]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
    kernel = np.ones((2 * reach[1] + 1, 2 * reach[0] + 1), np.uint8)
    m = int(min(max(abs(dx), abs(dy)) + max(reach) + 1, min(w, h) // 4))  # uncovered border: not a change
    inner = (slice(m, h - m), slice(m, w - m))
    changed = 0.0
    for x, y in ((a, moved), (moved, a)):  # pixels of y not found near the same place in x
        low = cv2.erode(x, kernel) - CHANGE_LEVEL
        high = cv2.dilate(x, kernel) + CHANGE_LEVEL
        out = ((y < low) | (y > high))[inner]
        changed = max(changed, float(np.count_nonzero(out)) / max(1, out.size))
    return float(dx), float(dy), changed


_HANN: dict = {}


def _hanning(w: int, h: int) -> np.ndarray:
    if (w, h) not in _HANN:
        _HANN[(w, h)] = cv2.createHanningWindow((w, h), cv2.CV_32F)
    return _HANN[(w, h)]


def flat_match(thumbs: np.ndarray, means: np.ndarray, sig: Signature) -> Optional[int]:
    """Row of the flat frame closest in brightness to flat `sig`, if within FLAT_TOLERANCE."""
    close = ~thumbs.any(axis=1) & (np.abs(means - sig.mean) <= FLAT_TOLERANCE)
    if not close.any():
        return None
    return int(np.argmin(np.where(close, np.abs(means - sig.mean), np.inf)))


def best_match(thumbs: np.ndarray, means: np.ndarray, sig: Signature, threshold: float,
               ref_of) -> Optional[tuple[object, float]]:
    """Best row of `thumbs` (n, d) correlating with `sig` at `threshold` or more (flat: by brightness)."""
    if sig.flat:
        i = flat_match(thumbs, means, sig)
        return (ref_of(i), 1.0) if i is not None else None
    sims = thumbs @ sig.thumb
    i = int(np.argmax(sims))
    if float(sims[i]) >= threshold:
        return ref_of(i), float(sims[i])
    return None
