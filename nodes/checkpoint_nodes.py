"""UDW model nodes: checkpoint loader with UDW's conventions, LoRA stack, inspection.

Loading is ComfyUI's own (comfy.sd, folder_paths "checkpoints"/"loras"/"vae"): the node adds a
header check (what the file is, before anything heavy), clip skip 2 by default, an optional
separate VAE and an INFO string. Pickle .ckpt files are read with weights_only=True only.
"""

from __future__ import annotations

import os
from typing import Any, Optional

import comfy.sd
import comfy.utils
import folder_paths

from ..udw.checkpoints import (check_compatible, compare, detect, format_lineage, format_report, inspect_file,
                               lora_info, open_checkpoint, require_sd1)
from ..udw.checkpoints.hashing import cached_hashes, file_hashes
from ..udw.core.errors import BadInput, UdwError
from .host import CATEGORY, comfy_ports

BAKED, NONE = "(baked)", "None"
EXPECT = ["SD1 (UDW)", "any"]
LORA_SLOTS = 4


def _fail(exc: UdwError) -> RuntimeError:
    return RuntimeError(str(exc))


def _full_path(kind: str, name: str) -> str:
    return folder_paths.get_full_path_or_raise(kind, name)


def _stamp(*paths: Optional[str]) -> str:
    out = []
    for p in paths:
        if p:
            st = os.stat(p)
            out.append(f"{st.st_mtime_ns}:{st.st_size}")
    return "|".join(out)


def _header_arch(path: str):
    """What the file is, from the safetensors header (cheap); None for pickles (checked at load)."""
    if not path.lower().endswith((".safetensors", ".sft")):
        return None
    with open_checkpoint(path) as reader:
        return detect(reader.tensors, reader, reader.metadata)


def _info(name: str, path: str, arch, clip_skip: int, vae_name: str, hashes: bool) -> str:
    h = file_hashes(path) if hashes else cached_hashes(path)
    lines = [f"{name}: {arch.label if arch else 'checkpoint'}"]
    if arch and arch.kind == "checkpoint":
        lines.append(f"text encoder: {arch.text_encoder}; prediction: {arch.prediction}; "
                     f"EMA in file: {'yes' if arch.ema else 'no'}")
        lines += [f"note: {n}" for n in arch.notes]
    lines.append(f"clip skip: {-clip_skip} (CLIPSetLastLayer {clip_skip})")
    lines.append(f"VAE: {'baked into the checkpoint' if vae_name == BAKED else vae_name}")
    lines.append(f"Model hash (AutoV2): {h.autov2}, sha256 {h.sha256}" if h else
                 "Model hash: not computed (turn on 'hash' once; it is cached)")
    return "\n".join(lines)


