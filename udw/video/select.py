"""Which decoded frames are candidates, per mode, with their signature and scene number.

- mpdecimate: hold removal with FFmpeg's semantics (see `mpdecimate.py`), decided on the raw
  planes, so dropped frames are never converted to RGB;
- keyframes: the decoder only outputs keyframes;
- every: every Nth frame, or the first frame of each 1/fps slot of time (VFR-safe);
- scene: the first frame of each scene.
Scene cuts are tracked in every mode on the frames that are compared (in mpdecimate mode, the
frames it keeps: a dropped frame is by definition close to the last kept one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .decode import Decoded
from .colour import thumb_size
from .frames import luma_of, planes8, thumb_source, to_array, yuv_thumb
from .mpdecimate import Mpdecimate
from .neardup import Signature, signature
from .probe import VideoInfo
from .scenes import SceneCuts
from .settings import FrameSettings


@dataclass
class Candidate:
    decoded: Decoded
    grey: np.ndarray      # THUMB_SOURCE square of the luma (for signatures stored later)
    sig: Signature
    scene: int
    cut: bool


class Selector:
    def __init__(self, settings: FrameSettings, info: VideoInfo):
        self.settings = settings
        self.info = info
        self.mpdecimate = Mpdecimate(settings.mpdecimate) if settings.mode == "mpdecimate" else None
        self.cuts = SceneCuts(settings.scene_threshold)
        self.next_slot = -math.inf
        self.mode_dropped = 0

    def consider(self, d: Decoded) -> Optional[Candidate]:
        """A candidate when the mode keeps the frame, else None (counted in mode_dropped)."""
        mode = self.settings.mode
        frame = d.frame
        planes = planes8(frame)
        if mode == "mpdecimate" and not self.mpdecimate.push(planes):
            self.mode_dropped += 1
            return None
        luma = luma_of(frame, planes)
        grey = thumb_source(luma)
        sig = signature(grey, colour_fn(frame, self.info.display_size, planes))
        scene, cut = self.cuts.update(sig, d.pts)
        if not self._mode_keeps(d, cut):
            self.mode_dropped += 1
            return None
        return Candidate(d, grey, sig, scene, cut)

    def _mode_keeps(self, d: Decoded, cut: bool) -> bool:
        mode = self.settings.mode
        if mode == "every":
            if self.settings.fps > 0:
                slot = math.floor(d.pts * self.settings.fps + 1e-6)
                if slot <= self.next_slot:
                    return False
                self.next_slot = slot
                return True
            return d.index % self.settings.every == 0
        if mode == "scene":
            return cut
        return True  # mpdecimate (already decided) and keyframes (decoder skipped the rest)


def colour_fn(frame, display: tuple[int, int], planes=None):
    """Makes the frame's colour thumbnail for the near-duplicate colour check, when asked: from
    the 8-bit YUV planes when there are three (area-averaged, ~8x cheaper than swscale), else
    through an RGB conversion. Only frames of one video are compared, so the exact colour matrix
    does not matter, only that it is always the same."""
    size = thumb_size(display)
    if planes is not None and len(planes) >= 3 and not frame.format.is_rgb:
        return lambda: yuv_thumb(planes, size)
    return lambda: to_array(frame, size, "rgb24")
