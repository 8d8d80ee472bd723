"""OpenPose JSON as comfyui_controlnet_aux's POSE_KEYPOINT: a list with one dict per frame,
`people[].pose_keypoints_2d` (x, y, c triples in canvas pixels), `canvas_width`, `canvas_height`.

Reading is tolerant, because files come from many tools: parts may be `null` or missing, a single
frame may be given without the list, triples may be flat or nested, coordinates may be normalised
to 0..1 (controlnet_aux's OpenPose node writes them so), the body may use the CMU tool's BODY_25 or
COCO-17 order, faces may have 68 points. Writing produces exactly controlnet_aux's layout.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import numpy as np

from ..core.atomic import write_text
from ..core.errors import BadInput
from .keypoints import (BODY25_TO_COCO18, COCO17_TO_OPENPOSE, L_SHO, N_BODY, N_FACE, N_HAND, R_SHO,
                        Person, PoseFrame)

JSON_KEYS = {"body": "pose_keypoints_2d", "face": "face_keypoints_2d",
             "hand_left": "hand_left_keypoints_2d", "hand_right": "hand_right_keypoints_2d"}
_FRAME_KEYS = {"people", "canvas_width", "canvas_height"}


def frames_from_json(data: Any, canvas: Optional[tuple[int, int]] = None,
                     source: str = "pose JSON") -> list[PoseFrame]:
    """POSE_KEYPOINT (a list of frame dicts), one frame dict, or JSON text -> PoseFrames.

    `canvas` (width, height) is used where a frame does not say its size.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise BadInput(f"{source} is not valid JSON ({exc})", "give an OpenPose / POSE_KEYPOINT JSON file") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(f, dict) for f in data):
        raise BadInput(f"{source} is not OpenPose JSON (expected a frame object or a list of them, "
                       f"got {type(data).__name__})", "give an OpenPose / POSE_KEYPOINT JSON file")
    if not data:
        raise BadInput(f"{source} holds no frames", "give a pose with at least one frame")
    return [_frame(f, canvas, f"{source} frame {i}") for i, f in enumerate(data)]


def frames_to_json(frames: Iterable[PoseFrame], scores: bool = False) -> list[dict]:
    """PoseFrames -> POSE_KEYPOINT. Visible points get c = 1.0 (as controlnet_aux writes, and as its
    renderer requires) unless `scores` keeps the detector's confidence."""
    out = []
    for frame in frames:
        people = [{JSON_KEYS[p]: _flat(getattr(person, p), scores)
                   for p in ("body", "face", "hand_left", "hand_right")} for person in frame.people]
        out.append({**frame.extra, "people": people, "canvas_height": int(frame.height),
                    "canvas_width": int(frame.width)})
    return out


def load_pose_json(path: Union[str, Path], canvas: Optional[tuple[int, int]] = None) -> list[PoseFrame]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(f"{path}: file not found", "check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read ({exc})", "give a UTF-8 JSON file") from exc
    return frames_from_json(text, canvas, source=str(path))


def save_pose_json(path: Union[str, Path], frames: Iterable[PoseFrame], scores: bool = False) -> Path:
    return write_text(path, json.dumps(frames_to_json(frames, scores), indent=1))


def _frame(data: dict, canvas: Optional[tuple[int, int]], where: str) -> PoseFrame:
    people_raw = data.get("people") or []
    if not isinstance(people_raw, list):
        raise BadInput(f"{where}: 'people' is not a list", "fix the file or export it again")
    people = [_person(p, f"{where} person {i}") for i, p in enumerate(people_raw) if isinstance(p, dict)]
    width, height = _size(data.get("canvas_width")), _size(data.get("canvas_height"))
    if not (width and height):
        if canvas:
            width, height = int(canvas[0]), int(canvas[1])
        elif not _is_normalised(people):
            width, height = _fit_canvas(people)
        else:
            raise BadInput(f"{where}: no canvas_width/canvas_height and the coordinates are normalised",
                           "give the canvas size (width and height) the pose belongs to")
    if _is_normalised(people) and max(width, height) > 2:
        people = [p.transformed(width, height) for p in people]
    extra = {k: v for k, v in data.items() if k not in _FRAME_KEYS}
    return PoseFrame(width, height, people, extra)


def _person(data: dict, where: str) -> Person:
    parts: dict[str, Optional[np.ndarray]] = {}
    for part, key in JSON_KEYS.items():
        parts[part] = _triples(data.get(key), f"{where} {key}")
    body = parts.pop("body")
    return Person(body=_body(body, where), hand_left=_fixed(parts["hand_left"], N_HAND, where, "hand_left"),
                  hand_right=_fixed(parts["hand_right"], N_HAND, where, "hand_right"),
                  face=_face(parts["face"], where))


