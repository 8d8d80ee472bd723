"""Pose transfer in the standalone path (diffusers): StableDiffusionControlNetPipeline with the
OpenPose ControlNet for pose B, plus reference-only attention from character A.

The reference runs through the UNet before every guided UNet call (noised to the same timestep
with fixed noise, same text embeddings, no ControlNet residuals) with `ReferenceAttnProcessor`s
recording each self-attention layer's keys/values; the real call then reads them (the maths:
udw.pose.refattn, shared with the ComfyUI node). Nothing is left patched after a call.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..core.errors import BadInput
from ..core.ports import Ports
from .refattn import Bank, ReferenceSettings, fit_latent, read_attention, reference_noise

FAMILIES = {768: "SD1.x", 1024: "SD2.x", 2048: "SDXL"}


@dataclass
class TransferParams:
    prompt: str
    negative: str = ""
    width: int = 512
    height: int = 768
    steps: int = 28
    cfg: float = 7.0
    seed: int = 0
    sampler: str = "euler_ancestral"
    scheduler: str = "normal"
    clip_skip: int = 2                 # UDW / NovelAI lineage
    control_strength: float = 1.0
    reference: ReferenceSettings = field(default_factory=ReferenceSettings)
    enabled: bool = True
    output_type: str = "pil"           # "latent": the final latents (tests, chaining)


# -- the ControlNet file ----------------------------------------------------------------------------

def controlnet_layout(keys: Sequence[str]) -> str:
    keys = set(keys)
    if "control_model.zero_convs.0.0.weight" in keys:
        return "original"
    if "zero_convs.0.0.weight" in keys:
        return "original-bare"
    if "controlnet_cond_embedding.conv_in.weight" in keys:
        return "diffusers"
    return "unknown"


def controlnet_context_dim(state: dict) -> Optional[int]:
    for key, value in state.items():
        if key.endswith("attn2.to_k.weight"):
            return int(value.shape[1])
    return None


def check_context(control_dim: Optional[int], model_dim: int, name: str) -> None:
    if control_dim is not None and control_dim != model_dim:
        family = FAMILIES.get(control_dim, f"text width {control_dim}")
        mine = FAMILIES.get(model_dim, f"text width {model_dim}")
        raise BadInput(f"{name} is a ControlNet for {family} but the model is {mine}",
                       f"use an OpenPose ControlNet made for {mine} (for UDW / SD1.5: control_v11p_sd15_openpose)")


def load_controlnet(path: Union[str, Path], unet: Any) -> Any:
    """A diffusers ControlNetModel for `unet` from a ControlNet file (original `control_model.*`
    layout like control_v11p_sd15_openpose, or diffusers layout)."""
    from diffusers import ControlNetModel
    from diffusers.loaders.single_file_utils import convert_controlnet_checkpoint

    from ..generate.pipeline import read_state_dict
    from ..generate.sd1 import no_init

    path = Path(path)
    state = read_state_dict(path)
    layout = controlnet_layout(state.keys())
    if layout == "unknown":
        raise BadInput(f"{path.name} is not a ControlNet (no zero_convs / controlnet_cond_embedding weights)",
                       "give an OpenPose ControlNet file such as control_v11p_sd15_openpose")
    check_context(controlnet_context_dim(state), int(unet.config.cross_attention_dim), path.name)
    if layout != "diffusers":
        state = convert_controlnet_checkpoint(state, {"layers_per_block": unet.config.layers_per_block})
    with no_init():
        model = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise BadInput(f"{path.name} does not fit this model's UNet ({len(missing)} weights missing, e.g. "
                       f"{missing[:2]}; {len(unexpected)} unexpected, e.g. {unexpected[:2]})",
                       "use a ControlNet made for this model's architecture")
    return model.to(unet.device, unet.dtype).eval().requires_grad_(False)


# -- reference attention ----------------------------------------------------------------------------

class ReferenceState:
    def __init__(self, settings: ReferenceSettings):
        self.settings = settings
        self.mode: Optional[str] = None          # None | "write" | "read"
        self.bank = Bank()
        self.uncond: Optional[torch.Tensor] = None


class ReferenceAttnProcessor:
    """Self-attention (attn1) processor: records k/v in the write pass, reads them in the read pass."""

    def __init__(self, state: ReferenceState, name: str, fallback: Any):
        self.state, self.name, self.fallback = state, name, fallback

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kw):
        state = self.state
        unusual = (encoder_hidden_states is not None or attention_mask is not None or hidden_states.ndim != 3
                   or attn.spatial_norm is not None or attn.group_norm is not None or attn.norm_q is not None)
        if state.mode is None or unusual:
            return self.fallback(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kw)
        residual = hidden_states
        q, k, v = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)

        def attention(q_, k_, v_):
            b, heads = q_.shape[0], attn.heads
            split = [t.view(b, -1, heads, t.shape[-1] // heads).transpose(1, 2) for t in (q_, k_, v_)]
            out = F.scaled_dot_product_attention(*split, dropout_p=0.0, is_causal=False)
            return out.transpose(1, 2).reshape(b, -1, q_.shape[-1]).to(q_.dtype)

        if state.mode == "write":
            state.bank.record(self.name, k, v)
            out = attention(q, k, v)
        else:
            stored = state.bank.get(self.name)
            out = attention(q, k, v) if stored is None else \
                read_attention(q, k, v, stored[0], stored[1], attention, state.uncond, state.settings)
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


@contextlib.contextmanager
def reference_attention(pipe: Any, latents: list[torch.Tensor], settings: ReferenceSettings,
                        seed: int = 0) -> Iterator[ReferenceState]:
    """Patch `pipe.unet` (processors + a forward wrapper) for the duration of one generation."""
    unet = pipe.unet
    state = ReferenceState(settings)
    original = dict(unet.attn_processors)
    unet.set_attn_processor({name: ReferenceAttnProcessor(state, name, proc) if ".attn1." in name else proc
                             for name, proc in original.items()})
    forward = unet.forward
    noises: dict = {}

    def wrapped(sample, timestep, encoder_hidden_states, *args, **kwargs):
        scheduler = pipe.scheduler  # read at call time: the caller may set the sampler after patching
        steps = scheduler.timesteps
        index = int((steps == timestep).nonzero()[0, 0]) if (steps == timestep).any() else 0
        fraction = index / max(len(steps), 1)
        if settings.strength <= 0 or not settings.start <= fraction <= settings.end:
            return forward(sample, timestep, encoder_hidden_states, *args, **kwargs)
        rows = sample.shape[0]
        cfg = bool(getattr(pipe, "do_classifier_free_guidance", False)) and rows % 2 == 0
        state.uncond = torch.arange(rows, device=sample.device) < rows // 2 if cfg else None
        ref_kwargs = {k: v for k, v in kwargs.items()
                      if k not in ("down_block_additional_residuals", "mid_block_additional_residual")}
        state.mode = "write"
        t = torch.as_tensor(timestep, device=sample.device).reshape(1)
        for i, latent in enumerate(latents):
            lat = fit_latent(latent, sample.shape[2], sample.shape[3]).to(sample.device, sample.dtype)
            if (i, lat.shape) not in noises:
                noises[(i, lat.shape)] = reference_noise(lat.shape, seed + i).to(sample.device, sample.dtype)
            noisy = scheduler.scale_model_input(scheduler.add_noise(lat, noises[(i, lat.shape)], t), timestep)
            forward(noisy.repeat(rows, 1, 1, 1), timestep, encoder_hidden_states, *args, **ref_kwargs)
        state.mode = "read"
        try:
            return forward(sample, timestep, encoder_hidden_states, *args, **kwargs)
        finally:
            state.mode = None
            state.bank.clear()

    unet.forward = wrapped
    try:
        yield state
    finally:
        del unet.forward                      # back to the class's forward
        unet.set_attn_processor(original)


def encode_reference(vae: Any, images: Sequence[Image.Image], width: int, height: int) -> list[torch.Tensor]:
    """Reference images -> scaled latents, cropped to the output's aspect and sized like it."""
    out = []
    for image in images:
        im = _cover(image.convert("RGB"), width, height)
        arr = torch.from_numpy(np.asarray(im, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        with torch.inference_mode():
            dist = vae.encode(arr.to(vae.device, vae.dtype)).latent_dist
        out.append((dist.mean * vae.config.scaling_factor).float())
    return out


def _cover(image: Image.Image, width: int, height: int) -> Image.Image:
    scale = max(width / image.width, height / image.height)
    w, h = max(width, round(image.width * scale)), max(height, round(image.height * scale))
    im = image.resize((w, h), Image.LANCZOS)
    x0, y0 = (w - width) // 2, (h - height) // 2
    return im.crop((x0, y0, x0 + width, y0 + height))


# -- generation -------------------------------------------------------------------------------------

def _initial_latents(pipe: Any, seed: int, width: int, height: int) -> torch.Tensor:
    gen = torch.Generator("cpu").manual_seed(int(seed))
    scale = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    shape = (1, pipe.unet.config.in_channels, height // scale, width // scale)
    return torch.randn(shape, generator=gen, dtype=torch.float32).to(pipe.device, pipe.unet.dtype)


def _embeds(pipe: Any, p: TransferParams):
    from ..generate.prompts import encode_pair

    return encode_pair(pipe.text_encoder, pipe.tokenizer, p.prompt, p.negative, p.clip_skip)


def _check(p: TransferParams) -> None:
    if p.width % 8 or p.height % 8 or min(p.width, p.height) < 16:
        raise BadInput(f"size {p.width}x{p.height} must be multiples of 8", "use multiples of 64, e.g. 512x768")
    if not 1 <= p.steps <= 500:
        raise BadInput(f"steps {p.steps} out of range", "use 1-500 steps")
    if not 0 <= p.control_strength <= 3:
        raise BadInput(f"control strength {p.control_strength} is outside 0..3", "use 0 (off) to 2")
    p.reference.validate()


def generate_plain(pipe: Any, p: TransferParams, ports: Optional[Ports] = None) -> Image.Image:
    """Plain txt2img with the same prompt handling, noise and scheduler (what "disabled" means)."""
    from ..generate.pipeline import make_scheduler

    ports = ports or Ports()
    pipe.scheduler = make_scheduler(p.sampler, p.scheduler)
    with torch.inference_mode():
        embeds, negative = _embeds(pipe, p)
        return pipe(prompt_embeds=embeds, negative_prompt_embeds=negative, width=p.width, height=p.height,
                    num_inference_steps=p.steps, guidance_scale=p.cfg,
                    latents=_initial_latents(pipe, p.seed, p.width, p.height), output_type=p.output_type,
                    callback_on_step_end=_progress(ports, p.steps)).images[0]


def transfer(pipe: Any, controlnet: Optional[Any], references: Sequence[Image.Image], pose_image: Optional[Image.Image],
             p: TransferParams, ports: Optional[Ports] = None) -> Image.Image:
    """Character from `references` in the pose drawn in `pose_image` (an OpenPose skeleton image).

    `pipe` is a diffusers StableDiffusionPipeline (udw.generate.load_pipeline(...).pipe).
    """
    from diffusers import StableDiffusionControlNetPipeline

    from ..generate.pipeline import make_scheduler

    _check(p)
    ports = ports or Ports()
    use_control = p.enabled and p.control_strength > 0
    use_reference = p.enabled and p.reference.strength > 0 and bool(references)
    if use_control and (controlnet is None or pose_image is None):
        raise BadInput("pose transfer needs an OpenPose ControlNet and a pose image",
                       "give --controlnet and --pose, or set the control strength to 0")
    if not (use_control or use_reference):
        return generate_plain(pipe, p, ports)
    if use_control:
        check_context(_controlnet_dim(controlnet), int(pipe.unet.config.cross_attention_dim), "the ControlNet")
    latents = encode_reference(pipe.vae, references, p.width, p.height) if use_reference else []
    runner = pipe
    if use_control:
        components = {k: v for k, v in pipe.components.items() if k != "controlnet"}
        runner = StableDiffusionControlNetPipeline(**components, controlnet=controlnet, requires_safety_checker=False)
        runner.set_progress_bar_config(disable=True)
    patch = reference_attention(runner, latents, p.reference, p.seed) if use_reference else contextlib.nullcontext()
    with patch:
        if not use_control:
            return generate_plain(runner, p, ports)
        runner.scheduler = make_scheduler(p.sampler, p.scheduler)
        with torch.inference_mode():
            embeds, negative = _embeds(pipe, p)
            return runner(prompt_embeds=embeds, negative_prompt_embeds=negative, image=pose_image.convert("RGB"),
                          width=p.width, height=p.height, num_inference_steps=p.steps, guidance_scale=p.cfg,
                          controlnet_conditioning_scale=float(p.control_strength),
                          control_guidance_start=p.reference.start, control_guidance_end=p.reference.end,
                          latents=_initial_latents(pipe, p.seed, p.width, p.height), output_type=p.output_type,
                          callback_on_step_end=_progress(ports, p.steps)).images[0]


def _controlnet_dim(controlnet: Any) -> Optional[int]:
    value = getattr(getattr(controlnet, "config", None), "cross_attention_dim", None)
    return int(value) if value else None


def _progress(ports: Ports, total: int):
    def step(pipe_, index, t, kwargs):
        ports.step(index + 1, total)
        return kwargs

    return step
