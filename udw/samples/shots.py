"""Shot templates: how a TV-anime cut of each kind is staged, timed and framed.

Each builder takes the frame geometry, a length in frames, the cast ids to use, a background and a
random generator, and returns a :class:`Shot`. Sizes scale with the frame, speeds with the frame
width and the frame rate, so a tiny test clip is staged like the full-size one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .cast import OUTFITS
from .figure import FOOT_Y, FULL_EXTENT, HANDS
from .head import EXPRESSIONS
from .storyboard import Actor, Beat, Shot

TILT = 6.0  # degrees of a head tilt


@dataclass(frozen=True)
class Ctx:
    width: int
    height: int
    fps: float
    key: str
    segment: str
    art_seed: int

    @property
    def speed(self) -> float:
        """Pixels per frame of a "1 px per frame at 640 px and 24 fps" motion."""
        return (self.width / 640.0) * (24.0 / self.fps)


def _blinks(rng: np.random.Generator, length: int, step: int) -> tuple[int, ...]:
    """Blink starts on the timing grid, one every 1-2.5 s-ish of the shot, none cut off."""
    s = max(step, 2)
    out, t = [], int(rng.integers(4, 16))
    while t + 3 * s <= length:
        out.append((t // step) * step)
        t += int(rng.integers(28, 60))
    return tuple(out)


def _beat_times(rng: np.random.Generator, length: int, step: int, every: tuple[int, int]) -> list[int]:
    """Times of acting changes on the timing grid, ``every`` frames apart (at least 3 drawings)."""
    out, t = [], int(rng.integers(*every))
    while t + 3 * step <= length:
        out.append((t // step) * step)
        t += int(rng.integers(*every))
    return out


def _next_beat(rng: np.random.Generator, at: int, b: Beat, choices: tuple[str, ...]) -> Beat:
    """``b`` with one thing changed (an acting move): expression, head tilt, hand or outfit."""
    what = str(rng.choice(choices))
    if what == "expression":
        return Beat(at, int(rng.choice([e for e in range(len(EXPRESSIONS)) if e != b.expression])), b.tilt,
                    b.hand, b.outfit)
    if what == "tilt":
        return Beat(at, b.expression, 0.0 if b.tilt else float(_sign(rng)) * TILT, b.hand, b.outfit)
    if what == "hand":
        return Beat(at, b.expression, b.tilt, int(rng.choice([h for h in range(len(HANDS)) if h != b.hand])),
                    b.outfit)
    return Beat(at, b.expression, b.tilt, b.hand, int(rng.choice([o for o in range(len(OUTFITS)) if o != b.outfit])))


def _acting(rng, length: int, step: int, every: tuple[int, int], choices: tuple[str, ...]) -> tuple[Beat, ...]:
    """Acting changes, each to a drawing not shown before in the shot when one is near at hand."""
    beats, b = [], Beat(0)
    used = {(0, 0.0, 0, 0)}
    for at in _beat_times(rng, length, step, every):
        for _ in range(8):
            nb = _next_beat(rng, at, b, choices)
            if (nb.expression, nb.tilt, nb.hand, nb.outfit) not in used:
                break
        b = nb
        used.add((b.expression, b.tilt, b.hand, b.outfit))
        beats.append(b)
    return tuple(beats)


def _talk(rng: np.random.Generator, length: int, part: tuple[float, float] = (0.1, 0.9)) -> tuple:
    t0, t1 = int(length * part[0]), int(length * part[1])
    return ((t0, t1),) if t1 - t0 >= 4 else ()


def _extent(h: int, y: float, frame_h: int) -> float:
    """Face units of body needed to reach the bottom of the frame from a face top at ``y``."""
    need = (frame_h - y) / h + 0.3
    return FULL_EXTENT if need >= FULL_EXTENT else math.ceil(need * 2) / 2


def _pano_for_pan(c: Ctx, v: float, length: int) -> tuple[int, int]:
    return (c.width + math.ceil(abs(v) * length) + 2, c.height)


def _start_x(pano_w: int, frame_w: int, v: float) -> float:
    return float(pano_w - frame_w) if v < 0 else 0.0


def _sign(rng) -> int:
    return 1 if rng.random() < 0.5 else -1


def _shot(c: Ctx, kind, shot_type, bg, length, step, pano=None, cam=(0.0, 0.0), cam_v=(0.0, 0.0),
          cam_step=1, actors=()) -> Shot:
    return Shot(c.key, c.segment, kind, shot_type, bg, c.art_seed, pano or (c.width, c.height), length,
                step, cam, cam_v, cam_step, tuple(actors))


def establishing(c: Ctx, length, chars, bg, rng, tilt=False) -> Shot:
    """No one on screen: a slow pan (on ones) or a tilt down from the sky (on twos)."""
    if tilt:
        ph = round(c.height * 1.6)
        vy = (ph - c.height) / max(1, length - 1)
        return _shot(c, "establishing", "empty", bg, length, 2, (c.width, ph), (0.0, 0.0), (0.0, vy), 2)
    v = _sign(rng) * c.speed * float(rng.choice([0.5, 1.0]))
    pano = _pano_for_pan(c, v, length)
    return _shot(c, "establishing", "empty", bg, length, 1, pano, (_start_x(pano[0], c.width, v), 0.0), (v, 0.0))


def title(c: Ctx, length, chars, bg, rng) -> Shot:
    return _shot(c, "title", "empty", "title", length, 3)


def closeup(c: Ctx, length, chars, bg, rng, extreme=False) -> Shot:
    """One face filling 55-68 % (or 80-88 % for an extreme close-up) of the frame height."""
    H = c.height
    h = round(H * float(rng.uniform(0.8, 0.88) if extreme else rng.uniform(0.55, 0.68)))
    y = (H - h) / 2 if extreme else H * 0.5 - 0.56 * h
    x = c.width * (0.5 + float(rng.uniform(-0.16, 0.16)))
    step = 2 if extreme else 3
    reaction = () if extreme else (Beat((int(length * 0.6) // step) * step, int(rng.integers(1, len(EXPRESSIONS)))),)
    a = Actor(chars[0], x, y, h, blinks=_blinks(rng, length, step), talk=() if extreme else _talk(rng, length),
              extent=_extent(h, y, H), beats=reaction)
    if extreme:  # a tiny drift pan: ~10 px over the shot, so it splits into a couple of groups
        v = c.speed * 0.25
        pano = _pano_for_pan(c, v, length)
        return _shot(c, "extreme_closeup", "extreme_close", bg, length, step, pano, (0.0, 0.0), (v, 0.0), 1, [a])
    return _shot(c, "closeup", "close", bg, length, step, actors=[a])


def medium(c: Ctx, length, chars, bg, rng) -> Shot:
    """One character from the waist up, waving then talking, on twos."""
    H = c.height
    h = round(H * float(rng.uniform(0.3, 0.44)))
    y = H * 0.2
    x = c.width * float(rng.uniform(0.35, 0.6))
    a = Actor(chars[0], x, y, h, wave=(length // 4, length // 2), talk=_talk(rng, length, (0.5, 0.9)),
              blinks=_blinks(rng, length, 2), extent=_extent(h, y, H))
    return _shot(c, "medium", "medium", bg, length, 2, actors=[a])


def acting(c: Ctx, length, chars, bg, rng) -> Shot:
    """One character from the knees up, talking, on twos, acting in small moves: a new expression,
    a head tilt, a hand to the chest or chin, one change at a time (the seed's hardest case)."""
    H = c.height
    h = round(H * float(rng.uniform(0.3, 0.4)))
    y = H * 0.16
    x = c.width * float(rng.uniform(0.35, 0.65))
    beats = _acting(rng, length, 2, (4, 9), ("expression", "tilt", "hand"))
    a = Actor(chars[0], x, y, h, talk=_talk(rng, length, (0.0, 1.0)), blinks=_blinks(rng, length, 2),
              extent=_extent(h, y, H), beats=beats)
    return _shot(c, "acting", "medium", bg, length, 2, actors=[a])


def dressup(c: Ctx, length, chars, bg, rng) -> Shot:
    """Trying on clothes: the same drawing in other outfit colours, on threes, blinking."""
    H = c.height
    h = round(H * float(rng.uniform(0.16, 0.2)))
    y = H * 0.95 - FOOT_Y * h
    x = c.width * float(rng.uniform(0.4, 0.6))
    beats = _acting(rng, length, 3, (6, 10), ("outfit", "outfit", "outfit", "expression"))
    a = Actor(chars[0], x, y, h, blinks=_blinks(rng, length, 3), beats=beats)
    return _shot(c, "dressup", "wide", bg, length, 3, actors=[a])


def two_shot(c: Ctx, length, chars, bg, rng) -> Shot:
    """Two characters talking in turn, a slow pan on ones under drawings on twos."""
    H, W = c.height, c.width
    h = round(H * float(rng.uniform(0.3, 0.4)))
    v = _sign(rng) * c.speed * 0.5
    pano = _pano_for_pan(c, v, length)
    cam_x = _start_x(pano[0], W, v)
    y = H * 0.22
    actors = [Actor(ch, cam_x + W * fx, y, h, talk=_talk(rng, length, part), blinks=_blinks(rng, length, 2),
                    extent=_extent(h, y, H))
              for ch, fx, part in zip(chars, (0.3, 0.7), ((0.05, 0.45), (0.55, 0.95)))]
    return _shot(c, "two_shot", "medium", bg, length, 2, pano, (cam_x, 0.0), (v, 0.0), 1, actors)


def three_shot(c: Ctx, length, chars, bg, rng) -> Shot:
    """Three characters side by side, on threes; the middle one waves."""
    H, W = c.height, c.width
    h = round(H * float(rng.uniform(0.27, 0.32)))
    y = H * 0.24
    actors = []
    for k, (ch, fx) in enumerate(zip(chars, (0.2, 0.5, 0.8))):
        actors.append(Actor(ch, W * fx, y + (k % 2) * H * 0.02, h, blinks=_blinks(rng, length, 3),
                            wave=(length // 3, 2 * length // 3) if k == 1 else None,
                            talk=_talk(rng, length, (0.5, 0.9)) if k == 0 else (), extent=_extent(h, y, H)))
    return _shot(c, "three_shot", "medium", bg, length, 3, actors=actors)


def group(c: Ctx, length, chars, bg, rng, pan: float = 1.0) -> Shot:
    """The whole cast (3-4) in a wide shot, small faces, held on threes with a slow pan on ones."""
    H, W = c.height, c.width
    h = round(H * float(rng.uniform(0.1, 0.13)))
    v = _sign(rng) * c.speed * pan
    pano = _pano_for_pan(c, v, length)
    cam_x = _start_x(pano[0], W, v)
    n = len(chars)
    actors = []
    for k, ch in enumerate(chars):
        fx = (k + 0.5) / n * 0.84 + 0.08 + float(rng.uniform(-0.03, 0.03))
        y = H * 0.94 - FOOT_Y * h - float(rng.uniform(0, 0.03)) * H
        actors.append(Actor(ch, cam_x + W * fx, y, h, blinks=_blinks(rng, length, 3),
                            wave=(length // 4, 3 * length // 4) if k == 0 else None))
    return _shot(c, "group", "wide", bg, length, 3, pano, (cam_x, 0.0), (v, 0.0), 1, actors)


def walk(c: Ctx, length, chars, bg, rng) -> Shot:
    """A follow shot: 1-2 characters walk (cycle on twos) while the background slides fast on ones."""
    H, W = c.height, c.width
    h = round(H * float(rng.uniform(0.12, 0.18)))
    v = _sign(rng) * c.speed * float(rng.uniform(5.0, 8.0))
    pano = _pano_for_pan(c, v, length)
    y = H * 0.96 - FOOT_Y * h
    actors = [Actor(ch, W * fx, y, h, screen=True, walk=True, blinks=_blinks(rng, length, 2))
              for ch, fx in zip(chars, (0.42, 0.6))]
    return _shot(c, "walk", "wide", bg, length, 2, pano, (_start_x(pano[0], W, v), 0.0), (v, 0.0), 1, actors)


def action(c: Ctx, length, chars, bg, rng) -> Shot:
    """A character hops, animated on ones: every frame is a new drawing (the top may leave the frame)."""
    H, W = c.height, c.width
    h = round(H * float(rng.uniform(0.28, 0.34)))
    y = H * 0.3
    jump = H * 0.38
    a = Actor(chars[0], W * float(rng.uniform(0.35, 0.65)), y, h, jump=jump, jump_period=max(6, length // 2),
              extent=_extent(h, y - jump, H))
    return _shot(c, "action", "medium", bg, length, 1, actors=[a])


def whip_pan(c: Ctx, length, chars, bg, rng) -> Shot:
    """A fast pan (~32 px per frame) that may end on a character entering the frame."""
    H, W = c.height, c.width
    v = _sign(rng) * c.speed * 32.0
    pano = _pano_for_pan(c, v, length)
    cam_x = _start_x(pano[0], W, v)
    actors = []
    if chars:
        h = round(H * 0.14)
        end_cam = cam_x + v * (length - 1)
        actors.append(Actor(chars[0], end_cam + W * 0.5, H * 0.94 - FOOT_Y * h, h,
                            blinks=_blinks(rng, length, 1)))
    return _shot(c, "whip_pan", "wide" if chars else "empty", bg, length, 1, pano, (cam_x, 0.0), (v, 0.0),
                 1, actors)


Builder = Callable[..., Shot]
# body templates: name -> (builder, cast size, nominal seconds, backgrounds to pick from)
BODY_TEMPLATES: dict[str, tuple[Builder, int, float, tuple[str, ...]]] = {
    "establishing": (establishing, 0, 2.0, ("city", "park", "roof", "sunset")),
    "closeup": (closeup, 1, 2.0, ("room", "park", "roof")),
    "extreme_closeup": (lambda *a: closeup(*a, extreme=True), 1, 1.5, ("room", "city")),
    "two_shot": (two_shot, 2, 2.5, ("room", "park", "city")),
    "three_shot": (three_shot, 3, 2.0, ("roof", "room", "park")),
    "group": (group, 4, 2.0, ("park", "roof", "city")),
    "walk": (walk, 2, 2.0, ("city", "park", "sunset")),
    "action": (action, 1, 1.2, ("park", "roof")),
    "whip_pan": (whip_pan, 1, 0.8, ("city", "sunset")),
    "medium": (medium, 1, 2.0, ("room", "roof", "park")),
    "acting": (acting, 1, 4.5, ("room", "park", "roof")),
    "dressup": (dressup, 1, 3.0, ("room", "roof", "park")),
}
