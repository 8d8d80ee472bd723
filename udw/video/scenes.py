"""Streaming scene-cut detection on the frame signatures: one number per frame, no look-ahead.

A cut is declared between two compared frames when their thumbs decorrelate (1 - correlation
above `threshold`) and by `margin` more than the recent motion did (an exponential average of the
same score), at least `min_gap` seconds after the previous cut: a whip pan (every frame scoring
0.4-0.75) does not split a shot, the hard cut after it (~1.0) still does. Flat frames (fades to black, white flashes) compare by brightness.
"""

from __future__ import annotations

from typing import Optional

from .neardup import Signature

FLAT_CUT = 24.0  # grey levels between a flat frame and another frame that count as a cut


class SceneCuts:
    def __init__(self, threshold: float = 0.5, margin: float = 0.3, min_gap: float = 0.3):
        self.threshold = threshold
        self.margin = margin
        self.min_gap = min_gap
        self.scene = 0
        self.prev: Optional[Signature] = None
        self.last_cut = float("-inf")
        self.motion = 0.0  # running average of the score inside the current shot

    def score(self, a: Signature, b: Signature) -> float:
        """0 for the same picture, about 1 for unrelated pictures (up to 2 for inverted ones)."""
        if a.flat or b.flat:
            if a.flat and b.flat:
                return 1.0 if abs(a.mean - b.mean) > FLAT_CUT * 2 else 0.0
            return 1.0 if abs(a.mean - b.mean) > FLAT_CUT else 0.0
        return 1.0 - float(a.thumb @ b.thumb)

    def update(self, sig: Signature, pts: float) -> tuple[int, bool]:
        """(scene id, whether a new scene starts here) for the next compared frame."""
        if self.prev is None:
            self.prev, self.last_cut = sig, pts
            return self.scene, True
        s = self.score(self.prev, sig)
        self.prev = sig
        cut = s > self.threshold and s - self.motion >= self.margin and pts - self.last_cut >= self.min_gap
        if cut:
            self.scene += 1
            self.last_cut = pts
            self.motion = 0.0
        else:
            self.motion = 0.8 * self.motion + 0.2 * s
        return self.scene, cut
