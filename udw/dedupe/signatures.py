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


# -- structure: a colour-aware, low-pass, brightness-invariant signature for near-duplicates ------
# The 32x32 thumb of each YCbCr channel is mean-removed and turned into orthonormal 2-D DCT
# coefficients, lowest frequencies first. Keeping the first 256 luma and 64+64 chroma coefficients
# is a low-pass filter (robust to small shifts, crops and re-encodes) and, because the DCT is
# orthonormal, the dot product of two unit-norm signatures is the correlation of the low-passed
# thumbs. Low frequencies come first, so a prefix of the vector is a cheap index key whose
# remainder bounds the error (Cauchy-Schwarz), which the dedupe search uses.

STRUCTURE_LUMA = 256
STRUCTURE_CHROMA = 64
STRUCTURE_DIM = STRUCTURE_LUMA + 2 * STRUCTURE_CHROMA
_YCC = np.array([[0.299, 0.587, 0.114],
                 [-0.168736, -0.331264, 0.5],
                 [0.5, -0.418688, -0.081312]], dtype=np.float32)
_ZIGZAG: dict[int, np.ndarray] = {}


def zigzag_order(n: int = 32) -> np.ndarray:
    """Indices of an n*n coefficient grid sorted by radial frequency (DC first)."""
    if n not in _ZIGZAG:
        u, v = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        _ZIGZAG[n] = np.lexsort((u.ravel(), (u ** 2 + v ** 2).ravel()))
    return _ZIGZAG[n]


def _low_dct(plane: np.ndarray, count: int) -> np.ndarray:
    d = _dct_matrix()
    plane = plane - plane.mean()
    return (d @ plane @ d.T).ravel()[zigzag_order()][1:count + 1]  # skip DC (zero after mean removal)


def structure(img: np.ndarray) -> np.ndarray:
    """STRUCTURE_DIM float32 signature, unit norm; all zeros for a flat (single-colour) image.

    Luma first (256 coefficients, low to high frequency), then 64 Cb and 64 Cr coefficients.
    Brightness and contrast changes leave it unchanged; compare two with a dot product.
    """
    rgb = img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    if cv2 is not None:
        small = cv2.resize(rgb.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    else:
        small = np.stack([shrink(rgb[..., c].astype(np.float32), 32, 32) for c in range(3)], axis=-1)
    ycc = small @ _YCC.T
    vec = np.concatenate([_low_dct(ycc[..., 0], STRUCTURE_LUMA),
                          _low_dct(ycc[..., 1], STRUCTURE_CHROMA),
                          _low_dct(ycc[..., 2], STRUCTURE_CHROMA)])
    norm = float(np.linalg.norm(vec))
    # The same flatness rule as grey_thumb: an rms below 0.5 grey levels per thumb pixel.
    if norm < 0.5 * 32:
        return np.zeros(STRUCTURE_DIM, np.float32)
    return (vec / norm).astype(np.float32)


def sharpness(img: np.ndarray, side: int = 256) -> float:
    """Variance of the Laplacian over the variance of the grey image, at `side` pixels on the
    long edge.

    The fixed scale makes copies of one picture at different sizes comparable (an upscaled or
    blurred copy scores lower); dividing by the image's own variance makes a contrast or
    brightness change score the same.
    """
    g = img.astype(np.float32) if img.ndim == 2 else to_grey(img)
    h, w = g.shape
    scale = side / max(h, w)
    g = shrink(g, max(1, round(w * scale)), max(1, round(h * scale)))
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(lap.var() / (g.var() + 1.0))


def hash_bits(hashes) -> np.ndarray:
    """uint64 hashes (n,) -> (n, 64) uint8 bits, most significant first."""
    h = np.ascontiguousarray(np.asarray(hashes, dtype=np.uint64).reshape(-1)).astype(">u8")
    return np.unpackbits(h.view(np.uint8).reshape(-1, 8), axis=1)
