"""Generation parameters of an image, whoever made it (A1111, ComfyUI, UDW Studio).

One model for every writer and reader: `udw generate` fills it, the A1111 infotext and our `udw`
JSON chunk are written from it, and A1111 infotexts, ComfyUI graphs and the `udw` chunk are read
into it. LoRAs and passes (base, hires, refiner) are first-class: the top-level sampling fields are
the base pass (A1111's `Size` is the first-pass size), later passes keep their own values.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Optional

from . import infotext
from .passes import Lora, Pass


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
    vae: Optional[str] = None
    vae_hash: Optional[str] = None
    loras: list[Lora] = field(default_factory=list)
    passes: list[Pass] = field(default_factory=list)
    denoise: Optional[float] = None      # A1111's `Denoising strength` (img2img, or the hires pass)
    clip_skip: Optional[int] = None
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""                     # a1111 | comfyui | udw
    from_workflow: list[str] = field(default_factory=list)  # fields read from ComfyUI's `workflow`

    def pass_of(self, kind: str) -> Optional[Pass]:
        return next((p for p in self.passes if p.kind == kind), None)

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

    def detail_lines(self) -> list[str]:
        """What the infotext cannot say in full: LoRA files and weights, each pass, workflow values."""
        lines = [f"LoRA: {lo.describe()}" for lo in self.loras]
        if len(self.passes) > 1 or any(p.kind != "base" for p in self.passes):
            lines += [f"pass {n}: {p.describe()}" for n, p in enumerate(self.passes, 1)]
        if self.from_workflow:
            lines.append("from the workflow (the prompt graph lacks them): " + ", ".join(self.from_workflow))
        return lines

    def infotext_prompt(self) -> str:
        """The prompt with a `<lora:...>` tag for every LoRA it does not name yet, as A1111 writes it."""
        present = {lo.name for lo in infotext.loras_in_prompt(self.prompt)}
        tags = [lo.tag() for lo in self.loras if lo.name not in present]
        if not tags:
            return self.prompt
        return f"{self.prompt.rstrip().rstrip(',')}, {' '.join(tags)}" if self.prompt.strip() else " ".join(tags)

    def infotext_pairs(self) -> list[tuple[str, Any]]:
        return infotext.generation_pairs(self)

    def to_infotext(self) -> str:
        return infotext.format_infotext(self.infotext_prompt(), self.negative, self.infotext_pairs())

    @classmethod
    def from_infotext(cls, text: str, source: str = "a1111") -> "GenerationInfo":
        prompt, negative, params = infotext.parse(text)
        info = cls(prompt=prompt, negative=negative, params=params, source=source)
        infotext.read_pairs(info, params)
        if str(params.get("Version", "")).startswith("udw"):
            info.source = "udw"
        return info

    @classmethod
    def from_dict(cls, data: dict, source: str = "udw") -> "GenerationInfo":
        """From our `udw` JSON chunk (untrusted: wrong types are dropped; old `[name, weight]` LoRAs read)."""
        info = cls(source=source)
        for f in fields(cls):
            value = data.get(f.name)
            if f.name == "loras" and isinstance(value, list):
                info.loras = [lo for lo in map(_lora_of, value) if lo is not None]
            elif f.name == "passes" and isinstance(value, list):
                info.passes = [_typed(Pass, p) for p in value if isinstance(p, dict)]
            elif f.name == "params" and isinstance(value, dict):
                info.params = {str(k): v for k, v in value.items() if isinstance(v, (str, int, float))}
            elif f.name == "from_workflow" and isinstance(value, list):
                info.from_workflow = [str(v) for v in value]
            elif f.name not in ("loras", "passes", "params", "from_workflow", "source"):
                setattr(info, f.name, _typed_value(f.type, value, getattr(info, f.name)))
        return info


def _typed_value(kind: Any, value: Any, default: Any) -> Any:
    kind = str(kind)
    if value is None:
        return default
    if "bool" in kind:
        return value if isinstance(value, bool) else default
    if "int" in kind:
        return value if isinstance(value, int) and not isinstance(value, bool) else default
    if "float" in kind:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
    return value if isinstance(value, str) else default


def _typed(cls: type, data: dict) -> Any:
    return cls(**{f.name: _typed_value(f.type, data.get(f.name), None if f.default is MISSING else f.default)
                  for f in fields(cls)})


def _lora_of(value: Any) -> Optional[Lora]:
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[1], (int, float)):
        return Lora(str(value[0]), float(value[1]))
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return _typed(Lora, value)
    return None
