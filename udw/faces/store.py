"""Reading and writing faces and tags in the manifest (the `faces` and `tags` tables)."""

from __future__ import annotations

import sqlite3
from typing import Iterable, Sequence

from .geometry import Face

GENERAL = ("general", "0")
CHARACTER = ("character", "4")


def save_faces(conn: sqlite3.Connection, item_id: int, faces: Sequence[Face]) -> None:
    """Replace an item's faces (kept in reading order: left to right, then top to bottom)."""
    conn.execute("DELETE FROM faces WHERE item_id=?", (item_id,))
    conn.executemany(
        "INSERT INTO faces(item_id, idx, x0, y0, x1, y1, score, detector, character, character_score) "
        "VALUES(?,?,?,?,?,?,?,?,?,?)",
        [(item_id, i, f.x0, f.y0, f.x1, f.y1, f.score, f.detector, f.character, f.character_score)
         for i, f in enumerate(faces)])


def reading_order(faces: Iterable[Face]) -> list[Face]:
    return sorted(faces, key=lambda f: (round(f.x0), round(f.y0)))


def load_faces(conn: sqlite3.Connection, item_ids: Sequence[int] | None = None) -> dict[int, list[Face]]:
    """Faces per item id (every item with faces when `item_ids` is None)."""
    sql = "SELECT item_id, x0, y0, x1, y1, score, detector, character, character_score FROM faces"
    out: dict[int, list[Face]] = {}
    for chunk in _chunks(item_ids):
        where = f" WHERE item_id IN ({','.join('?' * len(chunk))})" if chunk is not None else ""
        for r in conn.execute(sql + where + " ORDER BY item_id, idx", chunk or ()):
            out.setdefault(r[0], []).append(Face(r[1], r[2], r[3], r[4], r[5], r[6] or "", r[7], r[8]))
    return out


def load_tags(conn: sqlite3.Connection, item_ids: Sequence[int] | None = None,
              categories: Sequence[str] | None = None) -> dict[int, list[tuple[str, str, float]]]:
    """(tag, category, score) per item, best score first. Works when no tagger has run (empty)."""
    out: dict[int, list[tuple[str, str, float]]] = {}
    for chunk in _chunks(item_ids):
        conds, args = [], []
        if chunk is not None:
            conds.append(f"item_id IN ({','.join('?' * len(chunk))})")
            args += chunk
        if categories:
            conds.append(f"category IN ({','.join('?' * len(categories))})")
            args += list(categories)
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        rows = conn.execute(f"SELECT item_id, tag, category, score FROM tags{where} "
                            "ORDER BY item_id, score DESC, tag", args)
        for item_id, tag, cat, score in rows:
            out.setdefault(item_id, []).append((tag, str(cat), float(score)))
    return out


def _chunks(ids: Sequence[int] | None, size: int = 500):
    if ids is None:
        yield None
        return
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
