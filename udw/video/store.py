"""Frame rows in the manifest: sources, committed frames, signatures, redo and cleanup.

A video is a `sources` row (kind 'video'); each kept frame an `items` row keyed
`frame:<source id>:<frame index>` with its file `frames/<prefix>/<prefix>_<n>.<ext>`. Rows are
committed in frame order after their files are in place, so the committed frames of a video are
always a prefix of its kept frames: that is what makes a killed run resumable.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..core.manifest import Dataset
from .crossep import THUMB_KIND
from .naming import EpisodeName

STAGE = "frames"
FRAME_DIR = "frames"


@dataclass
class FrameRow:
    index: int
    pts: float
    scene: int
    n: int
    path: str                      # relative to the dataset root
    width: int
    height: int
    status: str = "active"
    duplicate_of: Optional[int] = None
    thumb: Optional[np.ndarray] = None
    phash: Optional[np.uint64] = None
    extra: dict = field(default_factory=dict)


@dataclass
class Committed:
    id: int
    n: int
    path: str
    status: str


def source_row(conn: sqlite3.Connection, path: str) -> Optional[dict]:
    row = conn.execute("SELECT * FROM sources WHERE path=?", (path,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["info"] = json.loads(out["info"] or "{}")
    return out


def register_source(ds: Dataset, conn: sqlite3.Connection, path: str, name: EpisodeName) -> tuple[int, EpisodeName]:
    """The source id and its frame name, kept from the first run (unique within the dataset)."""
    known = source_row(conn, path)
    if known is not None and known["series"] is not None:
        return known["id"], EpisodeName(known["series"], known["episode"] or "")
    taken = {f"{s}{e or ''}" for s, e in conn.execute(
        "SELECT series, episode FROM sources WHERE kind='video' AND path != ?", (path,))}
    unique, k = name, 2
    while unique.prefix in taken:
        unique = EpisodeName(name.series, f"{name.episode}v{k}" if name.episode else f"v{k}")
        k += 1
    with ds.transaction(conn):
        source_id = ds.add_source(conn, path, "video", unique.series, unique.episode)
        conn.execute("UPDATE sources SET series=?, episode=? WHERE id=?", (unique.series, unique.episode, source_id))
    return source_id, unique


def set_state(ds: Dataset, conn: sqlite3.Connection, source_id: int, state: str, info: dict) -> None:
    with ds.transaction(conn):
        ds.set_source_state(conn, source_id, state, info)


def committed_frames(conn: sqlite3.Connection, source_id: int) -> dict[int, Committed]:
    rows = conn.execute("SELECT id, frame_index, path, status, extra FROM items WHERE source_id=? AND "
                        "kind='frame' ORDER BY frame_index", (source_id,)).fetchall()
    return {r["frame_index"]: Committed(r["id"], json.loads(r["extra"] or "{}").get("n", 0), r["path"], r["status"])
            for r in rows}


def commit_rows(ds: Dataset, conn: sqlite3.Connection, source_id: int, name: EpisodeName,
                rows: list[FrameRow], settings_key: str) -> list[int]:
    """Insert the rows, their signatures and stage marks in one transaction."""
    ids = []
    with ds.transaction(conn):
        for r in rows:
            extra = {"n": r.n, **r.extra}
            item_id = ds.add_item(conn, r.path, f"frame:{source_id}:{r.index}", kind="frame",
                                  source_id=source_id, frame_index=r.index, pts=round(r.pts, 6),
                                  scene=r.scene, series=name.series, episode=name.episode or None,
                                  width=r.width, height=r.height, status=r.status,
                                  duplicate_of=r.duplicate_of, extra=extra)
            if r.thumb is not None:
                _signature(conn, item_id, THUMB_KIND, np.asarray(r.thumb, "<f4").tobytes())
            if r.phash is not None:
                _signature(conn, item_id, "phash", np.asarray([r.phash], "<u8").tobytes())
            ds.mark_done(conn, [item_id], STAGE, settings_key)
            ids.append(item_id)
    return ids


def _signature(conn: sqlite3.Connection, item_id: int, kind: str, data: bytes) -> None:
    conn.execute("INSERT INTO signatures(item_id, kind, data) VALUES(?,?,?) ON CONFLICT(item_id, kind) "
                 "DO UPDATE SET data=excluded.data", (item_id, kind, data))


def delete_source_frames(ds: Dataset, conn: sqlite3.Connection, source_id: int) -> int:
    """Forget a video's frames (redo with new settings): rows first, then their files."""
    paths = [r[0] for r in conn.execute("SELECT path FROM items WHERE source_id=? AND kind='frame'", (source_id,))]
    with ds.transaction(conn):
        conn.execute("UPDATE items SET duplicate_of=NULL WHERE duplicate_of IN "
                     "(SELECT id FROM items WHERE source_id=? AND kind='frame')", (source_id,))
        conn.execute("DELETE FROM items WHERE source_id=? AND kind='frame'", (source_id,))
        ds.set_source_state(conn, source_id, "new", {})
    for rel in paths:
        with contextlib.suppress(OSError):
            (ds.root / rel).unlink()
    return len(paths)


def remove_strays(ds: Dataset, conn: sqlite3.Connection, source_id: int, folder: Path) -> int:
    """Delete files in a finished video's folder that no row names (left by a killed run)."""
    if not folder.is_dir():
        return 0
    known = {r[0] for r in conn.execute("SELECT path FROM items WHERE source_id=? AND kind='frame'", (source_id,))}
    removed = 0
    for f in folder.iterdir():
        rel = f.relative_to(ds.root).as_posix()
        if f.is_file() and rel not in known:
            with contextlib.suppress(OSError):
                f.unlink()
                removed += 1
    return removed
