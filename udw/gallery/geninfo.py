"""Generation parameters of an image, whoever made it (A1111, ComfyUI, UDW Studio)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from . import infotext


def _num(value: Any, kind: type) -> Optional[Any]:
    try:
        return kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class GenerationInfo:
    """What made an image. `params` keeps every key-value pair as read (A1111 spelling)."""

    prompt: str = ""
    negative: str = ""
    seed: Optional[int] = None
    steps: Optional[int] = None
    cfg: Optional[float] = None
    sampler: Optional[str] = None
    scheduler: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    model: Optional[str] = None
    model_hash: Optional[str] = None
    loras: list[tuple[str, float]] = field(default_factory=list)
    denoise: Optional[float] = None
    clip_skip: Optional[int] = None
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""                     # a1111 | comfyui | udw
    samplers: list[dict] = field(default_factory=list)  # ComfyUI: every sampler node found

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self, seed: bool = True) -> str:
        """One line for captions: seed, steps, sampler, size."""
        bits = []
        if seed and self.seed is not None:
            bits.append(f"seed {self.seed}")
        if self.steps is not None:
            bits.append(f"{self.steps} steps")
        if self.cfg is not None:
            bits.append(f"CFG {self.cfg:g}")
        if self.sampler:
            bits.append(self.sampler + (f" {self.scheduler}" if self.scheduler else ""))
        if self.width and self.height:
            bits.append(f"{self.width}x{self.height}")
        return ", ".join(bits)

    def infotext_pairs(self) -> list[tuple[str, Any]]:
        """Ordered (key, value) pairs in A1111's spelling (known fields first, then the rest)."""
        sampler = infotext.A1111_SAMPLERS.get(self.sampler or "", self.sampler)
        scheduler = infotext.A1111_SCHEDULERS.get(self.scheduler or "", self.scheduler)
        pairs: list[tuple[str, Any]] = [
            ("Steps", self.steps), ("Sampler", sampler), ("Schedule type", scheduler),
            ("CFG scale", f"{self.cfg:g}" if self.cfg is not None else None), ("Seed", self.seed),
            ("Size", f"{self.width}x{self.height}" if self.width and self.height else None),
            ("Model hash", self.model_hash), ("Model", self.model),
            ("Denoising strength", f"{self.denoise:g}" if self.denoise not in (None, 1.0) else None),
            ("Clip skip", self.clip_skip),
        ]
        if self.loras and not infotext.loras_in_prompt(self.prompt):
            pairs.append(("Lora", ", ".join(f"{n}:{w:g}" for n, w in self.loras)))
        taken = {k for k, _ in pairs} | {"Size-1", "Size-2", "Lora hashes"} | {
            k for k in self.params if k.endswith(("-1", "-2"))}
        pairs += [(k, v) for k, v in self.params.items() if k not in taken and not any(c in k for c in ":,\n")]
        return pairs

    def to_infotext(self) -> str:
        return infotext.format_infotext(self.prompt, self.negative, self.infotext_pairs())

    @classmethod
    def from_infotext(cls, text: str, source: str = "a1111") -> "GenerationInfo":
        prompt, negative, params = infotext.parse(text)
        info = cls(prompt=prompt, negative=negative, params=params, source=source)
        info.seed = _num(params.get("Seed"), int)
        info.steps = _num(params.get("Steps"), int)
        info.cfg = _num(params.get("CFG scale"), float)
        info.sampler = params.get("Sampler") or None
        info.scheduler = params.get("Schedule type") or None
        info.width = _num(params.get("Size-1"), int)
        info.height = _num(params.get("Size-2"), int)
        info.model = params.get("Model") or None
        info.model_hash = params.get("Model hash") or None
        info.denoise = _num(params.get("Denoising strength"), float)
        info.clip_skip = _num(params.get("Clip skip"), int)
        info.loras = infotext.loras_in_prompt(prompt)
        if str(params.get("Version", "")).startswith("udw"):
            info.source = "udw"
        return info