def _triples(value: Any, where: str) -> Optional[np.ndarray]:
    """A flat [x, y, c, ...] or nested [[x, y, c], ...] list -> (n, 3) array; null/empty -> None."""
    if value is None or (isinstance(value, list) and not value):
        return None
    if not isinstance(value, list):
        raise BadInput(f"{where}: expected a list of numbers, got {type(value).__name__}",
                       "fix the file or export it again")
    flat = value
    if isinstance(value[0], (list, tuple)):  # nested [[x, y, c], ...] or [[x, y], ...]
        if not all(isinstance(item, (list, tuple)) and len(item) in (2, 3) for item in value):
            raise BadInput(f"{where}: expected [x, y, confidence] rows", "fix the file or export it again")
        flat = [v for item in value for v in (list(item) + [1.0] if len(item) == 2 else item)]
    if len(flat) % 3:
        raise BadInput(f"{where}: {len(flat)} numbers is not a list of (x, y, confidence) triples",
                       "fix the file or export it again")
    arr = np.zeros((len(flat) // 3, 3), dtype=np.float64)
    broken = np.zeros(len(arr), dtype=bool)  # a null or NaN anywhere in a triple hides that point
    for i, v in enumerate(flat):
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise BadInput(f"{where}: {v!r} is not a number", "fix the file or export it again")
        if v is None or not math.isfinite(v):
            broken[i // 3] = True
        else:
            arr[i // 3, i % 3] = v
    arr[broken | (arr[:, 2] <= 0)] = 0.0
    return arr


def _flat(arr: Optional[np.ndarray], scores: bool) -> Optional[list[float]]:
    if arr is None:
        return None
    out: list[float] = []
    for x, y, c in arr:
        out += [float(x), float(y), float(c) if scores else 1.0] if c > 0 else [0.0, 0.0, 0.0]
    return out


def _body(arr: Optional[np.ndarray], where: str) -> np.ndarray:
    if arr is None:
        return np.zeros((N_BODY, 3))
    n = len(arr)
    if n == N_BODY:
        return arr
    if n == 25:  # BODY_25: drop mid-hip and feet
        return arr[list(BODY25_TO_COCO18)]
    if n == 17:  # COCO-17: reorder and add the neck between the shoulders
        return coco17_to_openpose(arr)
    raise BadInput(f"{where}: body has {n} keypoints (expected 18, or 25 / 17 from other tools)",
                   "export the pose in OpenPose COCO-18 format")


def coco17_to_openpose(arr: np.ndarray, min_score: float = 0.0) -> np.ndarray:
    """COCO-17 rows (mmpose order) -> OpenPose 18 rows; the neck is the shoulders' midpoint,
    visible only when both shoulders are."""
    out = np.zeros((N_BODY, 3))
    for dst, src in enumerate(COCO17_TO_OPENPOSE):
        if src >= 0:
            out[dst] = arr[src]
    ls, rs = out[L_SHO], out[R_SHO]
    if ls[2] > min_score and rs[2] > min_score:
        out[1] = [(ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2, min(ls[2], rs[2])]
    return out


def _fixed(arr: Optional[np.ndarray], n: int, where: str, part: str) -> Optional[np.ndarray]:
    if arr is None:
        return None
    if len(arr) != n:
        raise BadInput(f"{where}: {part} has {len(arr)} keypoints (expected {n})", "fix the file or export it again")
    return arr


def _face(arr: Optional[np.ndarray], where: str) -> Optional[np.ndarray]:
    if arr is not None and len(arr) == 68:  # dlib-style 68 points: OpenPose adds the two pupils
        arr = np.vstack([arr, np.zeros((2, 3))])
    return _fixed(arr, N_FACE, where, "face")


def _size(value: Any) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        return 0
    return v if v > 0 else 0


def _visible_points(people: list[Person]) -> np.ndarray:
    pts = [a[a[:, 2] > 0, :2] for p in people for a in p.parts().values() if a is not None]
    return np.concatenate(pts) if pts else np.zeros((0, 2))


def _is_normalised(people: list[Person]) -> bool:
    pts = _visible_points(people)
    return bool(len(pts)) and bool((np.abs(pts) <= 1.0).all())


def _fit_canvas(people: list[Person]) -> tuple[int, int]:
    """A canvas that holds every visible point (files from the CMU tool have no canvas size)."""
    pts = _visible_points(people)
    if not len(pts):
        return 512, 512
    return int(math.ceil(pts[:, 0].max())) + 1, int(math.ceil(pts[:, 1].max())) + 1
