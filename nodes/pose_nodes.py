"""Pose nodes: pose from image (DWPose, anime mode), pose JSON load/save, retarget, render, evaluate.

Poses travel as POSE_KEYPOINT, the type of comfyui_controlnet_aux (a list of OpenPose frame dicts),
so these nodes and that pack's nodes can be mixed freely.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import folder_paths

from ..udw.core.atomic import write_text
from ..udw.core.errors import UdwError
from ..udw.core.paths import within
from ..udw.pose import frames_from_json, frames_to_json, load_pose_json, render_pose
from ..udw.pose.evaluate import evaluate, mean_scores
from ..udw.pose.extract import DEFAULT_DETECTOR, DEFAULT_POSE_MODEL, ExtractOptions, PoseExtractor, select_person
from ..udw.pose.metrics import DEFAULT_EMBEDDER, Embedder
from ..udw.pose.retarget import retarget_frame
from .host import CATEGORY, comfy_ports, from_image_batch, input_roots, path_error, register_model_folder, to_image_batch

POSE = "POSE_KEYPOINT"
CAT = f"{CATEGORY}/pose"
BOX_CHOICES = {"anime (whole image)": "whole", "auto (detector, else whole image)": "auto", "detector only": "detector"}


def _fail(exc: UdwError) -> RuntimeError:
    return RuntimeError(str(exc))


def model_dirs() -> dict[str, list[str]]:
    """UDW's model folders, plus comfyui_controlnet_aux's download folder for DWPose when present."""
    dirs = {"pose": register_model_folder("pose"),
            "embedders": register_model_folder("embedders")}
    aux = Path(folder_paths.base_path if hasattr(folder_paths, "base_path") else ".") / "custom_nodes"
    for name in ("comfyui_controlnet_aux", "comfyui-controlnet-aux"):
        ckpts = aux / name / "ckpts" / "yzd-v" / "DWPose"
        if ckpts.is_dir():
            dirs["pose"].append(str(ckpts))
    return dirs


def _choices(kind: str, default: str) -> list[str]:
    register_model_folder(kind)
    files = [f for f in folder_paths.get_filename_list(f"udw_{kind}") if f.lower().endswith(".onnx")]
    return [default] + sorted(files)


def _model(kind: str, value: str):
    """A registry name stays a name; a file picked from the list becomes its full path."""
    if value in (DEFAULT_POSE_MODEL, DEFAULT_DETECTOR, DEFAULT_EMBEDDER):
        return value
    return folder_paths.get_full_path(f"udw_{kind}", value) or value


def _frames(pose):
    try:
        return frames_from_json(pose, source="POSE_KEYPOINT")
    except UdwError as exc:
        raise _fail(exc) from exc


def _render_batch(frames, width: int = 0, height: int = 0, **kw):
    w = width or frames[0].width
    h = height or frames[0].height
    return to_image_batch([render_pose(f, w, h, **kw) for f in frames])


class UDWPoseFromImage:
    DESCRIPTION = ("Find poses in images with DWPose (OpenPose 18-point body, optional hands and face). "
                   "Anime mode skips the person detector, which misses half-body and stylised characters.")
    CATEGORY = CAT
    RETURN_TYPES = (POSE, "IMAGE", "STRING")
    RETURN_NAMES = ("pose", "pose_image", "notes")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "boxes": (list(BOX_CHOICES), {"default": "anime (whole image)", "tooltip": "anime: the whole image is "
                      "one person's box; auto: person detector, whole image if it finds nobody"}),
            "hands": ("BOOLEAN", {"default": True}),
            "face": ("BOOLEAN", {"default": True}),
            "person": ("STRING", {"default": "largest", "tooltip": "largest, all, or an index (0 = largest)"}),
            "outside_canvas": (["drop", "clip", "keep"], {"default": "drop", "tooltip": "keypoints the model "
                               "places outside the image: drop them, clip them to the edge, or keep them"}),
            "if_no_person": (["error", "blank pose"], {"default": "error"}),
            "pose_model": (_choices("pose", DEFAULT_POSE_MODEL), {"tooltip": "DWPose ONNX (dw-ll_ucoco_384.onnx) "
                           "from models/udw_pose, or the HF cache"}),
            "detector": (_choices("pose", DEFAULT_DETECTOR), {"tooltip": "YOLOX person detector (yolox_l.onnx)"}),
        }, "hidden": {"unique_id": "UNIQUE_ID"}}

    def run(self, image, boxes, hands, face, person, outside_canvas, if_no_person, pose_model, detector, unique_id=None):
        ports = comfy_ports(unique_id, model_dirs=model_dirs())
        options = ExtractOptions(boxes=BOX_CHOICES.get(boxes, boxes), hands=hands, face=face, outside=outside_canvas)
        extractor = PoseExtractor(_model("pose", pose_model), _model("pose", detector), ports)
        frames, notes = [], []
        arrays = from_image_batch(image)
        try:
            for i, arr in enumerate(arrays):
                ports.step(i, len(arrays))
                found = extractor.extract(arr, options)
                notes += [f"image {i}: {n}" for n in found.notes]
                frames.append(select_person(found.frame, person.strip() or "largest",
                                            blank_if_none=if_no_person == "blank pose"))
                if not frames[-1].people:
                    notes.append(f"image {i}: no person found; blank pose")
        except UdwError as exc:
            raise _fail(exc) from exc
        ports.progress(len(arrays), len(arrays))
        text = "\n".join(notes) or f"{sum(len(f.people) for f in frames)} pose(s) found"
        return {"ui": {"text": [text]}, "result": (frames_to_json(frames), _render_batch(frames), text)}


class UDWLoadPoseJSON:
    DESCRIPTION = ("Load an OpenPose JSON file (POSE_KEYPOINT from comfyui_controlnet_aux, the OpenPose tool, "
                   "pose editors). Null or missing parts are allowed; normalised coordinates need the canvas size.")
    CATEGORY = CAT
    RETURN_TYPES = (POSE, "IMAGE")
    RETURN_NAMES = ("pose", "pose_image")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "path": ("STRING", {"default": "pose.json", "tooltip": "JSON file; relative paths start in ComfyUI's input folder"}),
            "canvas_width": ("INT", {"default": 0, "min": 0, "max": 16384, "tooltip": "used when the file has no canvas size (0: infer)"}),
            "canvas_height": ("INT", {"default": 0, "min": 0, "max": 16384}),
        }}

    @classmethod
    def VALIDATE_INPUTS(cls, path=None):
        return path_error(input_roots(), path) or True

    @classmethod
    def IS_CHANGED(cls, path, canvas_width=0, canvas_height=0):
        try:
            return os.stat(input_roots().resolve(path)).st_mtime_ns
        except (OSError, UdwError):
            return float("nan")

    def run(self, path, canvas_width, canvas_height):
        canvas = (canvas_width, canvas_height) if canvas_width and canvas_height else None
        try:
            frames = load_pose_json(input_roots().resolve(path), canvas)
        except UdwError as exc:
            raise _fail(exc) from exc
        return (frames_to_json(frames), _render_batch(frames))


class UDWSavePoseJSON:
    DESCRIPTION = "Save poses as OpenPose JSON (the POSE_KEYPOINT layout) in the output folder."
    CATEGORY = CAT
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("path",)
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pose": (POSE,),
                             "filename_prefix": ("STRING", {"default": "udw/pose"})}}

    @classmethod
    def VALIDATE_INPUTS(cls, filename_prefix=None):
        if filename_prefix is None:
            return True
        try:
            within(folder_paths.get_output_directory(), filename_prefix or "pose")
        except UdwError as exc:
            return str(exc)
        return True

    def run(self, pose, filename_prefix):
        frames = _frames(pose)
        try:
            target = next_free(within(folder_paths.get_output_directory(), filename_prefix or "pose"), ".json")
        except UdwError as exc:
            raise _fail(exc) from exc
        write_text(target, json.dumps(frames_to_json(frames), indent=1))
        return {"ui": {"text": [str(target)]}, "result": (str(target),)}


def next_free(stem: Path, suffix: str) -> Path:
    """`stem_00001.json`, or the next number not yet taken (like ComfyUI's Save nodes)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    taken = [p.name[len(stem.name) + 1:len(stem.name) + 6] for p in stem.parent.glob(f"{stem.name}_*{suffix}")]
    numbers = [int(t) for t in taken if t.isdigit()]
    return stem.parent / f"{stem.name}_{max(numbers, default=0) + 1:05}{suffix}"


class UDWPoseRetarget:
    DESCRIPTION = ("Redraw pose B with character A's proportions: joint angles from B, limb lengths and head "
                   "size measured on A (relative to the torso), anchored at B's neck and hips.")
    CATEGORY = CAT
    RETURN_TYPES = (POSE, "IMAGE", "STRING")
    RETURN_NAMES = ("pose", "pose_image", "notes")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "pose": (POSE, {"tooltip": "the target pose (B)"}),
            "proportions": (POSE, {"tooltip": "a pose of the character (A), e.g. from its reference image"}),
            "enabled": ("BOOLEAN", {"default": True}),
            "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.05}),
            "target_person": ("INT", {"default": 0, "min": 0, "max": 64}),
            "reference_person": ("INT", {"default": 0, "min": 0, "max": 64}),
        }}

    def run(self, pose, proportions, enabled, strength, target_person, reference_person):
        frames = _frames(pose)
        if not enabled or strength == 0:
            return (pose, _render_batch(frames), "retargeting off")
        ref = _frames(proportions)[0]
        out, notes = [], []
        try:
            for frame in frames:
                new, n = retarget_frame(frame, ref, strength, target_person, reference_person)
                out.append(new)
                notes = n
                if new.outside():
                    notes.append(f"{len(new.outside())} keypoint(s) now lie outside the canvas")
        except UdwError as exc:
            raise _fail(exc) from exc
        return (frames_to_json(out), _render_batch(out), "\n".join(notes))


