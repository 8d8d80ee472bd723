"""Lineage: weight cosine similarity per component between a model and a supposed base.

Mitsua Diffusion One's card uses this to show from-scratch training (VAE 0.17-0.21, UNet
0.07-0.08 against SD), while fine-tunes stay above ~0.90 (UNet) / 0.99 (VAE, text encoder).
Both files are streamed tensor by tensor and chunk by chunk (1M elements, float32), so memory
stays at two chunks whatever the sizes; nothing is ever loaded whole.

Per component we report the cosine of the whole component (all its weights as one vector),
the parameter-weighted mean of per-tensor cosines, and the least similar tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..core.errors import BadInput
from ..core.ports import Ports
from .arch import component_of, detect
from .reader import open_checkpoint
from .safetensors_io import FLOAT_DTYPES

COMPONENTS = ("unet", "text_encoder", "vae")


def normalize_key(key: str) -> str:
    """One name per weight across SD1 file variants (old files lack `text_model.`)."""
    old = "cond_stage_model.transformer."
    if key.startswith(old) and not key.startswith(old + "text_model."):
        return old + "text_model." + key[len(old):]
    return key


def verdict(cosine: float) -> str:
    if cosine >= 0.9999:
        return "same weights"
    if cosine >= 0.90:
        return "derived from the base (fine-tune or merge)"
    if cosine >= 0.50:
        return "distant relative (long training or merges with other models)"
    return "unrelated (e.g. trained from scratch)"


@dataclass
class ComponentLineage:
    name: str
    compared: int = 0
    params: int = 0
    dot: float = 0.0
    norm_a: float = 0.0
    norm_b: float = 0.0
    weighted_cos: float = 0.0
    min_cosine: float = 1.0
    min_key: str = ""
    identical: int = 0
    only_in_model: int = 0
    shape_mismatch: int = 0
    missing_examples: list[str] = field(default_factory=list)

    @property
    def cosine(self) -> float:
        den = math.sqrt(self.norm_a * self.norm_b)
        return self.dot / den if den else float("nan")

    @property
    def mean_cosine(self) -> float:
        return self.weighted_cos / self.params if self.params else float("nan")

    @property
    def verdict(self) -> str:
        return verdict(self.cosine) if self.compared else "not compared"

    def to_dict(self) -> dict:
        return {"name": self.name, "cosine": self.cosine, "mean_tensor_cosine": self.mean_cosine,
                "min_tensor_cosine": self.min_cosine, "min_tensor": self.min_key, "tensors": self.compared,
                "params": self.params, "identical_tensors": self.identical,
                "only_in_model": self.only_in_model, "shape_mismatch": self.shape_mismatch,
                "verdict": self.verdict}


@dataclass
class LineageReport:
    model: Path
    base: Path
    components: list[ComponentLineage]

    @property
    def verdict(self) -> str:
        main = next((c for c in self.components if c.name == "unet" and c.compared), None)
        return main.verdict if main else "not comparable"

    def to_dict(self) -> dict:
        return {"model": str(self.model), "base": str(self.base), "verdict": self.verdict,
                "components": [c.to_dict() for c in self.components]}


def _pairs(a, b, components) -> tuple[dict[str, list[tuple[str, str]]], dict[str, ComponentLineage]]:
    base_keys = {normalize_key(k): k for k in b.tensors}
    plan: dict[str, list[tuple[str, str]]] = {c: [] for c in components}
    stats = {c: ComponentLineage(c) for c in components}
    for key, info in a.tensors.items():
        comp = component_of(key)
        if comp not in plan or info.dtype not in FLOAT_DTYPES:
            continue
        other = base_keys.get(normalize_key(key))
        if other is None:
            stats[comp].only_in_model += 1
            if len(stats[comp].missing_examples) < 3:
                stats[comp].missing_examples.append(key)
        elif tuple(b.tensors[other].shape) != tuple(info.shape) or b.tensors[other].dtype not in FLOAT_DTYPES:
            stats[comp].shape_mismatch += 1
        else:
            plan[comp].append((key, other))
    return plan, stats


def compare(model: Union[str, Path], base: Union[str, Path], ports: Optional[Ports] = None,
            components: tuple[str, ...] = COMPONENTS, chunk: int = 1 << 20) -> LineageReport:
    """Cosine similarity per component of `model` against `base` (both streamed)."""
    ports = ports or Ports()
    with open_checkpoint(model) as a, open_checkpoint(base) as b:
        fam_a = detect(a.tensors).family
        fam_b = detect(b.tensors).family
        if "unknown" not in (fam_a, fam_b) and fam_a != fam_b:
            raise BadInput(f"cannot compare: {Path(model).name} is {fam_a}, {Path(base).name} is {fam_b}",
                           "compare a model with a base of the same architecture")
        plan, stats = _pairs(a, b, components)
        total = sum(a.tensors[k].numel for pairs in plan.values() for k, _ in pairs) or 1
        done, reported, every = 0, 0, max(1, total // 200)   # ~200 progress updates
        for comp, pairs in plan.items():
            s = stats[comp]
            for key_a, key_b in pairs:
                dot = na = nb = 0.0
                same = True
                for ca, cb in zip(a.chunks(key_a, chunk), b.chunks(key_b, chunk)):
                    dot += float(np.dot(ca, cb))
                    na += float(np.dot(ca, ca))
                    nb += float(np.dot(cb, cb))
                    same = same and np.array_equal(ca, cb)
                    done += ca.size
                    if done - reported >= every:
                        ports.step(done, total)
                        reported = done
                n = a.tensors[key_a].numel
                cos = dot / math.sqrt(na * nb) if na > 0 and nb > 0 else (1.0 if same else 0.0)
                s.compared += 1
                s.params += n
                s.dot, s.norm_a, s.norm_b = s.dot + dot, s.norm_a + na, s.norm_b + nb
                s.weighted_cos += cos * n
                s.identical += same
                if cos < s.min_cosine:
                    s.min_cosine, s.min_key = cos, key_a
    ports.step(total, total)
    if not any(s.compared for s in stats.values()):
        raise BadInput(f"{Path(model).name} and {Path(base).name} share no weights to compare",
                       "give a checkpoint of the same architecture as the base")
    return LineageReport(Path(model), Path(base), [stats[c] for c in components])


def format_lineage(report: LineageReport) -> str:
    lines = [f"lineage of {report.model.name} against {report.base.name}: {report.verdict}"]
    for c in report.components:
        if not c.compared:
            lines.append(f"  {c.name:>12}: not in both files")
            continue
        extra = []
        if c.only_in_model:
            extra.append(f"{c.only_in_model} tensors only in the model")
        if c.shape_mismatch:
            extra.append(f"{c.shape_mismatch} with other shapes")
        lines.append(f"  {c.name:>12}: cosine {c.cosine:.4f} (mean per tensor {c.mean_cosine:.4f}, lowest "
                     f"{c.min_cosine:.4f} {c.min_key.split('.', 1)[-1]}), {c.identical}/{c.compared} tensors "
                     f"identical -> {c.verdict}" + (f"; {', '.join(extra)}" if extra else ""))
    return "\n".join(lines)
