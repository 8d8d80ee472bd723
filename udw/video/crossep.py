"""Openings and endings shared by the episodes of one run.

Episodes of a series repeat the same opening and ending (usually in the first and last thirds).
After each episode, the signatures of its kept frames in those thirds (stored in the manifest)
join this index; a later episode's frame in its own first or last third that matches one of them
is a cross-episode duplicate. The index holds 16x16 thumbs (1 KiB per frame), so its size grows
with the number of episodes' opening/ending frames, not with anything held per video.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Optional

import numpy as np

from .neardup import THUMB, Signature, best_match

SMALL = 16
THUMB_KIND = "thumb32"


def small_thumb(thumb: np.ndarray) -> np.ndarray:
    """32x32 unit thumb -> 16x16 unit thumb (2x2 means, renormalised; zero stays zero)."""
    t = thumb.reshape(THUMB, THUMB).reshape(SMALL, 2, SMALL, 2).mean(axis=(1, 3)).ravel()
    t = t - t.mean()
    norm = float(np.linalg.norm(t))
    return (t / norm if norm > 1e-6 else np.zeros_like(t)).astype(np.float32)


def in_thirds(pts: float, duration: Optional[float]) -> bool:
    """In the first or last third of the episode (everything, when the length is unknown)."""
    if not duration or duration <= 0:
        return True
    return pts < duration / 3 or pts > 2 * duration / 3


class CrossEpisodeIndex:
    def __init__(self, threshold: float):
        self.threshold = threshold
        self.thumbs = np.zeros((0, SMALL * SMALL), np.float32)
        self.means = np.zeros(0, np.float32)
        self.ids = np.zeros(0, np.int64)
        self.sources: set[int] = set()

    def __len__(self) -> int:
        return len(self.ids)

    def add_source(self, conn: sqlite3.Connection, source_id: int) -> int:
        """Add the kept frames in the thirds of a finished source; returns how many."""
        if source_id in self.sources:
            return 0
        self.sources.add(source_id)
        info = conn.execute("SELECT info FROM sources WHERE id=?", (source_id,)).fetchone()
        duration = (json.loads(info[0] or "{}") if info else {}).get("duration")
        rows = conn.execute(
            "SELECT i.id, i.pts, i.extra, s.data FROM items i JOIN signatures s ON s.item_id=i.id "
            "AND s.kind=? WHERE i.source_id=? AND i.status='active' AND i.kind='frame' ORDER BY i.id",
            (THUMB_KIND, source_id)).fetchall()
        thumbs, means, ids = [], [], []
        for item_id, pts, extra, data in rows:
            if pts is None or not in_thirds(pts, duration):
                continue
            thumbs.append(small_thumb(np.frombuffer(data, np.float32)))
            means.append(json.loads(extra or "{}").get("luma", 0.0))
            ids.append(item_id)
        if ids:
            self.thumbs = np.concatenate([self.thumbs, np.stack(thumbs)])
            self.means = np.concatenate([self.means, np.asarray(means, np.float32)])
            self.ids = np.concatenate([self.ids, np.asarray(ids, np.int64)])
        return len(ids)

    def add(self, sig: Signature, item_id: int) -> None:
        """Add one frame's signature (for callers that keep frames outside a manifest)."""
        self.thumbs = np.concatenate([self.thumbs, small_thumb(sig.thumb)[None]])
        self.means = np.concatenate([self.means, np.float32([sig.mean])])
        self.ids = np.concatenate([self.ids, np.int64([item_id])])

    def match(self, sig: Signature) -> Optional[tuple[int, float]]:
        """(item id, similarity) of the best earlier-episode frame at or above the threshold."""
        if not len(self.ids):
            return None
        small = Signature(small_thumb(sig.thumb), sig.mean, sig.phash)
        found = best_match(self.thumbs, self.means, small, self.threshold, lambda i: int(self.ids[i]))
        return (int(found[0]), found[1]) if found else None
