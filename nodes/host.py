"""Everything the nodes need from ComfyUI: folders, progress, interrupt, tensors, previews."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Iterable, Optional

import numpy as np
import torch
from PIL import Image

import comfy.model_management
import comfy.utils
import folder_paths

from ..udw.core.errors import BadInput
from ..udw.core.paths import Roots
from ..udw.core.ports import Ports
from ..udw.models.fetch import auto_download_enabled

CATEGORY = "UDW Studio"
DATASET_TYPE = "UDW_DATASET"


class DatasetStageNode:
    """A node that runs one stage over a dataset: the dataset passes through, a report comes out."""

    RETURN_TYPES = (DATASET_TYPE, "STRING")
    RETURN_NAMES = ("dataset", "report")
    FUNCTION = "run"
    OUTPUT_NODE = True


ENGINE_TYPE = "UDW_ENGINE"  # where stages run (udw.core.engine.EngineSettings); unconnected: here


def engine_input() -> dict:
    """The optional `engine` input every pipeline node takes (see nodes/engine_nodes.py)."""
    return {"engine": (ENGINE_TYPE, {"tooltip": "connect a UDW Ray Engine to run this stage on a Ray "
                                                "cluster; unconnected: on this machine"})}


def dataset_roots() -> Roots:
    """Datasets live under output/udw by default; input, output and temp are allowed too."""
    out = Path(folder_paths.get_output_directory())
    return Roots.from_env(out / "udw", folder_paths.get_input_directory(), out,
                          folder_paths.get_temp_directory())


def input_roots() -> Roots:
    """Relative source paths (videos, image folders) resolve against ComfyUI's input folder."""
    out = Path(folder_paths.get_output_directory())
    return Roots.from_env(folder_paths.get_input_directory(), out, folder_paths.get_temp_directory())


def comfy_ports(node_id: Optional[str] = None, **kwargs: Any) -> Ports:
    """Progress onto ComfyUI's progress bar (with optional preview; never backwards, at most 10
    updates a second), cancel from its interrupt, downloads as the user's setting says."""
    bar: dict[str, comfy.utils.ProgressBar] = {}

    def progress(done: int, total: int, preview: Any = None) -> None:
        if "bar" not in bar:
            bar["bar"] = comfy.utils.ProgressBar(max(total, 1), node_id=node_id)
        shown = None
        if preview is not None:
            img = preview if isinstance(preview, Image.Image) else Image.fromarray(np.asarray(preview))
            shown = ("JPEG", img, 512)
        bar["bar"].update_absolute(done, max(total, 1), shown)

    kwargs.setdefault("allow_download", auto_download_enabled())  # models arrive on first use (UDW_AUTO_DOWNLOAD=0: off)
    return Ports(progress=progress, cancelled=comfy.model_management.processing_interrupted, **kwargs).steady()


def to_image_batch(images: Iterable[Any]) -> torch.Tensor:
    """PIL images / HxWx3 uint8 arrays (all one size) -> ComfyUI IMAGE [B,H,W,3] float 0..1."""
    arrays = [np.asarray(im.convert("RGB") if isinstance(im, Image.Image) else im) for im in images]
    batch = np.stack(arrays).astype(np.float32) / 255.0
    return torch.from_numpy(batch)


def from_image_batch(batch: torch.Tensor) -> list[np.ndarray]:
    """ComfyUI IMAGE -> list of HxWx3 uint8 arrays."""
    arr = (batch.detach().cpu().clamp(0, 1).numpy() * 255.0 + 0.5).astype(np.uint8)
    return [a[..., :3] for a in arr]


def ui_preview(images: Iterable[Image.Image], prefix: str = "udw") -> dict:
    """Save images to ComfyUI's temp folder and return the `ui` dict that shows them on the node."""
    temp = Path(folder_paths.get_temp_directory())
    temp.mkdir(parents=True, exist_ok=True)
    shown = []
    for im in images:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}.png"
        im.save(temp / name, compress_level=1)
        shown.append({"filename": name, "subfolder": "", "type": "temp"})
    return {"images": shown}


def path_error(roots: Roots, value: str, must_exist: bool = True) -> Optional[str]:
    """A message for VALIDATE_INPUTS when `value` is not a usable path, else None."""
    if value is None:  # a linked input: validated when it runs
        return None
    try:
        path = roots.resolve(value)
    except BadInput as exc:
        return str(exc)
    if must_exist and not (path.exists() or any(c in value for c in "*?[")):
        return f"{value}: no such file or folder (looked in {path})"
    return None


def resolve_input(name: str, roots: Roots, value: str, must_exist: bool = False) -> Path:
    """A path input resolved when the node runs; a bad one raises an error naming the input."""
    err = path_error(roots, value, must_exist)
    if err:
        raise RuntimeError(f"{name}: {err}")
    return roots.resolve(value)


def register_model_folder(kind: str) -> list[str]:
    """Register `udw_<kind>` with folder_paths (models/udw_<kind>) and return its folders."""
    key = f"udw_{kind}"
    if key not in folder_paths.folder_names_and_paths:
        path = os.path.join(folder_paths.models_dir, key)
        folder_paths.folder_names_and_paths[key] = ([path], {".onnx", ".safetensors", ".csv", ".json", ".xml"})
    return list(folder_paths.get_folder_paths(key))
