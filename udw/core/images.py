"""Reading user images safely: any mode in, RGB/RGBA out, bombs and truncation reported."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps

from .errors import BadInput

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def is_image_path(path: Union[str, Path]) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def open_image(path: Union[str, Path], keep_alpha: bool = False) -> Image.Image:
    """Open and fully decode an image as RGB (or RGBA with keep_alpha); EXIF rotation applied.

    Raises BadInput for unreadable, truncated or oversized files, with the file named. Pillow's
    decompression-bomb warning (above ~89 MP, far beyond any real frame) is treated as an error.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                im = ImageOps.exif_transpose(im)
                return to_rgb(im, keep_alpha)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadInput(f"{path}: refused as a decompression bomb ({exc})", "remove it from the folder") from exc
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: file not found", "check the path") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # PIL raises these for truncated/corrupt data
        raise BadInput(f"{path}: cannot read image ({exc})", "the file is damaged or not an image") from exc


def to_rgb(im: Image.Image, keep_alpha: bool = False) -> Image.Image:
    """Convert any PIL mode (P, LA, I;16, CMYK, F, ...) to RGB or RGBA."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        im = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
    elif im.mode == "F":
        im = Image.fromarray(np.clip(np.asarray(im) * 255.0, 0, 255).astype(np.uint8))
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and (
        "transparency" in im.info or getattr(im.palette, "mode", "") == "RGBA"))  # palette with alpha
    if keep_alpha and has_alpha:
        return im.convert("RGBA")
    if has_alpha:
        return composite_on(im.convert("RGBA"), (255, 255, 255))
    return im.convert("RGB")


def composite_on(rgba: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """Flatten transparency onto a solid colour (taggers expect white)."""
    base = Image.new("RGB", rgba.size, colour)
    base.paste(rgba, mask=rgba.getchannel("A"))
    return base


def load_rgb_array(path: Union[str, Path]) -> np.ndarray:
    """HxWx3 uint8 RGB array of an image file."""
    return np.asarray(open_image(path))
