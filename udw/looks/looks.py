"""Looks: editable presets (prompt fragments, negative, size, sampler, steps, CFG, clip skip).

Shipped looks live in `udw/looks/data/*.json`; users add or override them (same `id`) with
JSON (or YAML when PyYAML is installed) files in their looks folders: UDW_LOOKS_DIR (several
separated by the path separator), the folders a host passes, and ~/.config/udw/looks.
A broken user file never hides the others: it is listed in `problems` with what is wrong.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from ..core.errors import BadInput
from .samplers import a1111_names, sampler_id, scheduler_id

SHIPPED = Path(__file__).with_name("data")
PROMPT_SLOT = "{prompt}"



def tidy_commas(text: str) -> str:
    """Drop empty comma-separated parts and put one space after each comma, keeping the user's line
    breaks (A1111 keeps a prompt's newlines; flattening them changes what a pasted prompt says)."""
    parts = [p.strip(" \t") for p in text.split(",")]
    parts = [p for p in parts if p.strip()]
    out = parts[0] if parts else ""
    for part in parts[1:]:
        out += "," + (part if part.startswith(("\n", "\r")) else " " + part.lstrip())
    return out.strip()

@dataclass(frozen=True)
class Hires:
    scale: float = 2.0
    denoise: float = 0.45
    steps: int = 0               # 0: as many as the first pass
    upscaler: str = "Lanczos"

    def size(self, width: int, height: int) -> tuple[int, int]:
        """Scaled size, kept on multiples of 8 (what the VAE needs)."""
        return int(round(width * self.scale / 8) * 8), int(round(height * self.scale / 8) * 8)


@dataclass(frozen=True)
class Look:
    id: str
    name: str
    prompt: str                   # a template: PROMPT_SLOT marks where the user's prompt goes
    negative: str
    width: int
    height: int
    sampler: str = "dpmpp_2m"     # ComfyUI ids (see samplers.py)
    scheduler: str = "karras"
    steps: int = 28
    cfg: float = 7.0
    clip_skip: int = 2            # A1111 convention: 2 = the penultimate CLIP layer
    hires: Optional[Hires] = None
    description: str = ""
    order: int = 100              # position in lists (shipped looks: 1, 2, 3)
    source: str = ""              # the file it came from

    def positive(self, prompt: str = "") -> str:
        """The look's prompt with the user's prompt put in its slot (or in front)."""
        prompt = prompt.strip().strip(",").strip()
        if PROMPT_SLOT in self.prompt:
            text = self.prompt.replace(PROMPT_SLOT, prompt)
        else:
            text = f"{prompt}, {self.prompt}" if prompt else self.prompt
        return tidy_commas(text)

    def size(self, hires: bool = False) -> tuple[int, int]:
        if hires and self.hires:
            return self.hires.size(self.width, self.height)
        return self.width, self.height

    @property
    def a1111_sampler(self) -> tuple[str, str]:
        return a1111_names(self.sampler, self.scheduler)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("source")
        return out


def _look_from(data: Any, source: Path) -> Look:
    where = source.name
    if not isinstance(data, dict):
        raise BadInput(f"look file {where}: expected an object with id, name, prompt, ...", "see the shipped looks")
    missing = [k for k in ("id", "name", "prompt", "width", "height") if k not in data]
    if missing:
        raise BadInput(f"look file {where}: missing {', '.join(missing)}", "copy a shipped look and edit it")
    try:
        hires = data.get("hires")
        look = Look(id=str(data["id"]), name=str(data["name"]), prompt=str(data["prompt"]),
                    negative=str(data.get("negative", "")), width=int(data["width"]), height=int(data["height"]),
                    sampler=sampler_id(data.get("sampler", "dpmpp_2m")),
                    scheduler=scheduler_id(data.get("scheduler", "karras")),
                    steps=int(data.get("steps", 28)), cfg=float(data.get("cfg", 7.0)),
                    clip_skip=int(data.get("clip_skip", 2)),
                    hires=Hires(**hires) if isinstance(hires, dict) else None,
                    description=str(data.get("description", "")), order=int(data.get("order", 100)),
                    source=str(source))
    except BadInput as exc:
        raise BadInput(f"look file {where}: {exc}", exc.hint) from exc
    except (TypeError, ValueError) as exc:
        raise BadInput(f"look file {where}: {exc}", "numbers must be numbers; see the shipped looks") from exc
    if look.width % 8 or look.height % 8 or not (64 <= look.width <= 4096 and 64 <= look.height <= 4096):
        raise BadInput(f"look file {where}: size {look.width}x{look.height} must be multiples of 8 within 64-4096",
                       "SD1 works best near 512x512 pixels, in multiples of 64")
    if not 1 <= look.steps <= 500 or not 1 <= look.clip_skip <= 12:
        raise BadInput(f"look file {where}: steps must be 1-500 and clip_skip 1-12", "fix the numbers")
    return look


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise BadInput(f"look file {path.name} is not valid JSON: {exc}", "fix the syntax") from exc
    try:
        import yaml
    except ImportError as exc:
        raise BadInput(f"look file {path.name} is YAML but PyYAML is not installed",
                       "pip install pyyaml, or write the look as JSON") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"look file {path.name} is not valid YAML: {exc}", "fix the syntax") from exc


def user_dirs(extra: Iterable[Union[str, Path]] = ()) -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("UDW_LOOKS_DIR", "").split(os.pathsep) if p.strip()]
    dirs += [Path(p) for p in extra]
    config = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return dirs + [config / "udw" / "looks"]


@dataclass
class LookBook:
    looks: dict[str, Look] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def get(self, name: str) -> Look:
        """A look by id or by name (case-insensitive); ids may be shortened to a unique prefix."""
        key = str(name).strip().lower()
        for look in self.looks.values():
            if key in (look.id.lower(), look.name.lower()):
                return look
        matches = [lk for lk in self.looks.values() if lk.id.lower().startswith(key)]
        if len(matches) == 1:
            return matches[0]
        raise BadInput(f"unknown look {name!r}", f"known looks: {', '.join(self.looks)}")

    def names(self) -> list[str]:
        return [lk.name for lk in self.looks.values()]


def load_looks(extra_dirs: Iterable[Union[str, Path]] = ()) -> LookBook:
    """Shipped looks, then user looks (a user look with a shipped id replaces it)."""
    book = LookBook()
    folders = [SHIPPED] + [d for d in user_dirs(extra_dirs) if d.is_dir()]
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in (".json", ".yaml", ".yml") or path.name.startswith("."):
                continue
            try:
                look = _look_from(_parse(path), path)
            except (BadInput, OSError) as exc:
                book.problems.append(str(exc).replace("\n  -> ", " — "))
                continue
            book.looks[look.id] = look
    book.looks = dict(sorted(book.looks.items(), key=lambda kv: (kv[1].order, kv[1].name.lower())))
    return book
