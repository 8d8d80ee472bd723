"""Fan-out jobs: work that is not "one manifest item" (files to import, videos or time segments to
cut), run as tasks on Ray actors or in this process, with results committed here.

A `RemoteJob` turns one task (a small JSON-able dict) into one result on a worker; the driver's
`commit(conn, task, outcome)` writes it. The same job runs locally by calling `run_task` in
this process, so both engines share one code path and produce the same manifest.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from ..core.engine import EngineSettings
from ..core.errors import UdwError
from ..core.ports import Ports
from .view import DatasetView, worker_view
from .wire import decode_result, encode_result, ports_spec, worker_ports
from .worker import fatal_table, result_table, worker_name


class TaskError(Exception):
    """One task failed (a bad file, a broken video): reported, the others go on."""


@dataclass
class Outcome:
    task: dict
    ok: bool
    error: str = ""
    result: Any = None
    seconds: float = 0.0
    worker: str = ""


class RemoteJob:
    """Override `run_task` (runs on a worker; raise TaskError for a bad task)."""

    name = "job"
    tasks_per_batch = 1

    def prepare_worker(self, view: DatasetView, ports: Ports) -> None:
        """Called once per worker (open models, codecs)."""

    def run_task(self, view: DatasetView, task: dict) -> Any:
        raise NotImplementedError


def run_tasks(job: RemoteJob, root: str, tasks: Sequence[dict], ports: Ports,
              engine: Optional[EngineSettings]) -> Iterator[Outcome]:
    """Outcomes in task order; on Ray they stream back as workers finish."""
    if engine is None or engine.local:
        yield from _run_here(job, root, tasks, ports)
    else:
        yield from _run_on_ray(job, root, tasks, ports, engine)


def _run_here(job: RemoteJob, root: str, tasks: Sequence[dict], ports: Ports) -> Iterator[Outcome]:
    view = worker_view(root, job.name)
    job.prepare_worker(view, ports)
    for task in tasks:
        out = _one(job, view, task, "local")
        if hasattr(view, "flush"):
            view.flush()
        yield out


def _one(job: RemoteJob, view: DatasetView, task: dict, worker: str) -> Outcome:
    start = time.perf_counter()
    try:
        result = job.run_task(view, task)
        return Outcome(task, True, result=result, seconds=time.perf_counter() - start, worker=worker)
    except (TaskError, OSError, ValueError) as exc:
        text = str(exc) if isinstance(exc, TaskError) else f"{type(exc).__name__}: {exc}"
        return Outcome(task, False, text, seconds=time.perf_counter() - start, worker=worker)


class JobWorker:
    """map_batches callable class for RemoteJobs (the job pickled with cloudpickle)."""

    def __init__(self, blob: bytes, root: str, ports: dict, alias: str = ""):
        from .naming import install_alias
        from .wire import unpack_object

        install_alias(alias)
        self.name = worker_name()
        self.failure: Optional[BaseException] = None
        try:
            self.job = unpack_object(blob)
            self.view = worker_view(root, self.job.name)
            self.job.prepare_worker(self.view, worker_ports(ports))
        except UdwError as exc:
            self.failure = exc

    def __call__(self, batch: Any) -> Any:
        ids = batch.column("id").to_pylist()
        if self.failure is not None:
            return fatal_table(ids, self.failure, self.name)
        tasks = [json.loads(t) for t in batch.column("task").to_pylist()]
        try:
            outs = [_one(self.job, self.view, t, self.name) for t in tasks]
            if hasattr(self.view, "flush"):
                self.view.flush()
        except UdwError as exc:  # a problem for the whole run (output not writable, ...)
            return fatal_table(ids, exc, self.name)
        table = result_table(ids, [o.ok for o in outs], [o.error for o in outs],
                             [encode_result(o.result) if o.ok else None for o in outs], 0.0, self.name)
        return table.set_column(table.column_names.index("seconds"), "seconds",
                                _floats([o.seconds for o in outs]))


def _floats(values: list[float]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.float64())


def _run_on_ray(job: RemoteJob, root: str, tasks: Sequence[dict], ports: Ports,
                engine: EngineSettings) -> Iterator[Outcome]:
    import pyarrow as pa

    from .ray_engine import raise_fatal
    from .runtime import connect, plan_actors
    from .stream import stream_map
    from .wire import pack_object

    ray = connect(engine)
    per = max(1, job.tasks_per_batch)
    blocks = [pa.table({"id": pa.array(list(range(s, min(s + per, len(tasks)))), pa.int64()),
                        "task": pa.array([json.dumps(t) for t in tasks[s:s + per]], pa.string())})
              for s in range(0, len(tasks), per)]
    if not blocks:
        return
    plan = plan_actors(ray, engine, len(blocks))
    kwargs = {"blob": pack_object(job), "root": root, "ports": ports_spec(ports)}
    ports.logger.info("%s on Ray: %d tasks, %s", job.name, len(tasks), plan.describe())
    done: set[int] = set()
    for table in stream_map(ray, blocks, JobWorker, kwargs, plan, per):
        raise_fatal(table)
        cols = {c: table.column(c).to_pylist() for c in ("id", "ok", "error", "result", "seconds", "worker")}
        for n, i in enumerate(cols["id"]):
            if i in done:  # a retried block: already handed over
                continue
            done.add(i)
            yield Outcome(tasks[i], cols["ok"][n], cols["error"][n] or "",
                          decode_result(cols["result"][n]) if cols["ok"][n] else None,
                          cols["seconds"][n], cols["worker"][n])


def job_stats(outcomes: Sequence[Outcome]) -> dict:
    """Where tasks ran and how long they took (for reports and the benchmark)."""
    return {"tasks_per_worker": dict(Counter(o.worker for o in outcomes)),
            "task_seconds": round(sum(o.seconds for o in outcomes), 3)}