class UDWCheckpointLoader:
    DESCRIPTION = ("Load an SD1 checkpoint (UDW or any NovelAI-lineage model) with ComfyUI's own loader, "
                   "with UDW's conventions applied: clip skip 2, optional separate VAE. INFO says what the file is.")
    CATEGORY = f"{CATEGORY}/models"
    RETURN_TYPES = ("MODEL", "CLIP", "VAE", "STRING")
    RETURN_NAMES = ("model", "clip", "vae", "info")
    OUTPUT_TOOLTIPS = ("the diffusion model", "the text encoder, stopped at the chosen CLIP layer",
                       "the baked-in or the chosen VAE", "what was loaded, with its hash")
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "ckpt_name": (folder_paths.get_filename_list("checkpoints"), {"tooltip": "checkpoint in models/checkpoints"}),
            "clip_skip": ("INT", {"default": -2, "min": -24, "max": -1, "step": 1,
                                  "tooltip": "CLIPSetLastLayer semantics: -2 = A1111 'clip skip 2', the "
                                             "NovelAI/UDW convention; -1 = no skip"}),
        }, "optional": {
            "vae_name": ([BAKED] + folder_paths.get_filename_list("vae"),
                         {"default": BAKED, "tooltip": "a separate VAE, or the one baked into the checkpoint"}),
            "expect": (EXPECT, {"default": EXPECT[0], "tooltip": "refuse files that are not SD1 checkpoints "
                                                                 "(SDXL, LoRAs, ...) with a message saying what they are"}),
            "hash": ("BOOLEAN", {"default": False, "tooltip": "compute the sha256/AutoV2 hash for INFO "
                                                              "(reads the whole file once; cached afterwards)"}),
        }}

    @classmethod
    def VALIDATE_INPUTS(cls, ckpt_name=None, vae_name=None, expect=None):
        if ckpt_name is None:
            return True
        path = folder_paths.get_full_path("checkpoints", ckpt_name)
        if path is None:
            return f"checkpoint {ckpt_name!r} is not in the checkpoints folder"
        if vae_name not in (None, BAKED) and folder_paths.get_full_path("vae", vae_name) is None:
            return f"VAE {vae_name!r} is not in the vae folder"
        try:
            arch = _header_arch(path)
            if arch is not None and expect != "any":
                require_sd1(arch, ckpt_name)
        except UdwError as exc:
            return str(exc)
        return True

    @classmethod
    def IS_CHANGED(cls, ckpt_name, clip_skip=-2, vae_name=BAKED, expect=EXPECT[0], hash=False):
        try:
            vae = None if vae_name == BAKED else folder_paths.get_full_path("vae", vae_name)
            return _stamp(folder_paths.get_full_path("checkpoints", ckpt_name), vae)
        except (OSError, TypeError):
            return float("nan")

    def load(self, ckpt_name, clip_skip=-2, vae_name=BAKED, expect=EXPECT[0], hash=False):
        path = _full_path("checkpoints", ckpt_name)
        try:
            arch = _header_arch(path)
            if arch is not None and expect != "any":
                require_sd1(arch, ckpt_name)
            out = self._load(path, ckpt_name, expect)
        except UdwError as exc:
            raise _fail(exc) from exc
        model, clip, vae = out[:3]
        if clip is None:
            raise RuntimeError(f"{ckpt_name} has no text encoder; load one with a CLIP loader")
        clip = clip.clone()
        clip.clip_layer(clip_skip)
        if vae_name != BAKED:
            vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(_full_path("vae", vae_name), safe_load=True))
            if hasattr(vae, "throw_exception_if_invalid"):
                vae.throw_exception_if_invalid()
        try:
            info = _info(ckpt_name, path, arch, clip_skip, vae_name, hash)
        except UdwError as exc:
            raise _fail(exc) from exc
        return (model, clip, vae, info)

    @staticmethod
    def _load(path: str, name: str, expect: str):
        embeddings = folder_paths.get_folder_paths("embeddings")
        if path.lower().endswith((".safetensors", ".sft")):
            return comfy.sd.load_checkpoint_guess_config(path, output_vae=True, output_clip=True,
                                                         embedding_directory=embeddings)
        with open_checkpoint(path) as reader:      # .ckpt: weights_only, refusing pickled code
            if expect != "any":
                require_sd1(detect(reader.tensors, reader), name)
            sd = reader.state_dict
            out = comfy.sd.load_state_dict_guess_config(sd, True, True, embedding_directory=embeddings)
        if out is None:
            raise RuntimeError(f"ComfyUI could not detect the model type of {name}")
        return out


def _model_context(model: Any) -> Optional[int]:
    try:
        return model.model.model_config.unet_config.get("context_dim")
    except AttributeError:
        return None


