"""Clusters of near-duplicates and the one picture kept from each.

Items are ranked by the keep rule (best first). Identical-signature groups move as one node,
represented by their best member.
- `chain` linkage: union-find over the similar pairs; each connected cluster keeps its best item.
  A long pan or a slow fade can chain pictures that do not look alike at the two ends.
- `direct` linkage (default): nodes are visited best first; a node joins the most similar
  already-kept node it has a verified pair with, else it is kept. So every removed item is
  similar (>= threshold) to the very picture kept in its place, as with the anchors of the
  sample truth. Both take O(n + pairs) time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .search import Pairs


@dataclass
class Clusters:
    survivor: np.ndarray      # (n,) row kept in place of each row (itself when kept)
    similarity: np.ndarray    # (n,) similarity to the survivor (1 for kept rows)

    @property
    def removed(self) -> np.ndarray:
        return np.flatnonzero(self.survivor != np.arange(len(self.survivor)))

    def groups(self) -> dict[int, np.ndarray]:
        """Survivor row -> member rows (survivor first), for clusters of two or more."""
        rem = self.removed
        if not len(rem):
            return {}
        order = np.argsort(self.survivor[rem], kind="stable")
        surv, rows = self.survivor[rem][order], rem[order]
        cuts = np.flatnonzero(np.r_[True, surv[1:] != surv[:-1]])
        return {int(surv[c]): np.r_[surv[c], rows[c:e]]
                for c, e in zip(cuts, np.r_[cuts[1:], len(rows)])}


def rank_rows(keep: str, sharpness: np.ndarray, pixels: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    """rank[row]: 0 for the best survivor candidate (see settings.KEEP_RULES).

    Sharpness within 10% counts as equal (blur changes it far more; a waving arm or a moved
    line changes it a little), so the next criterion decides between such pictures."""
    sharp = np.floor(np.log(np.maximum(sharpness, 1e-6)) / np.log(1.1))
    if keep == "sharpest":
        order = np.lexsort((order_key, -pixels, -sharp))
    elif keep == "largest":
        order = np.lexsort((order_key, -sharp, -pixels))
    else:
        order = np.argsort(order_key, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank


def union_find(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Component label (its smallest row) of each of n rows, given edges (i, j); vectorised
    hooking of roots onto smaller roots with full path compression each round."""
    parent = np.arange(n)
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    while len(i):
        pi, pj = parent[i], parent[j]
        lo, hi = np.minimum(pi, pj), np.maximum(pi, pj)
        live = lo != hi
        if not live.any():
            break
        np.minimum.at(parent, hi[live], lo[live])
        while True:
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
        i, j = i[live], j[live]
    return parent


def _node_best(rep_of: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """best[rep] = the best-ranked member of each identical group."""
    n = len(rep_of)
    best_rank = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(best_rank, rep_of, rank)
    inv = np.empty(n, np.int64)
    inv[rank] = np.arange(n)
    best = np.arange(n)
    reps = np.flatnonzero(rep_of == np.arange(n))
    best[reps] = inv[best_rank[reps]]
    return best


Check = Callable[[int, int], bool]   # (later row, kept row) -> is it a copy? (pair verifier)


def cluster(rep_of: np.ndarray, pairs: Pairs, rank: np.ndarray, linkage: str = "direct",
            check: Optional[Check] = None) -> Clusters:
    """Survivor of every row from identical groups (`rep_of`), similar pairs of representatives
    and a rank (0 = best). `check`, when given, must confirm a pair before it merges anything
    (direct linkage asks only about the pairs it would act on)."""
    n = len(rep_of)
    best = _node_best(rep_of, rank)
    node_rank = rank[best]                      # a node ranks as its best member
    if linkage == "chain":
        if check is not None and len(pairs):
            ok = np.array([check(int(a), int(b)) for a, b in zip(pairs.i, pairs.j)], bool)
            pairs = Pairs(pairs.i[ok], pairs.j[ok], pairs.sim[ok])
        label = union_find(n, np.r_[pairs.i, np.arange(n)], np.r_[pairs.j, rep_of])
        top = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(top, label, rank)
        inv = np.empty(n, np.int64)
        inv[rank] = np.arange(n)
        survivor = inv[top[label]]
        sim = np.ones(n, np.float32)
        return Clusters(survivor, sim)
    leader, lsim = _direct(n, pairs, node_rank, check)
    survivor = best[leader[rep_of]]             # each row follows its node, the node its leader
    sim = np.where(leader[rep_of] == rep_of, 1.0, lsim[rep_of]).astype(np.float32)
    return Clusters(survivor, sim)


def _direct(n: int, pairs: Pairs, node_rank: np.ndarray,
            check: Optional[Check] = None) -> tuple[np.ndarray, np.ndarray]:
    """leader[node] (itself when kept) and the similarity to it, visiting nodes best first."""
    leader = np.arange(n)
    lsim = np.ones(n, np.float32)
    if not len(pairs):
        return leader, lsim
    a_later = node_rank[pairs.i] > node_rank[pairs.j]
    later = np.where(a_later, pairs.i, pairs.j)
    earlier = np.where(a_later, pairs.j, pairs.i)
    order = np.lexsort((-pairs.sim, node_rank[later]))   # by the later node, most similar first
    later, earlier, sim = later[order].tolist(), earlier[order].tolist(), pairs.sim[order].tolist()
    kept = [True] * n
    current, decided = -1, False
    for a, b, s in zip(later, earlier, sim):
        if a != current:
            current, decided = a, False
        if decided or not kept[b]:
            continue
        if check is not None and not check(a, b):
            continue
        leader[a], lsim[a], kept[a], decided = b, s, False, True
    return leader, lsim
