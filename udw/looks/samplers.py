"""One sampler/scheduler vocabulary across hosts: ComfyUI ids, A1111 labels, diffusers classes.

Looks name samplers and schedulers by ComfyUI id (short, stable); A1111 labels are those of
v1.10 (modules/sd_samplers_kdiffusion.py, modules/sd_schedulers.py); the diffusers entries give
the scheduler class and its options for the standalone path.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import BadInput

# comfy id -> (A1111 label, diffusers class, diffusers options)
SAMPLERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "euler": ("Euler", "EulerDiscreteScheduler", {}),
    "euler_ancestral": ("Euler a", "EulerAncestralDiscreteScheduler", {}),
    "heun": ("Heun", "HeunDiscreteScheduler", {}),
    "dpm_2": ("DPM2", "KDPM2DiscreteScheduler", {}),
    "dpm_2_ancestral": ("DPM2 a", "KDPM2AncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPM++ 2M", "DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde": ("DPM++ 2M SDE", "DPMSolverMultistepScheduler",
                     {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "ddim": ("DDIM", "DDIMScheduler", {}),
    "uni_pc": ("UniPC", "UniPCMultistepScheduler", {}),
}

# comfy id -> (A1111 "Schedule type" label, diffusers options)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "normal": ("Normal", {}),
    "karras": ("Karras", {"use_karras_sigmas": True}),
    "exponential": ("Exponential", {"use_exponential_sigmas": True}),
    "simple": ("Simple", {"timestep_spacing": "trailing"}),
    "sgm_uniform": ("SGM Uniform", {"timestep_spacing": "trailing"}),
}

_BY_A1111 = {label.lower(): cid for cid, (label, _, _) in SAMPLERS.items()}
_SCHED_BY_A1111 = {label.lower(): cid for cid, (label, _) in SCHEDULERS.items()}


def sampler_id(name: str) -> str:
    """A ComfyUI id from either spelling ("DPM++ 2M" or "dpmpp_2m")."""
    key = str(name).strip()
    if key in SAMPLERS:
        return key
    if key.lower() in _BY_A1111:
        return _BY_A1111[key.lower()]
    raise BadInput(f"unknown sampler {name!r}", f"use one of: {', '.join(SAMPLERS)}")


def scheduler_id(name: str) -> str:
    key = str(name).strip()
    if key in SCHEDULERS:
        return key
    if key.lower() in _SCHED_BY_A1111:
        return _SCHED_BY_A1111[key.lower()]
    raise BadInput(f"unknown scheduler {name!r}", f"use one of: {', '.join(SCHEDULERS)}")


def a1111_names(sampler: str, scheduler: str) -> tuple[str, str]:
    return SAMPLERS[sampler_id(sampler)][0], SCHEDULERS[scheduler_id(scheduler)][0]
