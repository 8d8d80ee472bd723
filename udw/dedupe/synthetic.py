"""Synthetic pictures with planted near-duplicates, for tests, demos and benchmarks.

Each scene is cel-like: a flat background and flat-colour shapes with dark outlines. Planted
near-duplicates (copies, within the verifier's noise model) of a scene: a shift (0.5-1% of the
width), a crop (up to 2% off the edges, resized back), a JPEG re-encode, a brightness/contrast
change of up to 5%, a downscale. Hard negatives, which the truth puts in other groups: the same
background with a large shape moved far, and a small local change (a blink-sized patch of
another colour: another drawing). `write_set` saves PNG/JPEG files and a ground-truth JSON
({"groups": {...}}) that `udw dedupe --eval` reads.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

VARIANTS = ("shift", "crop", "jpeg", "bright", "small")


def scene(seed: int, size: tuple[int, int] = (320, 180), shapes: int = 7,
          moved: Optional[int] = None) -> Image.Image:
    """A flat-colour picture; `moved` = k draws the k-th shape from the top half a width away."""
    rng = np.random.default_rng(seed)
    w, h = size
    im = Image.new("RGB", size, tuple(int(c) for c in rng.integers(40, 230, 3)))
    draw = ImageDraw.Draw(im)
    for k in range(shapes):
        cw, ch = int(rng.integers(w // 8, w // 2.5)), int(rng.integers(h // 6, h // 2))
        x0, y0 = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
        if moved is not None and k == shapes - 1 - moved:
            x0 = (x0 + w // 2) % max(1, w - cw)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        box = [x0, y0, x0 + cw, y0 + ch]
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.ellipse(box, fill=colour, outline=(30, 24, 36), width=2)
        elif kind == 1:
            draw.rectangle(box, fill=colour, outline=(30, 24, 36), width=2)
        else:
            draw.polygon([(x0, y0 + ch), (x0 + cw // 2, y0), (x0 + cw, y0 + ch)], fill=colour, outline=(30, 24, 36))
    return im


def variant(im: Image.Image, kind: str, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = im.size
    if kind == "shift":
        dx, dy = int(max(1, w * rng.uniform(0.005, 0.01))), int(rng.integers(-1, 2))
        arr = np.asarray(im)
        arr = np.pad(arr, ((abs(dy), abs(dy)), (dx, 0), (0, 0)), mode="edge")  # edge-fill the gap
        top = abs(dy) - dy
        return Image.fromarray(arr[top:top + h, :w])  # moved right by dx and down by dy
    if kind == "crop":
        f = rng.uniform(0.01, 0.02)
        box = (int(w * f * rng.uniform(0.3, 1)), int(h * f * rng.uniform(0.3, 1)),
               w - int(w * f * rng.uniform(0.3, 1)), h - int(h * f * rng.uniform(0.3, 1)))
        return im.crop(box).resize((w, h), Image.Resampling.BICUBIC)
    if kind == "jpeg":
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=int(rng.integers(55, 80)))
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if kind == "bright":
        out = ImageEnhance.Brightness(im).enhance(rng.uniform(0.95, 1.05))
        return ImageEnhance.Contrast(out).enhance(rng.uniform(0.95, 1.05))
    if kind == "small":
        s = rng.uniform(0.5, 0.75)
        return im.resize((max(8, int(w * s)), max(8, int(h * s))), Image.Resampling.LANCZOS)
    if kind == "patch":
        out = im.copy()
        x, y = int(rng.integers(0, w - w // 16)), int(rng.integers(0, h - h // 12))
        ImageDraw.Draw(out).ellipse([x, y, x + w // 20, y + h // 16],
                                    fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        return out
    raise ValueError(f"unknown variant {kind}")


def write_set(folder: Path, scenes: int = 20, variants_per_scene: int = 3, negatives: int = 4,
              seed: int = 0, size: tuple[int, int] = (320, 180)) -> Path:
    """Write pictures and `truth.json`; returns the truth path. Scene k has variants chosen at
    random; the first `negatives` scenes also get a hard negative (its own group)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    groups: dict[str, list[str]] = {}
    for k in range(scenes):
        base = scene(seed * 100003 + k, size)
        names = [f"s{k:03d}_orig.png"]
        base.save(folder / names[0])
        for v, kind in enumerate(rng.choice(VARIANTS, variants_per_scene, replace=False)):
            im = variant(base, str(kind), seed * 7919 + k * 31 + v)
            name = f"s{k:03d}_{kind}.{'jpg' if kind == 'jpeg' else 'png'}"
            if kind == "jpeg":
                im.save(folder / name, quality=90)
            else:
                im.save(folder / name)
            names.append(name)
        groups[f"scene{k}"] = names
        if k < negatives:
            name = f"s{k:03d}_moved.png"
            scene(seed * 100003 + k, size, moved=0).save(folder / name)
            groups[f"scene{k}-moved"] = [name]
            name = f"s{k:03d}_patch.png"
            variant(base, "patch", seed * 7919 + k * 31 + 17).save(folder / name)
            groups[f"scene{k}-patch"] = [name]
    truth = folder / "truth.json"
    truth.write_text(json.dumps({"groups": groups}, indent=1))
    return truth
