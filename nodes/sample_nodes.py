"""UDW Sample Media: the pack's own sample inputs, made on first use in ComfyUI's input folder."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

import folder_paths

from ..udw.core.errors import UdwError
from ..udw.samples.media import DESCRIPTIONS, SAMPLES, ensure_sample, sample_pictures
from .host import CATEGORY, comfy_ports, to_image_batch


def _same_size(paths: list[Path]) -> list[Image.Image]:
    """The pictures as one batch: each fitted onto the first one's size (refs differ in size)."""
    pictures = [Image.open(p).convert("RGB") for p in paths]
    size = pictures[0].size
    return [p if p.size == size else p.resize(size, Image.LANCZOS) for p in pictures]


class UDWSampleMedia:
    DESCRIPTION = ("Sample inputs made by UDW Studio on first use (generated cel-animation episodes and pictures "
                   "rendered from them) in ComfyUI/input/udw_samples/. Connect `path` to a source, video or refs "
                   "input and `images` to an IMAGE input; replace this node with your own files when you are ready.")
    CATEGORY = f"{CATEGORY}/samples"
    RETURN_TYPES = ("STRING", "IMAGE")
    RETURN_NAMES = ("path", "images")
    OUTPUT_TOOLTIPS = ("the sample's path relative to ComfyUI's input folder", "its pictures (up to 16)")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        tips = "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())
        return {"required": {"sample": (list(SAMPLES), {"default": "episodes", "tooltip": tips})},
                "hidden": {"unique_id": "UNIQUE_ID"}}

    def run(self, sample, unique_id=None):
        input_dir = Path(folder_paths.get_input_directory())
        try:
            ports = comfy_ports(unique_id)
            ensure_sample(sample, input_dir, ports)
            pictures = sample_pictures(sample, input_dir, ports)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc
        return (SAMPLES[sample], to_image_batch(_same_size(pictures)))


MAPPINGS = {"UDWSampleMedia": (UDWSampleMedia, "UDW Sample Media")}
