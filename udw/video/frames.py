"""Decoded PyAV frames as numpy arrays, without copies where possible.

- `planes8`: the 8-bit planes mpdecimate compares. Formats the FFmpeg filter takes are used as
  they are; others (10-bit, NV12 from hardware decoders, RGB) are converted to the 8-bit planar
  format of the same chroma layout, as FFmpeg's automatic conversion would.
- `thumb_source`: a small grey picture for signatures and scene cuts, from the luma plane.
- `to_array`: the picture to save, at its display size (anamorphic pixels made square).
"""

from __future__ import annotations

import threading

import av
import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

# Pixel formats vf_mpdecimate accepts (FFmpeg 5 to 8); yuvj* carry the same bytes as yuv*.
DIRECT = {"yuv444p", "yuv422p", "yuv420p", "yuv411p", "yuv410p", "yuv440p", "yuvj444p", "yuvj422p",
          "yuvj420p", "yuvj440p", "yuvj411p", "yuva420p", "yuva422p", "yuva444p", "gbrp"}
_BY_SUBSAMPLING = {(0, 0): "yuv444p", (1, 0): "yuv422p", (1, 1): "yuv420p", (2, 0): "yuv411p",
                   (2, 2): "yuv410p", (0, 1): "yuv440p"}
THUMB_SOURCE = 128  # side of the intermediate grey square signatures are computed from

_local = threading.local()


def plane_array(plane) -> np.ndarray:
    """A 2-D uint8 view of one plane (no copy; keeps the frame's buffer alive)."""
    rows = np.frombuffer(plane, np.uint8, count=plane.height * plane.line_size)
    return rows.reshape(plane.height, plane.line_size)[:, :plane.width]


def eight_bit_format(fmt: av.VideoFormat) -> str:
    """The mpdecimate input format FFmpeg would convert `fmt` to."""
    if fmt.is_rgb:
        return "gbrp"
    comps = fmt.components
    if len(comps) < 3:
        return "yuv420p"
    luma_w, chroma_w = comps[0].width, comps[1].width
    luma_h, chroma_h = comps[0].height, comps[1].height
    sub = (_log2_ratio(luma_w, chroma_w), _log2_ratio(luma_h, chroma_h))
    return _BY_SUBSAMPLING.get(sub, "yuv420p")


def _log2_ratio(full: int, part: int) -> int:
    ratio = max(1, round(full / max(part, 1)))
    return {1: 0, 2: 1, 4: 2}.get(ratio, 1)


def planes8(frame: av.VideoFrame) -> list[np.ndarray]:
    name = frame.format.name
    if name not in DIRECT:
        frame = frame.reformat(format=eight_bit_format(frame.format), threads=1)
    return [plane_array(p) for p in frame.planes]


def thumb_source(luma: np.ndarray) -> np.ndarray:
    """Area-averaged THUMB_SOURCE x THUMB_SOURCE grey square from a luma plane (uint8)."""
    if cv2 is not None:
        # OpenCV's area resize is ~5x faster with integer factors: shrink by those first.
        h, w = luma.shape
        kx, ky = max(1, w // THUMB_SOURCE), max(1, h // THUMB_SOURCE)
        if kx > 1 or ky > 1:
            luma = cv2.resize(luma[:h // ky * ky, :w // kx * kx], (w // kx, h // ky), interpolation=cv2.INTER_AREA)
        return cv2.resize(luma, (THUMB_SOURCE, THUMB_SOURCE), interpolation=cv2.INTER_AREA)
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(luma)).resize(
        (THUMB_SOURCE, THUMB_SOURCE), Image.Resampling.BOX))


def yuv_thumb(planes: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """An RGB thumbnail of `size` (width, height) from 8-bit Y, U, V planes (BT.601 matrix)."""
    y, u, v = (cv2.resize(np.ascontiguousarray(p), size, interpolation=cv2.INTER_AREA) for p in planes[:3])
    return cv2.cvtColor(cv2.merge([y, v, u]), cv2.COLOR_YCrCb2RGB)


def luma_of(frame: av.VideoFrame, planes: list[np.ndarray]) -> np.ndarray:
    """The brightness plane: plane 0 of YUV; for RGB sources, a grey conversion."""
    if frame.format.name == "gbrp" or frame.format.is_rgb:
        g, b, r = planes[:3]
        return (0.299 * r + 0.587 * g + 0.114 * b).astype(np.uint8)
    return planes[0]


def _reformatter():
    if not hasattr(_local, "reformatter"):
        from av.video.reformatter import VideoReformatter

        _local.reformatter = VideoReformatter()
    return _local.reformatter


def to_array(frame: av.VideoFrame, size: tuple[int, int], pix_fmt: str = "rgb24") -> np.ndarray:
    """HxWx3 uint8 in `pix_fmt` (rgb24 or bgr24) at `size` (width, height), square pixels.

    Converted in the calling thread with its own swscale context (one thread, no hidden pool).
    """
    width, height = size
    kwargs = {}
    if frame.color_range:  # say which range the source uses; unspecified means limited
        kwargs["src_color_range"] = frame.color_range
    out = _reformatter().reformat(frame, width=width, height=height, format=pix_fmt,
                                  interpolation="BICUBIC" if (width, height) != (frame.width, frame.height)
                                  else None, threads=1, **kwargs)
    return out.to_ndarray()
