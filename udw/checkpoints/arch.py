"""What a model file is, from its tensor names and shapes (plus a few tiny tensors).

Facts used (all from the original single-file layouts):
- UNet under `model.diffusion_model.`; the cross-attention width (attn2.to_k in-features) is the
  text context: 768 SD1.x, 1024 SD2.x, 2048 SDXL base, 1280 SDXL refiner. SDXL also has an ADM
  input (`label_emb.0.0.weight`, 2816 base / 2560 refiner).
- input channels of `input_blocks.0.0.weight`: 4 normal, 9 inpainting, 8 instruct-pix2pix.
- text encoders: `cond_stage_model.transformer.` CLIP ViT-L/14 (SD1), `cond_stage_model.model.`
  OpenCLIP ViT-H/14 (SD2), `conditioner.embedders.0/1` CLIP-L + OpenCLIP bigG (SDXL).
- `model_ema.*` holds EMA weights; `first_stage_model.*` a baked-in VAE.
- v-prediction leaves no mark in SD1/SDXL weights: hints come from a `v_pred` key, metadata
  (`modelspec.prediction_type`, kohya's `ss_v_parameterization`), an A1111-style YAML beside the
  file, or for SD2 the output norm statistic ComfyUI also uses (std of
  output_blocks.11.1.transformer_blocks.0.norm1.bias > 0.5 for 768-v models).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

UNET = "model.diffusion_model."
COMPONENT_PREFIXES = [
    ("unet", ("model.diffusion_model.",)),
    ("ema", ("model_ema.",)),
    ("text_encoder", ("cond_stage_model.", "conditioner.embedders.", "text_encoders.")),
    ("vae", ("first_stage_model.", "vae.")),
    ("controlnet", ("control_model.",)),
]
FAMILY_BY_CONTEXT = {768: "SD1", 1024: "SD2", 2048: "SDXL", 1280: "SDXL-refiner"}
FAMILY_TITLES = {"SD1": "Stable Diffusion 1.x", "SD2": "Stable Diffusion 2.x", "SDXL": "SDXL",
                 "SDXL-refiner": "SDXL refiner", "SD3": "Stable Diffusion 3", "Flux": "Flux"}


def component_of(key: str) -> str:
    for name, prefixes in COMPONENT_PREFIXES:
        if key.startswith(prefixes):
            return name
    return "other"


@dataclass
class ArchInfo:
    kind: str                                  # checkpoint | lora | vae | controlnet | embedding | unet | unknown
    family: str = "unknown"                    # SD1 | SD2 | SDXL | SDXL-refiner | SD3 | Flux | unknown
    context_dim: Optional[int] = None
    in_channels: Optional[int] = None
    variant: Optional[str] = None              # inpainting | instruct-pix2pix
    prediction: str = "epsilon"                # epsilon | v
    prediction_hint: str = ""
    text_encoder: Optional[str] = None
    ema: bool = False
    ema_tensors: int = 0
    baked_vae: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """A one-line description, e.g. 'Stable Diffusion 1.x checkpoint (inpainting)'."""
        title = FAMILY_TITLES.get(self.family, self.family if self.family != "unknown" else "")
        kind = {"checkpoint": "checkpoint", "lora": "LoRA", "vae": "VAE", "controlnet": "ControlNet",
                "embedding": "textual-inversion embedding", "unet": "UNet-only file"}.get(self.kind, "unknown file")
        extra = [x for x in (self.variant, "v-prediction" if self.prediction == "v" else None) if x]
        text = f"{title} {kind}".strip()
        return text + (f" ({', '.join(extra)})" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["label"] = self.label
        return out


def _shape(tensors: dict, key: str) -> Optional[tuple]:
    info = tensors.get(key)
    return tuple(info.shape) if info is not None else None


def context_dim(tensors: dict, prefix: str = UNET) -> Optional[int]:
    """Cross-attention width: in-features of the first attn2.to_k under `prefix`."""
    for key, info in tensors.items():
        if key.startswith(prefix) and key.endswith("attn2.to_k.weight") and len(info.shape) == 2:
            return int(info.shape[1])
    return None


def _other_kind(tensors: dict) -> ArchInfo:
    keys = list(tensors)
    if any(re.search(r"\.(lora_down|lora_up|lora_A|lora_B|hada_w1_a|lokr_w1)\b", k) for k in keys[:2000]):
        return ArchInfo("lora")
    if any(k.startswith("control_model.") or ".input_hint_block." in k or k.startswith("input_hint_block.")
           or k.startswith("controlnet_cond_embedding.") for k in keys):
        fam = FAMILY_BY_CONTEXT.get(context_dim(tensors, "control_model.") or context_dim(tensors, ""), "unknown")
        return ArchInfo("controlnet", fam)
    if {"string_to_param", "emb_params"} & set(k.split(".")[0] for k in keys) or \
            (len(keys) <= 2 and set(keys) <= {"clip_l", "clip_g"}):
        return ArchInfo("embedding")
    if any(k.startswith("encoder.conv_in") for k in keys) and any(k.startswith("decoder.") for k in keys):
        return ArchInfo("vae")
    if "input_blocks.0.0.weight" in tensors:
        return ArchInfo("unet", FAMILY_BY_CONTEXT.get(context_dim(tensors, "") or 0, "unknown"))
    if "conv_in.weight" in tensors and any(k.startswith("down_blocks.") for k in keys):
        return ArchInfo("unet", FAMILY_BY_CONTEXT.get(context_dim(tensors, "") or 0, "unknown"),
                        notes=["diffusers layout"])
    return ArchInfo("unknown")


def detect(tensors: dict, reader: Any = None, metadata: Optional[dict] = None,
           path: Optional[Path] = None) -> ArchInfo:
    """Describe a model from `tensors` (key -> TensorInfo); `reader` reads the few tiny hint tensors."""
    unet_keys = [k for k in tensors if k.startswith(UNET)]
    if len(unet_keys) <= 5:
        return _other_kind(tensors)
    info = ArchInfo("checkpoint")
    if any(".joint_blocks." in k for k in unet_keys[:5000]):
        info.family = "SD3"
    elif any(".double_blocks." in k for k in unet_keys[:5000]):
        info.family = "Flux"
    else:
        _unet_facts(info, tensors)
    _text_encoder(info, tensors)
    info.ema_tensors = sum(1 for k in tensors if k.startswith("model_ema."))
    info.ema = info.ema_tensors > 100
    info.baked_vae = any(k.startswith("first_stage_model.decoder.") for k in tensors)
    _prediction(info, tensors, reader, metadata or {}, path)
    if reader is not None and info.family == "SD1":
        _check_position_ids(info, tensors, reader)
    return info


def _unet_facts(info: ArchInfo, tensors: dict) -> None:
    shape = _shape(tensors, UNET + "input_blocks.0.0.weight")
    info.in_channels = int(shape[1]) if shape else None
    info.context_dim = context_dim(tensors)
    adm = _shape(tensors, UNET + "label_emb.0.0.weight")
    family = FAMILY_BY_CONTEXT.get(info.context_dim or 0, "unknown")
    if family == "SDXL" and (adm is None or adm[1] != 2816):
        family = "unknown"
    if family == "unknown" and info.context_dim and adm is None and _sd1_structure(tensors):
        family = "SD1"  # SD1 layout at another width (reduced test models, experiments)
        info.notes.append(f"SD1 layout with a non-standard width (text context {info.context_dim}, "
                          f"SD1 has 768)")
    if family == "SD2" and adm is not None:
        info.variant = "unCLIP"
    info.family = family
    if info.in_channels == 9:
        info.variant = "inpainting"
    elif info.in_channels == 8:
        info.variant = "instruct-pix2pix"


def _sd1_structure(tensors: dict) -> bool:
    """Convolutional transformer projections and a transformers-layout CLIP: the SD1 design."""
    conv_proj = any(k.startswith(UNET) and k.endswith(".proj_in.weight") and len(i.shape) == 4
                    for k, i in tensors.items())
    clip = any(k.startswith("cond_stage_model.transformer.") for k in tensors)
    return conv_proj and clip


def _text_encoder(info: ArchInfo, tensors: dict) -> None:
    keys = tensors.keys()
    if any(k.startswith("conditioner.embedders.1.model.") for k in keys):
        info.text_encoder = "CLIP ViT-L/14 + OpenCLIP ViT-bigG/14"
    elif any(k.startswith("conditioner.embedders.0.model.") for k in keys):
        info.text_encoder = "OpenCLIP ViT-bigG/14"
    elif any(k.startswith("cond_stage_model.model.") for k in keys):
        info.text_encoder = "OpenCLIP ViT-H/14"
    elif any(k.startswith("cond_stage_model.transformer.") for k in keys):
        layers = {int(m.group(1)) for k in keys if (m := re.search(r"cond_stage_model\.transformer\.(?:text_model\.)?"
                                                                   r"encoder\.layers\.(\d+)\.", k))}
        info.text_encoder = "CLIP ViT-L/14" if len(layers) in (0, 12) else f"CLIP ({len(layers)} layers)"
    else:
        info.notes.append("no text encoder in the file (load one separately)")


def _prediction(info: ArchInfo, tensors: dict, reader: Any, metadata: dict, path: Optional[Path]) -> None:
    hints = []
    if "v_pred" in tensors:
        hints.append("a v_pred key")
    pred = str(metadata.get("modelspec.prediction_type", "")).lower()
    if pred.startswith("v"):
        hints.append(f"metadata modelspec.prediction_type={pred}")
    if str(metadata.get("ss_v_parameterization", "")).lower() == "true":
        hints.append("kohya metadata ss_v_parameterization=True")
    if path is not None:
        yaml = path.with_suffix(".yaml")
        if yaml.is_file() and re.search(r"parameterization:\s*['\"]?v['\"]?\s*$", yaml.read_text(errors="ignore"), re.M):
            hints.append(f"{yaml.name} says parameterization: v")
    key = UNET + "output_blocks.11.1.transformer_blocks.0.norm1.bias"
    if not hints and info.family == "SD2" and reader is not None and key in tensors:
        std = float(np.std(reader.read_float32(key)))
        if std > 0.5:
            hints.append(f"output norm statistic {std:.2f} > 0.5 (as ComfyUI tests for SD2 768-v)")
    if hints:
        info.prediction, info.prediction_hint = "v", "; ".join(hints)
    elif info.family in ("SD1", "SDXL"):
        info.prediction_hint = "no v-prediction marker (weights cannot show it; ε is the default)"
    elif info.family == "SD2":
        info.prediction_hint = "output norm statistic says ε (512-base style)"


def _check_position_ids(info: ArchInfo, tensors: dict, reader: Any) -> None:
    """Old merges often carry float position_ids that drifted off 0..76: the model then blurs tokens."""
    for key in ("cond_stage_model.transformer.text_model.embeddings.position_ids",
                "cond_stage_model.transformer.embeddings.position_ids"):
        if key in tensors:
            ids = reader.read_float32(key).reshape(-1)
            off = float(np.max(np.abs(ids - np.arange(ids.size)))) if ids.size else 0.0
            if off > 1e-3:
                info.notes.append(f"CLIP position_ids are damaged (off by up to {off:.3f}): some hosts round or "
                                  "rebuild them (UDW's standalone loader rebuilds them), others use them as "
                                  "stored, so results differ between hosts")
            return
