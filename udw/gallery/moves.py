"""Moving an item to another character or bucket: the manifest first, then the files if the
item sits in a folder named after the old character or bucket (with its sidecars)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Optional

from ..core.errors import BadInput
from ..core.manifest import Dataset
from ..core.paths import safe_name, within
from .sidecars import DirIndex


@dataclass
class MoveReport:
    item_id: int
    path: str
    moved_file: bool = False
    face: Optional[int] = None

    def summary(self) -> str:
        where = f" (file moved to {self.path})" if self.moved_file else ""
        return f"item {self.item_id} updated{where}"


def _main_face(conn: sqlite3.Connection, item_id: int, face: Optional[int]) -> Optional[sqlite3.Row]:
    rows = conn.execute("SELECT * FROM faces WHERE item_id=? ORDER BY (y1 - y0) DESC, idx", (item_id,)).fetchall()
    if face is None:
        return rows[0] if rows else None
    for row in rows:
        if row["idx"] == face:
            return row
    raise BadInput(f"item {item_id} has no face {face}", f"faces: {[r['idx'] for r in rows] or 'none'}")


def move_item(ds: Dataset, item_id: int, character: Optional[str] = None, bucket: Optional[str] = None,
              face: Optional[int] = None) -> MoveReport:
    """Give an item (its main face, or face `face`) another character and/or another bucket.

    An item without faces gets a `manual` face row without a box, holding the character.
    Empty strings clear the value.
    """
    if character is None and bucket is None:
        raise BadInput("nothing to move", "choose a character or a bucket")
    with ds.db() as conn:
        row = conn.execute("SELECT * FROM items WHERE id=?", (item_id,)).fetchone()
        if row is None:
            raise BadInput(f"no item {item_id} in {ds.root}")
        renames: list[tuple[str, str]] = []
        report = MoveReport(item_id, row["path"])
        extra = ds.item(item_id).extra
        manual = dict(extra.get("manual") or {})
        with ds.transaction(conn):
            if character is not None:
                character = " ".join(character.split()) or None
                target = _main_face(conn, item_id, face)
                if target is None:
                    conn.execute("INSERT INTO faces(item_id, idx, x0, y0, x1, y1, score, detector, character, "
                                 "character_score) VALUES(?,?,0,0,0,0,0,'manual',?,1.0)",
                                 (item_id, 0, character))
                    report.face = 0
                else:
                    conn.execute("UPDATE faces SET character=?, character_score=1.0 WHERE item_id=? AND idx=?",
                                 (character, item_id, target["idx"]))
                    report.face = target["idx"]
                    if target["character"] and character:
                        renames.append((target["character"], character))
                manual["character"] = character
            if bucket is not None:
                bucket = bucket.strip() or None
                if row["bucket"] and bucket:
                    renames.append((row["bucket"], bucket))
                conn.execute("UPDATE items SET bucket=? WHERE id=?", (bucket, item_id))
                manual["bucket"] = bucket
            extra["manual"] = manual
            ds.update_item(conn, item_id, extra=extra)
            new_path = _renamed_path(row["path"], renames)
            if new_path != row["path"] and (ds.root / row["path"]).exists():
                try:
                    conn.execute("UPDATE items SET path=? WHERE id=?", (new_path, item_id))
                except sqlite3.IntegrityError:
                    raise BadInput(f"another item already has the path {new_path}",
                                   "rename one of the two images first") from None
                _move_files(ds, row["path"], new_path)  # last: if it fails, the transaction rolls back
                report.path, report.moved_file = new_path, True
    return report


def _renamed_path(path: str, renames: list[tuple[str, str]]) -> str:
    """The item's path with folder names equal to an old value replaced by the new one."""
    parts = list(PurePosixPath(path).parts)
    for old, new in renames:
        for i, part in enumerate(parts[:-1]):
            if part in (old, safe_name(old)):
                parts[i] = safe_name(new)
    return str(PurePosixPath(*parts))


def _move_files(ds: Dataset, old: str, new: str) -> None:
    src, dst = within(ds.root, old), within(ds.root, new)
    if not src.exists():
        raise BadInput(f"{src} is missing, so it cannot be moved", "re-import it or remove it from the manifest")
    if dst.exists():
        raise BadInput(f"{dst} already exists", "rename one of the two images first")
    pairs = [(src, dst)] + [(s, dst.with_suffix(s.suffix)) for s in DirIndex().sidecars(Path(src))]
    dst.parent.mkdir(parents=True, exist_ok=True)
    done = []
    try:
        for a, b in pairs:
            os.replace(a, b)  # same dataset folder, same filesystem: atomic renames
            done.append((a, b))
    except OSError as exc:
        for a, b in reversed(done):
            with contextlib.suppress(OSError):
                os.replace(b, a)
        raise BadInput(f"cannot move {src} to {dst}: {exc.strerror or exc}", "check the folder's permissions") from exc
