"""A manifest as comparable data: every table's rows, without run ids, times and timings.

Two builds of the same input with the same settings must give equal dumps whichever front end
(CLI, ComfyUI node, UDW tab, app) started them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ..core.manifest import MANIFEST_NAME

SKIP_TABLES = {"stage_runs", "sqlite_sequence"}                 # one row per run: ids and times
TIME_COLUMNS = {"finished", "started", "at", "added", "created", "mtime"}
TIME_KEYS = ("seconds", "elapsed")
RUN_KEYS = {"run", "run_id", "time"}                               # which run wrote it and when


def _clean(value: Any) -> Any:
    """JSON text without timing keys (settings and stats stay)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _clean(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()
                if k not in RUN_KEYS and not any(t in k.lower() for t in TIME_KEYS)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def dump(dataset_root: Path) -> dict[str, list]:
    conn = sqlite3.connect(Path(dataset_root) / MANIFEST_NAME)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        out = {}
        for table in tables:
            if table in SKIP_TABLES:
                continue
            cur = conn.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cur.description]
            rows = [{n: _clean(v) for n, v in zip(names, row) if n not in TIME_COLUMNS} for row in cur]
            out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
        return out
    finally:
        conn.close()
