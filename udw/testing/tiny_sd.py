"""Tiny SD1-architecture checkpoints for tests and benchmarks (LoRAs: `tiny_lora`).

Files are written in the ORIGINAL single-file key layout (`model.diffusion_model.*`,
`first_stage_model.*`, `cond_stage_model.transformer.text_model.*`, plus the DDPM schedule
buffers), with deterministic random weights: each tensor comes from its own generator seeded by
(seed, key), so a file is the same whatever the order and a "perturbed copy" differs from its
base by a known relative amount. Tensors are produced one at a time (a full-size SD1 file of
~2 GB is written with a few MB of memory).

Profiles (`SDSpec`):
- TINY: small channels everywhere (a few MB); loads in the standalone diffusers path, whose
  configs are inferred from tensor shapes.
- COMFY: the smallest SD1 that ComfyUI's fixed SD1.5 detection accepts (UNet 320 channels and
  context 768, one attention level; full CLIP-L text encoder and full SD VAE, which ComfyUI
  builds from fixed configs). ~450 MB in fp16.
- FULL: real SD1.5 sizes (~2.1 GB in fp16), for benchmarks.

A tiny ControlNet can reuse `SDSpec` and `unet_tensor_specs` (same block layout and shapes).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..checkpoints.safetensors_io import DTYPES, bf16_from_float32, write_streaming

UNET = "model.diffusion_model."
VAE = "first_stage_model."
CLIP = "cond_stage_model.transformer.text_model."


@dataclass(frozen=True)
class SDSpec:
    """Shape facts of an SD1-architecture checkpoint (the LDM config, as data)."""

    model_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    attention_levels: tuple[int, ...] = (0,)   # SD1: (0, 1, 2) of 4 levels
    transformer_depth: int = 1
    num_heads: int = 8                         # SD1 convention (not stored in the weights)
    in_channels: int = 4                       # 9 for inpainting models
    context_dim: int = 64                      # = text hidden size
    text_layers: int = 2
    text_intermediate: int = 128
    vocab_size: int = 49408                    # the CLIP BPE vocabulary: keep it to use the real tokenizer
    max_positions: int = 77
    vae_ch: int = 32
    vae_ch_mult: tuple[int, ...] = (1, 1, 2, 2)    # 4 levels: 8x downscale, as in SD1
    vae_res_blocks: int = 1
    latent_channels: int = 4

    @property
    def text_hidden(self) -> int:
        return self.context_dim


TINY = SDSpec()
COMFY = SDSpec(model_channels=320, channel_mult=(1,), num_res_blocks=1, attention_levels=(0,),
               context_dim=768, text_layers=12, text_intermediate=3072, vae_ch=128,
               vae_ch_mult=(1, 2, 4, 4), vae_res_blocks=2)
FULL = SDSpec(model_channels=320, channel_mult=(1, 2, 4, 4), num_res_blocks=2, attention_levels=(0, 1, 2),
              context_dim=768, text_layers=12, text_intermediate=3072, vae_ch=128,
              vae_ch_mult=(1, 2, 4, 4), vae_res_blocks=2)
PROFILES = {"tiny": TINY, "comfy": COMFY, "full": FULL}

# (key, shape, init) where init is one of: w (fan-in scaled), b (bias), n (norm weight),
# nb (norm bias), emb, pos, ids (position ids), sched:<name>
Entry = tuple[str, tuple[int, ...], str]


def _norm(prefix: str, ch: int) -> list[Entry]:
    return [(prefix + ".weight", (ch,), "n"), (prefix + ".bias", (ch,), "nb")]


def _conv(prefix: str, cout: int, cin: int, k: int = 3, bias: bool = True) -> list[Entry]:
    out = [(prefix + ".weight", (cout, cin, k, k) if k else (cout, cin), "w")]
    return out + ([(prefix + ".bias", (cout,), "b")] if bias else [])


def _linear(prefix: str, cout: int, cin: int, bias: bool = True) -> list[Entry]:
    return _conv(prefix, cout, cin, 0, bias)


def _resblock(p: str, cin: int, cout: int, emb: int) -> list[Entry]:
    out = _norm(p + "in_layers.0", cin) + _conv(p + "in_layers.2", cout, cin)
    out += _linear(p + "emb_layers.1", cout, emb)
    out += _norm(p + "out_layers.0", cout) + _conv(p + "out_layers.3", cout, cout)
    if cin != cout:
        out += _conv(p + "skip_connection", cout, cin, 1)
    return out


def _transformer(p: str, ch: int, ctx: int, depth: int) -> list[Entry]:
    out = _norm(p + "norm", ch) + _conv(p + "proj_in", ch, ch, 1)
    for d in range(depth):
        t = f"{p}transformer_blocks.{d}."
        for attn, kv in (("attn1", ch), ("attn2", ctx)):
            out += _linear(t + attn + ".to_q", ch, ch, False) + _linear(t + attn + ".to_k", ch, kv, False)
            out += _linear(t + attn + ".to_v", ch, kv, False) + _linear(t + attn + ".to_out.0", ch, ch)
        out += _linear(t + "ff.net.0.proj", ch * 8, ch) + _linear(t + "ff.net.2", ch, ch * 4)
        for n in ("norm1", "norm2", "norm3"):
            out += _norm(t + n, ch)
    return out + _conv(p + "proj_out", ch, ch, 1)


def unet_tensor_specs(spec: SDSpec, prefix: str = UNET) -> list[Entry]:
    """The LDM UNet (openaimodel) keys and shapes for `spec`, in the original order."""
    c, emb = spec.model_channels, spec.model_channels * 4
    out = _linear(prefix + "time_embed.0", emb, c) + _linear(prefix + "time_embed.2", emb, emb)
    out += _conv(prefix + "input_blocks.0.0", c, spec.in_channels)
    chans, ch, i = [c], c, 1
    for level, mult in enumerate(spec.channel_mult):
        for _ in range(spec.num_res_blocks):
            out += _resblock(f"{prefix}input_blocks.{i}.0.", ch, mult * c, emb)
            ch = mult * c
            if level in spec.attention_levels:
                out += _transformer(f"{prefix}input_blocks.{i}.1.", ch, spec.context_dim, spec.transformer_depth)
            chans.append(ch)
            i += 1
        if level != len(spec.channel_mult) - 1:
            out += _conv(f"{prefix}input_blocks.{i}.0.op", ch, ch)
            chans.append(ch)
            i += 1
    out += _resblock(prefix + "middle_block.0.", ch, ch, emb)
    out += _transformer(prefix + "middle_block.1.", ch, spec.context_dim, spec.transformer_depth)
    out += _resblock(prefix + "middle_block.2.", ch, ch, emb)
    i = 0
    for level in reversed(range(len(spec.channel_mult))):
        for r in range(spec.num_res_blocks + 1):
            cout = spec.channel_mult[level] * c
            out += _resblock(f"{prefix}output_blocks.{i}.0.", ch + chans.pop(), cout, emb)
            ch, sub = cout, 1
            if level in spec.attention_levels:
                out += _transformer(f"{prefix}output_blocks.{i}.1.", ch, spec.context_dim, spec.transformer_depth)
                sub = 2
            if level and r == spec.num_res_blocks:
                out += _conv(f"{prefix}output_blocks.{i}.{sub}.conv", ch, ch)
            i += 1
    return out + _norm(prefix + "out.0", c) + _conv(prefix + "out.2", 4, c)


def _vae_block(p: str, cin: int, cout: int) -> list[Entry]:
    out = _norm(p + "norm1", cin) + _conv(p + "conv1", cout, cin) + _norm(p + "norm2", cout)
    out += _conv(p + "conv2", cout, cout)
    return out + (_conv(p + "nin_shortcut", cout, cin, 1) if cin != cout else [])


def _vae_mid(p: str, ch: int) -> list[Entry]:
    out = _vae_block(p + "block_1.", ch, ch) + _norm(p + "attn_1.norm", ch)
    for n in ("q", "k", "v", "proj_out"):
        out += _conv(f"{p}attn_1.{n}", ch, ch, 1)
    return out + _vae_block(p + "block_2.", ch, ch)


def vae_tensor_specs(spec: SDSpec, prefix: str = VAE) -> list[Entry]:
    """The LDM AutoencoderKL keys and shapes (encoder, quant convs, decoder)."""
    ch, z, mult = spec.vae_ch, spec.latent_channels, spec.vae_ch_mult
    out = _conv(prefix + "encoder.conv_in", ch, 3)
    cin = ch
    for level, m in enumerate(mult):
        for r in range(spec.vae_res_blocks):
            out += _vae_block(f"{prefix}encoder.down.{level}.block.{r}.", cin, ch * m)
            cin = ch * m
        if level != len(mult) - 1:
            out += _conv(f"{prefix}encoder.down.{level}.downsample.conv", cin, cin)
    out += _vae_mid(prefix + "encoder.mid.", cin) + _norm(prefix + "encoder.norm_out", cin)
    out += _conv(prefix + "encoder.conv_out", 2 * z, cin)
    out += _conv(prefix + "quant_conv", 2 * z, 2 * z, 1) + _conv(prefix + "post_quant_conv", z, z, 1)
    cin = ch * mult[-1]
    out += _conv(prefix + "decoder.conv_in", cin, z) + _vae_mid(prefix + "decoder.mid.", cin)
    ups: list[Entry] = []
    for level in reversed(range(len(mult))):
        block: list[Entry] = []
        for r in range(spec.vae_res_blocks + 1):
            block += _vae_block(f"{prefix}decoder.up.{level}.block.{r}.", cin, ch * mult[level])
            cin = ch * mult[level]
        if level:
            block += _conv(f"{prefix}decoder.up.{level}.upsample.conv", cin, cin)
        ups = block + ups                      # stored in level order, like the original files
    out += ups + _norm(prefix + "decoder.norm_out", ch) + _conv(prefix + "decoder.conv_out", 3, ch)
    return out


def clip_tensor_specs(spec: SDSpec, prefix: str = CLIP) -> list[Entry]:
    """The CLIP text model keys (transformers layout under cond_stage_model.transformer)."""
    h, inter = spec.text_hidden, spec.text_intermediate
    out: list[Entry] = [(prefix + "embeddings.token_embedding.weight", (spec.vocab_size, h), "emb"),
                        (prefix + "embeddings.position_embedding.weight", (spec.max_positions, h), "pos"),
                        (prefix + "embeddings.position_ids", (1, spec.max_positions), "ids")]
    for n in range(spec.text_layers):
        p = f"{prefix}encoder.layers.{n}."
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            out += _linear(p + "self_attn." + proj, h, h)
        out += _norm(p + "layer_norm1", h) + _linear(p + "mlp.fc1", inter, h)
        out += _linear(p + "mlp.fc2", h, inter) + _norm(p + "layer_norm2", h)
    return out + _norm(prefix + "final_layer_norm", h)


SCHEDULE = ("betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
            "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
            "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
            "posterior_mean_coef1", "posterior_mean_coef2")


def ddpm_schedule(n: int = 1000, start: float = 0.00085, end: float = 0.012) -> dict[str, np.ndarray]:
    """The DDPM buffers stored in original SD1 checkpoints (scaled-linear betas)."""
    betas = np.linspace(start ** 0.5, end ** 0.5, n, dtype=np.float64) ** 2
    ac = np.cumprod(1.0 - betas)
    prev = np.append(1.0, ac[:-1])
    post_var = betas * (1.0 - prev) / (1.0 - ac)
    return {"betas": betas, "alphas_cumprod": ac, "alphas_cumprod_prev": prev,
            "sqrt_alphas_cumprod": np.sqrt(ac), "sqrt_one_minus_alphas_cumprod": np.sqrt(1 - ac),
            "log_one_minus_alphas_cumprod": np.log(1 - ac), "sqrt_recip_alphas_cumprod": np.sqrt(1 / ac),
            "sqrt_recipm1_alphas_cumprod": np.sqrt(1 / ac - 1), "posterior_variance": post_var,
            "posterior_log_variance_clipped": np.log(np.maximum(post_var, 1e-20)),
            "posterior_mean_coef1": betas * np.sqrt(prev) / (1 - ac),
            "posterior_mean_coef2": (1 - prev) * np.sqrt(1 - betas) / (1 - ac)}


def ema_key(key: str) -> str:
    """LitEma's flat name for a UNet weight: model_ema.diffusion_modelinput_blocks00weight."""
    return "model_ema." + key[len("model."):].replace(".", "")


