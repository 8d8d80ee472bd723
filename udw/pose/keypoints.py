"""The pose model: OpenPose 18-point body (COCO order, as comfyui_controlnet_aux uses), optional
21-point hands and 70-point face, all in canvas pixels.

Every part is a float array of (x, y, c) rows; c == 0 means "not visible". A part that a detector or
a JSON file did not provide at all is None (not an array of zeros), so that a round trip keeps the
difference between "no hands asked for" and "hands not found".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

BODY_NAMES = ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
              "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear")
NOSE, NECK, R_SHO, R_ELB, R_WRI, L_SHO, L_ELB, L_WRI, R_HIP, R_KNE, R_ANK, L_HIP, L_KNE, L_ANK, \
    R_EYE, L_EYE, R_EAR, L_EAR = range(18)
N_BODY, N_HAND, N_FACE = 18, 21, 70
PARTS = ("body", "hand_left", "hand_right", "face")
PART_SIZES = {"body": N_BODY, "hand_left": N_HAND, "hand_right": N_HAND, "face": N_FACE}

# OpenPose's drawing order of body limbs (0-based), and its 18 colours (RGB).
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
         (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
           (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
           (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10),
              (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19),
              (19, 20))

# OpenPose BODY_25 (the CMU tool's default) -> the 18-point COCO order.
BODY25_TO_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
# COCO-17 (mmpose / RTMPose / DWPose order) -> 18-point OpenPose order; -1 is the neck.
COCO17_TO_OPENPOSE = (0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)


def empty_part(n: int) -> np.ndarray:
    return np.zeros((n, 3), dtype=np.float64)


@dataclass
class Person:
    """One person's keypoints in canvas pixels; c > 0 marks a visible keypoint."""

    body: np.ndarray = field(default_factory=lambda: empty_part(N_BODY))
    hand_left: Optional[np.ndarray] = None
    hand_right: Optional[np.ndarray] = None
    face: Optional[np.ndarray] = None

    def parts(self) -> dict[str, Optional[np.ndarray]]:
        return {p: getattr(self, p) for p in PARTS}

    def copy(self) -> "Person":
        return Person(**{p: None if a is None else a.copy() for p, a in self.parts().items()})

    def visible(self, part: str = "body") -> np.ndarray:
        arr = getattr(self, part)
        return np.zeros(0, dtype=bool) if arr is None else arr[:, 2] > 0

    def n_visible(self) -> int:
        return int(self.visible().sum())

    def box(self) -> Optional[tuple[float, float, float, float]]:
        """(x0, y0, x1, y1) around all visible keypoints of every part, or None."""
        pts = [a[a[:, 2] > 0, :2] for a in self.parts().values() if a is not None]
        pts = np.concatenate(pts) if pts else np.zeros((0, 2))
        if not len(pts):
            return None
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))

    def size(self) -> float:
        """Body size used to normalise distances: the diagonal of the visible body's box (>= 1 px)."""
        pts = self.body[self.body[:, 2] > 0, :2]
        if len(pts) < 2:
            return 1.0
        return max(float(np.linalg.norm(pts.max(0) - pts.min(0))), 1.0)

    def area(self) -> float:
        box = self.box()
        return 0.0 if box is None else (box[2] - box[0]) * (box[3] - box[1])

    def transformed(self, scale_x: float, scale_y: float, dx: float = 0.0, dy: float = 0.0) -> "Person":
        """Keypoints mapped by x' = x*sx + dx, y' = y*sy + dy (invisible points stay at 0, 0)."""
        out = self.copy()
        for arr in out.parts().values():
            if arr is not None:
                vis = arr[:, 2] > 0
                arr[vis, 0] = arr[vis, 0] * scale_x + dx
                arr[vis, 1] = arr[vis, 1] * scale_y + dy
        return out


@dataclass
class PoseFrame:
    """One image's poses: a canvas size and the people on it (plus keys other tools wrote)."""

    width: int
    height: int
    people: list[Person] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def copy(self) -> "PoseFrame":
        return PoseFrame(self.width, self.height, [p.copy() for p in self.people], dict(self.extra))

    def resized(self, width: int, height: int) -> "PoseFrame":
        """The same poses on a canvas of another size (coordinates scaled per axis)."""
        sx, sy = width / max(self.width, 1), height / max(self.height, 1)
        return PoseFrame(width, height, [p.transformed(sx, sy) for p in self.people], dict(self.extra))

    def outside(self) -> list[tuple[int, str, int]]:
        """(person, part, index) of visible keypoints that lie outside the canvas."""
        found = []
        for i, person in enumerate(self.people):
            for part, arr in person.parts().items():
                if arr is None:
                    continue
                vis = arr[:, 2] > 0
                out = vis & ((arr[:, 0] < 0) | (arr[:, 1] < 0) | (arr[:, 0] > self.width - 1)
                             | (arr[:, 1] > self.height - 1))
                found += [(i, part, int(k)) for k in np.flatnonzero(out)]
        return found


def keypoint_label(part: str, index: int) -> str:
    return BODY_NAMES[index] if part == "body" else f"{part}[{index}]"
