"""Embed our own generation parameters the way A1111 and ComfyUI do, so every tool reads them.

PNG: tEXt/iTXt `parameters` (A1111 infotext), `udw` (exact values as JSON), and ComfyUI's
`prompt`/`workflow` when given. JPEG/WebP: EXIF UserComment (UNICODE, UTF-16-BE as A1111 writes
it) and ComfyUI's `prompt:`/`workflow:` strings in Model/Make. Files are written atomically.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Optional, Union

from PIL import Image, PngImagePlugin

from .. import __version__
from ..core.atomic import write_with
from ..core.errors import BadInput
from .geninfo import GenerationInfo
from .meta_read import EXIF_IFD, MAKE, MODEL, USER_COMMENT

VERSION_TAG = f"udw-studio {__version__}"


def _stamped(info: GenerationInfo) -> GenerationInfo:
    params = dict(info.params)
    params.setdefault("Version", VERSION_TAG)
    return replace(info, params=params)


def _udw_json(info: GenerationInfo) -> str:
    data = {k: v for k, v in info.to_dict().items() if k != "source" and v not in (None, "", [], {})}
    return json.dumps(data, ensure_ascii=False, default=str)


def png_info(info: Optional[GenerationInfo] = None, comfy_prompt: Optional[dict] = None,
             workflow: Optional[dict] = None) -> PngImagePlugin.PngInfo:
    """PngInfo with `parameters`, `udw`, and ComfyUI's `prompt`/`workflow` (as SaveImage writes)."""
    png = PngImagePlugin.PngInfo()
    if info is not None:
        info = _stamped(info)
        png.add_text("parameters", info.to_infotext())  # iTXt automatically when not Latin-1
        png.add_text("udw", _udw_json(info))
    if comfy_prompt is not None:
        png.add_text("prompt", json.dumps(comfy_prompt))
    if workflow is not None:
        png.add_text("workflow", json.dumps(workflow))
    return png


def user_comment(text: str) -> bytes:
    return b"UNICODE\0" + text.encode("utf-16-be")


def exif_bytes(info: Optional[GenerationInfo] = None, comfy_prompt: Optional[dict] = None,
               workflow: Optional[dict] = None) -> bytes:
    exif = Image.Exif()
    if info is not None:
        exif.get_ifd(EXIF_IFD)[USER_COMMENT] = user_comment(_stamped(info).to_infotext())
    if comfy_prompt is not None:
        exif[MODEL] = "prompt:" + json.dumps(comfy_prompt)
    if workflow is not None:
        exif[MAKE] = "workflow:" + json.dumps(workflow)
    return exif.tobytes()


def save_image(image: Image.Image, path: Union[str, Path], info: Optional[GenerationInfo] = None,
               comfy_prompt: Optional[dict] = None, workflow: Optional[dict] = None,
               quality: int = 95, compress_level: int = 4) -> Path:
    """Save `image` with its generation parameters embedded; the format follows the suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        def write(tmp: Path) -> None:
            image.save(tmp, format="PNG", pnginfo=png_info(info, comfy_prompt, workflow),
                       compress_level=compress_level)
    elif suffix in (".jpg", ".jpeg", ".webp"):
        fmt = "WEBP" if suffix == ".webp" else "JPEG"
        rgb = image if fmt == "WEBP" or image.mode == "RGB" else image.convert("RGB")

        def write(tmp: Path) -> None:
            rgb.save(tmp, format=fmt, quality=quality, exif=exif_bytes(info, comfy_prompt, workflow))
    else:
        raise BadInput(f"cannot embed generation parameters in {suffix or 'a file without suffix'}",
                       "save as .png, .jpg or .webp")
    return write_with(path, write)
