"""Tiny kohya-ss LoRAs for the SD1 layouts of `tiny_sd` (tests and benchmarks)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator, Optional, Union

import numpy as np

from ..checkpoints.safetensors_io import write_streaming
from .tiny_sd import TINY, SDSpec, _rng, _store


def _unet_attention_modules(spec: SDSpec) -> Iterator[tuple[str, int, int]]:
    """(diffusers module name, out, in) of the Linear layers that kohya LoRAs target."""
    c = spec.model_channels
    places = []
    for level in spec.attention_levels:
        ch = spec.channel_mult[level] * c
        places += [(f"down_blocks.{level}.attentions.{r}", ch) for r in range(spec.num_res_blocks)]
        up = len(spec.channel_mult) - 1 - level
        places += [(f"up_blocks.{up}.attentions.{r}", ch) for r in range(spec.num_res_blocks + 1)]
    places.append(("mid_block.attentions.0", spec.channel_mult[-1] * c))
    for place, ch in places:
        for d in range(spec.transformer_depth):
            t = f"{place}.transformer_blocks.{d}"
            for attn, kv in (("attn1", ch), ("attn2", spec.context_dim)):
                yield f"{t}.{attn}.to_q", ch, ch
                yield f"{t}.{attn}.to_k", ch, kv
                yield f"{t}.{attn}.to_v", ch, kv
                yield f"{t}.{attn}.to_out.0", ch, ch
            yield f"{t}.ff.net.0.proj", ch * 8, ch
            yield f"{t}.ff.net.2", ch, ch * 4


def _text_modules(spec: SDSpec) -> Iterator[tuple[str, int, int]]:
    h, inter = spec.text_hidden, spec.text_intermediate
    for n in range(spec.text_layers):
        p = f"text_model.encoder.layers.{n}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            yield f"{p}.self_attn.{proj}", h, h
        yield f"{p}.mlp.fc1", inter, h
        yield f"{p}.mlp.fc2", h, inter


def lora_entries(spec: SDSpec = TINY, rank: int = 4, unet: bool = True, text: bool = True,
                 family: str = "sd1") -> list[tuple[str, tuple[int, ...], float]]:
    """(key, shape, scale) of a kohya LoRA; family "sdxl" gives SDXL-style names and widths."""
    mods: list[tuple[str, int, int]] = []
    if family == "sdxl":
        mods = [("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k", 640, 2048),
                ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q", 640, 640),
                ("lora_te1_text_model_encoder_layers_0_self_attn_q_proj", 768, 768),
                ("lora_te2_text_model_encoder_layers_0_self_attn_q_proj", 1280, 1280)]
    else:
        if unet:
            mods += [("lora_unet_" + m.replace(".", "_"), o, i) for m, o, i in _unet_attention_modules(spec)]
        if text:
            mods += [("lora_te_" + m.replace(".", "_"), o, i) for m, o, i in _text_modules(spec)]
    out = []
    for name, o, i in mods:
        out += [(name + ".lora_down.weight", (rank, i), 1.0 / math.sqrt(i)),
                (name + ".lora_up.weight", (o, rank), 0.5 / math.sqrt(rank)),
                (name + ".alpha", (), float(rank))]
    return out


def build_lora(path: Union[str, Path], spec: SDSpec = TINY, rank: int = 4, seed: int = 0,
               family: str = "sd1", unet: bool = True, text: bool = True, dtype: str = "F16",
               metadata: Optional[dict[str, str]] = None) -> Path:
    """A kohya-ss LoRA (lora_unet_* / lora_te_* with lora_down, lora_up and alpha) for `spec`."""
    entries = lora_entries(spec, rank, unet, text, family)
    scales = {k: s for k, _, s in entries}
    specs = [(k, "F32" if k.endswith(".alpha") else dtype, shape) for k, shape, _ in entries]

    def produce(key: str, st: str, shape: tuple[int, ...]) -> np.ndarray:
        if key.endswith(".alpha"):
            return np.asarray(scales[key], np.float32).reshape(shape)
        return _store(_rng(seed, key).standard_normal(shape) * scales[key], st)

    meta = {"ss_network_module": "networks.lora", "ss_network_dim": str(rank),
            "ss_network_alpha": str(rank), "ss_base_model_version": "sd_v1" if family == "sd1" else "sdxl_base_v1-0"}
    meta.update(metadata or {})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    write_streaming(tmp, specs, produce, meta)
    tmp.replace(path)
    return path
