"""Writing a dedupe result into the manifest, moving or deleting files, and undoing it.

Removed items stay in the manifest: status 'duplicate', `duplicate_of` = the kept item, and
`extra.dedupe` = {"of", "similarity", "run"[, "moved_from" | "deleted"]}. Kept items of a cluster
get `cluster` = their own id (members share it) and `extra.dedupe.kept` = cluster size.
A new run first undoes the previous one, so the result always reflects the latest settings.
Moves happen in batches, each followed by its commit; if a run is killed between the two, the
next run or undo finds the file under duplicates/ and puts it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from ..core.errors import BadInput
from ..core.manifest import Dataset
from ..core.ports import Ports

DUPLICATES_DIR = "duplicates"
BATCH = 500


@dataclass
class UndoReport:
    restored: int = 0
    moved_back: int = 0
    deleted: int = 0              # deleted earlier: cannot come back
    missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"undo: {self.restored} items restored"
        if self.moved_back:
            text += f" ({self.moved_back} files moved back)"
        if self.deleted:
            text += f"; {self.deleted} deleted duplicates cannot be restored"
        if self.missing:
            text += f"; {len(self.missing)} moved files were missing"
        return text


@dataclass
class ApplyReport:
    marked: int = 0
    moved: int = 0
    deleted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: bool = False       # the manifest already held this result: nothing was written


def same_as_applied(ds: Dataset, ids, survivor_ids, action: str) -> bool:
    """Whether the manifest already holds exactly this result (then nothing is rewritten)."""
    if action == "delete":
        return False
    want = dict(zip((int(i) for i in ids), (int(s) for s in survivor_ids)))
    with ds.db() as conn:
        rows = conn.execute("SELECT id, status, duplicate_of, json_extract(extra, '$.dedupe.moved_from'), "
                            "json_extract(extra, '$.dedupe.deleted') FROM items "
                            "WHERE status IN ('active', 'duplicate')").fetchall()
    seen = 0
    for item_id, status, dup_of, moved, deleted in rows:
        if deleted:
            continue
        if item_id not in want:
            if status == "duplicate":
                return False
            continue
        seen += 1
        survivor = want[item_id]
        if survivor == item_id:
            if status != "active":
                return False
        elif status != "duplicate" or dup_of != survivor or bool(moved) != (action == "move"):
            return False
    return seen == len(want)


def duplicates_path(ds: Dataset, rel: str) -> Path:
    return ds.root / DUPLICATES_DIR / rel


def repair_moves(ds: Dataset) -> int:
    """Put back files that a killed run moved without committing (returns how many)."""
    folder = ds.root / DUPLICATES_DIR
    if not folder.is_dir():
        return 0
    fixed = 0
    with ds.db() as conn:
        for moved in (p for p in folder.rglob("*") if p.is_file()):
            rel = moved.relative_to(folder).as_posix()
            if conn.execute("SELECT 1 FROM items WHERE path=?", (rel,)).fetchone() and not (ds.root / rel).exists():
                os.replace(moved, ds.root / rel)  # moved, but the commit that records it never came
                fixed += 1
    return fixed


def undo(ds: Dataset, ports: Optional[Ports] = None) -> UndoReport:
    """Restore every item a dedupe run removed (moving files back); clear cluster marks."""
    ports = ports or Ports()
    report = UndoReport()
    repair_moves(ds)
    with ds.db() as conn:
        rows = conn.execute("SELECT id, path, extra FROM items WHERE status='duplicate' "
                            "AND json_extract(extra, '$.dedupe') IS NOT NULL").fetchall()
        for start in range(0, len(rows), BATCH):
            with ds.transaction(conn):
                for item_id, rel, extra in rows[start:start + BATCH]:
                    _restore_one(ds, conn, item_id, rel, json.loads(extra or "{}"), report)
            ports.step(min(len(rows), start + BATCH), len(rows))
        with ds.transaction(conn):
            conn.execute("UPDATE items SET cluster=NULL, extra=json_remove(extra, '$.dedupe') "
                         "WHERE status='active' AND json_extract(extra, '$.dedupe') IS NOT NULL")
    _remove_empty_dirs(ds.root / DUPLICATES_DIR)
    return report


def _restore_one(ds: Dataset, conn: sqlite3.Connection, item_id: int, rel: str, extra: dict,
                 report: UndoReport) -> None:
    info = extra.get("dedupe", {})
    if info.get("deleted"):
        report.deleted += 1
        return
    new_rel = rel
    if info.get("moved_from"):
        new_rel = info["moved_from"]
        src, dst = ds.root / rel, ds.root / new_rel
        if src.exists() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            report.moved_back += 1
        elif not dst.exists():
            report.missing.append(rel)
    extra.pop("dedupe", None)
    conn.execute("UPDATE items SET status='active', duplicate_of=NULL, cluster=NULL, path=?, extra=? "
                 "WHERE id=?", (new_rel, json.dumps(extra), item_id))
    report.restored += 1


def apply(ds: Dataset, removed: Sequence[tuple], kept: Sequence[tuple[int, int]],
          action: str, run_id: int, ports: Optional[Ports] = None) -> ApplyReport:
    """Mark `removed` (item id, kept item id, similarity[, why: dict]) and `kept` (item id,
    cluster size); then move or delete the removed files if asked. `why` (the verifier's signal,
    value, threshold and reason) is stored with the mark."""
    ports = ports or Ports()
    report = ApplyReport()
    total = len(removed) + len(kept)
    with ds.db() as conn:
        for start in range(0, len(kept), BATCH):
            with ds.transaction(conn):
                conn.executemany(
                    "UPDATE items SET cluster=id, extra=json_set(COALESCE(extra, '{}'), '$.dedupe', "
                    "json(?)) WHERE id=?",
                    [(json.dumps({"kept": int(size), "run": run_id}), int(i)) for i, size in kept[start:start + BATCH]])
        done = len(kept)
        for start in range(0, len(removed), BATCH):
            batch = removed[start:start + BATCH]
            with ds.transaction(conn):
                for item_id, survivor, sim, *why in batch:
                    _remove_one(ds, conn, int(item_id), int(survivor), float(sim), action, run_id, report,
                                why[0] if why else None)
            done += len(batch)
            ports.step(done, total)
    _remove_empty_dirs(ds.root / DUPLICATES_DIR)
    return report


def _remove_one(ds: Dataset, conn: sqlite3.Connection, item_id: int, survivor: int, sim: float,
                action: str, run_id: int, report: ApplyReport, why: Optional[dict] = None) -> None:
    info: dict = {"of": survivor, "similarity": round(sim, 5), "run": run_id, **({"why": why} if why else {})}
    rel = conn.execute("SELECT path FROM items WHERE id=?", (item_id,)).fetchone()[0]
    new_rel = rel
    if action == "move":
        src, dst = ds.root / rel, duplicates_path(ds, rel)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        except OSError as exc:
            report.failed.append((rel, f"not moved: {exc.strerror or exc}"))
        else:
            new_rel = f"{DUPLICATES_DIR}/{rel}"
            info["moved_from"] = rel
            report.moved += 1
    elif action == "delete":
        try:
            (ds.root / rel).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            report.failed.append((rel, f"not deleted: {exc.strerror or exc}"))
            return _mark(conn, item_id, survivor, rel, info, report)
        info["deleted"] = True
        report.deleted += 1
    _mark(conn, item_id, survivor, new_rel, info, report)


def _mark(conn: sqlite3.Connection, item_id: int, survivor: int, rel: str, info: dict,
          report: ApplyReport) -> None:
    conn.execute("UPDATE items SET status='duplicate', duplicate_of=?, cluster=?, path=?, "
                 "extra=json_set(COALESCE(extra, '{}'), '$.dedupe', json(?)) WHERE id=?",
                 (survivor, survivor, rel, json.dumps(info), item_id))
    report.marked += 1


def check_action(ds: Dataset, action: str) -> None:
    if action == "move":
        folder = ds.root / DUPLICATES_DIR
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot create {folder}: {exc.strerror or exc}",
                           "choose a dataset folder you can write to, or only mark duplicates (no move)") from exc


def _remove_empty_dirs(folder: Path) -> None:
    if not folder.is_dir():
        return
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()
