"""Scoring detections against ground-truth boxes (the sample episodes' truth, hand labels).

Greedy one-to-one matching by IoU, best pairs first; a detection matches at most one truth box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from .geometry import iou

Box = Sequence[float]


def match(truth: Sequence[Box], found: Sequence[Box], min_iou: float = 0.3) -> list[tuple[int, int, float]]:
    """[(truth index, found index, IoU)] for the matched pairs."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True)
    used_t, used_f, out = set(), set(), []
    for v, i, j in pairs:
        if v < min_iou:
            break
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            out.append((i, j, v))
    return sorted(out)


@dataclass
class Score:
    truth: int = 0
    found: int = 0
    matched: int = 0
    ious: list[float] = field(default_factory=list)
    images: int = 0
    counts_right: int = 0
    buckets_right: int = 0
    buckets_compared: int = 0
    characters_right: int = 0

    def add(self, truth: Sequence[Box], found: Sequence[Box], min_iou: float = 0.3,
            buckets: Optional[tuple[Optional[str], Optional[str]]] = None) -> list[tuple[int, int, float]]:
        pairs = match(truth, found, min_iou)
        self.truth += len(truth)
        self.found += len(found)
        self.matched += len(pairs)
        self.ious += [v for *_, v in pairs]
        self.images += 1
        self.counts_right += len(truth) == len(found)
        if buckets is not None and truth:
            self.buckets_compared += 1
            self.buckets_right += buckets[0] == buckets[1]
        return pairs

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def mean_iou(self) -> float:
        return sum(self.ious) / len(self.ious) if self.ious else 0.0

    def summary(self) -> str:
        text = (f"faces: recall {self.recall:.3f} ({self.matched}/{self.truth}), precision {self.precision:.3f}, "
                f"mean IoU {self.mean_iou:.3f}; counts right in {self.counts_right}/{self.images} images")
        if self.buckets_compared:
            text += f"; buckets right in {self.buckets_right}/{self.buckets_compared}"
        if self.characters_right:
            text += f"; characters right for {self.characters_right}/{self.matched} matched faces"
        return text
