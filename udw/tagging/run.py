"""Tagging many images: decoding and preparation in threads, overlapped with the model's runs.

While the model runs, worker threads decode and prepare the next images (Pillow, NumPy and
onnxruntime release the GIL), so the model never waits for PNG decoding. On a CPU the runs go
side by side in the tagger's lanes (see model.plan_threads); on a GPU they are batched. A bad
image is reported and skipped; the rest of its run is still tagged.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import itertools
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from ..core.errors import BadInput, UdwError
from ..core.ports import Ports
from .model import Tagger, cpu_count
from .postprocess import TagOptions, TagResult, select
from .preprocess import load_prepared, prepare

Loaded = Union[np.ndarray, Exception]


def default_batch(tagger: Tagger) -> int:
    """Images per model run: v2 files take 1; on a CPU each lane runs one image (batching does
    not speed up CPU inference, and small runs keep the lanes evenly loaded); GPUs like batches."""
    if tagger.fixed_batch:
        return tagger.fixed_batch
    return 1 if tagger.session.provider == "CPUExecutionProvider" else 8


def default_workers(tagger: Tagger) -> int:
    """Decoding threads: on a CPU two keep ahead of the model; a GPU takes all that the cores can decode."""
    return 2 if tagger.session.provider == "CPUExecutionProvider" else max(2, cpu_count())


def predict_stream(tagger: Tagger, sources: Iterable[Any], load: Callable[[Any], np.ndarray],
                   batch_size: int = 0, workers: int = 0, ports: Optional[Ports] = None,
                   total: int = 0) -> Iterator[tuple[Any, Union[np.ndarray, Exception]]]:
    """Yield (source, scores or the error that made it unusable), in input order.

    Loading runs in `workers` threads; model runs of `batch_size` images run in `tagger.lanes`
    threads, each waiting for its own images only, so decoding, inference and the caller's
    post-processing all overlap. A few runs are queued ahead, never the whole input.
    """
    ports = ports or Ports()
    group = batch_size or default_batch(tagger)
    it = iter(sources)
    loaders = cf.ThreadPoolExecutor(workers or default_workers(tagger), thread_name_prefix="udw-tag-load")
    runners = cf.ThreadPoolExecutor(max(1, tagger.lanes), thread_name_prefix="udw-tag-run")
    inflight: collections.deque = collections.deque()

    def submit() -> bool:
        srcs = list(itertools.islice(it, group))
        if srcs:
            loads = [loaders.submit(load, src) for src in srcs]
            inflight.append((srcs, runners.submit(_run_group, tagger, loads)))
        return bool(srcs)

    try:
        while len(inflight) < 2 * tagger.lanes + 1 and submit():
            pass
        done = 0
        while inflight:
            srcs, fut = inflight.popleft()
            results = fut.result()
            submit()
            yield from zip(srcs, results)
            done += len(srcs)
            ports.step(done, total)
    finally:
        for pool in (runners, loaders):
            pool.shutdown(wait=True, cancel_futures=True)


def _run_group(tagger: Tagger, loads: list[cf.Future]) -> list[Union[np.ndarray, Exception]]:
    """Wait for this run's images, then run the model on the good ones (bad ones stay errors)."""
    loaded: list[Loaded] = []
    for fut in loads:
        try:
            loaded.append(fut.result())
        except (UdwError, OSError, ValueError) as exc:
            loaded.append(exc)
    good = [x for x in loaded if not isinstance(x, Exception)]
    scores = iter(tagger.predict(np.stack(good))) if good else iter(())
    return [x if isinstance(x, Exception) else next(scores) for x in loaded]


def predict_many(tagger: Tagger, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Scores for prepared images, using the tagger's lanes (the dataset stage's batches)."""
    group = default_batch(tagger)
    chunks = [np.stack(arrays[i:i + group]) for i in range(0, len(arrays), group)]
    if tagger.lanes == 1 or len(chunks) == 1:
        return np.concatenate([tagger.predict(c) for c in chunks])
    with cf.ThreadPoolExecutor(tagger.lanes, thread_name_prefix="udw-tag-run") as pool:
        return np.concatenate(list(pool.map(tagger.predict, chunks)))


def tag_arrays(tagger: Tagger, images: Sequence[Any], options: TagOptions = TagOptions(),
               ports: Optional[Ports] = None, batch_size: int = 0) -> list[TagResult]:
    """Tag in-memory images (HxWx3/4 uint8 arrays or PIL images), e.g. a ComfyUI IMAGE batch."""
    out = []
    for _, scores in predict_stream(tagger, images, lambda im: prepare(im, tagger.side), batch_size,
                                    ports=ports, total=len(images)):
        if isinstance(scores, Exception):
            raise scores
        out.append(select(scores, tagger.labels, options))
    return out


def tag_files(tagger: Tagger, paths: Sequence[Union[str, Path]], options: TagOptions = TagOptions(),
              ports: Optional[Ports] = None, batch_size: int = 0,
              workers: int = 0) -> Iterator[tuple[Path, Union[TagResult, Exception]]]:
    """Tag image files; unreadable ones come back as a BadInput instead of a result."""
    for path, scores in predict_stream(tagger, [Path(p) for p in paths],
                                       lambda p: load_prepared(p, tagger.side), batch_size, workers,
                                       ports, total=len(paths)):
        if isinstance(scores, Exception):
            yield path, scores if isinstance(scores, BadInput) else BadInput(f"{path}: {scores}")
        else:
            yield path, select(scores, tagger.labels, options)
