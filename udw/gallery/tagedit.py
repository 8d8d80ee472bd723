"""Tag edits, per image or in batch over a filtered set: add, remove, replace, regex.

Changes are worked out with set queries in SQLite (only affected items are touched), written to
the manifest in one transaction (tags + `tag_edits`, the record of what a person decided), then
to the sidecar files that exist beside those images. A dry run reports what would change.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Optional

from ..core.errors import BadInput
from ..core.manifest import Dataset
from ..core.paths import within
from ..core.ports import Ports
from .query import Filter, where
from .sidecars import DirIndex, rewrite

OPS = ("add", "remove", "replace", "regex")
MANUAL_SCORE = 1.0


@dataclass
class Change:
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)   # old -> new, kept in place in sidecars
    scores: dict[str, float] = field(default_factory=dict)  # added tag -> score (a rename keeps its score)


@dataclass
class EditReport:
    items: int = 0
    added: int = 0
    removed: int = 0
    sidecars: int = 0
    sidecar_errors: list[str] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        text = f"{verb} {self.items} items (+{self.added} / -{self.removed} tags)"
        if not self.dry_run:
            text += f", {self.sidecars} sidecar files rewritten"
        if self.sidecar_errors:
            text += f", {len(self.sidecar_errors)} sidecars could not be written"
        return text


def clean_tags(text_or_list) -> list[str]:
    items = text_or_list.split(",") if isinstance(text_or_list, str) else list(text_or_list)
    out = []
    for tag in items:
        tag = " ".join(str(tag).split())
        if tag and tag not in out:
            out.append(tag[:200])
    return out


def _ids(conn, f: Filter, extra: str = "", args: tuple = ()) -> list[int]:
    cond, params = where(f)
    sql = f"SELECT i.id FROM items i WHERE {cond}" + (f" AND {extra}" if extra else "")
    return [r[0] for r in conn.execute(sql, [*params, *args])]


def plan_batch(conn, f: Filter, op: str, arg1: str, arg2: str = "") -> dict[int, Change]:
    """Per affected item, the change that `op` makes on the filtered set."""
    if op not in OPS:
        raise BadInput(f"unknown tag operation {op!r}", f"use one of {', '.join(OPS)}")
    changes: dict[int, Change] = {}
    if op in ("add", "remove"):
        tags = clean_tags(arg1)
        if not tags:
            raise BadInput(f"no tags to {op}", "type tags separated by commas")
        for tag in tags:
            having = "IN" if op == "remove" else "NOT IN"
            for item in _ids(conn, f, f"i.id {having} (SELECT item_id FROM tags WHERE tag = ?)", (tag,)):
                ch = changes.setdefault(item, Change())
                (ch.removed if op == "remove" else ch.added).append(tag)
        return changes
    if op == "replace":
        old, new = clean_tags(arg1), clean_tags(arg2)
        if len(old) != 1 or len(new) > 1:
            raise BadInput("replace takes one tag and its replacement", "e.g. replace `long_hair` with `long hair`")
        mapping = {old[0]: new[0] if new else ""}
    else:
        try:
            pattern = re.compile(arg1)
        except re.error as exc:
            raise BadInput(f"bad regular expression {arg1!r}: {exc}", "check the pattern") from exc
        cond, params = where(f)
        tags = [r[0] for r in conn.execute(
            f"SELECT DISTINCT tag FROM tags WHERE item_id IN (SELECT i.id FROM items i WHERE {cond})", params)]
        mapping = {}
        for tag in tags:
            new_tag = " ".join(pattern.sub(arg2, tag).split())
            if new_tag != tag:
                mapping[tag] = new_tag
    cond, params = where(f)
    olds = list(mapping)
    for start in range(0, len(olds), 500):  # (item, tag) pairs of the affected tags, one query per chunk
        chunk = olds[start:start + 500]
        rows = conn.execute(f"SELECT t.item_id, t.tag, t.score FROM tags t WHERE t.tag IN ({','.join('?' * len(chunk))}) "
                            f"AND t.item_id IN (SELECT i.id FROM items i WHERE {cond}) ORDER BY t.item_id",
                            [*chunk, *params])
        for item, old_tag, score in rows:
            new_tag = mapping[old_tag]
            ch = changes.setdefault(item, Change())
            ch.removed.append(old_tag)
            if new_tag:
                ch.added.append(new_tag)
                ch.renamed[old_tag] = new_tag
                ch.scores[new_tag] = max(score, ch.scores.get(new_tag, 0.0))
    return changes


def plan_set(conn, item_id: int, tags: list[str]) -> dict[int, Change]:
    """The change that makes an item's tags exactly `tags`."""
    current = [r[0] for r in conn.execute("SELECT tag FROM tags WHERE item_id=?", (item_id,))]
    wanted = clean_tags(tags)
    change = Change([t for t in current if t not in wanted], [t for t in wanted if t not in current])
    return {item_id: change} if change.removed or change.added else {}