def checkpoint_entries(spec: SDSpec = TINY, vae: bool = True, text: bool = True, ema: bool = False,
                       schedule: bool = True) -> list[Entry]:
    unet = unet_tensor_specs(spec)
    out = ([("sched:" + k, (1000,), "sched") for k in SCHEDULE] if schedule else []) + unet
    if ema:
        out += [(ema_key(k), shape, init + "@" + k) for k, shape, init in unet]
        out += [("model_ema.decay", (), "const:0.9999"), ("model_ema.num_updates", (), "const:1000")]
    if text:
        out += clip_tensor_specs(spec)
    if vae:
        out += vae_tensor_specs(spec)
    return out


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(key.encode())])


def tensor_value(key: str, shape: tuple[int, ...], init: str, seed: int) -> np.ndarray:
    """The float64 value of one tensor (deterministic in seed and key)."""
    if init.startswith("sched"):
        return ddpm_schedule()[key.split(":", 1)[1]]
    if init.startswith("const:"):
        return np.full(shape, float(init.split(":", 1)[1]))
    if "@" in init:                                   # an EMA copy: the live weight, nudged
        init, live = init.split("@", 1)
        base = tensor_value(live, shape, init, seed)
        return base + 0.01 * np.std(base) * _rng(seed + 7, key).standard_normal(shape)
    if init == "ids":
        return np.arange(shape[-1], dtype=np.float64).reshape(shape)
    rng = _rng(seed, key)
    if init == "n":
        return 1.0 + 0.02 * rng.standard_normal(shape)
    if init in ("nb", "b"):
        return 0.01 * rng.standard_normal(shape)
    if init == "emb":
        return 0.02 * rng.standard_normal(shape)
    if init == "pos":
        return 0.01 * rng.standard_normal(shape)
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return rng.standard_normal(shape) / math.sqrt(max(fan_in, 1))


