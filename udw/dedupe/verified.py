"""Candidate pairs judged by the pair verifier, lazily and with a record of every decision.

Clustering asks `Checker(a, b)` only for the pairs it would act on (direct linkage: a later
picture against already-kept ones, most similar first, stopping at the first copy), so a large
cluster of copies costs about one verification per picture, not one per pair. Features are
fetched per row when first needed (from the manifest or from memory) and kept in a bounded
cache. The checker remembers why each merged row was merged and the closest pairs it kept apart,
for the report, the preview and the manifest.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Optional

from .verify import Features, PairVerifier, Verdict

CACHE = 4096          # decoded features kept (about 110 KB each)


@dataclass
class Checker:
    verifier: PairVerifier
    fetch: Callable[[int], bytes]            # row -> stored features
    closest: int = 12                        # kept-apart pairs remembered for the report
    merged: dict = field(default_factory=dict)       # row -> (survivor row, Verdict)
    apart: list = field(default_factory=list)        # heap of (-margin... ) see _remember
    checked: int = 0
    copies: int = 0
    failed: int = 0
    _cache: OrderedDict = field(default_factory=OrderedDict)

    def features(self, row: int) -> Optional[Features]:
        hit = self._cache.get(row)
        if hit is not None:
            self._cache.move_to_end(row)
            return hit
        data = self.fetch(row)
        feat = Features.from_bytes(data) if data else None
        self._cache[row] = feat
        if len(self._cache) > CACHE:
            self._cache.popitem(last=False)
        return feat

    def verdict(self, kept: int, other: int) -> Optional[Verdict]:
        fa, fb = self.features(kept), self.features(other)
        if fa is None or fb is None:
            return None
        return self.verifier.verdict(fa, fb)

    def __call__(self, other: int, kept: int) -> bool:
        """Is row `other` a copy of the kept row `kept`? (records the decision)"""
        self.checked += 1
        v = self.verdict(kept, other)
        if v is None:  # no features (an old manifest row): fall back to the signature's word
            self.failed += 1
            return True
        if v.duplicate:
            self.copies += 1
            self.merged[other] = (kept, v)
        else:
            self._remember(kept, other, v)
        return v.duplicate

    def _remember(self, a: int, b: int, v: Verdict) -> None:
        """Keep the `closest` kept-apart pairs with the smallest margin (closest calls)."""
        item = (-v.margin, a, b, v)
        if len(self.apart) < self.closest:
            heapq.heappush(self.apart, item)
        elif item[0] > self.apart[0][0]:
            heapq.heapreplace(self.apart, item)

    def kept_apart(self) -> list[tuple[int, int, Verdict]]:
        """The closest pairs kept apart, closest first."""
        return [(a, b, v) for _, a, b, v in sorted(self.apart, key=lambda t: -t[0])]

    def stats(self) -> dict:
        return {"verified": self.checked, "verified_copies": self.copies,
                "kept_apart": self.checked - self.copies - self.failed, "without_features": self.failed}


IDENTICAL = Verdict(True, "identical signature", 0.0, 0.0,
                    "a copy: its signatures equal the kept picture's (a re-save or an exact copy)")


def why_removed(checker: Optional[Checker], rep_of, row: int) -> Optional[Verdict]:
    """The verdict that removed `row`: its own merge, or its identical group's representative's."""
    node = int(rep_of[row])
    if checker is not None and node in checker.merged:
        return checker.merged[node][1] if node == row else IDENTICAL
    return IDENTICAL if node != row else None


def short(v: Verdict) -> str:
    """A label that fits under a preview cell: signal value vs threshold."""
    sign = "<=" if v.duplicate else ">"
    if v.signal == "identical signature":
        return "identical"
    return f"{v.signal.split()[0]} {v.value:.1f}{sign}{v.threshold:.1f}"


def as_record(v: Verdict) -> dict:
    return {"signal": v.signal, "value": round(v.value, 3), "threshold": round(v.threshold, 3), "reason": v.reason}