def apply_changes(ds: Dataset, changes: dict[int, Change], dry_run: bool = False,
                  ports: Optional[Ports] = None) -> EditReport:
    start = time.perf_counter()
    ports = ports or Ports()
    report = EditReport(items=len(changes), dry_run=dry_run,
                        added=sum(len(c.added) for c in changes.values()),
                        removed=sum(len(c.removed) for c in changes.values()))
    with ds.db() as conn:
        paths = _paths(conn, list(changes))
        for item_id in list(changes)[:8]:
            report.examples.append({"id": item_id, "path": paths.get(item_id, "?"),
                                    "removed": changes[item_id].removed, "added": changes[item_id].added})
        if dry_run or not changes:
            report.seconds = time.perf_counter() - start
            return report
        categories = _categories(conn, {t for c in changes.values() for t in c.added})
        now = time.time()
        with ds.transaction(conn):
            conn.executemany("DELETE FROM tags WHERE item_id=? AND tag=?",
                             [(i, t) for i, ch in changes.items() for t in ch.removed])
            rows = [(item_id, t, categories[t], ch.scores.get(t, MANUAL_SCORE))
                    for item_id, ch in changes.items() for t in ch.added]
            conn.executemany("INSERT OR IGNORE INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)", rows)
            conn.executemany(
                "INSERT INTO tag_edits(item_id, tag, action, at) VALUES(?,?,?,?) ON CONFLICT(item_id, tag) "
                "DO UPDATE SET action=excluded.action, at=excluded.at",
                [(i, t, "remove", now) for i, ch in changes.items() for t in ch.removed if t not in ch.added]
                + [(i, t, "add", now) for i, ch in changes.items() for t in ch.added])
    _write_sidecars(ds, changes, paths, report, ports)
    report.seconds = time.perf_counter() - start
    return report


def _paths(conn, ids: list[int]) -> dict[int, str]:
    out = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(conn.execute(f"SELECT id, path FROM items WHERE id IN ({','.join('?' * len(chunk))})",
                                chunk).fetchall())
    return out


def _categories(conn, tags: set[str]) -> dict[str, str]:
    """A new tag takes the category it has elsewhere in the dataset, else `general`."""
    out = {}
    for tag in tags:
        row = conn.execute("SELECT category FROM tags WHERE tag=? LIMIT 1", (tag,)).fetchone()
        out[tag] = row[0] if row else "general"
    return out


def _write_sidecars(ds: Dataset, changes: dict[int, Change], paths: dict[int, str],
                    report: EditReport, ports: Ports) -> None:
    index = DirIndex()
    total = len(changes)
    for n, (item_id, ch) in enumerate(changes.items(), 1):
        rel = PurePosixPath(paths.get(item_id, ""))
        if not rel.parts or rel.is_absolute() or ".." in rel.parts:
            continue
        found = index.sidecars(ds.root / rel)  # one listing per folder: most items have none
        try:
            if found:
                within(ds.root, rel)  # the full check (symlinks) only where something will be written
        except BadInput:
            continue
        for sidecar in found:
            try:
                report.sidecars += rewrite(sidecar, ch.removed, ch.added, ch.renamed)
            except BadInput as exc:
                report.sidecar_errors.append(f"{sidecar}: {exc}")
        if n % 500 == 0 or n == total:
            ports.progress(n, total)
