"""A dataset: a folder plus its SQLite manifest (`udw-manifest.sqlite`).

One row per item, with its provenance and every stage's results; `stage_done` records which stage
finished for which item with which settings, so an interrupted stage resumes where it stopped.
Only one process writes at a time (SQLite's lock); readers never block it (WAL journal).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from .errors import BadInput
from .schema import MIGRATIONS

MANIFEST_NAME = "udw-manifest.sqlite"
IMAGE_DIR = "images"


@dataclass
class Item:
    id: int
    path: str
    key: str
    kind: str = "image"
    status: str = "active"
    source_id: Optional[int] = None
    parent_id: Optional[int] = None
    frame_index: Optional[int] = None
    pts: Optional[float] = None
    scene: Optional[int] = None
    series: Optional[str] = None
    episode: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    duplicate_of: Optional[int] = None
    cluster: Optional[int] = None
    person_count: Optional[int] = None
    face_ratio: Optional[float] = None
    bucket: Optional[str] = None
    rating: Optional[str] = None
    extra: dict = field(default_factory=dict)
    created: float = 0.0
    # Not a column: what a stage's attach() read from the manifest for load() (see Stage.attach).
    context: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Item":
        data = {k: row[k] for k in row.keys() if k in _ITEM_FIELDS}
        data["extra"] = json.loads(data.get("extra") or "{}")
        return cls(**data)


_ITEM_FIELDS = {f.name for f in fields(Item)} - {"context"}


def split_sql(script: str) -> list[str]:
    """Split a schema script into single statements (sqlite3's execute takes one at a time)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s.strip(" ;\n")]


def settings_key(settings: dict) -> str:
    """A short stable hash of a stage's settings (what decides whether a result is still valid)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class Dataset:
    """A dataset folder and its manifest. Cheap to create; opens connections on demand."""

    def __init__(self, root: Union[str, Path], create: bool = False):
        self.root = Path(root).expanduser().resolve()
        self.manifest_path = self.root / MANIFEST_NAME
        if not self.manifest_path.exists():
            if not create:
                raise BadInput(f"{self.root} is not a UDW dataset (no {MANIFEST_NAME})",
                               "create one with `udw import FOLDER -d DATASET` or `udw frames VIDEO -o DATASET`")
            self._create_root()
        self._migrate()

    @classmethod
    def open_or_create(cls, root: Union[str, Path]) -> "Dataset":
        return cls(root, create=True)

    def _create_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".udw-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise BadInput(f"cannot create a dataset in {self.root}: {exc.strerror or exc}",
                           "choose a folder you can write to") from exc

    # -- connections -------------------------------------------------------------------------
    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.manifest_path, timeout=60, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextlib.contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def transaction(self, conn: Optional[sqlite3.Connection] = None) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: all of it lands, or none of it (also on kill -9)."""
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if own:
                conn.close()

    def _migrate(self) -> None:
        with self.db() as conn:
            for n, script in enumerate(MIGRATIONS):
                with self.transaction(conn):  # re-read inside the lock: another process may migrate
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > len(MIGRATIONS):
                        raise BadInput(f"{self.manifest_path} was written by a newer UDW Studio "
                                       f"(schema {version})", "update UDW Studio")
                    if version > n:
                        continue
                    for statement in split_sql(script):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={n + 1}")

    # -- meta and fingerprint ------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Changes whenever the manifest changes: cheap cache key for hosts (ComfyUI IS_CHANGED)."""
        parts = []
        for suffix in ("", "-wal"):
            p = Path(str(self.manifest_path) + suffix)
            if p.exists():
                st = p.stat()
                parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        return "|".join(parts)

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self.db() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any, conn: Optional[sqlite3.Connection] = None) -> None:
        sql = "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"
        if conn is not None:
            conn.execute(sql, (key, json.dumps(value)))
            return
        with self.db() as c:
            c.execute(sql, (key, json.dumps(value)))

    # -- sources ---------------------------------------------------------------------------------
    def add_source(self, conn: sqlite3.Connection, path: str, kind: str, series: Optional[str] = None,
                   episode: Optional[str] = None, licence: Optional[str] = None) -> int:
        conn.execute("INSERT OR IGNORE INTO sources(path, kind, series, episode, licence) VALUES(?,?,?,?,?)",
                     (path, kind, series, episode, licence))
        if licence is not None:
            conn.execute("UPDATE sources SET licence=? WHERE path=?", (licence, path))
        return conn.execute("SELECT id FROM sources WHERE path=?", (path,)).fetchone()[0]

    def set_source_state(self, conn: sqlite3.Connection, source_id: int, state: str,
                         info: Optional[dict] = None) -> None:
        conn.execute("UPDATE sources SET state=?, info=COALESCE(?, info) WHERE id=?",
                     (state, json.dumps(info) if info is not None else None, source_id))

    def sources(self) -> list[dict]:
        with self.db() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM sources ORDER BY id")]

    # -- items -----------------------------------------------------------------------------------
    def add_item(self, conn: sqlite3.Connection, path: str, key: str, **values: Any) -> int:
        """Insert an item, or update the one with the same key (re-runs never duplicate)."""
        unknown = set(values) - _ITEM_FIELDS
        if unknown:
            raise TypeError(f"unknown item fields: {sorted(unknown)}")
        if "extra" in values:
            values["extra"] = json.dumps(values["extra"])
        cols = ["path", "key", "created", *values]
        vals = [path, key, time.time(), *values.values()]
        updates = ", ".join(f"{c}=excluded.{c}" for c in ["path", *values])
        conn.execute(f"INSERT INTO items({', '.join(cols)}) VALUES({', '.join('?' * len(cols))}) "
                     f"ON CONFLICT(key) DO UPDATE SET {updates}", vals)
        return conn.execute("SELECT id FROM items WHERE key=?", (key,)).fetchone()[0]

    def update_item(self, conn: sqlite3.Connection, item_id: int, **values: Any) -> None:
        unknown = set(values) - _ITEM_FIELDS
        if unknown or not values:
            raise TypeError(f"bad item fields: {sorted(unknown) or 'none given'}")
        if "extra" in values:
            values["extra"] = json.dumps(values["extra"])
        sets = ", ".join(f"{c}=?" for c in values)
        conn.execute(f"UPDATE items SET {sets} WHERE id=?", [*values.values(), item_id])

    def item(self, item_id: int) -> Item:
        with self.db() as conn:
            row = conn.execute("SELECT * FROM items WHERE id=?", (item_id,)).fetchone()
        if row is None:
            raise BadInput(f"no item {item_id} in {self.root}")
        return Item.from_row(row)

    def items(self, status: Optional[str] = "active", ids: Optional[Sequence[int]] = None,
              where: str = "", params: Sequence[Any] = (), order: str = "id",
              limit: Optional[int] = None, offset: int = 0) -> list[Item]:
        """Items matching the filters; `where` is an extra SQL condition with `?` parameters.

        With `ids`, the result follows the order of `ids`.
        """
        conds, args = [], []
        if status is not None:
            conds.append("status=?")
            args.append(status)
        if where:
            conds.append(f"({where})")
            args.extend(params)
        if ids is None:
            return self._query_items(conds, args, order, limit, offset)
        ids = list(ids)
        found: dict[int, Item] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's parameter limit
            chunk = ids[start:start + 500]
            cond = f"id IN ({','.join('?' * len(chunk))})"
            for it in self._query_items([*conds, cond], [*args, *chunk], "id", None, 0):
                found[it.id] = it
        return [found[i] for i in ids if i in found]

    def _query_items(self, conds: list[str], args: list[Any], order: str,
                     limit: Optional[int], offset: int) -> list[Item]:
        sql = "SELECT * FROM items"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args = [*args, limit, offset]
        with self.db() as conn:
            return [Item.from_row(r) for r in conn.execute(sql, args)]

    def count(self, status: Optional[str] = "active") -> int:
        with self.db() as conn:
            if status is None:
                return conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            return conn.execute("SELECT COUNT(*) FROM items WHERE status=?", (status,)).fetchone()[0]

    def abspath(self, item: Union[Item, str]) -> Path:
        return self.root / (item.path if isinstance(item, Item) else item)

    # -- stage bookkeeping -------------------------------------------------------------------
    def pending(self, stage: str, settings: str, status: Optional[str] = "active",
                retry_failed: bool = False) -> list[int]:
        """Ids of items the stage has not finished with these settings (in id order)."""
        cond = "d.item_id IS NULL OR d.settings != ?"
        if retry_failed:
            cond += " OR d.ok = 0"
        sql = (f"SELECT i.id FROM items i LEFT JOIN stage_done d ON d.item_id=i.id AND d.stage=? "
               f"WHERE ({cond})")
        args: list[Any] = [stage, settings]
        if status is not None:
            sql += " AND i.status=?"
            args.append(status)
        with self.db() as conn:
            return [r[0] for r in conn.execute(sql + " ORDER BY i.id", args)]

    def mark_done(self, conn: sqlite3.Connection, item_ids: Iterable[int], stage: str, settings: str,
                  error: Optional[str] = None) -> None:
        now = time.time()
        conn.executemany(
            "INSERT INTO stage_done(item_id, stage, settings, ok, error, finished) VALUES(?,?,?,?,?,?) "
            "ON CONFLICT(item_id, stage) DO UPDATE SET settings=excluded.settings, ok=excluded.ok, "
            "error=excluded.error, finished=excluded.finished",
            [(i, stage, settings, 0 if error else 1, error, now) for i in item_ids])

    def stage_summary(self) -> dict[str, dict[str, int]]:
        """Per stage: how many items finished ok and how many failed."""
        with self.db() as conn:
            rows = conn.execute("SELECT stage, ok, COUNT(*) FROM stage_done GROUP BY stage, ok").fetchall()
        out: dict[str, dict[str, int]] = {}
        for stage, ok, n in rows:
            out.setdefault(stage, {"ok": 0, "failed": 0})["ok" if ok else "failed"] += n
        return out
