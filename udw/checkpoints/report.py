"""Inspection report of a model file: what it is, what is in it, its hashes and metadata.

Only the header is parsed (plus a couple of tiny tensors for hints); hashing streams the file
in 1 MiB blocks. Memory stays a few MB whatever the file size.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ..core.ports import Ports
from .arch import ArchInfo, component_of, detect
from .hashing import FileHashes, cached_hashes, file_hashes
from .lora import LoraInfo, lora_info
from .reader import open_checkpoint

COMPONENT_TITLES = {"unet": "UNet", "text_encoder": "text encoder", "vae": "VAE", "ema": "EMA weights",
                    "controlnet": "ControlNet", "other": "other"}


@dataclass
class ComponentStats:
    name: str
    tensors: int = 0
    params: int = 0
    bytes: int = 0
    dtypes: Counter = field(default_factory=Counter)      # dtype -> params

    @property
    def dtype(self) -> str:
        return "/".join(d for d, _ in self.dtypes.most_common()) or "-"


@dataclass
class Report:
    path: Path
    size: int
    format: str
    arch: ArchInfo
    components: list[ComponentStats]
    metadata: dict[str, str]
    hashes: Optional[FileHashes] = None
    lora: Optional[LoraInfo] = None
    tensors: int = 0

    @property
    def params(self) -> int:
        return sum(c.params for c in self.components if c.name != "ema")

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "size": self.size, "format": self.format, "tensors": self.tensors,
                "arch": self.arch.to_dict(), "lora": self.lora.to_dict() if self.lora else None,
                "components": [{"name": c.name, "tensors": c.tensors, "params": c.params, "bytes": c.bytes,
                                "dtypes": dict(c.dtypes)} for c in self.components],
                "hashes": self.hashes.to_dict() if self.hashes else None, "metadata": self.metadata}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def inspect_file(path: Union[str, Path], hashes: bool = True, ports: Optional[Ports] = None) -> Report:
    """Inspect any model file (checkpoint, LoRA, VAE, ...). hashes=False uses only cached ones."""
    path = Path(path)
    with open_checkpoint(path) as reader:
        tensors = reader.tensors
        metadata = dict(reader.metadata)
        arch = detect(tensors, reader, metadata, path)
        comps: dict[str, ComponentStats] = {}
        for key, info in tensors.items():
            stats = comps.setdefault(component_of(key), ComponentStats(component_of(key)))
            stats.tensors += 1
            stats.params += info.numel
            stats.bytes += info.nbytes
            stats.dtypes[info.dtype] += info.numel
        fmt, size = reader.format, reader.size
    order = list(COMPONENT_TITLES)
    report = Report(path, size, fmt, arch, sorted(comps.values(), key=lambda c: order.index(c.name)),
                    metadata, tensors=len(tensors))
    if arch.kind == "lora":
        report.lora = lora_info(tensors, metadata)
    is_st = path.suffix.lower() == ".safetensors"
    report.hashes = (file_hashes(path, ports, addnet=arch.kind == "lora" and is_st) if hashes
                     else cached_hashes(path))
    return report


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _params(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e5 else str(n)


def format_report(report: Report, metadata_chars: int = 300) -> str:
    """The report as plain text (the CLI prints it; nodes and the UI show it)."""
    a = report.arch
    lines = [f"{report.path.name}: {a.label}",
             f"  file: {_size(report.size)} {report.format}, {report.tensors} tensors, {_params(report.params)} parameters"]
    if a.kind == "checkpoint":
        lines.append(f"  UNet: {a.in_channels}-channel input, text context {a.context_dim}"
                     + (f", {a.variant}" if a.variant else ""))
        lines.append(f"  text encoder: {a.text_encoder or 'none'}")
        lines.append(f"  prediction: {a.prediction}" + (f" ({a.prediction_hint})" if a.prediction_hint else ""))
        lines.append(f"  EMA weights: {'yes (' + str(a.ema_tensors) + ' tensors)' if a.ema else 'no'}; "
                     f"baked VAE: {'yes' if a.baked_vae else 'no'}")
    if report.lora:
        lines.append(f"  {report.lora.label}")
    for c in report.components:
        lines.append(f"  {COMPONENT_TITLES.get(c.name, c.name):>12}: {_params(c.params):>8} params, "
                     f"{_size(c.bytes):>9}, {c.dtype}")
    h = report.hashes
    if h:
        lines.append(f"  sha256: {h.sha256}")
        lines.append(f"  AutoV2 (A1111 model hash): {h.autov2}; legacy A1111 hash: {h.legacy}"
                     + (f"; addnet: {h.addnet[:12]}" if h.addnet else ""))
    else:
        lines.append("  hashes: not computed (use --hash / hashes=True)")
    for note in a.notes:
        lines.append(f"  note: {note}")
    if report.metadata:
        lines.append(f"  metadata ({len(report.metadata)} keys):")
        for k, v in sorted(report.metadata.items()):
            v = v if len(v) <= metadata_chars else v[:metadata_chars] + f"... ({len(v)} chars)"
            lines.append(f"    {k}: {v}")
    return "\n".join(lines)