def _store(value: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "BF16":
        return bf16_from_float32(value.astype(np.float32))
    return value.astype(DTYPES[dtype][0])


def write_checkpoint(path: Union[str, Path], entries: list[Entry], seed: int = 0, dtype: str = "F16",
                     perturb: float = 0.0, perturb_seed: int = 1,
                     metadata: Optional[dict[str, str]] = None,
                     overrides: Optional[dict[str, np.ndarray]] = None) -> Path:
    """Write `entries` as safetensors. perturb: relative noise added to every weight (lineage tests)."""
    overrides = overrides or {}
    specs = []
    for key, shape, init in entries:
        real = key.split(":", 1)[1] if init == "sched" else key
        st = "I64" if init == "ids" else ("F32" if init in ("sched",) or init.startswith("const") else dtype)
        specs.append((real, st, shape))
    inits = {spec[0]: init for spec, (_, _, init) in zip(specs, entries)}
    sched_keys = {spec[0]: e[0] for spec, e in zip(specs, entries)}

    def produce(key: str, st: str, shape: tuple[int, ...]) -> np.ndarray:
        if key in overrides:
            return _store(np.asarray(overrides[key], np.float64).reshape(shape), st)
        init = inits[key]
        value = tensor_value(sched_keys[key], shape, init, seed)
        if perturb and init not in ("ids", "sched") and not init.startswith("const"):
            value = value + perturb * np.std(value) * _rng(perturb_seed, "perturb:" + key).standard_normal(shape)
        return _store(value, st)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    write_streaming(tmp, specs, produce, metadata)
    tmp.replace(path)
    return path


def build_checkpoint(path: Union[str, Path], spec: SDSpec = TINY, seed: int = 0, dtype: str = "F16",
                     ema: bool = False, vae: bool = True, perturb: float = 0.0, perturb_seed: int = 1,
                     metadata: Optional[dict[str, str]] = None) -> Path:
    """A complete SD1-architecture checkpoint (UNet, CLIP text encoder, VAE) at `path`."""
    return write_checkpoint(path, checkpoint_entries(spec, vae=vae, ema=ema), seed, dtype, perturb,
                            perturb_seed, metadata)


def build_inpainting(path: Union[str, Path], spec: SDSpec = TINY, seed: int = 0) -> Path:
    return build_checkpoint(path, replace(spec, in_channels=9), seed)


# -- other families, for detection and bad-input tests (small, not loadable) -------------------
def build_family_like(path: Union[str, Path], family: str, seed: int = 0) -> Path:
    """A small file with the keys and telltale shapes of another model family.

    family: "sdxl" (context 2048, ADM 2816, two text encoders), "sd2" (context 1024, linear
    projections, OpenCLIP text encoder) or "sd2-v" (the same, with the output norm statistics
    that mark v-prediction models).
    """
    u = UNET
    if family == "sdxl":
        entries: list[Entry] = [(u + "input_blocks.0.0.weight", (320, 4, 3, 3), "w"),
                                (u + "label_emb.0.0.weight", (8, 2816), "w"),
                                (u + "input_blocks.4.1.proj_in.weight", (640, 640), "w"),
                                (u + "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", (640, 2048), "w"),
                                (u + "input_blocks.4.1.transformer_blocks.1.attn2.to_k.weight", (640, 2048), "w"),
                                (u + "out.2.weight", (4, 320, 3, 3), "w"), (u + "out.2.bias", (4,), "b"),
                                ("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", (768,), "n"),
                                ("conditioner.embedders.1.model.ln_final.weight", (1280,), "n"),
                                ("first_stage_model.decoder.conv_in.weight", (512, 4, 3, 3), "w")]
    elif family in ("sd2", "sd2-v"):
        entries = [(u + "input_blocks.0.0.weight", (320, 4, 3, 3), "w"),
                   (u + "input_blocks.1.1.proj_in.weight", (320, 320), "w"),
                   (u + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", (320, 1024), "w"),
                   (u + "output_blocks.11.1.transformer_blocks.0.norm1.bias", (320,), "b"),
                   (u + "out.2.weight", (4, 320, 3, 3), "w"), (u + "out.2.bias", (4,), "b"),
                   ("cond_stage_model.model.ln_final.weight", (1024,), "n"),
                   ("cond_stage_model.model.token_embedding.weight", (64, 1024), "emb")]
    else:
        raise ValueError(f"unknown family {family!r}")
    overrides = {}
    if family == "sd2-v":  # the statistic ComfyUI uses to tell 768-v models from 512-base ones
        overrides[u + "output_blocks.11.1.transformer_blocks.0.norm1.bias"] = \
            _rng(seed, "v").standard_normal(320) * 1.5
    return write_checkpoint(path, entries, seed, "F16", overrides=overrides)
