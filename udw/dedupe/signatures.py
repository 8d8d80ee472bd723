"""Cheap perceptual signatures of decoded images, shared by streaming frame selection and dedupe.

All functions take HxWx3 uint8 RGB arrays (or HxW grey) and are weight-free:
- `grey_thumb`: a small grey thumbnail, mean-removed and unit-normalised, so that the dot
  product of two thumbs is their Pearson correlation (robust to brightness/contrast shifts);
- `dhash` / `phash`: 64-bit difference / DCT hashes packed into uint64, compared by Hamming
  distance (`hamming`), fast for exact-ish duplicates and as index keys.
"""

from __future__ import annotations

import numpy as np

try:  # OpenCV's area resize is several times faster than PIL's on full frames
    import cv2
except ImportError:  # pragma: no cover - exercised only where OpenCV is absent
    cv2 = None

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_grey(img: np.ndarray) -> np.ndarray:
    """uint8 RGB (or grey) -> float32 grey, 0..255."""
    if img.ndim == 2:
        return img.astype(np.float32)
    return img[..., :3].astype(np.float32) @ _LUMA


def shrink(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average resize of a float32 grey image."""
    if cv2 is not None:
        return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
    from PIL import Image

    return np.asarray(Image.fromarray(grey, mode="F").resize((width, height), Image.Resampling.BOX))


def grey_thumb(img: np.ndarray, size: int = 32) -> np.ndarray:
    """Flattened size*size grey thumbnail, zero mean, unit norm (float32).

    A flat image (grey-level spread under 0.5, e.g. a black frame) has no shape to correlate:
    it gets an all-zero thumb, and callers compare such frames by brightness instead.
    """
    g = img if img.dtype == np.float32 and img.ndim == 2 else to_grey(img)
    t = shrink(g, size, size).ravel()
    t = t - t.mean()
    norm = float(np.linalg.norm(t))
    flat = norm < 0.5 * np.sqrt(t.size)
    return (np.zeros_like(t) if flat else t / norm).astype(np.float32)


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Correlation of thumbs: a (d,) or (n, d) against b (m, d) -> scalar or (n, m)."""
    return a @ b.T


def _pack(bits: np.ndarray) -> np.uint64:
    return np.packbits(bits.astype(np.uint8).ravel()).view(">u8")[0].astype(np.uint64)


def dhash(img: np.ndarray) -> np.uint64:
    """64-bit difference hash: is each pixel brighter than its right neighbour (9x8 thumb)."""
    g = shrink(to_grey(img), 9, 8)
    return _pack(g[:, 1:] > g[:, :-1])


_DCT = None


def _dct_matrix(n: int = 32) -> np.ndarray:
    global _DCT
    if _DCT is None:
        k = np.arange(n)[:, None]
        m = np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * k / (2 * n)) * np.sqrt(2 / n)
        m[0] /= np.sqrt(2)
        _DCT = m.astype(np.float32)
    return _DCT


def phash(img: np.ndarray) -> np.uint64:
    """64-bit perceptual hash: signs of the 8x8 low DCT coefficients of a 32x32 thumb vs their median."""
    d = _dct_matrix()
    g = shrink(to_grey(img), 32, 32)
    low = (d @ g @ d.T)[:8, :8].ravel()
    return _pack(low > np.median(low[1:]))


_POP = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming(a, b) -> np.ndarray:
    """Bit distance between uint64 hashes (broadcasting)."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    return _POP[x[..., None].view(np.uint8)].sum(axis=-1).astype(np.int32).reshape(x.shape)
