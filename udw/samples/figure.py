"""A whole character as an RGBA sprite: back hair, legs, outfit, arms, neck, then the head.

Sprites are drawn at twice the size and box-reduced, which gives anti-aliased outlines while flat
colour areas keep their exact palette colour. The reduced RGB is premultiplied by alpha (the canvas
starts as transparent black), so compositing is ``out = rgb + bg * (255 - a) / 255``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .cast import LINE, SKIN, SKIN_SHADE, Character, dressed
from .head import EXPR_NORMAL, FACE_HALF_W, Canvas, draw_back_hair, draw_head

POSE_STAND, POSE_WAVE, POSE_WALK_A, POSE_WALK_B = 0, 1, 2, 3
HAND_DOWN, HAND_CHEST, HAND_CHIN = 0, 1, 2  # the other arm's gesture (small acting)
HANDS = ("down", "chest", "chin")
NECK = (0.0, 1.0)  # a head tilt turns the head about the chin
SUPERSAMPLE = 2
HIP_Y, FOOT_Y = 2.4, 5.35  # in face units below the hairline
FULL_EXTENT = 5.45  # face units from the hairline to below the shoes
TOP_MARGIN = 0.48  # ahoge / spikes above the hairline
SIDE_MARGIN = 1.16  # twin tails, a raised hand


@dataclass(frozen=True)
class Sprite:
    rgba: np.ndarray  # (h, w, 4) uint8, RGB premultiplied by alpha
    anchor: tuple[int, int]  # pixel of the face box's top centre inside the sprite (x, y)


def face_box(x: int, y: int, h: int) -> tuple[int, int, int, int]:
    """Unclipped face box [x0, y0, x1, y1) of a face of height ``h`` whose top centre is (x, y)."""
    return (x + math.floor(-FACE_HALF_W * h), y, x + math.ceil(FACE_HALF_W * h), y + h)


def _legs(cv: Canvas, ch: Character, pose: int) -> None:
    swing = {POSE_WALK_A: 0.22, POSE_WALK_B: -0.22}.get(pose, 0.0)
    trousers = ch.id in ("beni", "kuro")
    leg_col = ch.legs if trousers else SKIN
    for s in (-1, 1):
        fx = s * 0.2 + s * swing
        top_in, top_out = s * 0.04, s * 0.36
        cv.poly([(top_in, HIP_Y - 0.1), (top_out, HIP_Y - 0.1), (fx + s * 0.13, FOOT_Y - 0.2),
                 (fx - s * 0.1, FOOT_Y - 0.2)], leg_col)
        if not trousers:  # socks
            cv.poly([(fx - s * 0.115, FOOT_Y - 0.75), (fx + s * 0.14, FOOT_Y - 0.75),
                     (fx + s * 0.13, FOOT_Y - 0.2), (fx - s * 0.1, FOOT_Y - 0.2)],
                    ch.accent if ch.id == "shiro" else (40, 40, 60))
        shoe = (250, 250, 250) if ch.id == "beni" else (110, 64, 44)
        cv.ellipse(fx - 0.17, FOOT_Y - 0.28, fx + 0.19, FOOT_Y - 0.02, shoe)


def _arm(cv: Canvas, ch: Character, s: int, raised: bool) -> None:
    if raised:
        cv.poly([(s * 0.5, 1.25), (s * 0.72, 1.36), (s * 1.02, 0.78), (s * 0.84, 0.7)], ch.outfit)
        cv.ellipse(s * 0.93 - 0.1, 0.5, s * 0.93 + 0.1, 0.72, SKIN)
    else:
        cv.poly([(s * 0.56, 1.26), (s * 0.76, 1.42), (s * 0.82, 2.28), (s * 0.62, 2.3),
                 (s * 0.6, 1.6)], ch.outfit)
        cv.line([(s * 0.63, 1.7), (s * 0.68, 2.1)], fill=ch.outfit_shade, width=0.8)
        cv.ellipse(s * 0.72 - 0.095, 2.28, s * 0.72 + 0.095, 2.48, SKIN)


def _bent_arm(cv: Canvas, ch: Character, s: int, elbow: tuple[float, float], hand: tuple[float, float]) -> None:
    """An arm from the shoulder to ``elbow`` and on to a hand at ``hand`` (a small gesture)."""
    shoulder = (s * 0.6, 1.3)
    for a, b in ((shoulder, elbow), (elbow, hand)):
        dx, dy = b[0] - a[0], b[1] - a[1]
        n = max(1e-6, (dx * dx + dy * dy) ** 0.5)
        ox, oy = -dy / n * 0.09, dx / n * 0.09
        cv.poly([(a[0] + ox, a[1] + oy), (b[0] + ox, b[1] + oy), (b[0] - ox, b[1] - oy), (a[0] - ox, a[1] - oy)],
                ch.outfit)
    cv.ellipse(hand[0] - 0.1, hand[1] - 0.1, hand[0] + 0.1, hand[1] + 0.1, SKIN)


def _gesture(cv: Canvas, ch: Character, hand: int) -> None:
    if hand == HAND_CHEST:
        _bent_arm(cv, ch, -1, (-0.78, 1.9), (-0.18, 1.66))
    elif hand == HAND_CHIN:
        _bent_arm(cv, ch, -1, (-0.74, 1.92), (-0.1, 1.02))


def _lower(cv: Canvas, ch: Character) -> None:
    """Skirt / dress hem over the legs (trousers are the legs themselves)."""
    if ch.id == "aoi":
        cv.poly([(-0.5, HIP_Y - 0.2), (0.5, HIP_Y - 0.2), (0.7, 3.0), (-0.7, 3.0)], ch.legs)
        for x in (-0.35, 0.0, 0.35):
            cv.line([(x * 0.8, HIP_Y), (x, 2.95)], width=0.7)
    elif ch.id == "shiro":
        cv.poly([(-0.5, 2.1), (0.5, 2.1), (0.86, 3.3), (-0.86, 3.3)], ch.outfit)
        cv.line([(-0.8, 3.16), (0.8, 3.16)], fill=ch.accent, width=1.6)


def _torso(cv: Canvas, ch: Character) -> None:
    cv.poly([(-0.18, 1.08), (0.18, 1.08), (0.6, 1.24), (0.66, 1.5), (0.5, HIP_Y), (-0.5, HIP_Y),
             (-0.66, 1.5), (-0.6, 1.24)], ch.outfit)
    if ch.id == "aoi":  # sailor collar and ribbon
        cv.poly([(-0.54, 1.22), (-0.17, 1.08), (0.0, 1.5), (0.17, 1.08), (0.54, 1.22), (0.32, 1.5),
                 (0.0, 1.78), (-0.32, 1.5)], ch.accent)
        cv.line([(-0.42, 1.28), (0.0, 1.66), (0.42, 1.28)], fill=(250, 250, 250), width=0.9)
        for s in (-1, 1):
            cv.poly([(0.0, 1.64), (s * 0.2, 1.54), (s * 0.2, 1.78)], (222, 40, 62))
            cv.poly([(0.0, 1.66), (s * 0.1, 2.0), (s * 0.02, 2.02)], (222, 40, 62))
    elif ch.id == "beni":  # hoodie: hood, strings, pocket
        cv.ellipse(-0.38, 1.02, 0.38, 1.34, ch.outfit_shade)
        for s in (-1, 1):
            cv.line([(s * 0.1, 1.28), (s * 0.13, 1.78)], fill=ch.accent, width=1.0)
            cv.ellipse(s * 0.13 - 0.03, 1.76, s * 0.13 + 0.03, 1.82, ch.accent)
        cv.poly([(-0.34, 1.98), (0.34, 1.98), (0.4, 2.3), (-0.4, 2.3)], ch.outfit_shade)
    elif ch.id == "kuro":  # open jacket over a white shirt
        cv.poly([(-0.2, 1.1), (0.2, 1.1), (0.16, HIP_Y), (-0.16, HIP_Y)], ch.accent)
        for s in (-1, 1):
            cv.poly([(s * 0.2, 1.1), (s * 0.36, 1.16), (s * 0.22, 1.6), (s * 0.16, 1.5)], ch.outfit_shade)
    elif ch.id == "shiro":  # round white collar
        for s in (-1, 1):
            cv.poly([(0.0, 1.14), (s * 0.16, 1.06), (s * 0.36, 1.18), (s * 0.24, 1.34),
                     (s * 0.04, 1.3)], ch.accent)


def _neck(cv: Canvas) -> None:
    cv.poly([(-0.1, 0.8), (0.1, 0.8), (0.12, 1.16), (-0.12, 1.16)], SKIN)
    cv.poly([(-0.11, 0.86), (0.11, 0.86), (0.115, 0.99), (0.0, 1.06), (-0.115, 0.99)], SKIN_SHADE,
            outline=None)


def _draw(cv: Canvas, ch: Character, pose: int, eyes: int, mouth: int, extent: float,
          expression: int = EXPR_NORMAL, tilt: float = 0.0, hand: int = HAND_DOWN) -> None:
    head = cv.rotated(tilt, *NECK)
    draw_back_hair(head, ch)
    if extent > HIP_Y:
        _legs(cv, ch, pose)
        _lower(cv, ch)
    if hand == HAND_DOWN:
        _arm(cv, ch, -1, False)
    _arm(cv, ch, 1, False) if pose != POSE_WAVE else None
    _torso(cv, ch)
    if pose == POSE_WAVE:
        _arm(cv, ch, 1, True)
    if hand == HAND_CHEST:
        _gesture(cv, ch, hand)
    _neck(cv)
    draw_head(head, ch, eyes, mouth, expression)
    if hand == HAND_CHIN:  # the hand rests in front of the chin
        _gesture(cv, ch, hand)


def character_sprite(ch: Character, h: int, pose: int = POSE_STAND, eyes: int = 0, mouth: int = 0,
                     extent: float = FULL_EXTENT, expression: int = EXPR_NORMAL, tilt: float = 0.0,
                     hand: int = HAND_DOWN, outfit: int = 0) -> Sprite:
    """Draw ``ch`` with a face ``h`` pixels tall, down to ``extent`` face units below the hairline.

    ``eyes``: 0 open, 1 half, 2 closed. ``mouth``: 0 closed, 1 half, 2 open. ``pose``: 0 standing,
    1 waving (raised arm), 2/3 the two walking drawings. ``expression``: head.EXPRESSIONS index;
    ``tilt``: the head turned by that many degrees about the chin; ``hand``: HANDS index (the
    other arm's gesture); ``outfit``: cast.OUTFITS index (0: the character's own colours). The
    sprite's ``anchor`` is the top centre of the face box (:func:`face_box`).
    """
    if h < 4:
        raise ValueError(f"face height must be at least 4 px, got {h}")
    ch = dressed(ch, outfit)
    ss = SUPERSAMPLE
    ax, ay = math.ceil(SIDE_MARGIN * h) + 2, math.ceil(TOP_MARGIN * h) + 2
    w1, h1 = 2 * ax, ay + math.ceil(min(extent, FULL_EXTENT) * h) + 2
    img = Image.new("RGBA", (w1 * ss, h1 * ss), (0, 0, 0, 0))
    unit = h * ss

    def pen(x: float, y: float) -> tuple[float, float]:
        return ((ax + x * h) * ss, (ay + y * h) * ss)

    _draw(Canvas(ImageDraw.Draw(img), pen, unit), ch, pose, eyes, mouth, extent, expression, tilt, hand)
    small = img.reduce(ss)
    return Sprite(rgba=np.asarray(small, dtype=np.uint8).copy(), anchor=(ax, ay))


def composite(dst: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
    """Paint ``sprite`` onto ``dst`` (H, W, 3 uint8, in place) with its anchor at (x, y)."""
    H, W = dst.shape[:2]
    sh, sw = sprite.rgba.shape[:2]
    ox, oy = x - sprite.anchor[0], y - sprite.anchor[1]
    x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + sw, W), min(oy + sh, H)
    if x0 >= x1 or y0 >= y1:
        return
    src = sprite.rgba[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    a = src[..., 3:4].astype(np.uint16)
    bg = dst[y0:y1, x0:x1].astype(np.uint16)
    out = src[..., :3].astype(np.uint16) + (bg * (255 - a) + 127) // 255
    dst[y0:y1, x0:x1] = np.minimum(out, 255).astype(np.uint8)


__all__ = ["Sprite", "character_sprite", "composite", "face_box", "LINE"]
