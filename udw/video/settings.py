"""The frame-extraction settings: one validated model shared by the CLI, the nodes and the UI."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Optional, Union

from ..core.errors import BadInput
from ..core.manifest import settings_key
from .mpdecimate import HOLD_FRAC, HOLD_HI, HOLD_LO, MpdecimateParams

MODES = ("mpdecimate", "keyframes", "every", "scene")
FORMATS = {"png": ".png", "webp": ".webp", "jpeg": ".jpg"}
CROSS_EPISODE = ("drop", "mark", "off")
HWACCEL = ("auto", "none")

# Settings that do not change which frames are written nor how: excluded from the resume key.
_RUNTIME = {"workers", "hwaccel", "redo"}


@dataclass(frozen=True)
class FrameSettings:
    mode: str = "mpdecimate"
    # mpdecimate (FFmpeg semantics). Defaults hi=64*50:lo=64*12:frac=0.33 drop holds only; the
    # seed's hi=64*200:lo=64*50 also dropped new drawings (issue 14)
    hi: int = HOLD_HI
    lo: int = HOLD_LO
    frac: float = HOLD_FRAC
    max_drop: int = 0
    keep: int = 0
    # every: every Nth frame, or `fps` frames per second when fps > 0
    every: int = 24
    fps: float = 0.0
    # range and cap (per video)
    start: float = 0.0
    end: Optional[float] = None
    max_frames: int = 0
    # streaming near-duplicate removal against the last `dedupe_window` kept frames
    dedupe: bool = True
    dedupe_shift: float = 0.0125   # largest slide still a duplicate, as a fraction of the width (1/80)
    dedupe_change: float = 0.005   # grey screen: largest changed share once aligned (0.5%), when the
    #                                colour check is off; with it, shares over 4% are never copies
    dedupe_window: int = 32
    dedupe_colour: bool = True     # the colour check (issue 14): keeps expressions, outfits, hands
    dedupe_strictness: float = 1.0  # divides the colour check's block limit (2: keeps more apart)
    keep_lip_flaps: bool = False   # keep blinks and mouth flaps of one drawing as separate frames
    # openings/endings shared across the episodes of one run (first and last thirds)
    cross_episode: str = "drop"
    cross_threshold: float = 0.95
    # scene cuts
    scene_threshold: float = 0.5
    # output
    format: str = "png"
    quality: int = 95          # JPEG / WebP quality; WebP 100 is lossless
    png_compression: int = 1   # zlib level 0-9 (1: fast, files ~10% larger than 9)
    prefix: str = ""           # series_episode, e.g. yamaS2_EP04 (one video)
    series: str = ""           # series name for all videos (episodes parsed from file names)
    # runtime
    hwaccel: str = "auto"
    workers: int = 0           # encoder threads (0: one per CPU, at most 4)
    redo: bool = False         # re-extract videos done with other settings

    def validated(self) -> "FrameSettings":
        _check(self.mode in MODES, f"unknown mode {self.mode!r}", f"use one of {', '.join(MODES)}")
        _check(self.format in FORMATS, f"unknown format {self.format!r}", f"use one of {', '.join(FORMATS)}")
        _check(self.cross_episode in CROSS_EPISODE, f"unknown cross-episode action {self.cross_episode!r}",
               f"use one of {', '.join(CROSS_EPISODE)}")
        _check(0.0 <= self.frac <= 1.0, f"frac {self.frac} is outside 0..1", "e.g. 0.33")
        _check(self.every >= 1, f"every {self.every} must be at least 1", "e.g. --every 12")
        _check(self.fps >= 0, f"fps {self.fps} must not be negative", "e.g. --fps 2")
        _check(self.start >= 0, f"start {self.start} must not be negative", "give seconds or H:MM:SS")
        _check(self.end is None or self.end > self.start, f"end {self.end} is not after start {self.start}",
               "give an end time after the start")
        _check(self.max_frames >= 0, "max frames must not be negative", "0 means no limit")
        _check(0.0 <= self.dedupe_shift <= 0.5, f"dedupe shift {self.dedupe_shift} is outside 0..0.5",
               "a fraction of the frame width, e.g. 0.0125 (8 px at 640)")
        _check(0.0 <= self.dedupe_change <= 1.0, f"dedupe change {self.dedupe_change} is outside 0..1",
               "a fraction of the picture, e.g. 0.005 (lower keeps more frames)")
        _check(0.0 < self.cross_threshold <= 1.0, f"cross-episode threshold {self.cross_threshold} is outside (0, 1]",
               "e.g. 0.95")
        _check(0.25 <= self.dedupe_strictness <= 4.0, f"dedupe strictness {self.dedupe_strictness} is outside "
               "0.25..4", "1 is calibrated on the copy noise model; 2 keeps more frames apart")
        _check(1 <= self.dedupe_window <= 4096, f"dedupe window {self.dedupe_window} is outside 1..4096", "e.g. 32")
        _check(0.0 < self.scene_threshold <= 2.0, f"scene threshold {self.scene_threshold} is outside (0, 2]",
               "e.g. 0.5")
        _check(1 <= self.quality <= 100, f"quality {self.quality} is outside 1..100", "e.g. 95")
        _check(0 <= self.png_compression <= 9, f"PNG compression {self.png_compression} is outside 0..9", "e.g. 1")
        _check(0 <= self.workers <= 64, f"workers {self.workers} is outside 0..64", "0 picks one per CPU")
        _check(bool(self.hwaccel), "empty hardware decoder name", "use auto or none")
        return self

    @property
    def mpdecimate(self) -> MpdecimateParams:
        return MpdecimateParams(self.hi, self.lo, self.frac, self.max_drop, self.keep)

    def recent_kept(self, frame_size: tuple[int, int]):
        """The streaming near-duplicate window these settings describe."""
        from .colour import ColourCheck
        from .neardup import RecentKept

        colour = ColourCheck(self.dedupe_strictness, self.keep_lip_flaps) if self.dedupe_colour else None
        return RecentKept(self.dedupe_window, self.dedupe_shift, self.dedupe_change, frame_size, colour)

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]

    def key(self) -> str:
        """Hash of what decides the written frames (the resume and redo check)."""
        return settings_key({k: v for k, v in asdict(self).items() if k not in _RUNTIME})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FrameSettings":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise BadInput(f"unknown frame settings: {', '.join(sorted(unknown))}",
                           f"known settings: {', '.join(sorted(names))}")
        return cls(**data).validated()

    def with_(self, **changes: Any) -> "FrameSettings":
        return replace(self, **changes).validated()


def _check(ok: bool, message: str, hint: str) -> None:
    if not ok:
        raise BadInput(message, hint)


def parse_time(text: Union[str, float, int, None]) -> Optional[float]:
    """Seconds from `90`, `90.5`, `1:30`, `0:01:30.5`; None/empty stays None."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    if not re.fullmatch(r"\d+(?::\d{1,2}){0,2}(?:\.\d+)?", text.strip()):
        raise BadInput(f"cannot read the time {text!r}", "give seconds (90.5) or [H:]MM:SS[.ms] (1:30)")
    seconds = 0.0
    for part in text.strip().split(":"):
        seconds = seconds * 60 + float(part)
    return seconds
