"""Looks: the UDW card's three presets (TV/movie 16:9, key visual, concept art) as editable data."""

from .looks import Hires, Look, LookBook, load_looks, user_dirs
from .samplers import SAMPLERS, SCHEDULERS, a1111_names, sampler_id, scheduler_id
from .sizes import size_for_aspect

__all__ = ["Hires", "Look", "LookBook", "load_looks", "user_dirs", "SAMPLERS", "SCHEDULERS", "a1111_names",
           "sampler_id", "scheduler_id", "size_for_aspect"]
