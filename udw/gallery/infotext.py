"""A1111 "infotext" (PNG `parameters`): prompt, `Negative prompt: ...`, then `Key: value, ...`.

The parser follows A1111's own `parse_generation_parameters` (same key-value pattern, quoted values
unquoted as JSON, the last line taken as parameters only when it holds at least 3 pairs).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Optional

RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
RE_SIZE = re.compile(r"^(\d+)x(\d+)$")
RE_LORA = re.compile(r"<(?:lora|lyco):([^:>]+)(?::([-+]?[0-9.]+))?[^>]*>", re.IGNORECASE)


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


def loras_in_prompt(prompt: str) -> list[tuple[str, float]]:
    """`<lora:name:0.8>` tags of a prompt, as (name, weight)."""
    out = []
    for name, weight in RE_LORA.findall(prompt or ""):
        try:
            out.append((name.strip(), float(weight) if weight else 1.0))
        except ValueError:
            out.append((name.strip(), 1.0))
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
