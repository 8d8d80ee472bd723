"""UDW Look: a preset (TV/movie 16:9, key visual, concept art, or the user's own) as node outputs.

User looks are JSON files in ComfyUI's user folder (user/udw/looks), UDW_LOOKS_DIR or
~/.config/udw/looks; a file with a shipped id replaces that look.
"""

from __future__ import annotations

import os
from pathlib import Path

import comfy.samplers
import folder_paths

from ..udw.core.errors import UdwError
from ..udw.looks import load_looks, user_dirs
from ..udw.looks.looks import SHIPPED
from .host import CATEGORY

SAMPLERS = comfy.samplers.KSampler.SAMPLERS
SCHEDULERS = comfy.samplers.KSampler.SCHEDULERS


def look_dirs() -> list[Path]:
    user = getattr(folder_paths, "get_user_directory", None)
    return [Path(user()) / "udw" / "looks"] if user else []


def _book():
    return load_looks(look_dirs())


class UDWLook:
    DESCRIPTION = ("A UDW look: prompt fragments around your prompt, the negative prompt, the size (hi-res optional) "
                   "and the suggested sampler, scheduler, steps and CFG. Looks are editable JSON files.")
    CATEGORY = f"{CATEGORY}/models"
    RETURN_TYPES = ("STRING", "STRING", "INT", "INT", "INT", "FLOAT", SAMPLERS, SCHEDULERS, "FLOAT", "FLOAT")
    RETURN_NAMES = ("positive", "negative", "width", "height", "steps", "cfg", "sampler_name", "scheduler",
                    "hires_scale", "hires_denoise")
    OUTPUT_TOOLTIPS = ("the look's prompt with yours in its slot", "the look's negative prompt (+ yours)",
                       "image width", "image height", "sampling steps", "CFG scale", "sampler for KSampler",
                       "scheduler for KSampler", "upscale factor of the look's hi-res pass (1: none)",
                       "denoise of the hi-res pass")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        book = _book()
        ids = list(book.looks) or ["tv"]
        return {"required": {
            "look": (ids, {"default": ids[0], "tooltip": "; ".join(f"{k}: {v.name}" for k, v in book.looks.items())}),
            "prompt": ("STRING", {"multiline": True, "default": "1girl, solo",
                                  "tooltip": "booru tags; placed in the look's prompt slot"}),
            "hires": ("BOOLEAN", {"default": False, "tooltip": "output the hi-res size instead of the base size"}),
        }, "optional": {
            "extra_negative": ("STRING", {"multiline": True, "default": "", "tooltip": "added to the look's negative"}),
        }}

    @classmethod
    def VALIDATE_INPUTS(cls, look=None):
        if look is None:
            return True
        try:
            _book().get(look)
        except UdwError as exc:
            return str(exc)
        return True

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        stamps = []
        for folder in [SHIPPED, *user_dirs(look_dirs())]:
            if folder.is_dir():
                stamps += [f"{p.name}:{os.stat(p).st_mtime_ns}" for p in sorted(folder.iterdir())]
        return "|".join(stamps) + repr(sorted(kwargs.items()))

    def run(self, look, prompt, hires=False, extra_negative=""):
        try:
            chosen = _book().get(look)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc
        if chosen.sampler not in SAMPLERS or chosen.scheduler not in SCHEDULERS:
            raise RuntimeError(f"look {chosen.id}: this ComfyUI has no sampler {chosen.sampler!r} / scheduler "
                               f"{chosen.scheduler!r}; edit the look ({chosen.source})")
        width, height = chosen.size(hires)
        negative = ", ".join(p for p in (chosen.negative, extra_negative.strip()) if p)
        scale = chosen.hires.scale if chosen.hires and not hires else 1.0
        denoise = chosen.hires.denoise if chosen.hires else 0.0
        return (chosen.positive(prompt), negative, width, height, chosen.steps, float(chosen.cfg),
                chosen.sampler, chosen.scheduler, float(scale), float(denoise))


MAPPINGS = {"UDWLook": (UDWLook, "UDW Look")}
