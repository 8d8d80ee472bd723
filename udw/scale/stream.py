"""Run a callable class over input rows on Ray Data and stream result tables back to the driver.

Each input block is one unit of work (one stage batch, one video, ...): it is also the unit Ray
retries when an actor dies, and results come back block by block, so the driver commits while
the cluster computes. Order is preserved by default, so the driver commits in the same order as
the local engine and ids it creates (crops, frames) come out the same.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Sequence

from ..core.errors import UdwError
from .naming import canonical_class, pack_prefix
from .runtime import ActorPlan, worker_runtime_env


def stream_map(ray: Any, blocks: Sequence[Any], worker_cls: type, worker_kwargs: dict, plan: ActorPlan,
               batch_rows: Optional[int], preserve_order: bool = True,
               max_tasks_in_flight: int = 2) -> Iterator[Any]:
    """Yield result tables (pyarrow) as workers finish blocks; closing the iterator stops the job."""
    source = ray.data.from_arrow(list(blocks))
    worker_cls = canonical_class(worker_cls)  # importable by name on every worker
    worker_kwargs = {**worker_kwargs, "alias": pack_prefix()}
    compute = ray.data.ActorPoolStrategy(size=plan.actors, max_tasks_in_flight_per_actor=max_tasks_in_flight)
    mapped = source.map_batches(
        worker_cls, batch_size=batch_rows, batch_format="pyarrow", zero_copy_batch=True,
        fn_constructor_kwargs=worker_kwargs, compute=compute, num_cpus=plan.cpus,
        num_gpus=plan.gpus or None, runtime_env=worker_runtime_env())
    options = mapped.context.execution_options
    options.preserve_order = preserve_order
    iterator = mapped.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=1)
    try:
        for table in iterator:
            if table.num_rows:
                yield table
    except Exception as exc:  # noqa: BLE001 - Ray wraps worker errors; surface ours with their hint
        raise _unwrap(exc) from exc
    finally:
        with contextlib.suppress(Exception):
            iterator.close()


def _unwrap(exc: BaseException) -> BaseException:
    """The UdwError a worker raised (ModelNotFound, BadInput, ...), or Ray's error as it is."""
    seen, todo = set(), [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, UdwError):
            text = f"on a Ray worker: {cur.args[0] if cur.args else ''}"
            try:
                return type(cur)(text, cur.hint)
            except TypeError:  # a subclass with another signature
                return UdwError(text, cur.hint)
        todo += [getattr(cur, "cause", None), cur.__cause__, cur.__context__]
    return exc