class UDWLoraStack:
    DESCRIPTION = ("Apply up to four LoRAs with their weights (ComfyUI's LoRA loader underneath). A LoRA made "
                   "for another architecture (e.g. SDXL on UDW) is refused with a message.")
    CATEGORY = f"{CATEGORY}/models"
    RETURN_TYPES = ("MODEL", "CLIP", "STRING")
    RETURN_NAMES = ("model", "clip", "loras")
    OUTPUT_TOOLTIPS = ("model with the LoRAs", "text encoder with the LoRAs", "A1111-style 'Lora hashes' text")
    FUNCTION = "apply"

    def __init__(self):
        self.cache: dict[str, tuple[str, Any]] = {}

    @classmethod
    def INPUT_TYPES(cls):
        names = [NONE] + folder_paths.get_filename_list("loras")
        optional = {}
        for i in range(1, LORA_SLOTS + 1):
            optional[f"lora_{i}"] = (names, {"default": NONE, "tooltip": f"LoRA {i} (None: skip the slot)"})
            optional[f"strength_model_{i}"] = ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.05})
            optional[f"strength_clip_{i}"] = ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.05})
        return {"required": {"model": ("MODEL",), "clip": ("CLIP",)}, "optional": optional}

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        paths = [folder_paths.get_full_path("loras", v) for k, v in kwargs.items()
                 if k.startswith("lora_") and v and v != NONE]
        return _stamp(*[p for p in paths if p]) + repr(sorted((k, v) for k, v in kwargs.items()
                                                               if not k.startswith(("model", "clip"))))

    def apply(self, model, clip, **slots):
        ctx = _model_context(model)
        family = {768: "SD1", 1024: "SD2", 2048: "SDXL", 1280: "SDXL-refiner"}.get(ctx, "unknown")
        applied = []
        for i in range(1, LORA_SLOTS + 1):
            name = slots.get(f"lora_{i}", NONE)
            sm, sc = slots.get(f"strength_model_{i}", 1.0), slots.get(f"strength_clip_{i}", 1.0)
            if not name or name == NONE or (sm == 0 and sc == 0):
                continue
            path = _full_path("loras", name)
            try:
                with open_checkpoint(path) as reader:
                    kind = detect(reader.tensors)
                    if kind.kind != "lora":
                        raise BadInput(f"{name} is not a LoRA: it is a {kind.label}", "pick a LoRA file")
                    check_compatible(lora_info(reader.tensors, reader.metadata), name, family, ctx)
                short = file_hashes(path, addnet=True).lora_short
            except UdwError as exc:
                raise _fail(exc) from exc
            stamp = _stamp(path)
            if self.cache.get(path, ("",))[0] != stamp:
                self.cache[path] = (stamp, comfy.utils.load_torch_file(path, safe_load=True))
            model, clip = comfy.sd.load_lora_for_models(model, clip, self.cache[path][1], sm, sc)
            applied.append(f"{os.path.splitext(os.path.basename(name))[0]}: {short}")
        return (model, clip, ", ".join(applied))


class UDWInspectCheckpoint:
    DESCRIPTION = ("Describe a checkpoint: architecture (SD1/SD2/SDXL, v-prediction hints, inpainting, EMA, baked "
                   "VAE), size and dtype per component, A1111 hashes, metadata; with a base, lineage by weight "
                   "cosine similarity per component (streamed; never two checkpoints in memory).")
    CATEGORY = f"{CATEGORY}/models"
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("report",)
    FUNCTION = "inspect"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        names = folder_paths.get_filename_list("checkpoints")
        return {"required": {
            "ckpt_name": (names, {"tooltip": "checkpoint to describe"}),
            "base_name": (["(none)"] + names, {"default": "(none)", "tooltip": "compare against this base "
                                                                               "(e.g. NovelAI v1 or SD1.5)"}),
            "hashes": ("BOOLEAN", {"default": True, "tooltip": "compute sha256/AutoV2 (cached afterwards)"}),
        }, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def IS_CHANGED(cls, ckpt_name, base_name="(none)", hashes=True, unique_id=None):
        try:
            base = None if base_name == "(none)" else folder_paths.get_full_path("checkpoints", base_name)
            return _stamp(folder_paths.get_full_path("checkpoints", ckpt_name), base) + str(hashes)
        except (OSError, TypeError):
            return float("nan")

    def inspect(self, ckpt_name, base_name="(none)", hashes=True, unique_id=None):
        path = _full_path("checkpoints", ckpt_name)
        try:
            text = format_report(inspect_file(path, hashes=hashes, ports=comfy_ports(unique_id)))
            if base_name != "(none)":
                text += "\n" + format_lineage(compare(path, _full_path("checkpoints", base_name),
                                                      ports=comfy_ports(unique_id)))
        except UdwError as exc:
            raise _fail(exc) from exc
        return {"ui": {"text": [text]}, "result": (text,)}


MAPPINGS = {
    "UDWCheckpointLoader": (UDWCheckpointLoader, "UDW Checkpoint Loader"),
    "UDWLoraStack": (UDWLoraStack, "UDW LoRA Stack"),
    "UDWInspectCheckpoint": (UDWInspectCheckpoint, "UDW Inspect Checkpoint"),
}
