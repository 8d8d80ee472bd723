"""Encoding kept frames to PNG / WebP / JPEG in worker threads, each file written atomically.

Colour conversion (swscale) and encoding (our PNG writer with ISA-L deflate, libwebp / libjpeg
through OpenCV) release the GIL, so the workers overlap with decoding. The pool takes at most `max_pending` frames at once:
the decoder waits rather than piling frames up in memory.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import av
import numpy as np

from ..core.atomic import atomic_path
from ..core.errors import BadInput
from ..core.pngenc import encode_png
from .frames import to_array

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

PREVIEW_SIDE = 384


@dataclass(frozen=True)
class Encoding:
    format: str = "png"
    quality: int = 95
    png_compression: int = 1

    @property
    def pix_fmt(self) -> str:
        """The pixel layout `encode` takes: RGB for PNG (our writer), BGR for OpenCV's encoders."""
        return "rgb24" if self.format == "png" or cv2 is None else "bgr24"

    def encode(self, pixels: np.ndarray) -> bytes:
        """Encode an HxWx3 uint8 array laid out as `pix_fmt`."""
        if self.format == "png":
            return encode_png(pixels, self.png_compression)
        if cv2 is not None:
            ext, params = self._cv2_params()
            ok, buf = cv2.imencode(ext, pixels, params)
            if not ok:
                raise BadInput(f"could not encode a frame as {self.format}", "try another output format")
            return buf.tobytes()
        return self._pil_encode(pixels)

    def _cv2_params(self) -> tuple[str, list[int]]:
        if self.format == "webp":  # OpenCV: quality above 100 means lossless
            return ".webp", [cv2.IMWRITE_WEBP_QUALITY, 101 if self.quality >= 100 else self.quality]
        return ".jpg", [cv2.IMWRITE_JPEG_QUALITY, self.quality]

    def _pil_encode(self, rgb: np.ndarray) -> bytes:  # pragma: no cover - OpenCV is a dependency
        import io

        from PIL import Image

        im = Image.fromarray(np.ascontiguousarray(rgb))
        buf = io.BytesIO()
        if self.format == "webp":
            im.save(buf, "WEBP", quality=self.quality, lossless=self.quality >= 100)
        else:
            im.save(buf, "JPEG", quality=self.quality)
        return buf.getvalue()


@dataclass
class Written:
    width: int
    height: int
    preview: Optional[np.ndarray]  # small RGB copy when asked for


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class FrameWriter:
    """Submit (frame, target path) pairs; each future yields a `Written` or raises BadInput."""

    def __init__(self, encoding: Encoding, workers: int = 0, max_pending: int = 0):
        self.encoding = encoding
        self.workers = workers or default_workers()
        self.max_pending = max_pending or 2 * self.workers + 2
        self._pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="udw-encode")
        self._slots = threading.BoundedSemaphore(self.max_pending)

    def submit(self, frame: av.VideoFrame, target: Path, size: tuple[int, int],
               preview: bool = False) -> cf.Future:
        self._slots.acquire()  # waits while max_pending frames are in flight
        try:
            fut = self._pool.submit(self._write, frame, target, size, preview)
        except BaseException:
            self._slots.release()
            raise
        fut.add_done_callback(lambda _f: self._slots.release())
        return fut

    def _write(self, frame: av.VideoFrame, target: Path, size: tuple[int, int], preview: bool) -> Written:
        pix_fmt = self.encoding.pix_fmt
        pixels = to_array(frame, size, pix_fmt)
        data = self.encoding.encode(pixels)
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(data)
        small = _preview(pixels, pix_fmt == "bgr24") if preview else None
        return Written(pixels.shape[1], pixels.shape[0], small)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _preview(pixels: np.ndarray, bgr: bool) -> np.ndarray:
    """A small RGB copy for the host's progress preview."""
    h, w = pixels.shape[:2]
    scale = min(1.0, PREVIEW_SIDE / max(h, w))
    small = pixels
    if scale < 1.0 and cv2 is not None:
        small = cv2.resize(pixels, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small[..., ::-1] if bgr else small)
