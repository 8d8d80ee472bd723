"""LoRAs and sampling passes: the parts of a generation that A1111's flat infotext spreads over
several keys and ComfyUI over several nodes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Optional

MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf")


def model_stem(file: str) -> str:
    """A1111's name for a model file: the file name without folders and without its suffix."""
    name = PurePosixPath(str(file).replace("\\", "/")).name
    return name[: -len(s)] if (s := next((s for s in MODEL_SUFFIXES if name.lower().endswith(s)), "")) else name


@dataclass
class Lora:
    """One LoRA as applied: `weight` to the UNet (model), `clip_weight` to the text encoder."""

    name: str                            # A1111's name: the file stem
    weight: float = 1.0
    clip_weight: Optional[float] = None  # None: the same as `weight`
    file: Optional[str] = None           # as the host names it, e.g. `styles/x.safetensors`
    hash: Optional[str] = None           # A1111's short hash (`Lora hashes`)

    @classmethod
    def from_file(cls, file: str, weight: float = 1.0, clip_weight: Optional[float] = None,
                  hash: Optional[str] = None) -> "Lora":
        clip = None if clip_weight is None or clip_weight == weight else float(clip_weight)
        return cls(model_stem(file), float(weight), clip, str(file), hash)

    @property
    def te_weight(self) -> float:
        return self.weight if self.clip_weight is None else self.clip_weight

    def tag(self) -> str:
        """The prompt tag A1111 reads: `<lora:name:te>` or `<lora:name:te:unet>` when they differ."""
        if self.te_weight == self.weight:
            return f"<lora:{self.name}:{self.weight:g}>"
        return f"<lora:{self.name}:{self.te_weight:g}:{self.weight:g}>"

    def describe(self) -> str:
        weights = f"{self.weight:g}" + (f", text encoder {self.clip_weight:g}" if self.clip_weight is not None else "")
        bits = [f"{self.name} ({weights})"]
        if self.file and self.file != self.name:
            bits.append(f"file {self.file}")
        if self.hash:
            bits.append(f"hash {self.hash}")
        return " ".join(bits)


@dataclass
class Pass:
    """One sampling pass. `kind`: base (from an empty latent or an input image), hires or refiner."""

    kind: str = "base"
    seed: Optional[int] = None
    steps: Optional[int] = None
    cfg: Optional[float] = None
    sampler: Optional[str] = None
    scheduler: Optional[str] = None
    denoise: Optional[float] = None
    width: Optional[int] = None
    height: Optional[int] = None
    model: Optional[str] = None          # the checkpoint of this pass when it is not the base one
    upscale: Optional[float] = None      # hires: the factor over the base size
    upscaler: Optional[str] = None
    start_step: Optional[int] = None     # KSamplerAdvanced: where the pass starts / ends
    end_step: Optional[int] = None
    txt2img: Optional[bool] = None       # base: the latent started empty
    node: Optional[str] = None           # ComfyUI node id
    prompt: Optional[str] = None         # a later pass's own prompt, when it is not the base one
    negative: Optional[str] = None

    def describe(self) -> str:
        bits = [self.kind]
        if self.width and self.height:
            bits.append(f"{self.width}x{self.height}")
        for label, value in (("seed", self.seed), ("steps", self.steps), ("CFG", self.cfg),
                             ("denoise", self.denoise), ("upscale", self.upscale)):
            if value is not None:
                bits.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
        if self.sampler:
            bits.append(self.sampler + (f" {self.scheduler}" if self.scheduler else ""))
        for label, value in (("upscaler", self.upscaler), ("model", self.model), ("node", self.node),
                             ("prompt", self.prompt), ("negative", self.negative)):
            if value:
                bits.append(f"{label} {value}")
        if self.start_step is not None or self.end_step is not None:
            bits.append(f"steps {self.start_step or 0}-{self.end_step if self.end_step is not None else 'end'}")
        return ", ".join(bits)
