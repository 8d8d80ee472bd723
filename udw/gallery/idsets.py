"""Filters as sorted id arrays: each tag, character or status is read once from its covering index
and cached until the manifest changes; a filter is then set algebra in numpy.

Why not plain SQL: counting a filter on a common tag (`1girl`: 80% of 100k items) costs SQLite
0.3-0.5 s per query (a temporary index, or a probe per item); intersecting cached arrays costs
about a millisecond. `query.where` keeps the same semantics in SQL for batch edits, and a test
checks that both agree.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from ..core.manifest import Dataset
from ..core.text import natural_sorted
from .query import NONE, Filter, parse_episode, parse_tags

EMPTY = np.zeros(0, dtype=np.int64)


def sorted_unique(arr: np.ndarray) -> np.ndarray:
    """Sort and drop repeats (numpy 2's hash-based np.unique is ~50x slower on 100k ints)."""
    if arr.size < 2:
        return arr
    arr = np.sort(arr, kind="stable")
    keep = np.empty(arr.size, dtype=bool)
    keep[0] = True
    np.not_equal(arr[1:], arr[:-1], out=keep[1:])
    return arr[keep]


class IdSets:
    """Cached id arrays of one dataset (all sorted, unique, int64)."""

    def __init__(self, ds: Dataset, max_entries: int = 256):
        self.ds = ds
        self._cache: OrderedDict = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self._fp = None

    def _get(self, key: tuple, compute: Callable[[], object]):
        fp = self.ds.fingerprint()
        with self._lock:
            if fp != self._fp:  # the manifest changed: everything cached is stale
                self._cache.clear()
                self._fp = fp
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return value

    def _ids(self, sql: str, args: tuple = ()) -> np.ndarray:
        """Ids selected by `sql` (one column); fetched as one joined string, which is ~7x faster
        than one Python row per id."""
        with self.ds.db() as conn:
            text = conn.execute(f"SELECT group_concat(v) FROM ({sql})", args).fetchone()[0]
        return sorted_unique(np.fromstring(text or "", dtype=np.int64, sep=","))

    # -- building blocks ---------------------------------------------------------------------
    def status(self, status: str) -> np.ndarray:
        if status == "any":
            return self._get(("all",), lambda: self._ids("SELECT id AS v FROM items"))
        return self._get(("status", status), lambda: self._ids("SELECT id AS v FROM items WHERE status=?", (status,)))

    def vocabulary(self) -> list[str]:
        """Every distinct tag, by hopping through the tag index (one seek per distinct tag instead
        of reading all ~20 rows per item: 2k tags of 1.7M rows in ~20 ms, not ~600 ms)."""
        def compute():
            names: list[str] = []
            with self.ds.db() as conn:
                row = conn.execute("SELECT MIN(tag) FROM tags").fetchone()
                while row and row[0] is not None:
                    names.append(row[0])
                    row = conn.execute("SELECT tag FROM tags WHERE tag > ? ORDER BY tag LIMIT 1", (row[0],)).fetchone()
            return names
        return self._get(("vocab",), compute)

    def tag(self, tag: str, min_score: float = 0.0) -> np.ndarray:
        if min_score > 0:
            return self._get(("tag", tag, min_score), lambda: self._ids(
                "SELECT item_id AS v FROM tags WHERE tag=? AND score>=?", (tag, min_score)))
        return self._get(("tag", tag), lambda: self._ids("SELECT item_id AS v FROM tags WHERE tag=?", (tag,)))

    def term(self, alternatives: list[str], min_score: float) -> np.ndarray:
        tags: list[str] = []
        for alt in alternatives:
            if any(c in alt for c in "*?["):
                tags += self.matching(alt)
            else:
                tags.append(alt)
        arrays = [self.tag(t, min_score) for t in dict.fromkeys(tags)]
        if len(arrays) == 1:
            return arrays[0]
        return sorted_unique(np.concatenate(arrays)) if arrays else EMPTY

    def matching(self, pattern: str) -> list[str]:
        """Tags matching a wildcard pattern: an index range when it starts with a literal."""
        if pattern[0] in "*?[":
            return [t for t in self.vocabulary() if fnmatch.fnmatchcase(t, pattern)]

        def compute():
            with self.ds.db() as conn:  # SQLite turns a GLOB with a literal prefix into a range
                return [r[0] for r in conn.execute("SELECT DISTINCT tag FROM tags WHERE tag GLOB ?", (pattern,))]
        return self._get(("glob", pattern), compute)

    def character(self, name: str) -> np.ndarray:
        if name == NONE:
            return self._get(("any_character",), lambda: self._ids(
                "SELECT item_id AS v FROM faces WHERE character IS NOT NULL"))
        return self._get(("character", name), lambda: self._ids(
            "SELECT item_id AS v FROM faces WHERE character=?", (name,)))

    def column(self, cond: str, args: tuple) -> np.ndarray:
        """Items matching an indexed condition on the items table (bucket, episode, ...)."""
        return self._get(("column", cond, args), lambda: self._ids(f"SELECT id AS v FROM items WHERE {cond}", args))

    def ranking(self, order: str) -> np.ndarray:
        """All ids in a sort order other than by id (path, largest face first)."""
        sql = {"path": "SELECT id AS v, path FROM items",
               "face": "SELECT id AS v FROM items ORDER BY face_ratio IS NULL, face_ratio DESC, id"}[order]

        def compute():
            with self.ds.db() as conn:  # rows, not group_concat: its order is not guaranteed
                rows = conn.execute(sql).fetchall()
            if order == "path":  # natural order: frame _2 before _10
                rows = natural_sorted(rows, key=lambda r: r[1])
            return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return self._get(("ranking", order), compute)

    # -- a whole filter ----------------------------------------------------------------------
    def resolve(self, f: Filter) -> np.ndarray:
        """Sorted ids matching the filter (same meaning as `query.where`)."""
        ids = self.status(f.status)
        for term in parse_tags(f.tags):
            found = self.term(term.alternatives, f.min_score)
            ids = np.setdiff1d(ids, found, assume_unique=True) if term.negate else \
                np.intersect1d(ids, found, assume_unique=True)
        if f.character is not None:
            chars = self.character(f.character)
            ids = np.setdiff1d(ids, chars, assume_unique=True) if f.character == NONE else \
                np.intersect1d(ids, chars, assume_unique=True)
        for cond, args in _column_conditions(f):
            ids = np.intersect1d(ids, self.column(cond, args), assume_unique=True)
        return ids

    def ordered(self, ids: np.ndarray, order: str) -> np.ndarray:
        if order == "newest":
            return ids[::-1]
        if order in ("path", "face"):
            ranked = self.ranking(order)
            return ranked[np.isin(ranked, ids, assume_unique=True)]
        return ids


def _column_conditions(f: Filter) -> list[tuple[str, tuple]]:
    out = []
    if f.bucket is not None:
        out.append(("bucket IS NULL", ()) if f.bucket == NONE else ("bucket = ?", (f.bucket,)))
    if f.episode is not None:
        out.append(("series IS ? AND episode IS ?", parse_episode(f.episode)))
    if f.source is not None:
        out.append(("source_id = ?", (f.source,)))
    if f.cluster is not None:
        out.append(("cluster = ?", (f.cluster,)))
    if f.text:
        like = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        out.append(("path LIKE ? ESCAPE '\\'", (like,)))
    return out
