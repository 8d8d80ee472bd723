"""Shots and actors, and the drawing state of every frame of a shot (timing, pans, blinks, mouths).

A shot's camera looks at a panorama (pixels of the background art); actors stand in panorama
coordinates and so move with a pan, unless ``screen`` is set (a follow shot: the actor stays put on
screen while the background slides). Character drawings change only on the shot's timing grid
(``step`` = 1, 2 or 3: animation on ones, twos or threes); the camera moves every ``cam_step``
frames, which may be finer (a held cel panned on ones) or coarser than ``step``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .figure import FULL_EXTENT, POSE_STAND, POSE_WALK_A, POSE_WALK_B, POSE_WAVE
from .head import EXPR_SMILE, EYES_CLOSED, EYES_HALF, EYES_OPEN, MOUTH_CLOSED

MOUTH_CYCLE = (1, 2, 1, 0, 2, 0)  # mouth drawings of a talking character, one per drawing


@dataclass(frozen=True)
class Beat:
    """Small acting from shot frame ``at`` on: each field is a new drawing of the character."""

    at: int
    expression: int = 0  # head.EXPRESSIONS index
    tilt: float = 0.0    # head tilt in degrees
    hand: int = 0        # figure.HANDS index
    outfit: int = 0      # cast.OUTFITS index (0: own colours)


@dataclass(frozen=True)
class Actor:
    char: str
    x: float  # face-box top centre at shot frame 0 (panorama px, or screen px if ``screen``)
    y: float
    h: int  # face height in px
    vx: float = 0.0  # px per frame
    vy: float = 0.0
    screen: bool = False
    walk: bool = False
    jump: float = 0.0  # jump height in px (one hop per ``jump_period`` frames)
    jump_period: int = 0
    wave: tuple[int, int] | None = None  # shot frames [start, end) with the arm raised
    talk: tuple[tuple[int, int], ...] = ()  # shot frame ranges with mouth flaps
    blinks: tuple[int, ...] = ()  # shot frames where a blink starts
    extent: float = FULL_EXTENT  # how much of the body below the hairline is drawn (face units)
    beats: tuple[Beat, ...] = ()  # acting changes, in time order


@dataclass(frozen=True)
class Shot:
    key: str  # stable across episodes for shared shots: "op1", "ed1", "ep01s03"
    segment: str  # "opening", "body", "ending"
    kind: str  # what happens: "establishing", "title", "closeup", "group", "walk", ...
    shot_type: str  # nominal framing: "empty", "wide", "medium", "close", "extreme_close"
    background: str  # a scenery.BACKGROUNDS name or "title"
    art_seed: int  # seed of the background art
    pano: tuple[int, int]  # panorama (width, height) >= frame size
    length: int  # frames
    step: int  # 1, 2, 3: drawings on ones / twos / threes
    cam: tuple[float, float] = (0.0, 0.0)  # camera (top-left in the panorama) at frame 0
    cam_v: tuple[float, float] = (0.0, 0.0)  # px per frame
    cam_step: int = 1
    actors: tuple[Actor, ...] = ()


@dataclass(frozen=True)
class ActorState:
    char: str
    x: int  # face-box top centre on screen
    y: int
    h: int
    pose: int
    eyes: int
    mouth: int
    extent: float
    expression: int = 0
    tilt: float = 0.0
    hand: int = 0
    outfit: int = 0

    @property
    def drawing(self) -> tuple:
        """What makes this character another drawing (eyes and mouth flaps do not)."""
        return (self.char, self.h, self.pose, self.expression, self.tilt, self.hand, self.outfit)


@dataclass(frozen=True)
class FrameState:
    """Everything a frame's picture depends on; equal states render to identical pixels."""

    shot: int  # index of the shot in the episode
    cam: tuple[int, int]
    actors: tuple[ActorState, ...]


def _beat(a: Actor, t: int) -> Beat:
    current = Beat(0)
    for b in a.beats:
        if b.at <= t:
            current = b
    return current


def _eyes(a: Actor, t: int, step: int, expression: int = 0) -> int:
    if expression == EXPR_SMILE:  # smiling eyes are shut arcs: a blink draws nothing new
        return EYES_OPEN
    s = max(step, 2)
    for b in a.blinks:
        d = t - b
        if 0 <= d < s or 2 * s <= d < 3 * s:
            return EYES_HALF
        if s <= d < 2 * s:
            return EYES_CLOSED
    return EYES_OPEN


def _mouth(a: Actor, t: int, step: int) -> int:
    for t0, t1 in a.talk:
        if t0 <= t < t1:
            return MOUTH_CYCLE[((t - t0) // step) % len(MOUTH_CYCLE)]
    return MOUTH_CLOSED


def _pose(a: Actor, t: int, step: int) -> int:
    if a.walk:
        return POSE_WALK_A if (t // step // 3) % 2 == 0 else POSE_WALK_B
    if a.wave is not None and a.wave[0] <= t < a.wave[1]:
        return POSE_WAVE
    return POSE_STAND


def camera_at(shot: Shot, f: int, frame_w: int, frame_h: int) -> tuple[int, int]:
    tc = (f // shot.cam_step) * shot.cam_step
    cx = round(shot.cam[0] + shot.cam_v[0] * tc)
    cy = round(shot.cam[1] + shot.cam_v[1] * tc)
    return (min(max(cx, 0), shot.pano[0] - frame_w), min(max(cy, 0), shot.pano[1] - frame_h))


def shot_state(shot: Shot, index: int, f: int, frame_w: int, frame_h: int) -> FrameState:
    """The drawing state of frame ``f`` (0-based inside the shot) of shot number ``index``."""
    if not 0 <= f < shot.length:
        raise IndexError(f"frame {f} outside shot {shot.key} of {shot.length} frames")
    cam = camera_at(shot, f, frame_w, frame_h)
    t = (f // shot.step) * shot.step
    actors = []
    for a in shot.actors:
        x = a.x + a.vx * t
        y = a.y + a.vy * t
        if a.jump and a.jump_period:
            y -= a.jump * abs(math.sin(math.pi * t / a.jump_period))
        sx, sy = (round(x), round(y)) if a.screen else (round(x) - cam[0], round(y) - cam[1])
        b = _beat(a, t)
        actors.append(ActorState(a.char, sx, sy, a.h, _pose(a, t, shot.step), _eyes(a, t, shot.step, b.expression),
                                 _mouth(a, t, shot.step), a.extent, b.expression, b.tilt, b.hand, b.outfit))
    return FrameState(index, cam, tuple(actors))


def near_duplicate(a: FrameState, b: FrameState, shift_px: int) -> bool:
    """Same shot, same cast, poses, expressions, tilts, gestures and outfits, and no layer moved by
    more than ``shift_px`` (eyes/mouths free)."""
    if a.shot != b.shot or len(a.actors) != len(b.actors):
        return False
    if max(abs(a.cam[0] - b.cam[0]), abs(a.cam[1] - b.cam[1])) > shift_px:
        return False
    for p, q in zip(a.actors, b.actors):
        if p.drawing != q.drawing:
            return False
        if max(abs(p.x - q.x), abs(p.y - q.y)) > shift_px:
            return False
    return True
