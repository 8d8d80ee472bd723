"""Constructed poses for tests and demos: a parametric figure with adjustable proportions."""

from __future__ import annotations

import math

import numpy as np

from ..pose.keypoints import (L_ANK, L_EAR, L_ELB, L_EYE, L_HIP, L_KNE, L_SHO, L_WRI, N_BODY, NECK, NOSE,
                              R_ANK, R_EAR, R_ELB, R_EYE, R_HIP, R_KNE, R_SHO, R_WRI, Person)


def figure(neck=(256.0, 160.0), torso: float = 150.0, shoulder: float = 50.0, upper_arm: float = 70.0,
           forearm: float = 60.0, hip: float = 30.0, thigh: float = 90.0, shin: float = 85.0,
           head: float = 40.0, arm_angle: float = 60.0, elbow_bend: float = 20.0, leg_spread: float = 8.0,
           knee_bend: float = 0.0, hands: bool = False, face: bool = False) -> Person:
    """A front-facing figure. Angles in degrees from straight down (arms) / vertical (legs)."""
    body = np.zeros((N_BODY, 3))
    nx, ny = neck

    def put(i, x, y):
        body[i] = (x, y, 1.0)

    def step(i, j, angle_deg, length):
        a = math.radians(angle_deg)
        put(j, body[i, 0] + math.sin(a) * length, body[i, 1] + math.cos(a) * length)

    put(NECK, nx, ny)
    put(R_SHO, nx - shoulder, ny + 5)
    put(L_SHO, nx + shoulder, ny + 5)
    step(R_SHO, R_ELB, -arm_angle, upper_arm)
    step(R_ELB, R_WRI, -arm_angle - elbow_bend, forearm)
    step(L_SHO, L_ELB, arm_angle, upper_arm)
    step(L_ELB, L_WRI, arm_angle + elbow_bend, forearm)
    hip_y = ny + math.sqrt(max(torso ** 2 - hip ** 2, 1.0))
    put(R_HIP, nx - hip, hip_y)
    put(L_HIP, nx + hip, hip_y)
    step(R_HIP, R_KNE, -leg_spread, thigh)
    step(R_KNE, R_ANK, -leg_spread + knee_bend, shin)
    step(L_HIP, L_KNE, leg_spread, thigh)
    step(L_KNE, L_ANK, leg_spread - knee_bend, shin)
    put(NOSE, nx, ny - head)
    put(R_EYE, nx - head * 0.25, ny - head * 1.2)
    put(L_EYE, nx + head * 0.25, ny - head * 1.2)
    put(R_EAR, nx - head * 0.55, ny - head * 1.05)
    put(L_EAR, nx + head * 0.55, ny - head * 1.05)
    person = Person(body=body)
    if hands:
        person.hand_left = _hand(body[L_WRI, :2], forearm * 0.3)
        person.hand_right = _hand(body[R_WRI, :2], forearm * 0.3)
    if face:
        person.face = _face(body[NOSE, :2], head)
    return person


def _hand(wrist: np.ndarray, size: float) -> np.ndarray:
    pts = np.zeros((21, 3))
    pts[0] = (*wrist, 1.0)
    for finger in range(5):
        angle = math.radians(-40 + finger * 20)
        for joint in range(4):
            r = size * (0.5 + 0.25 * joint)
            pts[1 + finger * 4 + joint] = (wrist[0] + math.sin(angle) * r, wrist[1] + math.cos(angle) * r, 1.0)
    return pts


def _face(nose: np.ndarray, head: float) -> np.ndarray:
    pts = np.zeros((70, 3))
    for i in range(70):
        a = 2 * math.pi * i / 70
        pts[i] = (nose[0] + math.cos(a) * head * 0.6, nose[1] - head * 0.4 + math.sin(a) * head * 0.7, 1.0)
    return pts


def hide(person: Person, *joints: int, copy: bool = True) -> Person:
    out = person.copy() if copy else person
    for j in joints:
        out.body[j] = 0.0
    return out
