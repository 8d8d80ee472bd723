"""Duplicate-judgement test sets from real anime-style art (Ren'Py sprites, Expat licence).

A *drawing* is one character sprite (an expression or outfit) composited on a painted background
at one place. Different expressions and outfits of a character on the same background are
different drawings that look almost alike (a changed mouth is well under 1% of the picture);
noisy copies of one drawing (udw.dedupe.noise) are its copies. `drawings` composes the distinct
drawings; `copy_set` adds copies and the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from ..dedupe import noise
from . import real_art

SIZE = (960, 540)
BACKGROUNDS = ("bg meadow", "bg club", "bg uni")


@dataclass
class Drawing:
    name: str                     # e.g. "sylvie blue smile @ bg meadow"
    character: str                # e.g. "sylvie blue" (outfit included)
    rgb: np.ndarray
    faces: list = field(default_factory=list)   # (x0, y0, x1, y1) pixels


def _face_boxes(paths: dict[str, Path]) -> dict[str, tuple[int, int, int, int]]:
    """Per character (outfit), the box where its expressions differ, widened to a face box."""
    by_char: dict[str, list[np.ndarray]] = {}
    for name, path in paths.items():
        char = " ".join(name.split()[:-1])
        by_char.setdefault(char, []).append(np.asarray(Image.open(path).convert("RGBA"), np.int16))
    boxes = {}
    for char, ims in by_char.items():
        if len(ims) < 2 or any(im.shape != ims[0].shape for im in ims):
            continue
        changed = np.zeros(ims[0].shape[:2], bool)
        for im in ims[1:]:
            changed |= np.abs(im - ims[0]).max(axis=2) > 24
        if changed.mean() > 0.05:  # another pose, not another face
            continue
        ys, xs = np.nonzero(changed)
        cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
        side = 1.5 * max(xs.max() - xs.min(), ys.max() - ys.min())
        boxes[char] = (int(cx - side / 2), int(cy - side * 0.45), int(cx + side / 2), int(cy + side * 0.55))
    return boxes


def drawings(size: tuple[int, int] = SIZE, backgrounds: tuple[str, ...] = BACKGROUNDS,
             places: tuple[float, ...] = (0.5,)) -> list[Drawing]:
    """Every sprite on every listed background at each horizontal place (share of the width)."""
    sprites, bgs = real_art.sprites(), real_art.backgrounds()
    faces = _face_boxes(sprites)
    out = []
    for bg_name in backgrounds:
        bg = Image.open(bgs[bg_name]).convert("RGB").resize(size, Image.Resampling.LANCZOS)
        for name, path in sorted(sprites.items()):
            sprite = Image.open(path).convert("RGBA")
            scale = 0.95 * size[1] / sprite.height
            sprite = sprite.resize((round(sprite.width * scale), round(sprite.height * scale)),
                                   Image.Resampling.LANCZOS)
            for place in places:
                x = int(place * size[0] - sprite.width / 2)
                y = size[1] - sprite.height
                pic = bg.copy()
                pic.paste(sprite, (x, y), sprite)
                char = " ".join(name.split()[:-1])
                box = faces.get(char)
                face = [tuple(int(round(v)) for v in (x + box[0] * scale, y + box[1] * scale,
                                                      x + box[2] * scale, y + box[3] * scale))] if box else []
                out.append(Drawing(f"{name} @ {bg_name}" + (f" x{place:g}" if len(places) > 1 else ""),
                                   char, np.asarray(pic), face))
    return out


@dataclass
class Picture:
    name: str
    drawing: int                  # index of its drawing (the truth group)
    rgb: np.ndarray
    how: str                      # "original" or the noise applied
    faces: list = field(default_factory=list)   # the drawing's face boxes, moved with the copy


def copy_set(draws: list[Drawing], copies: int = 2, seed: int = 0,
             kinds: Optional[tuple[str, ...]] = None) -> list[Picture]:
    """Each drawing plus `copies` noisy copies of it (a chain of two noise kinds each)."""
    rng = np.random.default_rng(seed)
    out = []
    for k, d in enumerate(draws):
        out.append(Picture(d.name, k, d.rgb, "original", list(d.faces)))
        for c in range(copies):
            rgb, how, mapped = noise.noisy_copy_mapped(d.rgb, rng, kinds or noise.KINDS)
            out.append(Picture(f"{d.name} copy{c}", k, rgb, how, [mapped(b) for b in d.faces]))
    return out
