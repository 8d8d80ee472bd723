"""The dataset browser as a host-agnostic service: ComfyUI's routes and the Gradio section are thin
layers over it. Every path a client names is resolved inside the allowed roots; every answer is
plain JSON-ready data (strings from files are NOT escaped here: each renderer escapes them).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..core.errors import BadInput, NotFound, OutsideRoot
from ..core.images import is_image_path
from ..core.manifest import MANIFEST_NAME, Dataset
from ..core.paths import Roots, within
from ..core.ports import Ports
from . import details
from .moves import MoveReport, move_item
from .idsets import IdSets
from .query import Filter, episode_key, order_by
from .tagedit import EditReport, apply_changes, plan_batch, plan_set
from .thumbs import ThumbCache

MAX_PAGE = 500


@dataclass
class Page:
    total: int
    offset: int
    items: list[dict]
    ms: float

    def to_dict(self) -> dict:
        return {"total": self.total, "offset": self.offset, "items": self.items, "ms": round(self.ms, 1)}


class _Lru(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class BrowserService:
    """Query, inspect and edit datasets found inside `roots`; thumbnails through `thumbs`."""

    def __init__(self, roots: Roots, thumbs: Optional[ThumbCache] = None):
        self.roots = roots
        self.thumbs = thumbs or ThumbCache()
        self._datasets: dict[Path, Dataset] = {}
        self._cache = _Lru(64)    # facets, keyed by the manifest's fingerprint
        self._sets: dict[Path, IdSets] = {}
        self._paths = _Lru(20_000)  # (root, fingerprint, id) -> item path of recently listed items
        self._lock = threading.Lock()

    # -- datasets -------------------------------------------------------------------------------
    def dataset(self, path: Union[str, os.PathLike]) -> Dataset:
        root = self.roots.resolve(path)
        with self._lock:
            ds = self._datasets.get(root)
        if ds is None:
            ds = Dataset(root)
            with self._lock:
                self._datasets[root] = ds
        return ds

    def find_datasets(self, max_depth: int = 3, limit: int = 200, budget_s: float = 2.0) -> list[dict]:
        """Dataset folders under the roots (a bounded walk: depth, count and time are capped)."""
        found, deadline = [], time.monotonic() + budget_s
        for root in self.roots.folders:
            stack = [(root, 0)]
            while stack and len(found) < limit and time.monotonic() < deadline:
                folder, depth = stack.pop()
                try:
                    entries = list(os.scandir(folder))
                except OSError:
                    continue
                if any(e.name == MANIFEST_NAME for e in entries):
                    found.append({"path": str(folder), "label": _label(folder, root), "root": str(root)})
                    continue
                if depth < max_depth:
                    stack += [(Path(e.path), depth + 1) for e in entries
                              if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
        unique: dict[str, dict] = {}
        for d in found:  # a dataset under two roots keeps the label of the first (most specific) root
            unique.setdefault(d["path"], d)
        return sorted(unique.values(), key=lambda d: d["label"].lower())

    def _cached(self, ds: Dataset, key: tuple, compute):
        full = (str(ds.root), ds.fingerprint(), *key)
        if full in self._cache:
            return self._cache[full]
        value = compute()
        self._cache.put(full, value)
        return value

    # -- queries ----------------------------------------------------------------------------------
    def ids(self, dataset: str, f: Filter, order: str = "id") -> np.ndarray:
        """Every matching id, in display order (cached id sets; see idsets.py)."""
        ds = self.dataset(dataset)
        order_by(order)  # validates
        sets = self.idsets(ds)
        return sets.ordered(sets.resolve(f), order)

    def page(self, dataset: str, f: Filter, offset: int = 0, limit: int = 60, order: str = "id") -> Page:
        start = time.perf_counter()
        ds = self.dataset(dataset)
        limit = max(1, min(int(limit), MAX_PAGE))
        offset = max(0, int(offset))
        ids = self.ids(dataset, f, order)
        chosen = [int(i) for i in ids[offset:offset + limit]]
        with ds.db() as conn:
            rows = {r["id"]: r for r in conn.execute(
                "SELECT id, path, width, height, status, bucket, cluster, series, episode FROM items "
                f"WHERE id IN ({','.join('?' * len(chosen))})", chosen)} if chosen else {}
        items = [{"id": r["id"], "path": r["path"], "name": Path(r["path"]).name, "width": r["width"],
                  "height": r["height"], "status": r["status"], "bucket": r["bucket"], "cluster": r["cluster"],
                  "episode": episode_key(r["series"], r["episode"]) if r["series"] or r["episode"] else None}
                 for r in (rows[i] for i in chosen if i in rows)]
        fp = ds.fingerprint()
        with self._lock:
            for it in items:
                self._paths.put((ds.root, fp, it["id"]), it["path"])
        return Page(len(ids), offset, items, (time.perf_counter() - start) * 1000)

    def idsets(self, ds: Dataset) -> IdSets:
        with self._lock:
            sets = self._sets.get(ds.root)
            if sets is None:
                sets = self._sets[ds.root] = IdSets(ds)
        return sets

    def facets(self, dataset: str) -> dict:
        """Values to filter by, with counts (cached until the manifest changes)."""
        ds = self.dataset(dataset)
        return self._cached(ds, ("facets",), lambda: details.facets(ds))

    def warm(self, dataset: str) -> None:
        """Fill the common caches in the background (opening a dataset): the first filter is then fast."""
        sets = self.idsets(self.dataset(dataset))

        def work():
            for fn in (lambda: sets.status("active"), lambda: sets.status("any"), sets.vocabulary):
                try:
                    fn()
                except Exception:  # warming is best effort; the real request reports errors
                    return
        threading.Thread(target=work, name="udw-browser-warm", daemon=True).start()

    def suggest_tags(self, dataset: str, prefix: str, limit: int = 20) -> list[dict]:
        ds = self.dataset(dataset)
        return details.suggest_tags(ds, prefix.strip(), max(1, min(limit, 100)))

    def detail(self, dataset: str, item_id: int) -> dict:
        ds = self.dataset(dataset)
        return details.detail(ds, int(item_id), self.image_path(dataset, item_id, must_exist=False))

    # -- files ------------------------------------------------------------------------------------
    def image_path(self, dataset: str, item_id: int, must_exist: bool = True) -> Path:
        """The item's file, refused if the manifest points outside the dataset (or via a symlink)."""
        ds = self.dataset(dataset)
        key = (ds.root, ds.fingerprint(), int(item_id))
        rel = self._paths.get(key)  # the page just listed it: no database round trip per thumbnail
        if rel is None:
            with ds.db() as conn:
                row = conn.execute("SELECT path FROM items WHERE id=?", (int(item_id),)).fetchone()
            if row is None:
                raise NotFound(f"no item {item_id} in {ds.root}")
            rel = row[0]
        path = within(ds.root, rel)
        if must_exist and not path.is_file():
            raise NotFound(f"{path} is missing", "the file was moved or deleted; run `check files`")
        return path

    def thumb(self, dataset: str, item_id: int) -> Path:
        try:
            return self.thumbs.get(self.image_path(dataset, item_id, must_exist=False))
        except OutsideRoot:
            raise
        except NotFound:
            return self.thumbs.placeholder("missing")

    def thumbs_many(self, dataset: str, ids: list[int], workers: int = 3) -> list[Path]:
        """Thumbnails of several items, decoded in parallel (PIL releases the GIL while decoding)."""
        if not ids:
            return []
        with cf.ThreadPoolExecutor(max_workers=max(1, min(workers, len(ids)))) as pool:
            return list(pool.map(lambda i: self.thumb(dataset, i), ids))

    def file_path(self, user_path: str) -> Path:
        """Any image inside the roots (ComfyUI outputs shown by the gallery node)."""
        path = self.roots.resolve(user_path)
        if not is_image_path(path):
            raise BadInput(f"{path.name} is not an image file", "only images can be shown")
        if not path.is_file():
            raise NotFound(f"{path} is missing")
        return path

    def file_thumb(self, user_path: str) -> Path:
        return self.thumbs.get(self.file_path(user_path))

    def faces_image(self, dataset: str, item_id: int, max_side: int = 1024):
        return details.faces_image(self.dataset(dataset), int(item_id),
                                   self.image_path(dataset, item_id), max_side)

    # -- edits ------------------------------------------------------------------------------------
    def set_tags(self, dataset: str, item_id: int, tags) -> EditReport:
        ds = self.dataset(dataset)
        with ds.db() as conn:
            if conn.execute("SELECT 1 FROM items WHERE id=?", (int(item_id),)).fetchone() is None:
                raise NotFound(f"no item {item_id} in {ds.root}")
            changes = plan_set(conn, int(item_id), tags)
        return apply_changes(ds, changes)

    def batch_edit(self, dataset: str, f: Filter, op: str, arg1: str, arg2: str = "",
                   dry_run: bool = False, ports: Optional[Ports] = None) -> EditReport:
        ds = self.dataset(dataset)
        with ds.db() as conn:
            changes = plan_batch(conn, f, op, arg1, arg2)
        return apply_changes(ds, changes, dry_run=dry_run, ports=ports)

    def move(self, dataset: str, item_id: int, character: Optional[str] = None,
             bucket: Optional[str] = None, face: Optional[int] = None) -> MoveReport:
        return move_item(self.dataset(dataset), int(item_id), character, bucket, face)

    def check_files(self, dataset: str, f: Filter, ports: Optional[Ports] = None) -> dict:
        """Mark filtered items whose file is gone as `missing` (and found ones active again)."""
        return details.check_files(self.dataset(dataset), f, ports or Ports())


def _label(folder: Path, root: Path) -> str:
    try:
        rel = folder.relative_to(root).as_posix()
    except ValueError:
        rel = str(folder)
    return f"{root.name}/{rel}" if rel != "." else root.name
