"""Generation metadata of an image file: A1111 infotext, ComfyUI graphs, and the raw text always.

`read_metadata(path)` never raises for damaged metadata (problems become `warnings`); it raises
BadInput only when the file cannot be opened at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ..core.errors import BadInput, NotFound
from .comfy_graph import summarize_api, ui_to_api
from .geninfo import GenerationInfo
from .meta_read import read_raw

MAX_JSON = 32 * 1024 * 1024
INFOTEXT_KEYS = ("parameters", "exif:UserComment", "comment", "Description", "exif:ImageDescription")


@dataclass
class ImageMeta:
    path: str
    format: str = ""
    width: Optional[int] = None
    height: Optional[int] = None
    text: dict[str, str] = field(default_factory=dict)     # every text entry, raw
    info: Optional[GenerationInfo] = None
    comfy_prompt: Optional[dict] = None
    comfy_workflow: Optional[dict] = None
    warnings: list[str] = field(default_factory=list)

    @property
    def prompt(self) -> str:
        return self.info.prompt if self.info else ""

    @property
    def seed(self) -> Optional[int]:
        return self.info.seed if self.info else None

    def raw_json(self, limit: int = 200_000) -> str:
        """The raw entries as pretty JSON (graphs re-indented), cut at `limit` characters."""
        shown: dict[str, Any] = dict(self.text)
        if self.comfy_prompt is not None:
            shown["prompt"] = self.comfy_prompt
        if self.comfy_workflow is not None:
            shown["workflow"] = self.comfy_workflow
        text = json.dumps(shown, indent=1, ensure_ascii=False, default=str)
        return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit:,} more characters)"

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "width": self.width, "height": self.height,
                "info": self.info.to_dict() if self.info else None, "warnings": list(self.warnings),
                "keys": sorted(self.text)}


def _json(text: Optional[str], name: str, warnings: list[str]) -> Optional[dict]:
    if not text:
        return None
    if len(text) > MAX_JSON:
        warnings.append(f"{name} JSON too large to parse ({len(text):,} characters)")
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        warnings.append(f"{name} is not valid JSON ({str(exc)[:80]})")
        return None
    if not isinstance(value, dict):
        warnings.append(f"{name} JSON is not an object")
        return None
    return value


def _udw_json(meta: ImageMeta) -> Optional[GenerationInfo]:
    """Our own `udw` chunk (written by meta_write) when present: exact values, no parsing."""
    data = _json(meta.text.get("udw"), "udw", meta.warnings)
    return GenerationInfo.from_dict(data) if data else None


# What a `prompt` graph may lack that the `workflow` still shows (custom nodes, converted widgets).
WORKFLOW_FIELDS = ("prompt", "negative", "seed", "steps", "cfg", "sampler", "scheduler", "width", "height", "model")


def _comfy_info(meta: ImageMeta) -> Optional[GenerationInfo]:
    """From the `prompt` graph; what it lacks from the `workflow`, named in `from_workflow`."""
    size = (meta.width, meta.height)
    info = None
    if meta.comfy_prompt is not None:
        info = _guard(lambda g: summarize_api(g, size), meta.comfy_prompt, meta.warnings)
    gaps = [f for f in WORKFLOW_FIELDS if info is None or getattr(info, f) in (None, "")]
    if meta.comfy_workflow is None or not gaps:
        return info
    flow = _guard(lambda wf: summarize_api(ui_to_api(wf), size), meta.comfy_workflow, meta.warnings)
    if flow is None:
        return info
    if info is None:
        flow.from_workflow = [f for f in WORKFLOW_FIELDS if getattr(flow, f) not in (None, "")] + ["passes", "loras"]
        return flow
    for name in gaps:
        if getattr(flow, name) not in (None, ""):
            setattr(info, name, getattr(flow, name))
            info.from_workflow.append(name)
    return info


def read_metadata(path: Union[str, Path]) -> ImageMeta:
    path = Path(path)
    try:
        raw = read_raw(path)
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: file not found", "it was moved or deleted; check the path") from exc
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})", "check the file's permissions") from exc
    meta = ImageMeta(str(path), raw.format, raw.width, raw.height, raw.text, warnings=raw.warnings)
    # Parsed graphs leave `text`; text that fails to parse stays there, shown raw.
    meta.comfy_prompt = _json(raw.text.get("prompt"), "ComfyUI prompt", meta.warnings)
    meta.comfy_workflow = _json(raw.text.get("workflow"), "ComfyUI workflow", meta.warnings)
    for key, parsed in (("prompt", meta.comfy_prompt), ("workflow", meta.comfy_workflow)):
        if parsed is not None:
            raw.text.pop(key, None)
    meta.info = _udw_json(meta)
    if meta.info is None:
        for key in INFOTEXT_KEYS:
            text = raw.text.get(key, "")
            if text.strip() and not text.lstrip().startswith("{"):
                meta.info = GenerationInfo.from_infotext(text)
                break
    if meta.info is None:
        meta.info = _comfy_info(meta)
    return meta


def _guard(fn, value, warnings: list[str]) -> Optional[GenerationInfo]:
    """Graph walking over untrusted JSON: a surprise shape is a warning, never a crash."""
    try:
        return fn(value)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        warnings.append(f"ComfyUI graph not understood ({type(exc).__name__}); see the raw JSON")
        return None
