"""A folder of pictures with known distinct drawings: the ground truth for `udw dedupe` / `udw build`.

Each *base* still (one or two cast members over a background) gets *variants* that are other
drawings (another expression, outfit colours, a head tilt, a hand or arm moved, another character,
a pan that reveals new picture) and every drawing gets *copies* that a dataset should merge: a
blink, a lip flap, a slow pan of a few pixels, and the noise model of :mod:`.noise` (JPEG, WebP,
rescale, crop, shift, gamma, H.264), stored as PNG. File names are shuffled: order tells nothing.

``imageset.truth.json`` beside ``images/``::

    format "udw.samples.imageset", version 1, seed, width, height, shift_px,
    kinds     {"distinct": {kind: description}, "copy": {kind: description}}
    drawings  [{"id", "kind", "of"}]            ("of": the base drawing a variant was made from)
    images    [{"file", "drawing", "kind", "params"}]   (each drawing's clean picture first)
    groups    [[file, ...], ...]                (one per drawing: `udw dedupe --eval` reads it)
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image

from .cast import CHARACTER_IDS, OUTFITS, character
from .figure import FULL_EXTENT, HANDS, POSE_WAVE, character_sprite, composite
from .head import EXPR_SMILE, EXPRESSIONS
from .noise import NOISE, NOISE_KINDS
from .scenery import BACKGROUNDS, panorama
from .storyboard import ActorState
from .truthjson import write_atomic

FORMAT, VERSION = "udw.samples.imageset", 1
DISTINCT = {
    "new": "an unrelated picture (another base still)",
    "expression": "the base with another facial expression",
    "outfit": "the base in other outfit colours",
    "head_tilt": "the base with the head tilted by a few degrees",
    "hand": "the base with a hand at the chest or chin",
    "arm": "the base with an arm raised",
    "character": "the base with another cast member in the same place",
    "pan_reveal": "the base framed 5-15 % of the width further along the background",
}
COPY = {"blink": "eyes shut, all else the same", "lip_flap": "another mouth drawing, all else the same",
        "slow_pan": "framed 1-4 px further along the background", **NOISE_KINDS}


@dataclass(frozen=True)
class Still:
    background: str
    art_seed: int
    cam: int
    looks: tuple[ActorState, ...]  # characters on screen (eyes, mouths, expressions, ...)


def render_still(still: Still, width: int, height: int, pano_cache: Optional[dict] = None) -> np.ndarray:
    cache = {} if pano_cache is None else pano_cache
    key = (still.background, still.art_seed)
    if key not in cache:
        cache[key] = panorama(still.background, width * 2, height, height, still.art_seed)
    out = cache[key][:, still.cam:still.cam + width].copy()
    for k in still.looks:
        sprite = character_sprite(character(k.char), k.h, k.pose, k.eyes, k.mouth, k.extent, k.expression, k.tilt,
                                  k.hand, k.outfit)
        composite(out, sprite, k.x, k.y)
    return out


def _base(rng: np.random.Generator, n: int, width: int, height: int) -> Still:
    chars = [str(c) for c in rng.permutation(list(CHARACTER_IDS))[:int(rng.integers(1, 3))]]
    h = round(height * float(rng.uniform(0.22, 0.45)))
    looks = tuple(ActorState(c, round(width * (0.5 if len(chars) == 1 else 0.3 + 0.4 * j) + rng.uniform(-0.08, 0.08) * width),
                             round(height * float(rng.uniform(0.1, 0.25))), h, 0, 0, 0, FULL_EXTENT)
                  for j, c in enumerate(chars))
    return Still(str(rng.choice(BACKGROUNDS)), n, int(rng.integers(0, width // 2)), looks)


def _variant(rng: np.random.Generator, base: Still, kind: str, width: int) -> Still:
    first = base.looks[0]
    if kind == "pan_reveal":
        step = round(width * float(rng.uniform(0.05, 0.15)))
        cam = base.cam + step if base.cam + step <= width else base.cam - step
        return replace(base, cam=cam, looks=tuple(replace(k, x=k.x - (cam - base.cam)) for k in base.looks))
    if kind == "expression":
        changed = replace(first, expression=int(rng.integers(1, len(EXPRESSIONS))))
    elif kind == "outfit":
        changed = replace(first, outfit=int(rng.integers(1, len(OUTFITS))))
    elif kind == "head_tilt":
        changed = replace(first, tilt=float(rng.choice([-6.0, 6.0])))
    elif kind == "hand":
        changed = replace(first, hand=int(rng.integers(1, len(HANDS))))
    elif kind == "arm":
        changed = replace(first, pose=POSE_WAVE)
    else:  # another character in the same place
        others = [c for c in CHARACTER_IDS if c not in {k.char for k in base.looks}]
        changed = replace(first, char=str(rng.choice(others)))
    return replace(base, looks=(changed,) + base.looks[1:])


def _same_drawing_copy(rng: np.random.Generator, still: Still, kind: str) -> Optional[tuple[Still, dict]]:
    first = still.looks[0]
    if kind == "blink":
        if first.expression == EXPR_SMILE:  # smiling eyes are already shut: a blink draws nothing new
            return None
        eyes = int(rng.integers(1, 3))
        return replace(still, looks=(replace(first, eyes=eyes),) + still.looks[1:]), {"eyes": eyes}
    if kind == "lip_flap":
        mouth = int(rng.integers(1, 3))
        return replace(still, looks=(replace(first, mouth=mouth),) + still.looks[1:]), {"mouth": mouth}
    step = int(rng.integers(1, 5)) * (1 if still.cam < 8 else int(rng.choice([-1, 1])))
    return replace(still, cam=still.cam + step, looks=tuple(replace(k, x=k.x - step) for k in still.looks)), {"px": step}


def _plan(rng, bases: int, width: int, height: int) -> list[tuple[str, str, str, Still]]:
    """(drawing id, kind, base id, still) of every distinct drawing."""
    out = []
    kinds = list(DISTINCT)[1:]
    for n in range(bases):
        base = _base(rng, n, width, height)
        bid = f"b{n:03d}"
        out.append((f"{bid}.v0", "new", bid, base))
        for v, kind in enumerate(rng.permutation(kinds)[:int(rng.integers(2, 4))], start=1):
            out.append((f"{bid}.v{v}", str(kind), bid, _variant(rng, base, str(kind), width)))
    return out


def generate_image_set(out_dir: str | os.PathLike, bases: int = 20, seed: int = 0, width: int = 480,
                       height: int = 360, copies: int = 2,
                       progress: Optional[Callable[..., None]] = None) -> Path:
    """Write ``images/`` and ``imageset.truth.json`` into ``out_dir``; returns the truth path.

    ``copies`` noise-model copies per drawing (kinds drawn at random), plus, at random, a blink, a
    lip flap and a slow pan of the same drawing.
    """
    if bases < 1 or copies < 0 or width < 64 or height < 64:
        raise ValueError("need bases >= 1, copies >= 0 and pictures of at least 64x64")
    rng = np.random.default_rng([seed, 14])
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    drawings = _plan(rng, bases, width, height)
    pictures: list[tuple] = []  # drawing, kind, rgb, params
    cache: dict = {}
    for d, (did, kind, _, still) in enumerate(drawings):
        clean = render_still(still, width, height, cache)
        pictures.append((did, kind, clean, {}))
        for copy_kind in ("blink", "lip_flap", "slow_pan"):
            made = _same_drawing_copy(rng, still, copy_kind) if rng.random() < 0.4 else None
            if made is not None:
                pictures.append((did, copy_kind, render_still(made[0], width, height, cache), made[1]))
        for noise_kind in rng.permutation(list(NOISE))[:copies]:
            pictures.append((did, str(noise_kind), *NOISE[str(noise_kind)](clean, rng)))
        if progress is not None:
            progress(d + 1, len(drawings))
    names = rng.permutation(len(pictures))
    images, groups = [], {}
    for (did, kind, rgb, params), n in zip(pictures, names):
        name = f"img_{int(n):04d}.png"
        _save(rgb, out / "images" / name)
        images.append({"file": f"images/{name}", "drawing": did, "kind": kind, "params": params})
        groups.setdefault(did, []).append(f"images/{name}")
    truth = {"format": FORMAT, "version": VERSION, "seed": seed, "width": width, "height": height,
             "shift_px": max(2, round(width / 80)), "kinds": {"distinct": DISTINCT, "copy": COPY},
             "drawings": [{"id": did, "kind": kind, "of": bid} for did, kind, bid, _ in drawings],
             "images": images, "groups": list(groups.values())}
    path = out / "imageset.truth.json"
    write_atomic(path, json.dumps(truth, indent=1).encode("utf-8"))
    return path


def _save(rgb: np.ndarray, path: Path) -> None:
    """A PNG of the pixels (a JPEG copy's loss is already in them), atomically."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", compress_level=1)
    write_atomic(path, buf.getvalue())
