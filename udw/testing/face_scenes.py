"""Pictures of real anime-style art with known faces: Ren'Py sprites (Expat, see `real_art`)
composited onto painted backgrounds, the tallest face at a chosen share of the frame height.

Truth boxes are in the detector's own box convention: the box a detector finds on the bare sprite
(on white, at the sprite's own size, where faces are 120-200 px: a comfortable scale), scaled and
moved with the sprite, then clipped to the frame. A face may leave the frame at the sides (cut by
the border): it still counts as a person; its truth box is the part inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image

Box = tuple[float, float, float, float]
# edges of the default face-height buckets; pictures keep their ratios this far from them, since a
# box a few pixels taller or shorter must not decide the bucket of a benchmark picture
EDGES, EDGE_MARGIN = (0.25, 0.5, 0.75), 0.03
SPRITES = ("sylvie green normal", "sylvie blue smile", "eileen happy", "lucy happy", "sylvie green giggle",
           "eileen concerned", "lucy mad", "sylvie blue surprised")


@dataclass
class Scene:
    image: np.ndarray                 # H x W x 3 uint8 RGB
    truth: list[Box]                  # one box per person whose face shows, clipped to the frame
    ratio: float                      # tallest truth face height / frame height
    cut: bool                         # a face leaves the frame
    name: str


def on_white(path: Path) -> tuple[np.ndarray, Image.Image]:
    """(RGB on white as an array, the RGBA sprite)."""
    rgba = Image.open(path).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    white.alpha_composite(rgba)
    return np.asarray(white.convert("RGB")), rgba


def sprite_faces(sprites: dict[str, Path], detect: Callable[[np.ndarray], list[Box]],
                 names: Sequence[str] = SPRITES) -> dict[str, tuple[Image.Image, Box]]:
    """The sprites whose bare picture has exactly one face, with that face's box."""
    out = {}
    for name in names:
        if name in sprites:
            rgb, rgba = on_white(sprites[name])
            boxes = detect(rgb)
            if len(boxes) == 1:
                out[name] = (rgba, tuple(float(v) for v in boxes[0]))
    return out


def _ratio_away_from_edges(rng: np.random.Generator, low: float, high: float) -> float:
    while True:
        r = float(rng.uniform(low, high))
        if all(abs(r - e) >= EDGE_MARGIN for e in EDGES):
            return r


def build_scenes(faces: dict[str, tuple[Image.Image, Box]], backgrounds: Sequence[Path], n: int = 40,
                 size: tuple[int, int] = (640, 360), bands: Sequence[tuple[float, float]] = ((0.1, 1.0),),
                 two_share: float = 0.4, cut_share: float = 0.2, seed: int = 0) -> list[Scene]:
    """`n` pictures, the tallest face's ratio drawn evenly from `bands`; some with two people
    (the second face 0.55-1.0 of the first's height), some with a face cut by the side border."""
    rng = np.random.default_rng(seed)
    names = sorted(faces)
    scenes = []
    for k in range(n):
        low, high = bands[k % len(bands)]
        ratio = _ratio_away_from_edges(rng, low, high)
        people = 2 if rng.random() < two_share else 1
        cut = bool(rng.random() < cut_share)
        picked = [names[(k + j * 3) % len(names)] for j in range(people)]
        bg = Image.open(backgrounds[k % len(backgrounds)]).convert("RGB").resize(size, Image.Resampling.LANCZOS)
        heights = [ratio * size[1]] + [ratio * size[1] * rng.uniform(0.55, 1.0) for _ in picked[1:]]
        truth = _paste_people(bg, [faces[p] for p in picked], heights, cut, rng)
        scenes.append(Scene(np.asarray(bg), truth, max(b[3] - b[1] for b in truth) / size[1], cut,
                            f"s{k:03d}_{people}p_{round(ratio * 100)}{'_cut' if cut else ''}"))
    return scenes


def _paste_people(frame: Image.Image, people: list[tuple[Image.Image, Box]], heights: list[float], cut: bool,
                  rng: np.random.Generator) -> list[Box]:
    """Paste each sprite so its face box has the given height; returns the clipped face boxes.

    People stand left to right with a gap of 0.35-0.6 face widths (hair must not cover the
    neighbour's face); with `cut`, the last face leaves the frame by 25-45 % of its width.
    """
    w, h = frame.size
    widths = [(box[2] - box[0]) * fh / (box[3] - box[1]) for (_, box), fh in zip(people, heights)]
    gaps = [widths[j] * rng.uniform(0.35, 0.6) for j in range(len(people) - 1)]
    span = sum(widths) + sum(gaps)
    xs = [float(rng.uniform(0, max(0.0, w - span)))]
    for j in range(1, len(people)):
        xs.append(xs[-1] + widths[j - 1] + gaps[j - 1])
    if cut:
        out = widths[-1] * rng.uniform(0.25, 0.45)
        if len(people) == 1 and rng.random() < 0.5:
            xs[-1] = -out
        else:
            xs = [x + (w - widths[-1] + out) - xs[-1] for x in xs]
    placed = []
    for (rgba, box), face_h, fx in zip(people, heights, xs):
        s = face_h / (box[3] - box[1])
        fy = float(rng.uniform(0, max(0.0, h - face_h)))
        ox, oy = round(fx - box[0] * s), round(fy - box[1] * s)
        placed.append((rgba, s, ox, oy, box))
    truth = []
    for rgba, s, ox, oy, box in reversed(placed):  # the leftmost person in front
        sprite = rgba.resize((max(1, round(rgba.width * s)), max(1, round(rgba.height * s))), Image.Resampling.LANCZOS)
        frame.paste(sprite, (ox, oy), sprite)
        x0, y0, x1, y1 = ox + box[0] * s, oy + box[1] * s, ox + box[2] * s, oy + box[3] * s
        truth.insert(0, (max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)))
    return truth


def tallest(boxes: Sequence[Box]) -> Optional[float]:
    return max((b[3] - b[1] for b in boxes), default=None)
