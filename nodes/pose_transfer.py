"""UDW Pose Transfer: character A (reference image) in pose B, for a normal KSampler.

- the pose (an OpenPose skeleton IMAGE, or a POSE_KEYPOINT drawn here) goes to the OpenPose
  ControlNet the way ComfyUI's Apply ControlNet (Advanced) does it: each conditioning entry is
  copied and given `control_net.copy().set_cond_hint(...)`, chained after any earlier ControlNet;
- the reference is encoded with the VAE and guides the MODEL by reference-only attention
  (nodes/reference_patch.py), optionally plus an IP-Adapter when ComfyUI_IPAdapter_plus is installed.
Disabled (or both strengths 0), the inputs come back untouched.
"""

from __future__ import annotations

import math
import sys

import torch

from ..udw.core.errors import BadInput, UdwError
from ..udw.pose import frames_from_json, render_pose
from ..udw.pose.refattn import ReferenceSettings
from .host import CATEGORY, to_image_batch
from .reference_patch import check_controlnet, patch_reference, unet_blocks

REFERENCE_AREA = 512 * 512  # SD1's native area; the latent is fitted to the generation size per step


def _fail(exc: UdwError) -> RuntimeError:
    return RuntimeError(str(exc))


def apply_controlnet(positive, negative, control_net, hint: torch.Tensor, strength: float, start: float,
                     end: float, vae=None):
    """ComfyUI's ControlNetApplyAdvanced, step for step (cond.copy() + set_cond_hint)."""
    hint = hint.movedim(-1, 1)
    nets = {}
    out = []
    for conditioning in (positive, negative):
        entries = []
        for embedding, options in conditioning:
            d = options.copy()
            previous = d.get("control", None)
            if previous not in nets:
                net = control_net.copy().set_cond_hint(hint, strength, (start, end), vae=vae)
                net.set_previous_controlnet(previous)
                nets[previous] = net
            d["control"] = nets[previous]
            d["control_apply_to_uncond"] = False
            entries.append([embedding, d])
        out.append(entries)
    return out[0], out[1]


def pose_hint(pose_image=None, pose=None) -> torch.Tensor:
    """The ControlNet hint as an IMAGE batch: the given skeleton image, or the POSE_KEYPOINT drawn."""
    if pose_image is not None:
        return pose_image[..., :3]
    if pose is None:
        raise BadInput("no pose given", "connect a pose image (OpenPose skeleton) or a POSE_KEYPOINT")
    frames = frames_from_json(pose, source="POSE_KEYPOINT")
    w, h = frames[0].width, frames[0].height
    if not any(f.people for f in frames):
        raise BadInput("the pose has no person", "extract a pose with a person, or draw one")
    return to_image_batch([render_pose(f, w, h) for f in frames])


def encode_reference(vae, model, reference: torch.Tensor) -> list[torch.Tensor]:
    """Reference images -> latents in the model's space (VAE encode + process_latent_in), one per image."""
    import comfy.utils

    latents = []
    for image in reference:
        h, w = image.shape[0], image.shape[1]
        scale = min(1.0, math.sqrt(REFERENCE_AREA / (h * w)))  # never upscale: the latent is fitted per step
        tw, th = max(64, round(w * scale / 64) * 64), max(64, round(h * scale / 64) * 64)
        pixels = comfy.utils.common_upscale(image[None, ..., :3].movedim(-1, 1), tw, th, "bilinear", "disabled")
        raw = vae.encode(pixels.movedim(1, -1))
        latents.append(model.model.process_latent_in(raw).cpu())
    return latents


