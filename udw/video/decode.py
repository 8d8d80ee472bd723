"""Streaming decode with PyAV: one frame at a time, damaged data skipped and reported.

Hardware decoding is tried when the FFmpeg build and the machine offer it (CUDA, VAAPI, QSV,
VideoToolbox, D3D11VA, ...) and silently replaced by software decoding otherwise; frames always
arrive in system memory. Software decoding uses FFmpeg's frame threads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator, Optional

import av

from ..core.errors import BadInput
from .probe import VideoInfo, open_input

log = logging.getLogger("udw.video")

# Tried in this order by hwaccel="auto" when present in the FFmpeg build.
HW_PREFERENCE = ("cuda", "vaapi", "qsv", "videotoolbox", "d3d11va", "dxva2", "vulkan")
MAX_ERRORS = 200  # give up on a file after this many damaged packets


@dataclass
class Decoded:
    index: int        # frame number in the video (exact when decoding from the start)
    pts: float        # presentation time in seconds
    frame: av.VideoFrame
    key: bool


@dataclass
class DecodeStats:
    decoded: int = 0
    damaged_packets: int = 0
    corrupt_frames: int = 0          # frames the decoder flagged as concealed (skipped)
    errors: list[str] = field(default_factory=list)   # first few messages, for the report
    stopped: Optional[str] = None    # why decoding ended before the end of the file
    hwaccel: Optional[str] = None    # device type used, None for software
    last_pts: Optional[float] = None
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (from, to) seconds with frames missing

    def note(self, message: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(message)


def hw_candidates(choice: str) -> list[str]:
    if choice in ("none", "", None):
        return []
    try:
        from av.codec.hwaccel import hwdevices_available
        present = list(hwdevices_available())
    except ImportError:  # PyAV without hardware support
        return []
    if choice == "auto":
        return [d for d in HW_PREFERENCE if d in present]
    if choice not in present:
        raise BadInput(f"hardware decoder {choice!r} is not in this FFmpeg build",
                       f"use auto, none or one of: {', '.join(present) or 'none available'}")
    return [choice]


_HW_FAILED: set[tuple[str, str]] = set()  # (device, codec) pairs that did not work in this process


def open_video(path: str, hwaccel: str = "auto", codec: str = ""):
    """(container, device type or None). Each hardware device is tried; software is the fallback.

    A device that fails for a codec is not tried again for that codec in this process.
    """
    for device in hw_candidates(hwaccel):
        if (device, codec) in _HW_FAILED:
            continue
        try:
            from av.codec.hwaccel import HWAccel
            container = av.open(path, metadata_errors="replace",
                                hwaccel=HWAccel(device_type=device, allow_software_fallback=False))
        except (av.FFmpegError, OSError, RuntimeError, ValueError) as exc:
            log.debug("hardware decoding with %s unavailable: %s", device, exc)
            _HW_FAILED.add((device, codec))
            continue
        if container.streams.video and container.streams.video[0].codec_context.is_hwaccel:
            return container, device
        _HW_FAILED.add((device, codec))
        container.close()
    return open_input(path), None


class VideoDecoder:
    """Iterate `Decoded` frames of the first video stream.

    start/end (seconds) limit the range (seeking to the keyframe before `start`); keyframes_only
    asks the decoder to skip every other frame (fast). When frames are skipped or the decode
    starts after a seek, frame numbers are derived from timestamps (round(t * fps)).
    """

    def __init__(self, info: VideoInfo, hwaccel: str = "auto", keyframes_only: bool = False,
                 start: float = 0.0, end: Optional[float] = None):
        self.info = info
        self.keyframes_only = keyframes_only
        self.start = max(0.0, start or 0.0)
        self.end = end
        self.stats = DecodeStats()
        self.container, self.stats.hwaccel = open_video(info.path, hwaccel, info.codec)
        self.stream = self.container.streams.video[0]
        if self.stats.hwaccel is None:
            self.stream.thread_type = "AUTO"
        if keyframes_only:
            self.stream.codec_context.skip_frame = "NONKEY"
        self.exact_index = not keyframes_only and self.start <= 0
        self._count = 0
        self._last_index = -1
        self._tb: Optional[float] = None

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> "VideoDecoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def frames(self) -> Iterator[Decoded]:
        if self.start > 0:
            self._seek(self.start)
        for frame in self._decoded():
            pts = self._seconds(frame)
            if pts < self.start - 1e-6:
                continue
            if self.end is not None and pts >= self.end:
                self.stats.stopped = None
                return
            if frame.is_corrupt:
                self.stats.corrupt_frames += 1
                self._count += 1
                continue
            self._check_gap(pts)
            self.stats.decoded += 1
            self.stats.last_pts = pts
            yield Decoded(self._index(pts), pts, frame, bool(frame.key_frame))

    # -- internals ---------------------------------------------------------------------------
    def _seek(self, seconds: float) -> None:
        tb = self.stream.time_base
        try:
            self.container.seek(int(seconds / tb) + (self.stream.start_time or 0), stream=self.stream,
                                backward=True, any_frame=False)
        except av.FFmpegError as exc:  # unseekable: decode from the start and skip
            self.stats.note(f"cannot seek ({exc}); decoding from the start")

    def _decoded(self) -> Iterator[av.VideoFrame]:
        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError as exc:  # damaged container data: keep what we have
                self.stats.stopped = f"the file is damaged after {self._where()} ({exc.strerror or exc})"
                break
            try:
                yield from packet.decode()
            except av.FFmpegError as exc:
                self._damaged(exc)
                if self.stats.damaged_packets > MAX_ERRORS:
                    self.stats.stopped = f"too many damaged packets (more than {MAX_ERRORS})"
                    return
        try:  # drain the decoder's delayed frames (demux's final empty packet usually did)
            yield from self.stream.codec_context.decode(None)
        except av.error.EOFError:
            pass
        except av.FFmpegError as exc:
            self._damaged(exc)

    def _check_gap(self, pts: float) -> None:
        """Remember where frames are missing (constant-rate video whose timestamps jump)."""
        fps, last = self.info.fps, self.stats.last_pts
        if self.keyframes_only or self.info.vfr or not fps or last is None:
            return
        if pts - last > 2.5 / fps:
            self.stats.gaps.append((last, pts))

    def _damaged(self, exc: Exception) -> None:
        self.stats.damaged_packets += 1
        self.stats.note(f"damaged data near {self._where()}: {getattr(exc, 'strerror', None) or exc}")

    def _where(self) -> str:
        return f"{self.stats.last_pts:.2f}s" if self.stats.last_pts is not None else "the start"

    def _seconds(self, frame: av.VideoFrame) -> float:
        if frame.pts is not None:
            if self._tb is None:  # Fraction arithmetic per frame is slow: keep the float
                self._tb = float(frame.time_base or self.stream.time_base)
            return frame.pts * self._tb - self.info.start
        fps = self.info.fps or 25.0  # no timestamps (some AVI): count frames
        return self._count / fps

    def _index(self, pts: float) -> int:
        if self.exact_index:
            index = self._count
        else:
            index = round(pts * self.info.fps) if self.info.fps else self._count
            index = max(index, self._last_index + 1)  # strictly increasing even for odd timestamps
        self._count += 1
        self._last_index = index
        return index
