"""Merging kohya-ss LoRAs into diffusers modules (no peft needed).

kohya names a target module by its diffusers path with dots replaced by underscores
(`lora_unet_down_blocks_0_attentions_0_..._attn1_to_q`, `lora_te_text_model_encoder_layers_0_
self_attn_q_proj`); the update is W += weight * (alpha / rank) * up @ down, as A1111 and ComfyUI
apply it. Conv layers (1x1 or 3x3 "LoCon") reshape the same product.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import BadInput


def _module_map(module: Any, prefix: str) -> dict[str, Any]:
    out = {}
    for name, mod in module.named_modules():
        if hasattr(mod, "weight") and getattr(mod, "weight") is not None and name:
            out[prefix + name.replace(".", "_")] = mod
            if name.startswith("text_model."):   # transformers 4 nests CLIP under text_model
                continue
            out[prefix + "text_model_" + name.replace(".", "_")] = mod   # transformers 5 does not
    return out


def merge_lora(state: dict, unet: Any, text_encoder: Any, weight: float, name: str = "LoRA") -> int:
    """Add the kohya LoRA `state` (key -> tensor) into the modules; returns modules patched."""
    import torch

    targets = {**_module_map(unet, "lora_unet_"), **_module_map(text_encoder, "lora_te_")}
    downs = [k for k in state if k.endswith(".lora_down.weight")]
    if not downs:
        raise BadInput(f"{name} has no kohya lora_down/lora_up pairs", "use a kohya-format LoRA (.safetensors)")
    patched, unmatched = 0, []
    for down_key in downs:
        base = down_key[: -len(".lora_down.weight")]
        module = targets.get(base)
        if module is None:
            unmatched.append(base)
            continue
        down = state[down_key].float()
        up = state[base + ".lora_up.weight"].float()
        rank = down.shape[0]
        alpha = float(state[base + ".alpha"]) if base + ".alpha" in state else float(rank)
        w = module.weight
        if down.dim() == 4:
            delta = (up.flatten(1) @ down.flatten(1)).reshape(w.shape)
        else:
            delta = up @ down
        if delta.shape != w.shape:
            raise BadInput(f"{name}: {base} has shape {tuple(delta.shape)}, the model's layer {tuple(w.shape)}",
                           "this LoRA was trained for a different model architecture")
        with torch.no_grad():
            w += (weight * alpha / rank * delta).to(w.dtype)
        patched += 1
    if unmatched and not patched:
        raise BadInput(f"{name}: none of its {len(unmatched)} layers exist in this model (e.g. {unmatched[0]})",
                       "this LoRA was trained for a different model architecture")
    return patched
