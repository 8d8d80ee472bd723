"""The engine node: send pipeline nodes' work to a Ray cluster (unconnected: this machine)."""

from __future__ import annotations

from ..udw import scale  # noqa: F401 - registers the Ray engine (and URL imports) with the core
from ..udw.core.engine import backend, engine_settings
from ..udw.core.errors import UdwError
from .host import CATEGORY, ENGINE_TYPE


class UDWRayEngine:
    DESCRIPTION = ("Run the stages of the pipeline nodes it is connected to on a Ray cluster: workers load "
                   "and compute, this machine writes the manifest and shows progress. Pipeline nodes "
                   "without an engine run here. Needs Ray: pip install \"udw-studio[ray]\".")
    CATEGORY = f"{CATEGORY}/dataset"
    RETURN_TYPES = (ENGINE_TYPE,)
    RETURN_NAMES = ("engine",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "address": ("STRING", {"default": "", "tooltip": "empty: start a private local Ray; auto: the "
                                   "cluster this machine belongs to; ray://HOST:10001 for a remote one"}),
            "actors": ("INT", {"default": 0, "min": 0, "max": 4096, "tooltip": "worker actors per stage "
                               "(0: as many as the cluster's CPUs, or GPUs, allow)"}),
            "gpus_per_actor": ("FLOAT", {"default": -1.0, "min": -1.0, "max": 64.0, "step": 0.25,
                                         "tooltip": "-1: one GPU per actor when the cluster has GPUs; "
                                                    "0: CPU only; 0.5: two actors share a GPU"}),
            "cpus_per_actor": ("FLOAT", {"default": 1.0, "min": 0.25, "max": 256.0, "step": 0.25}),
            "worker_root": ("STRING", {"default": "", "tooltip": "the dataset folder as the workers mount it, "
                                       "when that differs from this machine's path"}),
        }}

    @classmethod
    def VALIDATE_INPUTS(cls, address=None, actors=0, gpus_per_actor=-1.0, cpus_per_actor=1.0, worker_root=""):
        try:
            _settings(address or "", actors, gpus_per_actor, cpus_per_actor, worker_root or "")
        except UdwError as exc:
            return str(exc)
        return True

    def run(self, address, actors, gpus_per_actor, cpus_per_actor, worker_root):
        try:
            settings = _settings(address, actors, gpus_per_actor, cpus_per_actor, worker_root)
            backend(settings).connect(settings)  # before the stages: a bad address stops the prompt here
            return (settings,)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc


def _settings(address, actors, gpus, cpus, worker_root):
    return engine_settings("ray", address.strip() or None, actors, None if gpus < 0 else gpus, cpus,
                           worker_root.strip())


MAPPINGS = {"UDWRayEngine": (UDWRayEngine, "UDW Ray Engine")}
