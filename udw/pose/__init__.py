"""Poses: OpenPose keypoints, POSE_KEYPOINT JSON, skeleton rendering, DWPose extraction,
retargeting onto another character's proportions, and pose / identity scores."""

from .keypoints import BODY_NAMES, Person, PoseFrame
from .posejson import frames_from_json, frames_to_json, load_pose_json, save_pose_json
from .render import render_pose

__all__ = ["BODY_NAMES", "Person", "PoseFrame", "frames_from_json", "frames_to_json", "load_pose_json",
           "save_pose_json", "render_pose"]
