"""Signatures of one picture: decoding at a reduced size, and the byte forms kept in the manifest.

Stored kinds (table `signatures`, one row per item and kind; the suffix is the format version):
- `structure/1`: STRUCTURE_DIM float16 (see signatures.structure)
- `phash/1`, `dhash/1`: 8 bytes, big-endian uint64
- `stats/1`: float32 [sharpness, width, height, mean R, mean G, mean B] of the original picture
- `verify/1`: the pair verifier's features (colour thumbnail, face boxes and crops; verify.py),
  so that verifying candidate pairs never decodes a picture again
- `embed/<model>`: float16 unit vector of a learned embedding
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from PIL import Image, ImageOps

from ..core.errors import BadInput
from ..core.images import to_rgb
from . import signatures as sg

STRUCTURE, PHASH, DHASH, STATS = "structure/1", "phash/1", "dhash/1", "stats/1"
VERIFY = "verify/1"
BASE_KINDS = (STRUCTURE, PHASH, DHASH, STATS, VERIFY)
WORK_SIDE = 512   # larger pictures are reduced to about this size (long side) for signatures


def embed_kind(model_id: str) -> str:
    return f"embed/{model_id}"


@dataclass
class Decoded:
    """A picture reduced for signatures, with the size of the original."""

    rgb: np.ndarray           # HxWx3 uint8, long side <= WORK_SIDE
    width: int
    height: int


def decode(path: Union[str, Path], side: int = WORK_SIDE) -> Decoded:
    """Decode an image for signatures: JPEGs are decoded at a reduced scale (much faster).

    Same safety as core.images.open_image: any mode, EXIF rotation, bombs and damaged files
    become BadInput naming the file.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                orientation = im.getexif().get(0x0112, 1)
                if orientation in (5, 6, 7, 8):  # EXIF orientation: turned a quarter
                    width, height = height, width
                if im.format == "JPEG":
                    im.draft("RGB", (side, side))  # DCT-domain downscale, never below `side`
                im.load()
                if orientation != 1:
                    im = ImageOps.exif_transpose(im)
                rgb = np.asarray(im if im.mode == "RGB" else to_rgb(im))  # no copies when already RGB
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadInput(f"{path}: refused as a decompression bomb ({exc})", "remove it from the folder") from exc
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: file not found", "check the path") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadInput(f"{path}: cannot read image ({exc})", "the file is damaged or not an image") from exc
    return Decoded(reduce(rgb, side), width, height)


def reduce(rgb: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """Area-downscale pictures larger than twice `side` (long edge) to `side`; signatures
    shrink much further anyway, so moderate sizes are used as they are."""
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    if scale >= 0.5:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if sg.cv2 is not None:
        return sg.cv2.resize(rgb, size, interpolation=sg.cv2.INTER_AREA)
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def base_signatures(rgb: np.ndarray, width: int, height: int, faces: Sequence = ()) -> dict[str, bytes]:
    """The weight-free kinds of one (reduced) RGB picture, as stored bytes; `faces`: boxes
    (x0, y0, x1, y1) in the original picture's pixels, when known.

    One pass over the pixels: everything is computed from a copy 256 pixels on its long side
    (the scale at which sharpness is defined and the verifier's thumbnail; the other signatures
    shrink to 32 or less); face crops come from the reduced picture."""
    rgb = rgb[..., :3] if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, axis=2)
    small = _long_side(rgb, 256)
    f = rgb.shape[1] / max(width, 1)
    verify = _verifier().features(rgb, [tuple(v * f for v in box) for box in faces], thumb=small)
    grey = sg.to_grey(small)
    mean = sg.cv2.mean(small)[:3] if sg.cv2 is not None else small.reshape(-1, 3).mean(axis=0)
    stats = np.array([sg.sharpness(grey), width, height, *mean], dtype=np.float32)
    return {
        STRUCTURE: sg.structure(small).astype(np.float16).tobytes(),
        PHASH: int(sg.phash(grey)).to_bytes(8, "big"),
        DHASH: int(sg.dhash(grey)).to_bytes(8, "big"),
        STATS: stats.tobytes(),
        VERIFY: verify.to_bytes(),
    }


_VERIFIER = None


def _verifier():
    global _VERIFIER
    if _VERIFIER is None:
        from .verify import PairVerifier

        _VERIFIER = PairVerifier()
    return _VERIFIER


def _long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return rgb
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if sg.cv2 is not None:
        return sg.cv2.resize(rgb, size, interpolation=sg.cv2.INTER_AREA)
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def unpack(kind: str, blobs: list[bytes]) -> np.ndarray:
    """Stored bytes of one kind for many items -> one array (rows in the given order; the
    verifier's features stay bytes, an object array, decoded per pair when needed)."""
    if kind == VERIFY:
        out = np.empty(len(blobs), object)
        out[:] = [bytes(b) for b in blobs]
        return out
    if kind in (PHASH, DHASH):
        return np.frombuffer(b"".join(blobs), dtype=">u8").astype(np.uint64)
    dtype = np.float32 if kind == STATS else np.float16
    if not blobs:
        return np.zeros((0, 6 if kind == STATS else 0), dtype)
    return np.frombuffer(b"".join(blobs), dtype=dtype).reshape(len(blobs), -1)
