"""The stage runner: resumable, idempotent per-item work over a dataset.

A stage says which items it still has to do (by default: active items without a `stage_done`
row for its current settings), how to load one item (run in background threads, so decoding
overlaps with compute), how to process a batch, and how to write the results. Results and the
`stage_done` marks of a batch land in one transaction: after a kill, a re-run redoes at most the
batch that was in flight and never records a result twice.

Engines: by default batches run in this process. With `engine=` (or `ports.engine`) set to Ray,
load+process run in remote actors (`udw.scale`) and results stream back to this process, which
alone commits them the same way, so results and resumability are the same on both engines. For
that, a stage's load/process must only use `ds.root`/`ds.abspath` (workers get a view of the
dataset folder, not the manifest), its results must be picklable, and attributes that cannot
travel (open model sessions) are listed in `transient` and rebuilt by `prepare_worker`.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence

from .engine import EngineSettings, backend
from .errors import Cancelled
from .manifest import Dataset, Item, settings_key
from .ports import Ports


def _said_once(path: str, reason: str) -> str:
    first = (str(reason).splitlines() or [""])[0]
    return first[len(path) + 2:] if first.startswith(f"{path}: ") else first  # the path is said once


class ItemError(Exception):
    """Raised by `Stage.load`/`Stage.process` for one bad item: it is reported and skipped."""


LOAD_ERRORS = (ItemError, OSError, ValueError)  # what a failed load() may raise for one bad item
SHOWN_FAILURES = 20


def failure_lines(failed: list[tuple[str, str]], limit: int = SHOWN_FAILURES) -> list[str]:
    """One line per file a stage could not take (path and the first line of the reason), as every
    front end prints them under the summary; past `limit`, how many more there are."""
    lines = [f"  skipped {path}: {_said_once(path, reason)}" for path, reason in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more files that could not be read")
    return lines


@dataclass
class StageReport:
    stage: str
    done: int = 0
    already_done: int = 0   # items finished by an earlier run with the same settings
    not_applicable: int = 0  # active items this stage does not work on (e.g. no faces to name)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (item path, reason)
    cancelled: bool = False
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    not_applicable_label: str = "not for this step"

    def summary(self) -> str:
        text = f"{self.stage}: {self.done} done, {self.already_done} already done"
        if self.not_applicable:
            text += f", {self.not_applicable} {self.not_applicable_label}"
        if self.failed:
            text += f", {len(self.failed)} failed"
        if self.cancelled:
            text += " (cancelled; run again to resume)"
        return "\n".join([text + f" in {self.seconds:.1f}s", *failure_lines(self.failed)])


class Stage:
    """Base class: override `load`, `process` and `commit` (and `settings`, `select` if needed)."""

    name = "stage"
    batch_size = 16
    load_threads = 2
    transient: tuple[str, ...] = ()  # attributes not sent to remote workers (set to None there)
    not_applicable_label = "not for this step"  # how the report names items `select` leaves out

    def settings(self) -> dict:
        """What decides whether an earlier result is still valid (changing it redoes items)."""
        return {}

    def select(self, ds: Dataset, key: str, retry_failed: bool) -> list[int]:
        return ds.pending(self.name, key, retry_failed=retry_failed)

    def prepare(self, ds: Dataset, ports: Ports) -> None:
        """Called once before the first batch (open models here)."""

    def prepare_driver(self, ds: Dataset, ports: Ports) -> None:
        """Remote engines: called once in the driver before workers start (one-time housekeeping)."""

    def prepare_worker(self, ds: Dataset, ports: Ports) -> None:
        """Remote engines: called once in each worker, with a view of the dataset folder."""
        self.prepare(ds, ports)

    def attach(self, ds: Dataset, conn: sqlite3.Connection, items: Sequence[Item]) -> None:
        """Before load(), in the process that owns the manifest: put into `item.context` whatever
        load() needs from the manifest besides the item row (its faces, ...). load() itself may
        run where the manifest is not (a Ray worker), so it must not read it."""

    def load(self, ds: Dataset, item: Item) -> Any:
        """Read one item (runs in a worker thread). Raise ItemError for a bad item."""
        return item

    def process(self, ds: Dataset, items: Sequence[Item], loaded: Sequence[Any]) -> list[Any]:
        """Compute results for a batch; return one result per item (an Exception marks a failure)."""
        return list(loaded)

    def commit(self, ds: Dataset, conn: sqlite3.Connection, item: Item, result: Any) -> None:
        """Write one item's result (inside the batch's transaction)."""

    def finish(self, ds: Dataset, report: StageReport, ports: Ports) -> None:
        """Called once after the last batch (write views, summaries)."""


def _batches(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _load_all(stage: Stage, ds: Dataset, items: list[Item], pool: cf.Executor) -> list[cf.Future]:
    return [pool.submit(stage.load, ds, item) for item in items]


def run_stage(ds: Dataset, stage: Stage, ports: Optional[Ports] = None, retry_failed: bool = False,
              limit: Optional[int] = None, engine: Optional[EngineSettings] = None) -> StageReport:
    """Run `stage` over the items it has not finished; safe to interrupt and run again.

    engine: where batches run (default: `ports.engine`, else this process).
    """
    ports = ports or Ports()
    engine = engine or ports.engine
    remote = backend(engine) if engine is not None and not engine.local else None
    key = settings_key(stage.settings())
    report = StageReport(stage.name, not_applicable_label=stage.not_applicable_label)
    start = time.perf_counter()
    todo = stage.select(ds, key, retry_failed)
    if limit is not None:
        todo = todo[:limit]
    report.already_done, report.not_applicable = _earlier(ds, stage.name, key, todo)
    run_id = _start_run(ds, stage, key)
    ports.progress(0, len(todo))
    try:
        if todo and remote is not None:
            report.stats["engine"] = engine.describe()
            remote.run_batches(ds, stage, key, todo, ports, report, engine)
        elif todo:
            stage.prepare(ds, ports)
            _run_batches(ds, stage, key, todo, ports, report)
    except Cancelled:
        report.cancelled = True
    report.seconds = time.perf_counter() - start
    if not report.cancelled:
        stage.finish(ds, report, ports)
    _end_run(ds, run_id, report)
    return report


def _run_batches(ds: Dataset, stage: Stage, key: str, todo: list[int], ports: Ports,
                 report: StageReport) -> None:
    batches = list(_batches(todo, max(1, stage.batch_size)))
    with cf.ThreadPoolExecutor(max(1, stage.load_threads), thread_name_prefix=f"udw-{stage.name}") as pool, \
            ds.db() as conn:
        nxt = _submit(stage, ds, batches, 0, pool, conn)
        for n in range(len(batches)):
            items, futures = nxt
            nxt = _submit(stage, ds, batches, n + 1, pool, conn)  # prefetch while this batch computes
            _one_batch(ds, stage, key, conn, items, futures, report)
            ports.step(report.done + len(report.failed), len(todo))


def _submit(stage: Stage, ds: Dataset, batches: list, n: int, pool: cf.Executor, conn: sqlite3.Connection):
    if n >= len(batches):
        return [], []
    items = ds.items(status=None, ids=batches[n])
    stage.attach(ds, conn, items)
    return items, _load_all(stage, ds, items, pool)


def _one_batch(ds: Dataset, stage: Stage, key: str, conn: sqlite3.Connection, items: list[Item],
               futures: list[cf.Future], report: StageReport) -> None:
    loaded, good, bad = [], [], []
    for item, fut in zip(items, futures):
        try:
            loaded.append(fut.result())
            good.append(item)
        except LOAD_ERRORS as exc:
            bad.append((item, _reason(exc)))
    results = stage.process(ds, good, loaded) if good else []
    commit_batch(ds, stage, key, conn, list(zip(good, results)), bad, report)


def commit_batch(ds: Dataset, stage: Stage, key: str, conn: sqlite3.Connection,
                 results: Sequence[tuple[Item, Any]], bad: list[tuple[Item, str]], report: StageReport) -> None:
    """One transaction: each result committed with its stage_done mark; failures marked as such.

    A result that is an Exception counts as a failure. Every engine commits through here.
    """
    bad = list(bad)
    with ds.transaction(conn):
        for item, result in results:
            if isinstance(result, Exception):
                bad.append((item, _reason(result)))
                continue
            stage.commit(ds, conn, item, result)
            ds.mark_done(conn, [item.id], stage.name, key)
            report.done += 1
        for item, reason in bad:
            ds.mark_done(conn, [item.id], stage.name, key, error=reason)
    report.failed.extend((item.path, reason) for item, reason in bad)


def item_error_reason(exc: BaseException) -> str:
    """How a failed item's error is recorded (the same text on every engine)."""
    return _reason(exc)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, ItemError) else str(exc)


