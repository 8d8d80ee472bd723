"""A1111 "infotext" (PNG `parameters`): prompt, `Negative prompt: ...`, then `Key: value, ...`.

The parser follows A1111's own `parse_generation_parameters` (same key-value pattern, quoted values
unquoted as JSON, the last line taken as parameters only when it holds at least 3 pairs).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Optional

from .passes import Lora, Pass, model_stem

RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
RE_SIZE = re.compile(r"^(\d+)x(\d+)$")
RE_LORA = re.compile(r"<(?:lora|lyco):([^>]+)>", re.IGNORECASE)


def _num(value: Any, kind: type) -> Optional[Any]:
    if isinstance(value, bool):
        return None
    try:
        return kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def unquote(text: str) -> str:
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def quote(value: Any) -> str:
    """Quote a value the way A1111 does when it holds a comma, a newline or a colon."""
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def parse(text: str) -> tuple[str, str, dict[str, str]]:
    """Split infotext into (prompt, negative prompt, parameters as read).

    A `Size: 512x768` pair also yields `Size-1`/`Size-2` (A1111's own keys), and every other
    `WxH` value likewise.
    """
    lines = text.strip().replace("\r\n", "\n").split("\n")
    last = lines.pop() if lines else ""
    if len(RE_PARAM.findall(last)) < 3:
        lines.append(last)
        last = ""
    prompt, negative, in_negative = [], [], False
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt).append(line)
    params: dict[str, str] = {}
    for key, value in RE_PARAM.findall(last):
        value = unquote(value.strip())
        params[key.strip()] = value
        m = RE_SIZE.match(value)
        if m:
            params[f"{key.strip()}-1"], params[f"{key.strip()}-2"] = m.group(1), m.group(2)
    return "\n".join(prompt).strip(), "\n".join(negative).strip(), params


def loras_in_prompt(prompt: str) -> list[Lora]:
    """`<lora:name:te[:unet]>` tags of a prompt as A1111 reads them (also `te=`/`unet=` and `<lyco:>`)."""
    out = []
    for body in RE_LORA.findall(prompt or ""):
        name, *args = body.split(":")
        positional = [a for a in args if "=" not in a]
        named = dict(a.split("=", 1) for a in args if "=" in a)
        te = _num(named.get("te", positional[0] if positional else 1.0), float)
        te = 1.0 if te is None else te
        unet = _num(named.get("unet", positional[1] if len(positional) > 1 else te), float)
        unet = te if unet is None else unet
        out.append(Lora(name.strip(), unet, te if te != unet else None))
    return out


def format_infotext(prompt: str, negative: str = "",
                    params: Optional[Iterable[tuple[str, Any]]] = None) -> str:
    """Compose infotext from a prompt, a negative prompt and ordered (key, value) pairs.

    Pairs whose value is None or "" are left out. Keys must not contain `:` or `,`.
    """
    lines = [prompt.strip()]
    if negative and negative.strip():
        lines.append(f"Negative prompt: {negative.strip()}")
    pairs = []
    for key, value in params or ():
        if value is None or value == "":
            continue
        if any(c in key for c in ":,\n"):
            raise ValueError(f"bad infotext key {key!r}")
        pairs.append(f"{key}: {quote(value)}")
    if pairs:
        lines.append(", ".join(pairs))
    return "\n".join(lines)


# ComfyUI sampler / scheduler names -> A1111 labels (for "send to txt2img" of ComfyUI images).
A1111_SAMPLERS = {
    "euler": "Euler", "euler_ancestral": "Euler a", "heun": "Heun", "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a", "lms": "LMS", "dpm_fast": "DPM fast", "dpm_adaptive": "DPM adaptive",
    "dpmpp_2s_ancestral": "DPM++ 2S a", "dpmpp_sde": "DPM++ SDE", "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE", "dpmpp_3m_sde": "DPM++ 3M SDE", "ddim": "DDIM",
    "uni_pc": "UniPC", "lcm": "LCM", "restart": "Restart",
}
A1111_SCHEDULERS = {
    "karras": "Karras", "exponential": "Exponential", "sgm_uniform": "SGM Uniform",
    "simple": "Simple", "normal": "Normal", "ddim_uniform": "DDIM", "beta": "Beta",
    "kl_optimal": "KL Optimal", "polyexponential": "Polyexponential",
}


# -- GenerationInfo <-> A1111 key-value pairs ----------------------------------------------------------
# Keys that read_pairs turns into fields (written back from the fields, never copied from `params`).
FIELD_KEYS = {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash", "Model", "VAE hash",
              "VAE", "Denoising strength", "Clip skip", "Hires upscale", "Hires resize", "Hires steps",
              "Hires upscaler", "Hires sampler", "Hires schedule type", "Hires CFG Scale", "Hires checkpoint",
              "Hires prompt", "Hires negative prompt", "Refiner", "Refiner switch at", "Lora hashes", "Lora",
              "Version"}


def _g(value: Optional[float]) -> Optional[str]:
    return None if value is None else f"{value:g}"


def _a1111(sampler: Optional[str], scheduler: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    return A1111_SAMPLERS.get(sampler or "", sampler), A1111_SCHEDULERS.get(scheduler or "", scheduler)


def generation_pairs(info: Any) -> list[tuple[str, Any]]:
    """Ordered (key, value) pairs of a GenerationInfo in A1111's spelling and order (v1.10 create_infotext)."""
    sampler, scheduler = _a1111(info.sampler, info.scheduler)
    pairs: list[tuple[str, Any]] = [
        ("Steps", info.steps), ("Sampler", sampler), ("Schedule type", scheduler), ("CFG scale", _g(info.cfg)),
        ("Seed", info.seed), ("Size", f"{info.width}x{info.height}" if info.width and info.height else None),
        ("Model hash", info.model_hash), ("Model", model_stem(info.model) if info.model else None),
        ("VAE hash", info.vae_hash), ("VAE", info.vae), ("Denoising strength", _g(info.denoise)),
        ("Clip skip", info.clip_skip)]
    pairs += _hires_pairs(info, sampler, scheduler) + _refiner_pairs(info)
    pairs.append(("Lora hashes", ", ".join(f"{lo.name}: {lo.hash}" for lo in info.loras if lo.hash) or None))
    pairs += [(k, v) for k, v in info.params.items() if k not in FIELD_KEYS and not k.endswith(("-1", "-2"))
              and not any(c in k for c in ":,\n")]
    pairs.append(("Version", info.params.get("Version")))
    return pairs


def _hires_pairs(info: Any, sampler: Optional[str], scheduler: Optional[str]) -> list[tuple[str, Any]]:
    hp = info.pass_of("hires")
    if hp is None:
        return []
    h_sampler, h_scheduler = _a1111(hp.sampler, hp.scheduler)
    size = hp.upscale is None and hp.width and hp.height
    return [("Hires upscale", _g(hp.upscale)), ("Hires resize", f"{hp.width}x{hp.height}" if size else None),
            ("Hires steps", hp.steps), ("Hires upscaler", hp.upscaler),
            ("Hires sampler", h_sampler if h_sampler != sampler else None),
            ("Hires schedule type", h_scheduler if h_scheduler != scheduler else None),
            ("Hires CFG Scale", _g(hp.cfg) if hp.cfg is not None and hp.cfg != info.cfg else None),
            ("Hires checkpoint", model_stem(hp.model) if hp.model else None),
            ("Hires prompt", hp.prompt), ("Hires negative prompt", hp.negative)]


def _refiner_pairs(info: Any) -> list[tuple[str, Any]]:
    rp = info.pass_of("refiner")
    if rp is None or not rp.model:
        return []
    total = info.steps or rp.steps
    switch = rp.start_step / total if rp.start_step and total else None
    return [("Refiner", model_stem(rp.model)), ("Refiner switch at", _g(round(switch, 4)) if switch else None)]


def read_pairs(info: Any, params: dict[str, str]) -> None:
    """Fill a GenerationInfo's fields, LoRAs and passes from A1111's pairs (as `parse` returns them)."""
    info.seed, info.steps = _num(params.get("Seed"), int), _num(params.get("Steps"), int)
    info.cfg = _num(params.get("CFG scale"), float)
    info.sampler, info.scheduler = params.get("Sampler") or None, params.get("Schedule type") or None
    info.width, info.height = _num(params.get("Size-1"), int), _num(params.get("Size-2"), int)
    info.model, info.model_hash = params.get("Model") or None, params.get("Model hash") or None
    info.vae, info.vae_hash = params.get("VAE") or None, params.get("VAE hash") or None
    info.denoise = _num(params.get("Denoising strength"), float)
    info.clip_skip = _num(params.get("Clip skip"), int)
    info.loras = loras_in_prompt(info.prompt) or _legacy_loras(params.get("Lora", ""))
    hashes = dict(h.split(":", 1) for h in str(params.get("Lora hashes", "")).split(",") if ":" in h)
    hashes = {k.strip(): v.strip() for k, v in hashes.items()}
    for lo in info.loras:
        lo.hash = hashes.get(lo.name, lo.hash)
    if info.steps is not None or info.seed is not None:
        info.passes = [Pass("base", info.seed, info.steps, info.cfg, info.sampler, info.scheduler,
                            width=info.width, height=info.height)]
    if "Hires upscale" in params or "Hires resize-1" in params:
        info.passes.append(_hires_pass(info, params))
    if params.get("Refiner"):
        switch = _num(params.get("Refiner switch at"), float)
        info.passes.append(Pass("refiner", info.seed, info.steps, info.cfg, info.sampler, info.scheduler,
                                width=info.width, height=info.height, model=re.sub(r"\s*\[\w+\]$", "", params["Refiner"]),
                                start_step=round(switch * info.steps) if switch and info.steps else None))


def _hires_pass(info: Any, params: dict[str, str]) -> Pass:
    scale = _num(params.get("Hires upscale"), float)
    width, height = _num(params.get("Hires resize-1"), int), _num(params.get("Hires resize-2"), int)
    if scale and info.width and info.height and not width:
        width, height = int(info.width * scale), int(info.height * scale)
    cfg = _num(params.get("Hires CFG Scale"), float)
    return Pass("hires", info.seed, _num(params.get("Hires steps"), int), info.cfg if cfg is None else cfg,
                params.get("Hires sampler") or info.sampler, params.get("Hires schedule type") or info.scheduler,
                info.denoise, width, height, model=params.get("Hires checkpoint") or None, upscale=scale,
                upscaler=params.get("Hires upscaler") or None, prompt=params.get("Hires prompt") or None,
                negative=params.get("Hires negative prompt") or None)


def _legacy_loras(text: str) -> list[Lora]:
    """The `Lora: "file:0.8, ..."` pairs older UDW versions wrote for ComfyUI graphs."""
    out = []
    for part in str(text).split(","):
        name, sep, weight = part.strip().rpartition(":")
        if sep and name and _num(weight, float) is not None:
            out.append(Lora.from_file(name, float(weight)))
    return out
