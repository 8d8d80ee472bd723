"""Drawing of a character's head: hair (back and front layers), face, big eyes, mouth.

Coordinates are in *face units*: the face box spans x in [-FACE_HALF_W, FACE_HALF_W] and
y in [0, 1] (hairline under the bangs to the chin). ``pen`` maps them to canvas pixels.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from PIL import ImageDraw

from .cast import EYE_WHITE, LINE, MOUTH, SKIN, TONGUE, Character

FACE_HALF_W = 0.42
EYES_OPEN, EYES_HALF, EYES_CLOSED = 0, 1, 2
MOUTH_CLOSED, MOUTH_HALF, MOUTH_OPEN = 0, 1, 2
# Expressions change the brows, the eye shapes and the mouth at once (a new drawing), unlike a blink
# or a lip flap, which change one feature of the same drawing.
EXPR_NORMAL, EXPR_SMILE, EXPR_SURPRISED, EXPR_ANGRY = 0, 1, 2, 3
EXPRESSIONS = ("normal", "smile", "surprised", "angry")
BLUSH = (255, 190, 190)

Pen = Callable[[float, float], tuple[float, float]]
Pts = Sequence[tuple[float, float]]


class Canvas:
    """An ImageDraw plus the unit->pixel mapping and the outline width."""

    def __init__(self, draw: ImageDraw.ImageDraw, pen: Pen, unit_px: float):
        self.draw = draw
        self.pen = pen
        self.unit = unit_px  # pixels per face unit on the canvas
        self.lw = max(1, round(0.018 * unit_px))

    def rotated(self, degrees: float, cx: float, cy: float) -> "Canvas":
        """The same canvas with face units turned by ``degrees`` about (cx, cy): a head tilt.
        Ellipses keep their axes (only their centres turn), invisible at a few degrees."""
        if not degrees:
            return self
        c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        pen = self.pen

        def turned(x: float, y: float) -> tuple[float, float]:
            dx, dy = x - cx, y - cy
            return pen(cx + c * dx - s * dy, cy + s * dx + c * dy)

        out = Canvas(self.draw, turned, self.unit)
        out.lw = self.lw
        return out

    def poly(self, pts: Pts, fill, outline=LINE, width: int | None = None) -> None:
        xy = [self.pen(x, y) for x, y in pts]
        if outline is None:
            self.draw.polygon(xy, fill=fill)
        else:
            self.draw.polygon(xy, fill=fill, outline=outline, width=self.lw if width is None else width)

    def _box(self, x0, y0, x1, y1) -> tuple[float, float, float, float]:
        """Pixel box of a unit box whose centre follows the pen (which may turn)."""
        px, py = self.pen((x0 + x1) / 2, (y0 + y1) / 2)
        rx, ry = (x1 - x0) * self.unit / 2, (y1 - y0) * self.unit / 2
        return (px - rx, py - ry, px + rx, py + ry)

    def ellipse(self, x0, y0, x1, y1, fill, outline=LINE, width: int | None = None) -> None:
        a, b, c, d = self._box(x0, y0, x1, y1)
        w = self.lw if width is None else width
        self.draw.ellipse((a, b, c, d), fill=fill, outline=outline, width=w if outline else 0)

    def line(self, pts: Pts, fill=LINE, width: float = 1.0) -> None:
        w = max(1, round(self.lw * width))
        self.draw.line([self.pen(x, y) for x, y in pts], fill=fill, width=w, joint="curve")

    def arc(self, x0, y0, x1, y1, start, end, fill=LINE, width: float = 1.0) -> None:
        a, b, c, d = self._box(x0, y0, x1, y1)
        self.draw.arc((a, b, c, d), start, end, fill=fill, width=max(1, round(self.lw * width)))


def _arc_pts(cx, cy, rx, ry, a0, a1, n=14, jag=0.0) -> list[tuple[float, float]]:
    """Points on an ellipse from angle a0 to a1 (degrees); ``jag`` makes every other point stick out."""
    pts = []
    for k in range(n + 1):
        a = math.radians(a0 + (a1 - a0) * k / n)
        r = 1.0 + (jag if k % 2 == 1 else 0.0)
        pts.append((cx + rx * r * math.cos(a), cy + ry * r * math.sin(a)))
    return pts


CRANIUM = (0.0, 0.43, 0.56, 0.57)  # centre x, centre y, radius x, radius y of the hair mass


def draw_back_hair(cv: Canvas, ch: Character) -> None:
    """Hair behind the head and body (long hair, tails, the back of a bob)."""
    cx, cy, rx, ry = CRANIUM
    style = ch.hair_style
    if style == "long":
        cv.poly([(-0.58, 0.3), (0.58, 0.3), (0.70, 2.9), (0.42, 3.02), (0.2, 2.9), (0.0, 3.04),
                 (-0.2, 2.9), (-0.42, 3.02), (-0.70, 2.9)], ch.hair_shade)
    elif style == "twintails":
        for s in (-1, 1):
            cv.poly([(s * 0.42, 0.02), (s * 0.78, 0.12), (s * 0.98, 0.7), (s * 0.9, 1.5),
                     (s * 1.0, 2.2), (s * 0.76, 2.62), (s * 0.82, 1.9), (s * 0.66, 1.1),
                     (s * 0.52, 0.42)], ch.hair)
            cv.line([(s * 0.7, 0.3), (s * 0.84, 0.9), (s * 0.8, 1.6)], fill=ch.hair_shade, width=0.8)
    elif style == "bob":
        cv.poly([(-0.58, 0.4), (0.58, 0.4), (0.6, 0.98), (0.4, 1.05), (-0.4, 1.05), (-0.6, 0.98)],
                ch.hair_shade)
    jag = 0.16 if style == "spiky" else 0.0
    cv.poly(_arc_pts(cx, cy, rx * 1.02, ry * 1.02, 150, 390, n=16, jag=jag), ch.hair_shade)


def _bangs_edge(style: str) -> list[tuple[float, float]]:
    """The lower edge of the front hair from the right side lock to the left one."""
    if style == "long":  # blunt hime cut with long side locks
        return [(0.56, 0.43), (0.55, 1.0), (0.47, 1.32), (0.4, 1.0), (0.38, 0.43), (0.3, 0.42),
                (0.22, 0.45), (0.14, 0.42), (0.0, 0.44), (-0.14, 0.42), (-0.22, 0.45),
                (-0.3, 0.42), (-0.38, 0.43), (-0.4, 1.0), (-0.47, 1.32), (-0.55, 1.0)]
    if style == "spiky":
        return [(0.6, 0.48), (0.5, 0.72), (0.4, 0.44), (0.34, 0.3), (0.26, 0.46), (0.16, 0.26),
                (0.06, 0.52), (-0.02, 0.26), (-0.12, 0.46), (-0.2, 0.24), (-0.3, 0.44),
                (-0.36, 0.3), (-0.44, 0.5), (-0.52, 0.74), (-0.6, 0.48)]
    if style == "twintails":  # side-swept, parted left of centre
        return [(0.56, 0.43), (0.5, 0.82), (0.42, 0.62), (0.38, 0.44), (0.3, 0.24), (0.24, 0.46),
                (0.12, 0.22), (0.02, 0.44), (-0.06, 0.2), (-0.14, 0.3), (-0.22, 0.46),
                (-0.32, 0.22), (-0.38, 0.46), (-0.44, 0.66), (-0.5, 0.84)]
    # bob: even, rounded bangs and chin-length sides
    return [(0.57, 0.43), (0.56, 0.86), (0.46, 0.96), (0.4, 0.62), (0.36, 0.44), (0.3, 0.26),
            (0.24, 0.46), (0.12, 0.26), (0.06, 0.46), (-0.04, 0.26), (-0.12, 0.46),
            (-0.2, 0.26), (-0.28, 0.46), (-0.34, 0.28), (-0.38, 0.48), (-0.42, 0.64),
            (-0.46, 0.96), (-0.56, 0.86)]


def draw_front_hair(cv: Canvas, ch: Character) -> None:
    cx, cy, rx, ry = CRANIUM
    style = ch.hair_style
    jag = 0.14 if style == "spiky" else 0.0
    top = _arc_pts(cx, cy, rx, ry, 180, 360, n=12, jag=jag)
    edge = _bangs_edge(style)
    cv.poly(top + edge, ch.hair)
    # strands: thin shade lines from the valleys of the bangs toward the crown
    for x, y in edge:
        if abs(x) < 0.34 and y < 0.32:
            cv.line([(x, y), (x * 0.7, y - 0.16)], fill=ch.hair_shade, width=0.8)
    # the "angel ring" highlight
    ring = [(-0.3 + 0.6 * k / 8, 0.07 + (0.025 if k % 2 else 0.0) + 0.04 * abs(k - 4) / 4)
            for k in range(9)]
    cv.line(ring, fill=ch.hair_light, width=2.2)
    if style == "long":  # ahoge
        cv.poly([(0.0, -0.1), (0.06, -0.34), (0.22, -0.42), (0.12, -0.3), (0.07, -0.1)], ch.hair)
    elif style == "twintails":  # hair ties
        for s in (-1, 1):
            cv.ellipse(s * 0.5 - 0.07, 0.02, s * 0.5 + 0.07, 0.16, ch.accent)
    elif style == "bob":  # hair clip
        cv.poly([(0.2, 0.1), (0.36, 0.16), (0.35, 0.2), (0.19, 0.14)], (255, 214, 64))


def draw_face(cv: Canvas) -> None:
    cx, cy, rx, ry = 0.0, 0.5, FACE_HALF_W, 0.5
    upper = _arc_pts(cx, cy, rx, ry, 180, 360, n=12)
    jaw = [(0.41, 0.64), (0.31, 0.84), (0.12, 0.975), (0.0, 1.0), (-0.12, 0.975), (-0.31, 0.84),
           (-0.41, 0.64)]
    cv.poly(upper + jaw, SKIN)
    for s in (-1, 1):
        cv.ellipse(s * 0.26 - 0.065, 0.745, s * 0.26 + 0.065, 0.785, BLUSH, outline=None)
    cv.line([(0.02, 0.745), (0.0, 0.765)], width=0.7)  # nose


def _eye_box(expression: int) -> tuple[float, float]:
    """Top and bottom of the eye white: wide open when surprised."""
    return (0.47, 0.75) if expression == EXPR_SURPRISED else (0.5, 0.72)


def _happy_eye(cv: Canvas, ex: float) -> None:
    """A smiling, shut "^" eye."""
    cv.arc(ex - 0.1, 0.56, ex + 0.1, 0.7, 195, 345, width=1.8)


def draw_eye(cv: Canvas, ch: Character, side: int, state: int, expression: int = EXPR_NORMAL) -> None:
    """One eye; ``side`` -1 is the viewer's left. The outer corner lies away from the nose."""
    ex = side * 0.195
    top, bot = _eye_box(expression)
    if expression == EXPR_SMILE:
        _happy_eye(cv, ex)
        return
    if state == EYES_CLOSED:
        cv.arc(ex - 0.1, 0.52, ex + 0.1, 0.66, 15, 165, width=1.6)
        cv.line([(ex + side * 0.1, 0.6), (ex + side * 0.135, 0.575)], width=1.2)
        return
    cv.ellipse(ex - 0.1, top, ex + 0.1, bot, EYE_WHITE, outline=None)
    iris = 0.05 if expression == EXPR_SURPRISED else 0.076  # surprise: small irises in big whites
    mid = (top + bot) / 2
    cv.ellipse(ex - iris, mid - iris * 1.45, ex + iris, mid + iris * 1.45, ch.eyes, outline=ch.eyes_dark)
    cv.draw.chord(cv._box(ex - iris, mid - iris * 1.45, ex + iris, mid + iris * 1.45), 180, 360, fill=ch.eyes_dark)
    pupil = 0.45 * iris
    cv.ellipse(ex - pupil, mid - pupil * 1.4 + 0.008, ex + pupil, mid + pupil * 1.4 + 0.008, LINE, outline=None)
    cv.ellipse(ex + side * 0.035 - 0.03, 0.535, ex + side * 0.035 + 0.03, 0.595, EYE_WHITE, outline=None)
    cv.ellipse(ex - side * 0.03 - 0.014, 0.655, ex - side * 0.03 + 0.014, 0.683, EYE_WHITE, outline=None)
    lid = top + (0.11 if state == EYES_HALF else 0.0)
    if state == EYES_HALF:
        cv.poly([(ex - 0.115, top - 0.03), (ex + 0.115, top - 0.03), (ex + 0.115, lid),
                 (ex - 0.115, lid)], SKIN, outline=None)
    if expression == EXPR_ANGRY:  # a lid slanting down toward the nose
        cv.poly([(ex - 0.12, top - 0.03), (ex + 0.12, top - 0.03), (ex + side * 0.12, lid + 0.02),
                 (ex - side * 0.12, lid + 0.09)], SKIN, outline=None)
        lid += 0.04
    o = side  # toward the outer corner
    lash = [(ex - o * 0.1, lid + 0.035), (ex - o * 0.05, lid - 0.005), (ex + o * 0.03, lid - 0.018),
            (ex + o * 0.1, lid + 0.0), (ex + o * 0.135, lid + 0.012), (ex + o * 0.14, lid + 0.045),
            (ex + o * 0.1, lid + 0.03), (ex + o * 0.03, lid + 0.016), (ex - o * 0.05, lid + 0.022),
            (ex - o * 0.1, lid + 0.05)]
    cv.poly(lash, LINE, outline=None)
    cv.line([(ex + o * 0.085, bot - 0.004), (ex + o * 0.03, bot + 0.006)], width=0.8)


