"""SD1 diffusers models built from a single-file checkpoint with the configs shipped here.

The shipped SD1.5 configs are facts; the widths and depths a given file actually has (in
channels 9 for inpainting, reduced test models, ...) are read from its tensor shapes, so the
configs always fit the file. Keys are converted with diffusers' own LDM converters; models are
created without random initialisation and loaded strictly, so a missing or extra tensor fails
loudly instead of generating noise.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from pathlib import Path
from typing import Any, Iterator

from ..checkpoints.lineage import normalize_key
from ..core.errors import BadInput

CONFIGS = Path(__file__).with_name("configs") / "sd15"
UNET, VAE, CLIP = "model.diffusion_model.", "first_stage_model.", "cond_stage_model.transformer.text_model."


def shipped_config(name: str) -> dict[str, Any]:
    data = json.loads((CONFIGS / f"{name}.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _shape(sd: dict, key: str) -> tuple[int, ...]:
    try:
        return tuple(sd[key].shape)
    except KeyError:
        raise BadInput(f"the checkpoint lacks {key}", "the file is not a complete SD1 checkpoint") from None


def unet_config(sd: dict) -> dict[str, Any]:
    """The diffusers UNet config for the LDM UNet in `sd` (key -> tensor)."""
    cfg = shipped_config("unet")
    c, cin = _shape(sd, UNET + "input_blocks.0.0.weight")[:2]
    levels: list[dict] = [{"res": 0, "attn": False, "ch": c}]
    i = 1
    while any(k.startswith(f"{UNET}input_blocks.{i}.") for k in sd):
        if f"{UNET}input_blocks.{i}.0.op.weight" in sd:
            levels.append({"res": 0, "attn": False, "ch": c})
        else:
            lv = levels[-1]
            lv["res"] += 1
            lv["ch"] = _shape(sd, f"{UNET}input_blocks.{i}.0.out_layers.3.weight")[0]
            lv["attn"] |= f"{UNET}input_blocks.{i}.1.proj_in.weight" in sd
        i += 1
    depth = len({k.split("transformer_blocks.")[1].split(".")[0] for k in sd
                 if k.startswith(UNET + "middle_block.1.transformer_blocks.")})
    proj = next(sd[k] for k in sd if k.startswith(UNET) and k.endswith("proj_in.weight"))
    to_k = next(sd[k] for k in sd if k.startswith(UNET) and k.endswith("attn2.to_k.weight"))
    cfg.update(in_channels=int(cin), out_channels=int(_shape(sd, UNET + "out.2.weight")[0]),
               block_out_channels=[int(lv["ch"]) for lv in levels], layers_per_block=int(levels[0]["res"]),
               down_block_types=["CrossAttnDownBlock2D" if lv["attn"] else "DownBlock2D" for lv in levels],
               up_block_types=["CrossAttnUpBlock2D" if lv["attn"] else "UpBlock2D" for lv in reversed(levels)],
               cross_attention_dim=int(to_k.shape[1]), transformer_layers_per_block=max(depth, 1),
               use_linear_projection=len(proj.shape) == 2)
    return cfg


def vae_config(sd: dict, prefix: str = VAE) -> dict[str, Any]:
    cfg = shipped_config("vae")
    ch = _shape(sd, prefix + "encoder.conv_in.weight")[0]
    down = re.compile(re.escape(prefix) + r"encoder\.down\.(\d+)\.block\.(\d+)\.")
    found = [(int(m.group(1)), int(m.group(2))) for k in sd if (m := down.match(k))]
    n = 1 + max(lv for lv, _ in found)
    mult = [_shape(sd, f"{prefix}encoder.down.{lv}.block.0.conv1.weight")[0] for lv in range(n)]
    res = 1 + max(b for lv, b in found if lv == 0)
    cfg.update(block_out_channels=[int(m) for m in mult], layers_per_block=int(res),
               down_block_types=["DownEncoderBlock2D"] * n, up_block_types=["UpDecoderBlock2D"] * n,
               latent_channels=int(_shape(sd, prefix + "decoder.conv_in.weight")[1]))
    if ch != mult[0]:
        raise BadInput("unexpected VAE layout (first block width differs from conv_in)", "use an SD1 VAE")
    return cfg


def text_config(sd: dict) -> dict[str, Any]:
    cfg = shipped_config("text_encoder")
    vocab, hidden = _shape(sd, CLIP + "embeddings.token_embedding.weight")
    layers = len({m.group(1) for k in sd if (m := re.match(re.escape(CLIP) + r"encoder\.layers\.(\d+)\.", k))})
    cfg.update(vocab_size=int(vocab), hidden_size=int(hidden), num_hidden_layers=layers,
               intermediate_size=int(_shape(sd, CLIP + "encoder.layers.0.mlp.fc1.weight")[0]),
               max_position_embeddings=int(_shape(sd, CLIP + "embeddings.position_embedding.weight")[0]),
               num_attention_heads=max(1, int(hidden) // 64), projection_dim=int(hidden))
    return cfg


@contextlib.contextmanager
def no_init() -> Iterator[None]:
    """Skip random weight initialisation while building models that are loaded right after."""
    import torch

    names = ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "trunc_normal_",
             "xavier_uniform_", "xavier_normal_", "constant_", "zeros_", "ones_")
    saved = {n: getattr(torch.nn.init, n) for n in names}
    resets = {cls: cls.reset_parameters for cls in (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Embedding,
                                                      torch.nn.LayerNorm, torch.nn.GroupNorm)}
    try:
        for n in names:
            setattr(torch.nn.init, n, lambda t, *a, **k: t)
        for cls in resets:
            cls.reset_parameters = lambda self: None
        yield
    finally:
        for n, fn in saved.items():
            setattr(torch.nn.init, n, fn)
        for cls, fn in resets.items():
            cls.reset_parameters = fn


def _strict_load(model: Any, state: dict, what: str) -> None:
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise BadInput(f"the checkpoint's {what} does not match the SD1 layout "
                       f"({len(missing)} missing, e.g. {missing[:2]}; {len(unexpected)} unexpected, e.g. {unexpected[:2]})",
                       "the file is damaged or not an SD1 checkpoint")


def build_models(sd: dict, vae_sd: dict | None = None, dtype: Any = None) -> dict[str, Any]:
    """unet, vae, text_encoder (diffusers/transformers modules, eval mode) from an LDM state dict."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.loaders.single_file_utils import (convert_ldm_clip_checkpoint, convert_ldm_unet_checkpoint,
                                                     convert_ldm_vae_checkpoint)
    from transformers import CLIPTextConfig, CLIPTextModel

    sd = {normalize_key(k): v for k, v in sd.items()}
    vae_src = sd if vae_sd is None else {VAE + k if not k.startswith(VAE) else k: v for k, v in vae_sd.items()}
    if not any(k.startswith(VAE + "decoder.") for k in vae_src):
        raise BadInput("the checkpoint has no VAE", "give a separate VAE file (--vae)")
    dtype = dtype or torch.float32
    with no_init():
        ucfg = unet_config(sd)
        unet = UNet2DConditionModel(**ucfg)
        _strict_load(unet, convert_ldm_unet_checkpoint(sd, ucfg), "UNet")
        vcfg = vae_config(vae_src)
        vae = AutoencoderKL(**vcfg)
        _strict_load(vae, convert_ldm_vae_checkpoint(vae_src, vcfg), "VAE")
        text = CLIPTextModel(CLIPTextConfig(**text_config(sd)))
        tsd = convert_ldm_clip_checkpoint({k: v for k, v in sd.items() if k.startswith(CLIP)})
        tsd.pop("text_model.embeddings.position_ids", None)   # rebuilt as 0..76 (old merges damage it)
        if "text_model.embeddings.token_embedding.weight" not in text.state_dict():  # transformers 5 layout
            tsd = {k[len("text_model."):] if k.startswith("text_model.") else k: v for k, v in tsd.items()}
        _strict_load(text, tsd, "text encoder")
    for m in (unet, vae, text):
        m.to(dtype=dtype).eval().requires_grad_(False)
    return {"unet": unet, "vae": vae, "text_encoder": text, "configs": copy.deepcopy((ucfg, vcfg))}
