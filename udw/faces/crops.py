"""Per-face crops for training: a square around each face, face near the top, shorter edge resized."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .geometry import Face


@dataclass(frozen=True)
class CropSettings:
    scale: float = 3.0        # crop side in face heights (3: head and shoulders, 5+: upper body)
    min_size: int = 256       # skip crops smaller than this many source pixels (too blurry to train on)
    size: int = 768           # shorter edge of the saved crop (only ever scaled down)
    head_room: float = 0.15   # space above the face, as a fraction of the crop side


def crop_box(face: Face, width: int, height: int, s: CropSettings) -> Optional[tuple[int, int, int, int]]:
    """A square (x0, y0, x1, y1) inside the image, or None when it would be below `min_size`.

    Like the seed, the face is centred horizontally and placed near the top; the square is
    shifted (never shrunk) to stay inside the image, and capped by the image's shorter side.
    """
    side = int(round(min(max(face.height, face.width) * s.scale, width, height)))
    if side < s.min_size or side <= 0:
        return None
    cx = (face.x0 + face.x1) / 2
    x0 = int(round(min(max(cx - side / 2, 0), width - side)))
    y0 = int(round(min(max(face.y0 - s.head_room * side, 0), height - side)))
    return (x0, y0, x0 + side, y0 + side)


def faces_in_crop(faces: Sequence[Face], box: tuple[int, int, int, int], out_side: int) -> list[Face]:
    """The faces whose centre lies in the crop, in the saved crop's pixels (clipped)."""
    x0, y0, x1, y1 = box
    k = out_side / (x1 - x0)
    inside = []
    for f in faces:
        cx, cy = (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2
        if x0 <= cx < x1 and y0 <= cy < y1:
            moved = Face((f.x0 - x0) * k, (f.y0 - y0) * k, (f.x1 - x0) * k, (f.y1 - y0) * k,
                         f.score, f.detector, f.character, f.character_score)
            inside.append(moved.clipped(out_side, out_side))
    return inside


def cut(img: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    """The crop, scaled down (area filter) so its side is at most `size`."""
    import cv2

    x0, y0, x1, y1 = box
    part = np.ascontiguousarray(img[y0:y1, x0:x1])
    side = x1 - x0
    if side > size:
        part = cv2.resize(part, (size, size), interpolation=cv2.INTER_AREA)
    return part
