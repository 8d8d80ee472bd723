"""txt2img (+ optional hi-res pass) with a loaded pipeline; PNGs carry A1111 `parameters` (LoRAs as
`<lora:name:w>` tags and `Lora hashes`, as A1111 writes them) and UDW's exact `udw` chunk.

Seeds follow A1111's batch convention (image i uses seed + i); the initial noise is drawn on
the CPU from torch.Generator(seed), so a seed gives the same image on any device.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Optional, Union

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ..core.atomic import write_with
from ..core.errors import BadInput
from ..core.ports import Ports
from ..gallery.meta_write import png_info as gallery_png_info
from ..looks.infotext import GenParams
from .pipeline import Loaded, make_scheduler
from .prompts import encode_pair


def _latents(pipe, seed: int, width: int, height: int):
    import torch

    gen = torch.Generator("cpu").manual_seed(int(seed))
    scale = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    shape = (1, pipe.unet.config.in_channels, height // scale, width // scale)
    return torch.randn(shape, generator=gen, dtype=torch.float32).to(pipe.device, pipe.unet.dtype)


def _check(p: GenParams, scale: int) -> None:
    scale = max(8, scale)                      # diffusers needs multiples of 8 whatever the VAE
    if p.width % scale or p.height % scale or p.width < scale * 2 or p.height < scale * 2:
        raise BadInput(f"size {p.width}x{p.height} must be multiples of {scale} (and at least {2 * scale})",
                       "pick a size from a look, or multiples of 64")
    if not 1 <= p.steps <= 500:
        raise BadInput(f"steps {p.steps} out of range", "use 1-500 steps")


def generate(loaded: Loaded, params: GenParams, count: int = 1, ports: Optional[Ports] = None) -> list[tuple[Image.Image, GenParams]]:
    """`count` images (seeds params.seed, +1, ...); each with its own completed GenParams."""
    import torch

    ports = ports or Ports()
    pipe = loaded.pipe
    scale = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    _check(params, scale)
    hires = bool(params.hires_scale and params.hires_scale != 1)
    per_image = params.steps + (params.hires_steps or params.steps if hires else 0)
    total, done = per_image * count, 0
    out = []
    for i in range(count):
        p = replace(params, seed=params.seed + i, model_name=loaded.name,
                    model_hash=loaded.hashes.autov2 if loaded.hashes else None,
                    vae_name=loaded.vae.name if loaded.vae else None,
                    vae_hash=loaded.vae_hashes.autov2 if loaded.vae_hashes else None,
                    loras=list(loaded.loras) or params.loras)

        def step(pipe_, index, t, kwargs, _base=done):
            ports.step(_base + index + 1, total)
            return kwargs

        pipe.scheduler = make_scheduler(p.sampler, p.scheduler, loaded.arch.prediction)
        with torch.inference_mode():
            embeds, negative = encode_pair(pipe.text_encoder, pipe.tokenizer, p.prompt, p.negative, p.clip_skip)
            image = pipe(prompt_embeds=embeds, negative_prompt_embeds=negative, width=p.width, height=p.height,
                         num_inference_steps=p.steps, guidance_scale=p.cfg,
                         latents=_latents(pipe, p.seed, p.width, p.height), callback_on_step_end=step).images[0]
        done += p.steps
        if hires:
            image = _hires(loaded, p, image, ports, done, total)
            done += p.hires_steps or p.steps
        out.append((image, p))
    return out


def _hires(loaded: Loaded, p: GenParams, image: Image.Image, ports: Ports, base: int, total: int) -> Image.Image:
    """A1111-style hi-res fix: upscale the image (Lanczos), then img2img at `denoise`."""
    import torch
    from diffusers import StableDiffusionImg2ImgPipeline

    width, height = p.hires_size()
    denoise = p.denoise if p.denoise is not None else 0.45
    steps = p.hires_steps or p.steps
    img2img = StableDiffusionImg2ImgPipeline(**loaded.pipe.components)
    img2img.set_progress_bar_config(disable=True)
    img2img.scheduler = make_scheduler(p.sampler, p.scheduler, loaded.arch.prediction)
    gen = torch.Generator("cpu").manual_seed(int(p.seed))

    def step(pipe_, index, t, kwargs):
        ports.step(base + index + 1, total)
        return kwargs

    with torch.inference_mode():
        embeds, negative = encode_pair(img2img.text_encoder, img2img.tokenizer, p.prompt, p.negative, p.clip_skip)
        return img2img(prompt_embeds=embeds, negative_prompt_embeds=negative,
                       image=image.resize((width, height), Image.LANCZOS), strength=denoise,
                       num_inference_steps=max(steps, math.ceil(steps / max(denoise, 1e-3))),
                       guidance_scale=p.cfg, generator=gen, callback_on_step_end=step).images[0]


def png_info(params: GenParams) -> PngInfo:
    """A1111's `parameters` and our exact `udw` chunk, both from the one generation model."""
    return gallery_png_info(params.to_info())


def next_name(folder: Path, seed: int) -> Path:
    """A1111-style `00012-<seed>.png`: the counter continues after the highest one present."""
    numbers = [int(m.group(1)) for f in folder.glob("*.png") if (m := re.match(r"(\d{5})-", f.name))] \
        if folder.is_dir() else []
    return folder / f"{(max(numbers) + 1) if numbers else 0:05d}-{seed}.png"


def save_png(image: Image.Image, params: GenParams, folder: Union[str, Path]) -> Path:
    """Write the image with its `parameters` text, atomically (never a half-written PNG)."""
    folder = Path(folder)
    target = next_name(folder, params.seed)
    write_with(target, lambda tmp: image.save(tmp, format="PNG", pnginfo=png_info(params)))
    return target
