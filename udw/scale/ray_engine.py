"""The Ray engine for `run_stage`: any Stage's load+process on Ray Data actors, commits here.

    run_stage(ds, stage, ports, engine=EngineSettings("ray", address="auto"))

The driver (this process) selects the pending items exactly like the local engine, sends their
manifest rows to a pool of actors (`StageWorker`: the stage built once per actor, its model
session open for the actor's life, GPU actors when the cluster has GPUs), and commits every
result batch as it streams back, in one transaction with its `stage_done` marks, through the
same `commit_batch` as the local engine. So the manifest ends up the same, and resumability is
the same: a killed actor's block is retried by Ray; a killed driver loses only uncommitted
batches, which the next run selects again.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from ..core.engine import EngineSettings
from ..core.errors import BadInput, UdwError
from ..core.manifest import Dataset
from ..core.ports import Ports
from ..core.stages import Stage, StageReport, commit_batch
from .runtime import connect, plan_actors, require_ray  # noqa: F401 - require_ray: the engine API
from .stream import stream_map
from .wire import decode_result, item_to_wire, pack_stage, ports_spec
from .worker import StageWorker

MAX_BLOCKS = 4000  # above this, several stage batches share one block (Ray's per-block overhead)


def run_batches(ds: Dataset, stage: Stage, key: str, todo: list[int], ports: Ports, report: StageReport,
                settings: EngineSettings) -> None:
    """Compute `todo` on Ray and commit results here as they arrive (the local `_run_batches`'s twin)."""
    ray = connect(settings)
    stage.prepare_driver(ds, ports)
    size = max(1, stage.batch_size)
    blocks = item_blocks(ds, stage, todo, size)
    plan = plan_actors(ray, settings, len(blocks))
    kwargs = {"blob": pack_stage(stage), "root": settings.worker_root or str(ds.root), "ports": ports_spec(ports)}
    ports.logger.info("%s on Ray: %d items in %d blocks, %s", stage.name, len(todo), len(blocks), plan.describe())
    workers: Counter = Counter()
    busy = committing = 0.0
    first = None
    seen: set[int] = set()
    start = time.perf_counter()
    with ds.db() as conn:
        for table in stream_map(ray, blocks, StageWorker, kwargs, plan, size):
            t0 = time.perf_counter()
            first = first if first is not None else t0 - start
            busy += commit_table(ds, stage, key, conn, table, seen, report, workers)
            committing += time.perf_counter() - t0
            ports.step(report.done + len(report.failed), len(todo))
    report.stats.update(ray_stats(plan, workers, busy, time.perf_counter() - start))
    report.stats.update(ray_first_result_seconds=round(first or 0.0, 3),
                        ray_driver_commit_seconds=round(committing, 3), ray_blocks=len(blocks))


def item_blocks(ds: Dataset, stage: Stage, todo: list[int], size: int) -> list[Any]:
    """Input blocks of {id, item}: one stage batch each (fewer, larger ones for huge runs)."""
    import pyarrow as pa

    rows = size * max(1, -(-len(todo) // (size * MAX_BLOCKS)))
    blocks = []
    with ds.db() as conn:
        for start in range(0, len(todo), rows):
            items = ds.items(status=None, ids=todo[start:start + rows])
            stage.attach(ds, conn, items)
            blocks.append(pa.table({"id": pa.array([it.id for it in items], pa.int64()),
                                    "item": pa.array([item_to_wire(it) for it in items], pa.binary())}))
    if not blocks:
        raise BadInput("nothing to send to Ray workers", "the selected items disappeared from the manifest")
    return blocks


def commit_table(ds: Dataset, stage: Stage, key: str, conn: Any, table: Any, seen: set[int],
                 report: StageReport, workers: Counter) -> float:
    """Commit one streamed result table; rows already committed in this run are skipped."""
    raise_fatal(table)
    cols = {name: table.column(name).to_pylist() for name in ("id", "ok", "error", "result", "seconds", "worker")}
    fresh = [n for n, i in enumerate(cols["id"]) if i not in seen]
    items = {it.id: it for it in ds.items(status=None, ids=[cols["id"][n] for n in fresh])}
    results, bad = [], []
    for n in fresh:
        item = items.get(cols["id"][n])
        if item is None:  # deleted from the manifest while the job ran
            continue
        if cols["ok"][n]:
            results.append((item, decode_result(cols["result"][n])))
        else:
            bad.append((item, cols["error"][n]))
        workers[cols["worker"][n]] += 1
    commit_batch(ds, stage, key, conn, results, bad, report)
    seen.update(cols["id"][n] for n in fresh)
    return float(sum(cols["seconds"][n] for n in fresh))


def raise_fatal(table: Any) -> None:
    """Re-raise a worker's run-stopping UdwError here, with its message and hint."""
    blob = table.column("fatal")[0].as_py() if "fatal" in table.column_names and table.num_rows else None
    if blob is None:
        return
    exc = decode_result(blob)
    if isinstance(exc, UdwError):
        exc.args = (f"on a Ray worker: {exc.args[0] if exc.args else ''}", *exc.args[1:])
        raise exc
    raise UdwError(f"a Ray worker failed: {exc}")


def ray_stats(plan: Any, workers: Counter, busy: float, wall: float) -> dict:
    """What the run used: actors, items per worker process, compute seconds vs wall time."""
    return {"ray_actors": plan.actors, "ray_cpus_per_actor": plan.cpus, "ray_gpus_per_actor": plan.gpus,
            "ray_items_per_worker": dict(workers), "ray_compute_seconds": round(busy, 3),
            "ray_wall_seconds": round(wall, 3)}
