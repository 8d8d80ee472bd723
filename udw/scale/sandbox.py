"""Run driver-style code (functions that write the manifest themselves) on a worker, safely.

Some stages are not per-item `Stage`s: frame extraction walks a video and commits rows as it
goes. On a worker such code gets a `ScratchDataset`: the real dataset folder (files land where
they belong) with a private, worker-local manifest, seeded with the rows of the sources the task
owns. Afterwards the task's rows are exported (plain Python data) and the driver merges them into
the real manifest in one transaction, matching items by their idempotency key. The code itself
runs unchanged, with its own resume logic, on both engines.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Union

from ..core.manifest import Dataset

ITEM_TABLES = ("signatures", "stage_done", "tags", "faces")  # rows that belong to one item


class ScratchDataset(Dataset):
    """A dataset folder with a manifest somewhere else (a worker's temporary file)."""

    def __init__(self, root: Union[str, Path], manifest: Union[str, Path]):
        self.root = Path(root).expanduser().resolve()
        self.manifest_path = Path(manifest)
        self._migrate()


def export_sources(ds: Dataset, source_ids: Iterable[int]) -> dict:
    """The rows of some sources: the source rows, their items and every per-item row."""
    ids = list(source_ids)
    marks = ",".join("?" * len(ids))
    with ds.db() as conn:
        sources = _rows(conn, f"SELECT * FROM sources WHERE id IN ({marks})", ids)
        items = _rows(conn, f"SELECT * FROM items WHERE source_id IN ({marks})", ids)
        item_ids = [r["id"] for r in items]
        per_item = {t: _rows_for(conn, t, item_ids) for t in ITEM_TABLES}
    return {"sources": sources, "items": items, **per_item}


def _rows(conn: sqlite3.Connection, sql: str, args: list) -> list[dict]:
    return [dict(r) for r in conn.execute(sql, args)]


def _rows_for(conn: sqlite3.Connection, table: str, item_ids: list[int]) -> list[dict]:
    out = []
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        out += _rows(conn, f"SELECT * FROM {table} WHERE item_id IN ({','.join('?' * len(chunk))})", chunk)
    return out


def seed(scratch: Dataset, rows: dict) -> None:
    """Put exported rows (with their ids) into an empty scratch manifest."""
    with scratch.transaction() as conn:
        for table in ("sources", "items", *ITEM_TABLES):
            for row in rows.get(table, []):
                _insert(conn, table, row)


def _insert(conn: sqlite3.Connection, table: str, row: dict) -> None:
    cols = list(row)
    conn.execute(f"INSERT OR REPLACE INTO {table}({', '.join(cols)}) VALUES({', '.join('?' * len(cols))})",
                 [row[c] for c in cols])


def merge(ds: Dataset, conn: sqlite3.Connection, rows: dict) -> dict[int, int]:
    """Make the real manifest hold exactly the exported rows of these sources (one transaction).

    Sources keep their ids (the driver registered them); items are matched by key, so scratch ids
    are mapped to real ones, and items of these sources that the task removed are removed here.
    Returns scratch item id -> real item id.
    """
    by_key: dict[str, int] = {}
    mapping: dict[int, int] = {}
    with ds.transaction(conn):
        for src in rows.get("sources", []):
            conn.execute("UPDATE sources SET state=?, info=?, series=?, episode=?, licence=COALESCE(?, licence) "
                         "WHERE id=?", (src["state"], src["info"], src["series"], src["episode"],
                                        src["licence"], src["id"]))
        keys = {it["key"] for it in rows.get("items", [])}
        source_ids = [s["id"] for s in rows.get("sources", [])]
        _drop_missing(conn, source_ids, keys)
        for it in rows.get("items", []):
            values = {k: v for k, v in it.items() if k not in ("id", "duplicate_of", "parent_id")}
            cols = list(values)
            conn.execute(f"INSERT INTO items({', '.join(cols)}) VALUES({', '.join('?' * len(cols))}) "
                         f"ON CONFLICT(key) DO UPDATE SET "
                         + ", ".join(f"{c}=excluded.{c}" for c in cols if c not in ("key", "created")),
                         [values[c] for c in cols])
            real = conn.execute("SELECT id FROM items WHERE key=?", (it["key"],)).fetchone()[0]
            mapping[it["id"]] = real
            by_key[it["key"]] = real
        for it in rows.get("items", []):  # references inside the task (crops, duplicates)
            refs = {c: mapping.get(it[c], it[c]) for c in ("duplicate_of", "parent_id")}
            conn.execute("UPDATE items SET duplicate_of=?, parent_id=? WHERE id=?",
                         (refs["duplicate_of"], refs["parent_id"], mapping[it["id"]]))
        for table in ITEM_TABLES:
            real_ids = list(mapping.values())
            for start in range(0, len(real_ids), 500):
                chunk = real_ids[start:start + 500]
                conn.execute(f"DELETE FROM {table} WHERE item_id IN ({','.join('?' * len(chunk))})", chunk)
            for row in rows.get(table, []):
                if row["item_id"] in mapping:
                    _insert(conn, table, {**row, "item_id": mapping[row["item_id"]]})
    return mapping


def _drop_missing(conn: sqlite3.Connection, source_ids: list[int], keys: set[str]) -> None:
    if not source_ids:
        return
    marks = ",".join("?" * len(source_ids))
    gone = [r[0] for r in conn.execute(f"SELECT id, key FROM items WHERE source_id IN ({marks})", source_ids)
            if r[1] not in keys]
    for start in range(0, len(gone), 500):
        chunk = gone[start:start + 500]
        q = ",".join("?" * len(chunk))
        conn.execute(f"UPDATE items SET duplicate_of=NULL WHERE duplicate_of IN ({q})", chunk)
        conn.execute(f"DELETE FROM items WHERE id IN ({q})", chunk)
