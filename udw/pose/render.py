"""The standard OpenPose skeleton image (the ControlNet's input) at any size.

Same drawing as ControlNet's / comfyui_controlnet_aux's annotator: body limbs as ellipses in the
18-colour table at 60 % brightness, joints as full-colour dots, hand edges in rainbow hues with blue
joints, face points in white, on black. OpenPose ControlNets were trained on ~512 px maps with 4 px
sticks, so sticks and dots grow with the image (4 px per 512 px of the longer side) unless a fixed
scale is given.
"""

from __future__ import annotations

import colorsys
import math
from typing import Iterable, Optional

import cv2
import numpy as np

from .keypoints import COLOURS, HAND_EDGES, LIMBS, Person, PoseFrame

_HAND_COLOURS = [tuple(int(c * 255) for c in colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0))
                 for i in range(len(HAND_EDGES))]


def stick_scale_for(width: int, height: int) -> float:
    return max(1.0, max(width, height) / 512.0)


def render_pose(frame: PoseFrame, width: Optional[int] = None, height: Optional[int] = None,
                body: bool = True, hands: bool = True, face: bool = True,
                stick_scale: Optional[float] = None, people: Optional[Iterable[int]] = None) -> np.ndarray:
    """HxWx3 uint8 RGB skeleton image of `frame` scaled to width x height (default: its canvas)."""
    width, height = int(width or frame.width), int(height or frame.height)
    if width < 1 or height < 1:
        raise ValueError(f"cannot render a pose at {width}x{height}")
    scaled = frame.resized(width, height) if (width, height) != (frame.width, frame.height) else frame
    scale = stick_scale if stick_scale else stick_scale_for(width, height)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    chosen = set(range(len(scaled.people))) if people is None else set(people)
    for i, person in enumerate(scaled.people):
        if i not in chosen:
            continue
        if body:
            draw_body(canvas, person, scale)
        if hands:
            for arr in (person.hand_left, person.hand_right):
                draw_hand(canvas, arr, scale)
        if face:
            draw_face(canvas, person.face, scale)
    return canvas


def draw_body(canvas: np.ndarray, person: Person, scale: float = 1.0) -> None:
    kp = person.body
    stick = max(1, int(round(4 * scale)))
    for (a, b), colour in zip(LIMBS, COLOURS):
        if kp[a, 2] <= 0 or kp[b, 2] <= 0:
            continue
        (x0, y0), (x1, y1) = kp[a, :2], kp[b, :2]
        length = math.hypot(x1 - x0, y1 - y0)
        angle = math.degrees(math.atan2(y0 - y1, x0 - x1))
        centre = (int(round((x0 + x1) / 2)), int(round((y0 + y1) / 2)))
        poly = cv2.ellipse2Poly(centre, (int(length / 2), stick), int(round(angle)), 0, 360, 1)
        cv2.fillConvexPoly(canvas, poly, [int(c * 0.6) for c in colour])
    radius = max(1, int(round(4 * scale)))
    for k, colour in enumerate(COLOURS):
        if kp[k, 2] > 0:
            cv2.circle(canvas, (int(round(kp[k, 0])), int(round(kp[k, 1]))), radius, colour, thickness=-1)


def draw_hand(canvas: np.ndarray, kp: Optional[np.ndarray], scale: float = 1.0) -> None:
    if kp is None:
        return
    thick = max(1, int(round(2 * scale)))
    for (a, b), colour in zip(HAND_EDGES, _HAND_COLOURS):
        if kp[a, 2] > 0 and kp[b, 2] > 0:
            p0 = (int(round(kp[a, 0])), int(round(kp[a, 1])))
            p1 = (int(round(kp[b, 0])), int(round(kp[b, 1])))
            cv2.line(canvas, p0, p1, colour, thickness=thick)
    radius = max(1, int(round(4 * scale)))
    for x, y, c in kp:
        if c > 0:
            cv2.circle(canvas, (int(round(x)), int(round(y))), radius, (0, 0, 255), thickness=-1)


def draw_face(canvas: np.ndarray, kp: Optional[np.ndarray], scale: float = 1.0) -> None:
    if kp is None:
        return
    radius = max(1, int(round(3 * scale)))
    for x, y, c in kp:
        if c > 0:
            cv2.circle(canvas, (int(round(x)), int(round(y))), radius, (255, 255, 255), thickness=-1)