def apply_ipadapter(model, ipadapter, clip_vision, image, weight: float, start: float, end: float):
    """Use ComfyUI_IPAdapter_plus's IPAdapterAdvanced when that pack is installed."""
    host_nodes = sys.modules.get("nodes")
    cls = getattr(host_nodes, "NODE_CLASS_MAPPINGS", {}).get("IPAdapterAdvanced") if host_nodes else None
    if cls is None:
        raise BadInput("an IP-Adapter is connected but ComfyUI_IPAdapter_plus's IPAdapterAdvanced node is not loaded",
                       "install ComfyUI_IPAdapter_plus (cubiq), or disconnect the ipadapter input")
    node = cls()
    return getattr(node, cls.FUNCTION)(model=model, ipadapter=ipadapter, image=image, weight=weight,
                                       weight_type="linear", combine_embeds="concat", start_at=start, end_at=end,
                                       embeds_scaling="V only", clip_vision=clip_vision)[0]


class UDWPoseTransfer:
    DESCRIPTION = ("Character A from a reference image in pose B: applies the OpenPose ControlNet to the "
                   "conditioning and reference-only attention from A to the model (optionally an IP-Adapter). "
                   "Connect the outputs to a normal KSampler.")
    CATEGORY = f"{CATEGORY}/pose"
    RETURN_TYPES = ("MODEL", "CONDITIONING", "CONDITIONING", "IMAGE")
    RETURN_NAMES = ("model", "positive", "negative", "pose_image")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "positive": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "control_net": ("CONTROL_NET", {"tooltip": "an OpenPose ControlNet for the model's architecture "
                                                       "(UDW / SD1.5: control_v11p_sd15_openpose)"}),
            "vae": ("VAE", {"tooltip": "encodes the reference image"}),
            "reference": ("IMAGE", {"tooltip": "character A (several images: all are used)"}),
            "enabled": ("BOOLEAN", {"default": True}),
            "control_strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 3.0, "step": 0.01}),
            "reference_strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01,
                                             "tooltip": "0 = no reference attention, 1 = full"}),
            "style_fidelity": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01,
                                         "tooltip": "0 balanced with the prompt, 1 the reference's look dominates"}),
            "start_percent": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}),
            "end_percent": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001}),
        }, "optional": {
            "pose_image": ("IMAGE", {"tooltip": "an OpenPose skeleton image"}),
            "pose": ("POSE_KEYPOINT", {"tooltip": "keypoints (drawn here at their canvas size)"}),
            "ipadapter": ("IPADAPTER", {"tooltip": "optional, from ComfyUI_IPAdapter_plus"}),
            "clip_vision": ("CLIP_VISION",),
            "ipadapter_weight": ("FLOAT", {"default": 0.6, "min": 0.0, "max": 3.0, "step": 0.05}),
        }}

    @classmethod
    def VALIDATE_INPUTS(cls, start_percent=0.0, end_percent=1.0):
        if start_percent is not None and end_percent is not None and start_percent > end_percent:
            return f"start_percent {start_percent} is after end_percent {end_percent}"
        return True

    def run(self, model, positive, negative, control_net, vae, reference, enabled, control_strength,
            reference_strength, style_fidelity, start_percent, end_percent, pose_image=None, pose=None,
            ipadapter=None, clip_vision=None, ipadapter_weight=0.6):
        try:
            hint = pose_hint(pose_image, pose)
            if not enabled:
                return (model, positive, negative, hint)
            settings = ReferenceSettings(reference_strength, style_fidelity, start_percent, end_percent)
            settings.validate()
            if control_strength > 0:
                check_controlnet(model, control_net)
                positive, negative = apply_controlnet(positive, negative, control_net, hint, control_strength,
                                                      start_percent, end_percent, vae)
            if reference_strength > 0:
                unet_blocks(model)  # a clear message for non-UNet models before encoding anything
                model = patch_reference(model, encode_reference(vae, model, reference), settings)
            if ipadapter is not None and ipadapter_weight > 0:
                model = apply_ipadapter(model, ipadapter, clip_vision, reference, ipadapter_weight,
                                        start_percent, end_percent)
        except UdwError as exc:
            raise _fail(exc) from exc
        return (model, positive, negative, hint)


MAPPINGS = {"UDWPoseTransfer": (UDWPoseTransfer, "UDW Pose Transfer")}
