"""Tagging many images: decoding and preparation in threads, overlapped with batched inference.

While the model runs on one batch, worker threads decode and prepare the next ones (Pillow and
NumPy release the GIL, onnxruntime too), so on a CPU the model never waits for PNG decoding. A bad
image is reported and skipped; the rest of its batch is still tagged.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from ..core.errors import BadInput, UdwError
from ..core.ports import Ports
from .model import Tagger
from .postprocess import TagOptions, TagResult, select
from .preprocess import load_prepared, prepare

Loaded = Union[np.ndarray, Exception]


def default_batch(tagger: Tagger) -> int:
    """v2 files run one image at a time anyway; on CPU, batches only feed the prefetch."""
    if tagger.fixed_batch:
        return tagger.fixed_batch
    return 8 if tagger.session.provider != "CPUExecutionProvider" else 4


def predict_stream(tagger: Tagger, sources: Iterable[Any], load: Callable[[Any], np.ndarray],
                   batch_size: int = 0, workers: int = 2, ports: Optional[Ports] = None,
                   total: int = 0) -> Iterator[tuple[Any, Union[np.ndarray, Exception]]]:
    """Yield (source, scores or the error that made it unusable), in input order."""
    ports = ports or Ports()
    batch_size = batch_size or default_batch(tagger)
    lookahead = batch_size * 2
    it = iter(sources)
    done = 0
    with cf.ThreadPoolExecutor(max(1, workers), thread_name_prefix="udw-tag-load") as pool:
        queue: collections.deque = collections.deque()

        def fill() -> None:
            while len(queue) < lookahead:
                src = next(it, _END)
                if src is _END:
                    return
                queue.append((src, pool.submit(load, src)))

        fill()
        while queue:
            batch = [queue.popleft() for _ in range(min(batch_size, len(queue)))]
            loaded = [(src, _result(fut)) for src, fut in batch]
            fill()  # the next loads run while this batch is on the model
            good = [(s, x) for s, x in loaded if not isinstance(x, Exception)]
            scores = iter(tagger.predict(np.stack([x for _, x in good]))) if good else iter(())
            for src, x in loaded:
                yield src, (x if isinstance(x, Exception) else next(scores))
            done += len(batch)
            ports.step(done, total)


_END = object()


def _result(fut: cf.Future) -> Loaded:
    try:
        return fut.result()
    except (UdwError, OSError, ValueError) as exc:
        return exc


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
              workers: int = 2) -> Iterator[tuple[Path, Union[TagResult, Exception]]]:
    """Tag image files; unreadable ones come back as a BadInput instead of a result."""
    for path, scores in predict_stream(tagger, [Path(p) for p in paths],
                                       lambda p: load_prepared(p, tagger.side), batch_size, workers,
                                       ports, total=len(paths)):
        if isinstance(scores, Exception):
            yield path, scores if isinstance(scores, BadInput) else BadInput(f"{path}: {scores}")
        else:
            yield path, select(scores, tagger.labels, options)
