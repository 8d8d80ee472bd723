"""Selected frames of one video as RGB arrays, without a dataset: for IMAGE batches and previews.

The same decoding, mode selection and streaming near-duplicate removal as `extract_frames`, but
the kept frames are yielded (at their display size) instead of written; stop iterating whenever
enough were taken, so memory stays bounded by what the caller keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

import numpy as np

from ..core.ports import Ports
from .decode import VideoDecoder
from .frames import to_array
from .probe import probe
from .select import Selector
from .settings import FrameSettings


@dataclass
class SelectedFrame:
    index: int
    pts: float
    scene: int
    rgb: np.ndarray  # HxWx3 uint8 at the display size


def iter_selected(path: Union[str, Path], settings: Optional[FrameSettings] = None,
                  ports: Optional[Ports] = None) -> Iterator[SelectedFrame]:
    settings = (settings or FrameSettings()).validated()
    ports = ports or Ports()
    info = probe(path)
    size = info.display_size
    recent = settings.recent_kept(size)
    selector = Selector(settings, info)
    kept = 0
    total = info.frames or 0
    with VideoDecoder(info, settings.hwaccel, keyframes_only=settings.mode == "keyframes",
                      start=settings.start, end=settings.end) as decoder:
        for n, d in enumerate(decoder.frames(), 1):
            cand = selector.consider(d)
            if n % 25 == 0:
                ports.step(n, max(total, n))
            if cand is None or (settings.dedupe and recent.match(cand.sig) is not None):
                continue
            recent.add(cand.sig, d.index)
            rgb = to_array(d.frame, size, "rgb24")
            kept += 1
            yield SelectedFrame(d.index, d.pts, cand.scene, rgb)
            if settings.max_frames and kept >= settings.max_frames:
                return
