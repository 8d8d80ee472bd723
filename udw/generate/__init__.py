"""Standalone SD1 generation with diffusers, from a single checkpoint file (no hub access).

Import is cheap: torch, diffusers and transformers load only when a pipeline is built.
"""

from .pipeline import Loaded, LoraSpec, load_pipeline, unload
from .txt2img import generate, png_info, save_png

__all__ = ["Loaded", "LoraSpec", "load_pipeline", "unload", "generate", "png_info", "save_png"]
