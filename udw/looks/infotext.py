"""A1111-style generation parameters ("infotext") of UDW's own generations.

`GenParams` is what `udw generate` is asked to do; `to_info()` turns it into the one generation model
(`udw.gallery.geninfo.GenerationInfo`, passes and LoRAs included) that writes the infotext in
A1111 v1.10's layout (modules/processing.py create_infotext): the prompt with a `<lora:name:w>`
tag per LoRA, then `Negative prompt: ...`, then `Key: value` pairs in A1111's key order, quoted
as A1111 quotes them. A1111's "Send to txt2img" parses exactly this text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .. import __version__
from ..gallery.geninfo import GenerationInfo
from ..gallery.infotext import quote
from ..gallery.passes import Lora, Pass
from .looks import Look
from .samplers import a1111_names

__all__ = ["GenParams", "format_infotext", "quote"]


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
    loras: list[Lora] = field(default_factory=list)         # as merged: file, weight, short hash
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


    def hires_size(self) -> tuple[int, int]:
        """A1111's hires size: the base size times the scale, to multiples of 8."""
        scale = self.hires_scale or 1
        return int(round(self.width * scale / 8) * 8), int(round(self.height * scale / 8) * 8)

    def to_info(self) -> GenerationInfo:
        sampler, schedule = a1111_names(self.sampler, self.scheduler)
        info = GenerationInfo(
            prompt=self.prompt, negative=self.negative, seed=self.seed, steps=self.steps, cfg=self.cfg,
            sampler=sampler, scheduler=schedule, width=self.width, height=self.height, model=self.model_name,
            model_hash=self.model_hash, vae=self.vae_name, vae_hash=self.vae_hash, loras=list(self.loras),
            denoise=self.denoise, clip_skip=self.clip_skip if self.clip_skip > 1 else None,
            params={**self.extra, "Version": f"udw {__version__}"}, source="udw")
        info.passes = [Pass("base", self.seed, self.steps, self.cfg, sampler, schedule, None, self.width,
                            self.height, txt2img=True)]
        if self.hires_scale:
            width, height = self.hires_size()
            info.passes.append(Pass("hires", self.seed, self.hires_steps, self.cfg, sampler, schedule,
                                    self.denoise, width, height, upscale=self.hires_scale,
                                    upscaler=self.hires_upscaler))
        return info


def format_infotext(p: GenParams) -> str:
    return p.to_info().to_infotext()
