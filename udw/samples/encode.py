"""Encode RGB frames to a real video file with PyAV, atomically (temporary name, then rename).

Containers: ``mp4`` (H.264 / libx264), ``mkv`` (H.264 in Matroska) and ``webm`` (VP9 / libvpx-vp9),
all yuv420p, constant frame rate, one frame per ``pts`` tick of ``1/fps``. Muxers and encoders run
bit-exact (no library version strings or dates), so equal input gives equal files.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

CONTAINERS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    # name: (muxer, encoder, codec name in the truth, encoder options)
    "mp4": ("mp4", "libx264", "h264", {"preset": "veryfast", "crf": "18", "tune": "animation"}),
    "mkv": ("matroska", "libx264", "h264", {"preset": "veryfast", "crf": "18", "tune": "animation"}),
    "webm": ("webm", "libvpx-vp9", "vp9", {"deadline": "realtime", "cpu-used": "8", "row-mt": "1",
                                           "crf": "24", "b": "0"}),
}


def codec_name(container: str) -> str:
    return _spec(container)[2]


def _spec(container: str):
    try:
        return CONTAINERS[container]
    except KeyError:
        raise ValueError(f"unknown container {container!r}; choose one of {', '.join(CONTAINERS)}") from None


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """``with VideoWriter(path, "mp4", 640, 360, 24) as w: w.write(rgb)``; the file appears on success."""

    def __init__(self, path: str | os.PathLike, container: str, width: int, height: int, fps: float,
                 threads: int = 2):
        import av  # imported here: no heavy import when the package is imported

        self._av = av
        self.path = Path(path)
        muxer, encoder, _, options = _spec(container)
        if encoder not in av.codecs_available:
            raise RuntimeError(f"this PyAV/FFmpeg build has no {encoder} encoder (needed for {container})")
        self.tmp = self.path.with_name(f"{self.path.stem}.udwtmp{self.path.suffix}")
        self.count = 0
        self._out = av.open(str(self.tmp), "w", format=muxer, options={"fflags": "+bitexact"})
        try:
            opts = dict(options, threads=str(threads))
            self._stream = self._out.add_stream(encoder, rate=_rate(fps), options=opts)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.flags |= getattr(av.codec.context.Flags, "bitexact", 0)
            # frames are stamped in 1/fps ticks; the muxer may change the *stream* time base when it
            # writes the header (MP4: 1/12288), so keep our own copy
            self._tb = Fraction(1) / _rate(fps)
            self._stream.time_base = self._tb
        except BaseException:
            self._out.close()
            self.tmp.unlink(missing_ok=True)
            raise

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """The yuv420p planes (an (h * 3 / 2, w) uint8 array) of an (h, w, 3) RGB array: convert a
        held drawing once and write it many times."""
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        return frame.reformat(format="yuv420p").to_ndarray()

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: an (h, w, 3) RGB array or the result of :meth:`prepare`."""
        if frame.ndim == 3:
            frame = self.prepare(frame)
        vf = self._av.VideoFrame.from_ndarray(frame, format="yuv420p")
        vf.pts = self.count
        vf.time_base = self._tb
        for packet in self._stream.encode(vf):
            self._out.mux(packet)
        self.count += 1

    def close(self) -> Path:
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        self._out.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._out.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