class UDWRenderPose:
    DESCRIPTION = "Draw poses as the standard OpenPose skeleton image (the OpenPose ControlNet's input) at any size."
    CATEGORY = CAT
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("pose_image",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "pose": (POSE,),
            "width": ("INT", {"default": 0, "min": 0, "max": 16384, "step": 8, "tooltip": "0: the pose's canvas"}),
            "height": ("INT", {"default": 0, "min": 0, "max": 16384, "step": 8}),
            "body": ("BOOLEAN", {"default": True}),
            "hands": ("BOOLEAN", {"default": True}),
            "face": ("BOOLEAN", {"default": True}),
        }}

    def run(self, pose, width, height, body, hands, face):
        return (_render_batch(_frames(pose), width, height, body=body, hands=hands, face=face),)


class UDWPoseEval:
    DESCRIPTION = ("Score generated images: pose error (mean keypoint distance to the target pose over keypoints "
                   "seen in both, divided by body size) and identity similarity (CCIP embedding cosine to the reference).")
    CATEGORY = CAT
    RETURN_TYPES = ("STRING", "FLOAT", "FLOAT")
    RETURN_NAMES = ("report", "pose_error", "identity")
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "images": ("IMAGE",),
            "boxes": (list(BOX_CHOICES), {"default": "anime (whole image)"}),
            "pose_model": (_choices("pose", DEFAULT_POSE_MODEL),),
            "embedder": (_choices("embedders", DEFAULT_EMBEDDER), {"tooltip": "CCIP model_feat.onnx"}),
        }, "optional": {"target_pose": (POSE,), "reference": ("IMAGE",)},
            "hidden": {"unique_id": "UNIQUE_ID"}}

    def run(self, images, boxes, pose_model, embedder, target_pose=None, reference=None, unique_id=None):
        from PIL import Image

        ports = comfy_ports(unique_id, model_dirs=model_dirs())
        outs = [Image.fromarray(a) for a in from_image_batch(images)]
        try:
            target = _frames(target_pose)[0] if target_pose is not None else None
            ref = Image.fromarray(from_image_batch(reference)[0]) if reference is not None else None
            extractor = PoseExtractor(_model("pose", pose_model), ports=ports) if target else None
            emb = Embedder(_model("embedders", embedder), ports) if ref is not None else None
            options = ExtractOptions(boxes=BOX_CHOICES.get(boxes, boxes), hands=False, face=False)
            reports = evaluate(outs, target, ref, extractor, emb, options, ports)
        except UdwError as exc:
            raise _fail(exc) from exc
        means = mean_scores(reports)
        text = "\n".join(f"image {i}: {r.summary()}" for i, r in enumerate(reports))
        err = -1.0 if means["pose_error"] is None else means["pose_error"]
        ident = -1.0 if means["identity_similarity"] is None else means["identity_similarity"]
        return {"ui": {"text": [text]}, "result": (text, err, ident)}


MAPPINGS = {
    "UDWPoseFromImage": (UDWPoseFromImage, "UDW Pose From Image"),
    "UDWLoadPoseJSON": (UDWLoadPoseJSON, "UDW Load Pose JSON"),
    "UDWSavePoseJSON": (UDWSavePoseJSON, "UDW Save Pose JSON"),
    "UDWPoseRetarget": (UDWPoseRetarget, "UDW Pose Retarget"),
    "UDWRenderPose": (UDWRenderPose, "UDW Render Pose"),
    "UDWPoseEval": (UDWPoseEval, "UDW Pose Eval"),
}
