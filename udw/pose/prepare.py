"""Preparing pose B for a transfer: from a picture (DWPose), a skeleton image or a pose JSON,
optionally retargeted to character A's proportions, drawn at the output size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from PIL import Image

from ..core.errors import BadInput
from .extract import ExtractOptions, PoseExtractor, select_person
from .keypoints import PoseFrame
from .posejson import frames_from_json
from .render import render_pose
from .retarget import retarget_frame


@dataclass
class Prepared:
    skeleton: Image.Image                     # the ControlNet's input
    frame: Optional[PoseFrame] = None         # keypoints (None when a skeleton image was given)
    notes: list[str] = field(default_factory=list)


def output_size(frame: Optional[PoseFrame], width: int = 0, height: int = 0, area: int = 512 * 512) -> tuple[int, int]:
    """The given size, else the pose canvas's aspect at about `area` pixels, in multiples of 64."""
    if width and height:
        return width, height
    aspect = frame.width / frame.height if frame else 2 / 3
    h = max(64, int(round((area / aspect) ** 0.5 / 64) * 64))
    w = max(64, int(round(h * aspect / 64) * 64))
    return width or w, height or h


def prepare_pose(extractor: Optional[PoseExtractor], pose_image: Optional[Image.Image] = None,
                 pose_json: Any = None, is_skeleton: bool = False, reference: Optional[Image.Image] = None,
                 retarget: float = 0.0, options: Optional[ExtractOptions] = None,
                 width: int = 0, height: int = 0) -> Prepared:
    options = options or ExtractOptions(boxes="whole")
    notes: list[str] = []
    if pose_json is not None and pose_json != "":
        frame = select_person(frames_from_json(pose_json)[0], "all")
    elif pose_image is not None and is_skeleton:
        w, h = (width or pose_image.width), (height or pose_image.height)
        return Prepared(pose_image.convert("RGB").resize((w, h), Image.NEAREST), None,
                        ["the skeleton image is used as it is (no retargeting)"] if retarget else [])
    elif pose_image is not None:
        found = _need(extractor).extract(np.asarray(pose_image.convert("RGB")), options)
        notes += [f"pose: {n}" for n in found.notes]
        frame = select_person(found.frame)
    else:
        raise BadInput("no pose given", "give a picture of pose B, an OpenPose skeleton image or a pose JSON")
    if retarget > 0:
        if reference is None:
            raise BadInput("retargeting needs the reference image", "give the character's picture, or set retarget to 0")
        plain = ExtractOptions(boxes=options.boxes, hands=False, face=False)
        found = _need(extractor).extract(np.asarray(reference.convert("RGB")), plain)
        notes += [f"reference: {n}" for n in found.notes]
        frame, more = retarget_frame(frame, select_person(found.frame), min(retarget, 1.0))
        notes += more
    w, h = output_size(frame, width, height)
    skeleton = Image.fromarray(render_pose(frame, w, h, hands=options.hands, face=options.face))
    outside = frame.resized(w, h).outside()
    if outside:
        notes.append(f"{len(outside)} keypoint(s) lie outside the picture (not drawn)")
    return Prepared(skeleton, frame, notes)


def _need(extractor: Optional[PoseExtractor]) -> PoseExtractor:
    if extractor is None:
        raise BadInput("a pose model is needed to read poses from pictures", "give a pose JSON or a skeleton image")
    return extractor
