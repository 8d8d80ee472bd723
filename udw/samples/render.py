"""Turn frame states into pictures: crop the panorama at the camera, paint the character sprites.

Drawings are cached (backgrounds per shot, sprites per character/size/pose/eyes/mouth) in the
plan's ``cache`` dict; the cache only speeds things up, it never changes a pixel.
"""

from __future__ import annotations

import numpy as np

from .cast import character
from .figure import Sprite, character_sprite, composite
from .plan import EpisodePlan
from .scenery import panorama, title_card
from .storyboard import ActorState, FrameState, Shot

_MAX_SPRITES = 64


def _background(plan: EpisodePlan, k: int) -> np.ndarray:
    cache = plan.cache.setdefault("backgrounds", {})
    if k not in cache:
        shot: Shot = plan.shots[k]
        if len(cache) >= 2:  # keep the current and the previous shot only
            cache.pop(next(iter(cache)))
        if shot.background == "title":
            cache[k] = title_card(plan.width, plan.height, plan.series, shot.art_seed)
        else:
            cache[k] = panorama(shot.background, shot.pano[0], shot.pano[1], plan.height, shot.art_seed)
    return cache[k]


def _sprite(plan: EpisodePlan, shot: int, a: ActorState) -> Sprite:
    if plan.cache.get("sprites_shot") != shot:  # sizes differ between shots: start afresh
        plan.cache["sprites_shot"] = shot
        plan.cache["sprites"] = {}
    cache = plan.cache["sprites"]
    key = (a.char, a.h, a.pose, a.eyes, a.mouth, a.extent, a.expression, a.tilt, a.hand, a.outfit)
    sp = cache.get(key)
    if sp is None:
        if len(cache) >= _MAX_SPRITES:
            cache.pop(next(iter(cache)))
        sp = cache[key] = character_sprite(character(a.char), a.h, a.pose, a.eyes, a.mouth, a.extent,
                                           a.expression, a.tilt, a.hand, a.outfit)
    return sp


def render_state(plan: EpisodePlan, state: FrameState) -> np.ndarray:
    """The (height, width, 3) uint8 RGB picture of ``state`` (a fresh array)."""
    bg = _background(plan, state.shot)
    cx, cy = state.cam
    out = bg[cy:cy + plan.height, cx:cx + plan.width].copy()
    for a in state.actors:
        composite(out, _sprite(plan, state.shot, a), a.x, a.y)
    return out


def render_frame(plan: EpisodePlan, index: int) -> np.ndarray:
    """Frame ``index`` of the episode as an RGB uint8 array, exactly as it is handed to the encoder."""
    return render_state(plan, plan.state(index))
