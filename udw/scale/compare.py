"""A manifest's content without run-dependent values, to check that two engines agree.

Item ids and timestamps depend on commit order and time, so rows are keyed by the item's
idempotency key (and the source's path) instead; floats are rounded (ONNX on other hardware).
"""

from __future__ import annotations

import json
from typing import Any

from ..core.manifest import Dataset

_SKIP = {"id", "created", "finished", "started"}
_REFS = {"item_id", "parent_id", "duplicate_of"}
_JSON = {"extra", "info", "value"}
# Facts about the run, not the data: how long, when, which run, on which decoder, what it counted
# on the way (a segmented extraction decodes its warm-ups twice), how it was cut.
_TIMINGS = {"seconds", "time", "run", "hwaccel", "stats", "segments"}


def canonical_manifest(ds: Dataset, digits: int = 5, skip_tables: tuple[str, ...] = ("stage_runs",)) -> dict:
    """table -> sorted rows, ids replaced by item keys / source paths, times left out."""
    out: dict[str, list] = {}
    with ds.db() as conn:
        keys = dict(conn.execute("SELECT id, key FROM items"))
        sources = dict(conn.execute("SELECT id, path FROM sources"))
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            if table in skip_tables:
                continue
            cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 - names from sqlite_master
            names = [d[0] for d in cur.description]
            rows = [_row(dict(zip(names, r)), keys, sources, digits) for r in cur]
            out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def _row(row: dict, keys: dict, sources: dict, digits: int) -> dict:
    clean: dict[str, Any] = {}
    for name, value in row.items():
        if name in _SKIP:
            continue
        if name in _REFS and value is not None:
            value = keys.get(value, f"?{value}")
        elif name == "source_id" and value is not None:
            value = sources.get(value, f"?{value}")
        elif name in _JSON and isinstance(value, str):
            value = _json(value, digits)
        elif isinstance(value, float):
            value = round(value, digits)
        elif isinstance(value, bytes):
            value = value.hex()
        clean[name] = value
    return clean


def _json(text: str, digits: int) -> Any:
    try:
        return _clean(json.loads(text or "{}"), digits)
    except ValueError:
        return text


def _clean(value: Any, digits: int) -> Any:
    """JSON without run timings, floats rounded (key order never matters)."""
    if isinstance(value, dict):
        return {k: _clean(v, digits) for k, v in sorted(value.items()) if k not in _TIMINGS}
    if isinstance(value, list):
        return [_clean(v, digits) for v in value]
    return round(value, digits) if isinstance(value, float) else value


def manifest_differences(a: dict, b: dict, limit: int = 5) -> list[str]:
    """Human-readable differences between two canonical manifests (empty when equal)."""
    diffs = []
    for table in sorted(set(a) | set(b)):
        ra, rb = a.get(table, []), b.get(table, [])
        if ra == rb:
            continue
        sa = {json.dumps(r, sort_keys=True, default=str) for r in ra}
        sb = {json.dumps(r, sort_keys=True, default=str) for r in rb}
        only_a, only_b = sorted(sa - sb)[:limit], sorted(sb - sa)[:limit]
        diffs.append(f"{table}: {len(ra)} vs {len(rb)} rows; only in first: {only_a}; only in second: {only_b}")
    return diffs