_BROWS = {  # (inner, middle, outer) heights of a brow, per expression
    EXPR_NORMAL: (0.4, 0.375, 0.385), EXPR_SMILE: (0.39, 0.35, 0.37),
    EXPR_SURPRISED: (0.33, 0.3, 0.32), EXPR_ANGRY: (0.47, 0.41, 0.36),
}


def draw_brows(cv: Canvas, expression: int = EXPR_NORMAL) -> None:
    """Eyebrows, drawn over the bangs as anime does."""
    inner, middle, outer = _BROWS[expression]
    for side in (-1, 1):
        ex = side * 0.195
        cv.line([(ex - side * 0.07, inner), (ex + side * 0.02, middle), (ex + side * 0.1, outer)], width=0.9)


def _mouth_normal(cv: Canvas, state: int) -> None:
    if state == MOUTH_CLOSED:
        cv.arc(-0.05, 0.8, 0.05, 0.865, 30, 150, width=1.0)
    elif state == MOUTH_HALF:
        cv.ellipse(-0.035, 0.83, 0.035, 0.88, MOUTH)
    else:
        cv.ellipse(-0.052, 0.818, 0.052, 0.915, MOUTH)
        cv.ellipse(-0.03, 0.87, 0.03, 0.905, TONGUE, outline=None)


