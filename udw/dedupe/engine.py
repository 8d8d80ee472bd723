"""From signatures to similar pairs: aspect buckets, identical copies, the index, verification.

1. Aspect-ratio buckets: rows sorted by log(width/height) are cut wherever two neighbours differ
   by more than the tolerance, so that every pair within the tolerance shares a bucket; pairs are
   searched per bucket and then checked pairwise against the tolerance.
2. Identical signatures (and flat single-colour pictures of nearly the same colour) are collapsed
   into groups; one representative per group is searched.
3. The index (search.join_vectors / join_hashes) returns verified pairs of representatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core.ports import Ports
from . import search
from .settings import DedupeSettings, hash_bits_for
from .signatures import STRUCTURE_CHROMA, STRUCTURE_LUMA

# The prefix of a structure signature that the LSH projections look at: the lowest luma and
# chroma frequencies (about two thirds of the energy of a typical frame).
STRUCTURE_INDEX = np.r_[0:48, STRUCTURE_LUMA:STRUCTURE_LUMA + 8,
                        STRUCTURE_LUMA + STRUCTURE_CHROMA:STRUCTURE_LUMA + STRUCTURE_CHROMA + 8]
FLAT_STEP = 8.0   # flat pictures whose mean colours fall in the same 8-level cell are copies


@dataclass
class Candidates:
    rep_of: np.ndarray            # (n,) index of each row's representative (itself if none)
    pairs: search.Pairs           # similar pairs of representatives, verified
    stats: dict = field(default_factory=dict)


class Similarity:
    """Exact similarity of rows, for verification and for reporting distances to survivors."""

    def __init__(self, method: str, data: np.ndarray):
        self.hash = method in ("phash", "dhash")
        self.data = np.ascontiguousarray(data, dtype=np.uint64) if self.hash else data

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
        if self.hash:
            return (1.0 - search.popcount64(self.data[i] ^ self.data[j]) / 64.0).astype(np.float32)
        return search.full_dot(self.data, i, j)


def aspect_buckets(width: np.ndarray, height: np.ndarray, tolerance: float) -> np.ndarray:
    """Bucket id per row: rows are cut into runs of log-aspect gaps <= log(1 + tolerance)."""
    la = np.log(np.maximum(width, 1) / np.maximum(height, 1))
    order = np.argsort(la, kind="stable")
    gaps = np.diff(la[order]) > math.log1p(tolerance) + 1e-9
    ids = np.empty(len(la), np.int64)
    ids[order] = np.r_[0, np.cumsum(gaps)] if len(la) else np.zeros(0, np.int64)
    return ids


def collapse(columns: list[np.ndarray], rows: Optional[np.ndarray] = None) -> np.ndarray:
    """Representative (first row) of each row's group of rows equal in every key column.

    `rows` (optional, n x d): the full data; a row is only merged when it really equals its
    representative there, so keys that merely collide never merge different rows.
    """
    n = len(columns[0])
    order = np.lexsort(columns[::-1])
    same = np.ones(max(n - 1, 0), bool)
    for col in columns:
        c = col[order]
        same &= c[1:] == c[:-1]
    start = np.r_[0, np.flatnonzero(~same) + 1]
    first_sorted = np.repeat(start, np.diff(np.r_[start, n]))
    rep = np.empty(n, np.int64)
    rep[order] = order[first_sorted]
    if rows is not None:
        moved = np.flatnonzero(rep != np.arange(n))
        differs = moved[np.any(rows[moved] != rows[rep[moved]], axis=1)]
        rep[differs] = differs
    return rep


def flat_rows(data: np.ndarray) -> np.ndarray:
    """Rows that are all zeros (flat pictures have no structure signature), in chunks."""
    return np.concatenate([~np.any(data[a:a + 65536] != 0, axis=1) for a in range(0, len(data), 65536)])


def _identical(method: str, data: np.ndarray, stats: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """rep_of for rows to collapse: equal signatures (or flat pictures of one colour cell) in the
    same aspect bucket."""
    if method in ("phash", "dhash"):
        return collapse([bucket, data.astype(np.uint64)])
    flat = flat_rows(data)
    planes = np.random.default_rng(7).standard_normal((data.shape[1], 2)).astype(np.float32)
    probe = np.concatenate([data[a:a + 65536].astype(np.float32) @ planes for a in range(0, len(data), 65536)])
    colour = np.where(flat[:, None], np.floor(stats[:, 3:6] / FLAT_STEP), -1).astype(np.int64)
    cols = [bucket, probe[:, 0].view(np.int32), probe[:, 1].view(np.int32), *colour.T]
    return collapse(cols, rows=data)


def index_view(method: str, x: np.ndarray, dims: int = 64, seed: int = 0) -> Optional[np.ndarray]:
    """The low-dimensional view the LSH tables project (None: the rows themselves)."""
    if method == "structure" and x.shape[1] > STRUCTURE_INDEX.max():
        return x[:, STRUCTURE_INDEX].astype(np.float32)
    if x.shape[1] <= 2 * dims:
        return None
    rng = np.random.default_rng(seed)  # embeddings: their main components (PCA on a sample)
    sample = x[np.sort(rng.choice(len(x), min(len(x), 20000), replace=False))].astype(np.float32)
    _, vecs = np.linalg.eigh(np.cov((sample - sample.mean(axis=0)).T))
    basis = np.ascontiguousarray(vecs[:, ::-1][:, :dims], dtype=np.float32)  # orthonormal columns
    return np.concatenate([x[a:a + 65536].astype(np.float32) @ basis for a in range(0, len(x), 65536)])


def find_similar(settings: DedupeSettings, data: np.ndarray, stats: np.ndarray,
                 ports: Optional[Ports] = None) -> Candidates:
    """Verified similar pairs among the rows of `data` (signatures of one kind) for `settings`."""
    ports = ports or Ports()
    s = settings.validated()
    n = len(data)
    if n == 0:
        return Candidates(np.zeros(0, np.int64), search.Pairs.empty(), {"searched": 0})
    bucket = aspect_buckets(stats[:, 1], stats[:, 2], s.aspect_tolerance)
    hashes = s.method in ("phash", "dhash")
    if hashes:
        codes = np.ascontiguousarray(data, dtype=np.uint64)
        rep_of = _identical(s.method, codes, stats, bucket)
        reps = np.flatnonzero(rep_of == np.arange(n))
    else:
        x = data if data.dtype in (np.float16, np.float32) else data.astype(np.float32)
        rep_of = _identical(s.method, x, stats, bucket)
        reps = np.flatnonzero((rep_of == np.arange(n)) & ~flat_rows(x))  # flat: only their own colour
        index = index_view(s.method, x) if len(reps) > 5000 and not s.exact else None
    parts, how, counts = [], set(), {"candidates": 0, "verified": 0}
    for b in search.sorted_unique(bucket[reps]):
        rows = reps[bucket[reps] == b]
        if len(rows) < 2:
            continue
        if hashes:
            found = search.join_hashes(codes, hash_bits_for(s.threshold), rows=rows, ports=ports, exact=s.exact)
        else:
            found = search.join_vectors(x, s.threshold, rows=rows, index=index, recall=s.recall,
                                        ports=ports, exact=s.exact)
        how.add(found.stats.get("search", ""))
        for key in counts:
            counts[key] += int(found.stats.get(key, 0))
        parts.append(found)
    pairs = search.Pairs.concat(parts)
    if len(pairs) and s.aspect_tolerance < 1.0:
        la = np.log(np.maximum(stats[:, 1], 1) / np.maximum(stats[:, 2], 1))
        ok = np.abs(la[pairs.i] - la[pairs.j]) <= math.log1p(s.aspect_tolerance) + 1e-9
        pairs = search.Pairs(pairs.i[ok], pairs.j[ok], pairs.sim[ok])
    stats_out = {"rows": n, "searched": int(len(reps)), "identical_copies": int(n - (rep_of == np.arange(n)).sum()),
                 "aspect_buckets": int(len(search.sorted_unique(bucket))), "pairs": int(len(pairs)),
                 "search": ", ".join(sorted(h for h in how if h)) or "none", **counts}
    return Candidates(rep_of, pairs, stats_out)
