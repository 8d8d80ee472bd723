"""The signature stage: decode each active item once and store its signatures in the manifest.

Resumable through the stage runner: an item is pending while a kind it needs is missing, so a
killed run continues where it stopped and a later run with an embedding model only adds that
kind. Unreadable files are marked failed (with the reason) and skipped by later runs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from ..core.errors import BadInput
from ..core.manifest import Dataset, Item
from ..core.stages import ItemError, Stage
from . import compute
from .embed import Embedder

STAGE = "dedupe-signatures"
# Items a dedupe looks at: active ones, and those an earlier dedupe removed but did not delete
# (a new run replaces the old result, so they compete again).
CONSIDERED = ("(i.status='active' OR (i.status='duplicate' AND json_extract(i.extra, '$.dedupe') "
              "IS NOT NULL AND json_extract(i.extra, '$.dedupe.deleted') IS NULL))")


@dataclass
class Loaded:
    base: dict[str, bytes]
    prepared: Optional[np.ndarray]   # the embedder's input, when there is an embedder


class SignatureStage(Stage):
    name = STAGE
    batch_size = 32
    load_threads = 2

    def __init__(self, embedder: Optional[Embedder] = None):
        self.embedder = embedder
        self.face_boxes: dict[int, list] = {}
        self.kinds = list(compute.BASE_KINDS) + ([compute.embed_kind(embedder.model_id)] if embedder else [])

    def settings(self) -> dict:
        return {"kinds": self.kinds}

    def select(self, ds: Dataset, key: str, retry_failed: bool) -> list[int]:
        """Active items missing one of our kinds, except those that failed with these settings."""
        missing = " OR ".join("NOT EXISTS (SELECT 1 FROM signatures s WHERE s.item_id=i.id AND s.kind=?)"
                              for _ in self.kinds)
        sql = f"SELECT i.id FROM items i WHERE {CONSIDERED} AND ({missing})"
        args: list[Any] = list(self.kinds)
        if not retry_failed:
            sql += (" AND NOT EXISTS (SELECT 1 FROM stage_done d WHERE d.item_id=i.id AND d.stage=? "
                    "AND d.settings=? AND d.ok=0)")
            args += [self.name, key]
        with ds.db() as conn:
            ids = [r[0] for r in conn.execute(sql + " ORDER BY i.id", args)]
            self.face_boxes = _faces(conn, ids)   # read here: workers never open the manifest
        return ids

    def load(self, ds: Dataset, item: Item) -> Loaded:
        try:
            pic = compute.decode(ds.abspath(item))
        except BadInput as exc:
            raise ItemError(str(exc).split("\n")[0]) from exc
        prepared = self.embedder.prepare(pic.rgb) if self.embedder else None
        faces = getattr(self, "face_boxes", {}).get(item.id, [])
        return Loaded(compute.base_signatures(pic.rgb, pic.width, pic.height, faces), prepared)

    def process(self, ds: Dataset, items: Sequence[Item], loaded: Sequence[Loaded]) -> list[Any]:
        if not self.embedder:
            return [x.base for x in loaded]
        vectors = self.embedder([x.prepared for x in loaded])
        kind = compute.embed_kind(self.embedder.model_id)
        return [{**x.base, kind: v.astype(np.float16).tobytes()} for x, v in zip(loaded, vectors)]

    def commit(self, ds: Dataset, conn: sqlite3.Connection, item: Item, result: dict[str, bytes]) -> None:
        conn.executemany(
            "INSERT INTO signatures(item_id, kind, data) VALUES(?,?,?) "
            "ON CONFLICT(item_id, kind) DO UPDATE SET data=excluded.data",
            [(item.id, kind, data) for kind, data in result.items()])
        if item.width is None or item.height is None:  # frames/crops may lack them: fill from the file
            stats = np.frombuffer(result[compute.STATS], np.float32)
            conn.execute("UPDATE items SET width=?, height=? WHERE id=?", (int(stats[1]), int(stats[2]), item.id))


def _faces(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[tuple[float, float, float, float]]]:
    """Face boxes of the items the faces stage has seen (the verifier looks at them closely)."""
    from ..faces.store import load_faces

    return {i: [(f.x0, f.y0, f.x1, f.y1) for f in faces] for i, faces in load_faces(conn, ids).items()}


def load_signatures(ds: Dataset, kinds: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(item ids, {kind: array}) for the items a dedupe considers that have every kind, by id."""
    joins = " ".join(f"JOIN signatures s{n} ON s{n}.item_id=i.id AND s{n}.kind=?" for n in range(len(kinds)))
    cols = ", ".join(f"s{n}.data" for n in range(len(kinds)))
    sql = f"SELECT i.id, {cols} FROM items i {joins} WHERE {CONSIDERED} ORDER BY i.id"
    ids: list[np.ndarray] = []
    parts: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    with ds.db() as conn:
        cur = conn.execute(sql, list(kinds))
        while True:  # in chunks: a million rows of Python bytes objects would not fit comfortably
            rows = cur.fetchmany(20000)
            if not rows:
                break
            ids.append(np.array([r[0] for r in rows], dtype=np.int64))
            for n, k in enumerate(kinds):
                parts[k].append(compute.unpack(k, [r[n + 1] for r in rows]))
    if not ids:
        return np.zeros(0, np.int64), {k: compute.unpack(k, []) for k in kinds}
    return np.concatenate(ids), {k: np.concatenate(v) for k, v in parts.items()}


def failed_items(ds: Dataset) -> list[tuple[str, str]]:
    """(path, reason) of active items whose signatures could not be computed."""
    with ds.db() as conn:
        rows = conn.execute("SELECT i.path, d.error FROM stage_done d JOIN items i ON i.id=d.item_id "
                            f"WHERE d.stage=? AND d.ok=0 AND {CONSIDERED} ORDER BY i.id", (STAGE,))
        return [(r[0], r[1] or "") for r in rows]
