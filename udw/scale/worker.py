"""The Ray Data actor that runs a stage's load+process on a worker.

One actor builds the stage once (its ONNX session stays open for the actor's life), then turns
each batch of item rows into result rows. Loads run in threads as in the local runner, so reading
and decoding overlap with compute; a bad item becomes a failed row, never a failed batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import socket
import time
from typing import Any, Optional

from ..core.errors import UdwError
from ..core.stages import LOAD_ERRORS, item_error_reason
from .naming import install_alias
from .view import worker_view
from .wire import encode_result, item_from_wire, unpack_stage, worker_ports

RESULT_COLUMNS = ("id", "ok", "error", "result", "seconds", "worker", "fatal")


def result_table(ids: list[int], ok: list[bool], errors: list[str], blobs: list, seconds: float,
                 worker: str, fatal: Optional[bytes] = None) -> Any:
    """The wire format of results (an Arrow table: exact binary, no pandas/numpy coercion).

    `fatal` carries a pickled UdwError that must stop the whole run (a model missing on the
    worker, a full disk): Ray keeps only the text of exceptions that escape an actor, and the
    driver should show the message and hint as the local engine would.
    """
    import pyarrow as pa

    n = len(ids)
    share = seconds / max(1, n)
    return pa.table({"id": pa.array(ids, pa.int64()), "ok": pa.array(ok, pa.bool_()),
                     "error": pa.array(errors, pa.string()), "result": pa.array(blobs, pa.binary()),
                     "seconds": pa.array([share] * n, pa.float64()),
                     "worker": pa.array([worker] * n, pa.string()),
                     "fatal": pa.array([fatal] * n, pa.binary())})


def fatal_table(ids: list[int], exc: BaseException, worker: str) -> Any:
    text = f"{type(exc).__name__}: {exc}"
    return result_table(ids, [False] * len(ids), [text] * len(ids), [None] * len(ids), 0.0, worker,
                        encode_result(exc))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class StageWorker:
    """map_batches callable class: (stage blob, worker root, ports spec) -> results per batch."""

    def __init__(self, blob: bytes, root: str, ports: dict, alias: str = ""):
        install_alias(alias)  # before unpickling: the stage may come from a host-named package
        self.name = worker_name()
        self.failure: Optional[BaseException] = None
        try:
            self.stage = unpack_stage(blob)
            self.view = worker_view(root, self.stage.name)
            self.stage.prepare_worker(self.view, worker_ports(ports))
        except UdwError as exc:  # sent back with the first batch (see result_table)
            self.failure = exc
            return
        self.pool = cf.ThreadPoolExecutor(max(1, self.stage.load_threads), thread_name_prefix="udw-load")

    def __call__(self, batch: Any) -> Any:
        ids = batch.column("id").to_pylist()
        if self.failure is not None:
            return fatal_table(ids, self.failure, self.name)
        try:
            table = self._run(batch)
            flush = getattr(self.view, "flush", None)
            if flush is not None:  # a mirrored dataset: outputs reach the store before the driver commits
                flush()
            return table
        except UdwError as exc:
            return fatal_table(ids, exc, self.name)

    def _run(self, batch: Any) -> Any:
        start = time.perf_counter()
        items = [item_from_wire(t) for t in batch.column("item").to_pylist()]
        futures = [self.pool.submit(self.stage.load, self.view, it) for it in items]
        outcome: dict[int, tuple[bool, str, Any]] = {}
        good, loaded = [], []
        for item, fut in zip(items, futures):
            try:
                loaded.append(fut.result())
                good.append(item)
            except LOAD_ERRORS as exc:
                outcome[item.id] = (False, item_error_reason(exc), None)
        results = self.stage.process(self.view, good, loaded) if good else []
        for item, result in zip(good, results):
            if isinstance(result, Exception):
                outcome[item.id] = (False, item_error_reason(result), None)
            else:
                outcome[item.id] = (True, "", encode_result(result))
        ids = [it.id for it in items]
        rows = [outcome[i] for i in ids]
        return result_table(ids, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                            time.perf_counter() - start, self.name)