def _mouth_smile(cv: Canvas, state: int) -> None:
    if state == MOUTH_CLOSED:
        cv.arc(-0.1, 0.76, 0.1, 0.87, 20, 160, width=1.3)
        return
    depth = 0.07 if state == MOUTH_HALF else 0.11  # an open "D": flat top, round bottom
    arc = [(0.1 * math.cos(math.radians(a)), 0.82 + depth * math.sin(math.radians(a))) for a in range(0, 181, 20)]
    cv.poly(arc, MOUTH)
    cv.ellipse(-0.05, 0.82 + depth * 0.45, 0.05, 0.82 + depth * 0.95, TONGUE, outline=None)


def _mouth_surprised(cv: Canvas, state: int) -> None:
    r = (0.025, 0.04, 0.06)[state]
    cv.ellipse(-r, 0.865 - r * 1.3, r, 0.865 + r * 1.3, MOUTH)


def _mouth_angry(cv: Canvas, state: int) -> None:
    if state == MOUTH_CLOSED:
        cv.arc(-0.07, 0.85, 0.07, 0.93, 205, 335, width=1.3)
        return
    h = 0.03 if state == MOUTH_HALF else 0.07
    cv.poly([(-0.08, 0.84), (0.08, 0.84), (0.06, 0.84 + h), (-0.06, 0.84 + h)], MOUTH)


def draw_mouth(cv: Canvas, state: int, expression: int = EXPR_NORMAL) -> None:
    (_mouth_normal, _mouth_smile, _mouth_surprised, _mouth_angry)[expression](cv, state)


def draw_head(cv: Canvas, ch: Character, eyes: int, mouth: int, expression: int = EXPR_NORMAL) -> None:
    """Face, eyes, mouth and the front hair (the back hair is drawn before the body)."""
    draw_face(cv)
    for side in (-1, 1):
        draw_eye(cv, ch, side, eyes, expression)
    draw_mouth(cv, mouth, expression)
    draw_front_hair(cv, ch)
    draw_brows(cv, expression)