def _earlier(ds: Dataset, stage: str, key: str, todo: Sequence[int]) -> tuple[int, int]:
    """(finished earlier with these settings, left out by the stage) among the active items not in `todo`."""
    with ds.db() as conn:
        rows = conn.execute("SELECT d.item_id, d.ok FROM stage_done d JOIN items i ON i.id=d.item_id "
                            "WHERE d.stage=? AND d.settings=? AND i.status='active'", (stage, key)).fetchall()
    pending = set(todo)
    finished = sum(1 for item_id, _ in rows if item_id not in pending)
    return finished, max(0, ds.count() - len(pending) - finished)


def _start_run(ds: Dataset, stage: Stage, key: str) -> int:
    with ds.transaction() as conn:
        cur = conn.execute("INSERT INTO stage_runs(stage, settings, started, status) VALUES(?,?,?,?)",
                           (stage.name, json.dumps(stage.settings(), default=str), time.time(), "running"))
        return cur.lastrowid


def _end_run(ds: Dataset, run_id: int, report: StageReport) -> None:
    stats = {"done": report.done, "failed": len(report.failed), **report.stats}
    with ds.transaction() as conn:
        conn.execute("UPDATE stage_runs SET finished=?, status=?, stats=? WHERE id=?",
                     (time.time(), "cancelled" if report.cancelled else "finished",
                      json.dumps(stats, default=str), run_id))
