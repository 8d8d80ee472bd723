"""LoRA files: which layout and which base architecture they were trained for.

The architecture shows in the shapes: a cross-attention key projection (attn2.to_k) takes the
text context (768 SD1.x, 1024 SD2.x, 2048 SDXL), and text-encoder layers take its hidden width
(768 CLIP-L in SD1, 1024 OpenCLIP-H in SD2). SDXL LoRAs also use lora_te1_/lora_te2_ names.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Optional

from ..core.errors import BadInput
from .arch import FAMILY_BY_CONTEXT, FAMILY_TITLES

_DOWN = re.compile(r"(?:\.lora_down\.weight|\.lora_A\.weight|\.lora_A\.default\.weight)$")
_TO_K = re.compile(r"attn2[._]to_k")
_TE_Q = re.compile(r"(?:lora_te1?_|text_encoder\.|te\.)text_model[._]encoder[._]layers[._]\d+[._]self_attn[._]q_proj")


@dataclass
class LoraInfo:
    layout: str                      # kohya | diffusers/peft | LyCORIS LoHa | LyCORIS LoKr | unknown
    family: str = "unknown"
    context_dim: Optional[int] = None
    text_hidden: Optional[int] = None
    unet_modules: int = 0
    text_modules: int = 0
    ranks: dict[int, int] = field(default_factory=dict)   # rank -> module count
    base_model: Optional[str] = None                       # from metadata, when stated

    @property
    def label(self) -> str:
        fam = FAMILY_TITLES.get(self.family, "unknown architecture")
        rank = "/".join(str(r) for r in sorted(self.ranks)) or "?"
        return f"{self.layout} LoRA for {fam}, rank {rank}, {self.unet_modules} UNet + {self.text_modules} text modules"

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


def lora_info(tensors: dict, metadata: Optional[dict] = None) -> LoraInfo:
    """Describe a LoRA from key -> TensorInfo (shapes only; nothing is read)."""
    keys = list(tensors)
    metadata = metadata or {}
    if any(".hada_w1_a" in k for k in keys):
        layout = "LyCORIS LoHa"
    elif any(".lokr_w1" in k for k in keys):
        layout = "LyCORIS LoKr"
    elif any(k.startswith(("lora_unet_", "lora_te")) for k in keys):
        layout = "kohya"
    elif any(".lora_A." in k or ".lora_B." in k for k in keys):
        layout = "diffusers/peft"
    else:
        layout = "unknown"
    info = LoraInfo(layout)
    ranks: Counter = Counter()
    for key in keys:
        if not _DOWN.search(key):
            continue
        shape = tensors[key].shape
        ranks[int(shape[0])] += 1
        is_text = key.startswith(("lora_te", "text_encoder", "te.", "te1", "te2"))
        info.text_modules += is_text
        info.unet_modules += not is_text
        if info.context_dim is None and _TO_K.search(key) and len(shape) >= 2:
            info.context_dim = int(shape[1])
        if info.text_hidden is None and _TE_Q.search(key) and len(shape) >= 2:
            info.text_hidden = int(shape[1])
    info.ranks = dict(ranks)
    info.base_model = metadata.get("ss_base_model_version") or metadata.get("modelspec.architecture")
    info.family = _family(keys, info)
    return info


def _family(keys: list[str], info: LoraInfo) -> str:
    if any(k.startswith(("lora_te1_", "lora_te2_")) for k in keys) or info.context_dim == 2048:
        return "SDXL"
    if info.context_dim in FAMILY_BY_CONTEXT:
        return FAMILY_BY_CONTEXT[info.context_dim]
    if info.text_hidden in (768, 1024):
        return {768: "SD1", 1024: "SD2"}[info.text_hidden]
    base = (info.base_model or "").lower()
    for needle, fam in (("xl", "SDXL"), ("v2", "SD2"), ("sd_v1", "SD1"), ("v1", "SD1")):
        if needle in base:
            return fam
    return "unknown"


def check_compatible(info: LoraInfo, name: str, family: str, context_dim: Optional[int],
                     text_hidden: Optional[int] = None) -> None:
    """Raise BadInput when the LoRA was made for another architecture than the model's."""
    model = FAMILY_TITLES.get(family, family)
    if info.family != "unknown" and family != "unknown" and info.family != family:
        raise BadInput(f"{name} is a LoRA for {FAMILY_TITLES.get(info.family, info.family)}, "
                       f"but the model is {model}",
                       f"use a LoRA trained on a {model} base (for UDW: SD1.5 / NovelAI-lineage LoRAs)")
    what = f"a LoRA for {FAMILY_TITLES[info.family]}" if info.family in FAMILY_TITLES else "a LoRA"
    if info.context_dim and context_dim and info.context_dim != context_dim:
        raise BadInput(f"{name} is {what} that expects a {info.context_dim}-wide text context, the model has "
                       f"{context_dim}", "this LoRA was trained for a different model architecture")
    if info.text_hidden and text_hidden and info.text_hidden != text_hidden:
        raise BadInput(f"{name} expects a {info.text_hidden}-wide text encoder, the model has {text_hidden}",
                       "this LoRA was trained for a different model architecture")
