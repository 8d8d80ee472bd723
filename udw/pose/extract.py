"""Pose extraction from images: models from the registry, person boxes (or not), keypoints as
PoseFrames, then the user's choices for the awkward cases (nobody, several people, points off
the canvas).

Box modes: `detector` runs the person detector; `whole` skips it and treats the whole image as
one person's box (the anime mode: half-body frames and stylised characters defeat COCO person
detectors, and the pose model itself copes with a loose box); `auto` runs the detector and falls
back to the whole image when it finds nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..core.errors import BadInput
from ..core.ports import Ports
from ..models.onnx import get_session
from ..models.registry import locate
from . import dwpose
from .keypoints import L_EYE, R_EYE, Person, PoseFrame, keypoint_label
from .posejson import coco17_to_openpose

BOX_MODES = ("auto", "detector", "whole")
OUTSIDE_MODES = ("drop", "clip", "keep")
DEFAULT_POSE_MODEL = "dwpose_wholebody"
DEFAULT_DETECTOR = "yolox_l"


@dataclass
class ExtractOptions:
    boxes: str = "auto"              # auto | detector | whole (anime mode)
    hands: bool = True
    face: bool = True
    threshold: float = 0.3           # keypoint score below this = not visible (DWPose's value)
    box_threshold: float = 0.3
    min_keypoints: int = 3           # fewer visible body points = not a person
    outside: str = "drop"            # keypoints off the canvas: drop | clip | keep

    def __post_init__(self) -> None:
        if self.boxes not in BOX_MODES:
            raise BadInput(f"unknown box mode {self.boxes!r}", f"use one of {', '.join(BOX_MODES)}")
        if self.outside not in OUTSIDE_MODES:
            raise BadInput(f"unknown outside mode {self.outside!r}", f"use one of {', '.join(OUTSIDE_MODES)}")


@dataclass
class Extraction:
    frame: PoseFrame
    notes: list[str] = field(default_factory=list)


class PoseExtractor:
    """DWPose (or any RTMPose-layout model) with an optional YOLOX person detector.

    Models are names from the catalogue or file paths; their sessions are cached by udw.models.onnx.
    """

    def __init__(self, pose_model: Union[str, Path, None] = None, detector: Union[str, Path, None] = None,
                 ports: Optional[Ports] = None):
        self.ports = ports or Ports()
        self.pose_model = pose_model or DEFAULT_POSE_MODEL
        self.detector = detector or DEFAULT_DETECTOR

    def _session(self, model: Union[str, Path], default_name: str):
        text = str(model)
        if Path(text).suffix.lower() == ".onnx" or Path(text).is_file():
            path = locate(default_name, self.ports, explicit=text).first
        else:
            path = locate(text, self.ports).first
        return get_session(path, self.ports.providers).session

    def extract(self, image: np.ndarray, options: Optional[ExtractOptions] = None) -> Extraction:
        """All people found in an HxWx3 uint8 RGB image, largest first."""
        options = options or ExtractOptions()
        image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
        h, w = image.shape[:2]
        notes: list[str] = []
        boxes = self._boxes(image, options, notes)
        session = self._session(self.pose_model, DEFAULT_POSE_MODEL)
        people = [to_person(e, options) for e in dwpose.estimate_keypoints(session, image, boxes)]
        people = [p for p in people if p.n_visible() >= options.min_keypoints]
        if not people and options.boxes == "auto" and len(boxes) and not _is_whole(boxes, w, h):
            notes.append("no keypoints in the detected boxes; tried the whole image")
            estimates = dwpose.estimate_keypoints(session, image, whole_box(w, h))
            people = [p for p in (to_person(e, options) for e in estimates) if p.n_visible() >= options.min_keypoints]
        people.sort(key=lambda p: -p.area())
        frame = PoseFrame(w, h, people)
        notes += handle_outside(frame, options.outside)
        return Extraction(frame, notes)

    def _boxes(self, image: np.ndarray, options: ExtractOptions, notes: list[str]) -> np.ndarray:
        h, w = image.shape[:2]
        if options.boxes == "whole":
            return whole_box(w, h)
        det = self._session(self.detector, DEFAULT_DETECTOR)
        boxes = dwpose.detect_boxes(det, image, options.box_threshold)
        if len(boxes) or options.boxes == "detector":
            return boxes
        notes.append("the person detector found nobody; used the whole image (anime mode)")
        return whole_box(w, h)


def whole_box(width: int, height: int) -> np.ndarray:
    # The estimator pads boxes by 1.25; shrink so that the whole image fills the crop.
    pad = (dwpose.BOX_PADDING - 1) / (2 * dwpose.BOX_PADDING)
    return np.array([[width * pad, height * pad, width * (1 - pad), height * (1 - pad), 1.0]])


def _is_whole(boxes: np.ndarray, width: int, height: int) -> bool:
    return len(boxes) == 1 and np.allclose(boxes[0, :4], whole_box(width, height)[0, :4])


def to_person(est: dwpose.Estimate, options: ExtractOptions) -> Person:
    """An estimate in COCO-17 / COCO-WholeBody-133 order -> an OpenPose Person."""
    kps = np.concatenate([est.keypoints, est.scores[:, None]], 1)
    kps[kps[:, 2] < options.threshold] = 0.0
    k = len(kps)
    if k < 17:
        raise BadInput(f"pose model gives {k} keypoints; expected 17 (COCO body) or 133 (whole body)",
                       "use a DWPose / RTMPose COCO model")
    body = coco17_to_openpose(kps[:17])
    person = Person(body=body)
    if k >= 133:  # a part with no visible point is null, as controlnet_aux writes it
        if options.face and (kps[23:91, 2] > 0).any():
            person.face = np.vstack([kps[23:91], body[[R_EYE, L_EYE]]])
        if options.hands:
            person.hand_left, person.hand_right = (part.copy() if (part[:, 2] > 0).any() else None
                                                   for part in (kps[91:112], kps[112:133]))
    return person


def handle_outside(frame: PoseFrame, mode: str) -> list[str]:
    """Drop (c = 0), clip (clamp onto the edge) or keep visible keypoints off the canvas; the notes say which."""
    found = frame.outside()
    if not found or mode == "keep":
        return [f"{len(found)} keypoint(s) outside the canvas kept: {_names(found)}"] if found else []
    for i, part, k in found:
        arr = getattr(frame.people[i], part)
        if mode == "drop":
            arr[k] = 0.0
        else:
            arr[k, 0] = min(max(arr[k, 0], 0.0), frame.width - 1)
            arr[k, 1] = min(max(arr[k, 1], 0.0), frame.height - 1)
    verb = "dropped" if mode == "drop" else "clipped to the edge"
    return [f"{len(found)} keypoint(s) outside the canvas {verb}: {_names(found)}"]


def _names(found: list[tuple[int, str, int]], limit: int = 8) -> str:
    names = [f"person {i} {keypoint_label(part, k)}" if i else keypoint_label(part, k) for i, part, k in found]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def select_person(frame: PoseFrame, which: Union[str, int] = "largest", blank_if_none: bool = False) -> PoseFrame:
    """A frame with one person: `largest` (by keypoint box), `all` (keep everyone) or an index
    (0 = largest, since extraction sorts by size)."""
    if not frame.people:
        if blank_if_none:
            return PoseFrame(frame.width, frame.height, [], dict(frame.extra))
        raise BadInput("no person found in the pose image",
                       "use the anime mode (skips the person detector) for half-body or stylised images, "
                       "try a clearer image, or allow a blank pose")
    if which == "all":
        return frame.copy()
    if which == "largest":
        best = max(range(len(frame.people)), key=lambda i: frame.people[i].area())
        return PoseFrame(frame.width, frame.height, [frame.people[best].copy()], dict(frame.extra))
    try:
        index = int(which)
    except (TypeError, ValueError):
        raise BadInput(f"unknown person choice {which!r}", "use largest, all or a person index") from None
    if not -len(frame.people) <= index < len(frame.people):
        raise BadInput(f"person {index} asked for, but the pose has {len(frame.people)} "
                       f"{'person' if len(frame.people) == 1 else 'people'}",
                       f"use an index from 0 to {len(frame.people) - 1}, or largest")
    return PoseFrame(frame.width, frame.height, [frame.people[index].copy()], dict(frame.extra))

