"""Handing a prepared pose and reference to A1111's ControlNet extension (sd-webui-controlnet)
through its documented web API: `/controlnet/model_list` and `/sdapi/v1/txt2img` with
`alwayson_scripts.controlnet.args` (one unit per control).

Two units: the OpenPose ControlNet fed the skeleton image directly (module "none": the pose is
already prepared, retargeted if asked), and the extension's `reference_only` preprocessor fed the
character image, whose `threshold_a` is its "Style Fidelity" slider.
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from typing import Any, Optional, Sequence

from PIL import Image

from ..core.errors import BadInput, UdwError
from .settings import ReferenceSettings

EXTENSION_URL = "https://github.com/Mikubill/sd-webui-controlnet"


def png_b64(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def pick_openpose_model(models: Sequence[str]) -> str:
    """The extension's name for an SD1.5 OpenPose model (e.g. `control_v11p_sd15_openpose [cab727d4]`)."""
    ranked = sorted((m for m in models if "openpose" in m.lower()),
                    key=lambda m: ("sd15" not in m.lower() and "v11p" not in m.lower(), "xl" in m.lower(), m))
    if not ranked:
        raise BadInput("the ControlNet extension has no OpenPose model",
                       "put control_v11p_sd15_openpose (.pth or .safetensors) into models/ControlNet and refresh")
    return ranked[0]


def controlnet_units(pose_image: Optional[Image.Image], reference: Optional[Image.Image], model: str,
                     control_strength: float, settings: ReferenceSettings) -> list[dict]:
    units = []
    if pose_image is not None and control_strength > 0:
        units.append({"enabled": True, "module": "none", "model": model, "weight": float(control_strength),
                      "image": png_b64(pose_image), "resize_mode": "Crop and Resize", "processor_res": 512,
                      "guidance_start": settings.start, "guidance_end": settings.end,
                      "control_mode": "Balanced", "pixel_perfect": False})
    if reference is not None and settings.strength > 0:
        units.append({"enabled": True, "module": "reference_only", "model": "None", "weight": settings.strength,
                      "image": png_b64(reference), "resize_mode": "Crop and Resize",
                      "threshold_a": settings.style_fidelity, "guidance_start": settings.start,
                      "guidance_end": settings.end, "control_mode": "Balanced", "pixel_perfect": False})
    return units


def txt2img_payload(prompt: str, negative: str, width: int, height: int, steps: int, cfg: float, seed: int,
                    sampler: str, units: list[dict], clip_skip: int = 2) -> dict:
    return {"prompt": prompt, "negative_prompt": negative, "width": int(width), "height": int(height),
            "steps": int(steps), "cfg_scale": float(cfg), "seed": int(seed), "sampler_name": sampler,
            "batch_size": 1, "n_iter": 1, "send_images": True, "save_images": True,
            "override_settings": {"CLIP_stop_at_last_layers": int(clip_skip)},
            "alwayson_scripts": {"controlnet": {"args": units}}}


def _call(url: str, data: Optional[dict] = None, timeout: float = 3600) -> Any:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:400]
        raise UdwError(f"A1111 answered {exc.code} to {url.rsplit('/', 2)[-2:]}: {detail}",
                       "check the A1111 console for the error") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise UdwError(f"cannot reach A1111's API at {url} ({exc})", "start A1111 with --api") from exc


def controlnet_models(api: str) -> list[str]:
    return list(_call(api.rstrip("/") + "/controlnet/model_list?update=true", timeout=60).get("model_list", []))


def run_txt2img(api: str, payload: dict) -> tuple[list[Image.Image], dict]:
    """Images (ControlNet's detected maps included at the end) and A1111's info."""
    out = _call(api.rstrip("/") + "/sdapi/v1/txt2img", payload)
    images = [Image.open(io.BytesIO(base64.b64decode(s.split(",", 1)[-1]))).convert("RGB")
              for s in out.get("images", [])]
    info = out.get("info")
    try:
        info = json.loads(info) if isinstance(info, str) else (info or {})
    except ValueError:
        info = {"info": info}
    return images, info
