"""Grouping faces no reference matched into unknown_1, unknown_2, ... (noise -> others).

scikit-learn's DBSCAN (eps = the embedder's threshold, on the CCIP difference) or OPTICS
(density-ordered, finds groups of uneven density). Groups are numbered by size, largest first.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..core.packages import require
from .embed import difference

METHODS = ("dbscan", "optics", "none")
NOISE = "others"


def cluster_unknowns(emb: np.ndarray, method: str = "dbscan", eps: float = 0.12, min_samples: int = 3,
                     prefix: str = "unknown_") -> list[str]:
    """One label per row: 'unknown_k' for a group, 'others' for noise (or when method is 'none')."""
    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; use one of {METHODS}")
    n = len(emb)
    if n == 0:
        return []
    if method == "none" or n < min_samples:
        return [NOISE] * n
    dist = difference(emb, emb).astype(np.float64)
    np.fill_diagonal(dist, 0.0)
    labels = _fit(dist, method, eps, min_samples)
    sizes = {lab: int((labels == lab).sum()) for lab in set(labels.tolist()) if lab >= 0}
    order = {lab: k + 1 for k, lab in enumerate(sorted(sizes, key=lambda x: (-sizes[x], x)))}
    return [f"{prefix}{order[lab]}" if lab >= 0 else NOISE for lab in labels.tolist()]


def _fit(dist: np.ndarray, method: str, eps: float, min_samples: int) -> np.ndarray:
    cluster = require("sklearn.cluster", "scikit-learn", "grouping unknown characters")
    if method == "dbscan":
        return cluster.DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit(dist).labels_
    return cluster.OPTICS(min_samples=min_samples, max_eps=max(eps * 2, eps), metric="precomputed",
                  cluster_method="dbscan", eps=eps).fit(dist).labels_


def assign(diff: np.ndarray, ref_names: list[str], threshold: float,
           per_image: Optional[list[int]] = None) -> tuple[list[Optional[str]], list[float]]:
    """Nearest named character per face (difference <= threshold), each name at most once per image.

    diff: (faces, refs) differences. per_image: the image index of each face (for the once-per-image
    rule; faces of one image are resolved best match first). Returns (name or None, difference).
    """
    names = sorted(set(ref_names))
    if not names or diff.size == 0:
        return [None] * diff.shape[0], [1.0] * diff.shape[0]
    cols = np.array([[ref_names[j] == nm for j in range(len(ref_names))] for nm in names])
    best = np.stack([np.where(c, diff, np.inf).min(axis=1) for c in cols], axis=1)  # (faces, names)
    out: list[Optional[str]] = [None] * diff.shape[0]
    score = [float(best[i].min()) for i in range(diff.shape[0])]
    groups: dict[int, list[int]] = {}
    for i in range(diff.shape[0]):
        groups.setdefault(per_image[i] if per_image is not None else i, []).append(i)
    for faces in groups.values():
        pairs = sorted((best[i, k], i, k) for i in faces for k in range(len(names)) if best[i, k] <= threshold)
        used_face, used_name = set(), set()
        for d, i, k in pairs:
            if i not in used_face and k not in used_name:
                out[i], score[i] = names[k], float(d)
                used_face.add(i)
                used_name.add(k)
    return out, score
