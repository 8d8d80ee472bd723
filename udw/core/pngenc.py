"""A fast PNG writer for 8-bit pictures: the "up" filter in numpy, deflate by ISA-L when present.

libpng (through OpenCV or Pillow) tries filters per row and deflates with zlib: ~75 ms for a
720p frame on our machines. Here every row uses the "up" filter (one vectorised subtraction;
flat anime colours become runs of zeros) and ISA-L's deflate (`isal` package) compresses it
5-10x faster than zlib at a similar size; without `isal`, zlib level 1 is used. The output is
a standard PNG (8-bit grey, RGB or RGBA, no interlace) that every reader opens.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

try:  # optional accelerator (pip install isal); releases the GIL while compressing
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover - exercised where isal is not installed
    _deflate = None

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


def accelerated() -> bool:
    return _deflate is not None


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = (_deflate.crc32 if _deflate is not None else zlib.crc32)(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def _compress(data: bytes, level: int) -> bytes:
    if _deflate is not None:  # ISA-L levels are 0..3
        return _deflate.compress(data, min(3, (level + 2) // 3) if level > 0 else 0)
    return zlib.compress(data, level)


def encode_png(image: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of an HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA) uint8 array; level 0-9."""
    if image.dtype != np.uint8:
        raise ValueError(f"encode_png takes uint8 pictures, not {image.dtype}")
    if image.ndim == 2:
        image = image[..., None]
    h, w, channels = image.shape
    if channels not in _COLOUR_TYPE or h < 1 or w < 1:
        raise ValueError(f"cannot write a {image.shape} picture as PNG")
    rows = np.ascontiguousarray(image).reshape(h, w * channels)
    filtered = np.empty((h, w * channels + 1), np.uint8)
    filtered[:, 0] = 2  # "up": each byte minus the byte above it (the row above the first is zeros)
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header),
                     _chunk(b"IDAT", _compress(filtered.tobytes(), level)), _chunk(b"IEND", b"")))
