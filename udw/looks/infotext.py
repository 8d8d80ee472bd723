"""A1111-style generation parameters ("infotext"), as written to the PNG `parameters` text.

Layout and quoting follow A1111 v1.10 (modules/processing.py create_infotext and
modules/infotext_utils.quote): the prompt, then `Negative prompt: ...`, then one line of
`Key: value` pairs in A1111's key order; values holding a comma, colon or newline are quoted
as JSON strings. A1111's "Send to txt2img" parses exactly this text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from .. import __version__
from .looks import Look
from .samplers import a1111_names


def quote(value: Any) -> str:
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass
class GenParams:
    prompt: str
    negative: str
    steps: int
    sampler: str                     # ComfyUI id
    scheduler: str
    cfg: float
    seed: int
    width: int
    height: int
    clip_skip: int = 2
    model_name: Optional[str] = None
    model_hash: Optional[str] = None   # AutoV2 (10 hex)
    vae_name: Optional[str] = None
    vae_hash: Optional[str] = None
    hires_scale: Optional[float] = None
    hires_steps: Optional[int] = None
    hires_upscaler: Optional[str] = None
    denoise: Optional[float] = None
    loras: dict[str, str] = field(default_factory=dict)     # name -> short hash
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_look(cls, look: Look, prompt: str, seed: int, hires: bool = False, **overrides: Any) -> "GenParams":
        p = cls(prompt=look.positive(prompt), negative=look.negative, steps=look.steps, sampler=look.sampler,
                scheduler=look.scheduler, cfg=look.cfg, seed=seed, width=look.width, height=look.height,
                clip_skip=look.clip_skip)
        if hires and look.hires:
            p.hires_scale, p.hires_steps = look.hires.scale, look.hires.steps or None
            p.hires_upscaler, p.denoise = look.hires.upscaler, look.hires.denoise
        for k, v in overrides.items():
            if v is not None:
                setattr(p, k, v)
        return p


def format_infotext(p: GenParams) -> str:
    sampler, schedule = a1111_names(p.sampler, p.scheduler)
    params: dict[str, Any] = {
        "Steps": p.steps, "Sampler": sampler, "Schedule type": schedule, "CFG scale": _num(p.cfg),
        "Seed": p.seed, "Size": f"{p.width}x{p.height}", "Model hash": p.model_hash, "Model": p.model_name,
        "VAE hash": p.vae_hash, "VAE": p.vae_name,
        "Denoising strength": _num(p.denoise) if p.denoise is not None else None,
        "Clip skip": p.clip_skip if p.clip_skip > 1 else None,
        "Hires upscale": _num(p.hires_scale) if p.hires_scale else None,
        "Hires steps": p.hires_steps, "Hires upscaler": p.hires_upscaler if p.hires_scale else None,
        "Lora hashes": ", ".join(f"{k}: {v}" for k, v in p.loras.items()) or None,
        **p.extra,
        "Version": f"udw {__version__}",
    }
    line = ", ".join(f"{k}: {quote(v)}" for k, v in params.items() if v is not None)
    negative = f"\nNegative prompt: {p.negative}" if p.negative else ""
    return f"{p.prompt}{negative}\n{line}".strip()
