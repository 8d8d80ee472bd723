"""What a video file is, before decoding it: container, codec, size, aspect, rate, length.

`probe` turns every way a file can be unusable (missing, empty, not a video, audio only) into a
`BadInput` that names the file and says what to do.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Union

import av

from ..core.errors import BadInput

VIDEO_SUFFIXES = {".mkv", ".mp4", ".m4v", ".webm", ".avi", ".mov", ".ts", ".m2ts", ".mts", ".flv",
                  ".wmv", ".mpg", ".mpeg", ".ogv", ".vob"}


@dataclass(frozen=True)
class VideoInfo:
    path: str
    container: str
    codec: str
    width: int
    height: int
    sar: tuple[int, int]          # sample (pixel) aspect ratio, 1:1 when unknown
    pix_fmt: str
    bit_depth: int
    fps: float                    # average rate (VFR: the mean), 0 when unknown
    duration: Optional[float]     # seconds, None when the container does not say
    frames: Optional[int]         # frame count from the header, else estimated from duration*fps
    start: float                  # first timestamp in seconds
    vfr: bool                     # average and nominal rates differ

    @property
    def display_size(self) -> tuple[int, int]:
        """Width x height with square pixels: anamorphic widths are stretched (or narrowed)."""
        num, den = self.sar
        if num <= 0 or den <= 0 or num == den:
            return self.width, self.height
        return max(1, round(self.width * num / den)), self.height

    def to_dict(self) -> dict:
        data = asdict(self)
        data["sar"] = f"{self.sar[0]}:{self.sar[1]}"
        data["display_size"] = list(self.display_size)
        return data


def check_file(path: Union[str, os.PathLike]) -> Path:
    """The path as a readable, non-empty regular file, or BadInput saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: no such file", "check the path (quote paths with spaces)")
    if path.is_dir():
        raise BadInput(f"{path}: is a folder, not a video", "give the folder itself as an input to "
                       "take every video inside it")
    if not os.access(path, os.R_OK):
        raise BadInput(f"{path}: file is not readable", "check its permissions")
    if path.stat().st_size == 0:
        raise BadInput(f"{path}: empty file (0 bytes)", "the download or copy did not finish; get the file again")
    return path


def open_input(path: Union[str, os.PathLike], **kwargs) -> av.container.InputContainer:
    """av.open with errors turned into BadInput (not a video, damaged header, unreadable)."""
    try:
        return av.open(str(path), metadata_errors="replace", **kwargs)
    except av.error.PermissionError as exc:
        raise BadInput(f"{path}: permission denied", "check the file's permissions") from exc
    except av.FFmpegError as exc:
        raise BadInput(f"{path}: not a video FFmpeg can read ({exc.strerror or exc})",
                       "check that it is a complete video file (MKV, MP4, WebM, AVI, ...); an MP4 whose "
                       "download stopped early has no index and cannot be read: download it again") from exc


def probe(path: Union[str, os.PathLike]) -> VideoInfo:
    path = check_file(path)
    with open_input(path) as container:
        if not container.streams.video:
            raise BadInput(f"{path}: has no video stream (audio or subtitles only?)", "give a video file")
        return _describe(path, container, container.streams.video[0])


def _describe(path: Path, container, stream) -> VideoInfo:
    ctx = stream.codec_context
    tb = stream.time_base or Fraction(1, 1000)
    fps = float(stream.average_rate or stream.guessed_rate or stream.base_rate or 0)
    duration = None
    if stream.duration:
        duration = float(stream.duration * tb)
    elif container.duration:
        duration = container.duration / av.time_base
    frames = stream.frames or (round(duration * fps) if duration and fps else None)
    start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
    sar = ctx.sample_aspect_ratio or stream.sample_aspect_ratio
    sar_t = (sar.numerator, sar.denominator) if sar and sar.numerator > 0 else (1, 1)
    fmt = ctx.format
    depth = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
    nominal = float(stream.base_rate or 0)
    vfr = bool(fps and nominal and abs(nominal - fps) / nominal > 0.01)
    return VideoInfo(path=str(path), container=container.format.name, codec=ctx.name,
                     width=ctx.width, height=ctx.height, sar=sar_t,
                     pix_fmt=fmt.name if fmt is not None else "unknown", bit_depth=depth, fps=fps,
                     duration=duration, frames=frames, start=start, vfr=vfr)
