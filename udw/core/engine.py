"""Where stages run: in this process (`local`, the default) or on a Ray cluster (`ray`).

Engine settings travel with the `Ports`, like ONNX providers: both say *where* work runs, not
*what* it does. So every stage function that takes ports (tag_dataset, run_faces, ...) can run on
a cluster without a new parameter, and `run_stage(..., engine=...)` overrides the ports' choice.
The Ray engine lives in `udw.scale` and is imported only when asked for: the local default
needs no cluster and no Ray.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from typing import Any, Optional

from .errors import BadInput

ENGINES = ("local", "ray")
RAY_HINT = 'install it with: pip install "udw-studio[ray]"  (or: pip install "ray[data]")'


@dataclass(frozen=True)
class EngineSettings:
    """name: local | ray.

    address: ray only. ''/None start a private local Ray; 'auto' joins the cluster this machine
      belongs to (or RAY_ADDRESS); 'ray://host:10001' connects through Ray Client.
    actors: worker actors per stage (0: as many as the cluster's CPUs, or GPUs, allow).
    cpus_per_actor / gpus_per_actor: resources each actor reserves; gpus_per_actor None means
      1 when the cluster has GPUs and 0 otherwise (fractions share a GPU between actors).
    worker_root: the dataset folder as mounted on the workers when it differs from the driver's
      path (a shared filesystem mounted elsewhere), or the URL of its mirror; '' means the same path.
    video_segment_s: frame extraction cuts videos longer than twice this into segments of about
      this length, extracted in parallel (0: one task per video).
    """

    name: str = "local"
    address: Optional[str] = None
    actors: int = 0
    cpus_per_actor: float = 1.0
    gpus_per_actor: Optional[float] = None
    worker_root: str = ""
    video_segment_s: float = 900.0

    @property
    def local(self) -> bool:
        return self.name == "local"

    def validated(self) -> "EngineSettings":
        if self.name not in ENGINES:
            raise BadInput(f"unknown engine {self.name!r}", f"use one of {', '.join(ENGINES)}")
        if self.actors < 0:
            raise BadInput(f"actors must be 0 (automatic) or more, got {self.actors}", "e.g. --ray-actors 4")
        if self.cpus_per_actor <= 0:
            raise BadInput(f"CPUs per actor must be above 0, got {self.cpus_per_actor}", "e.g. 1 or 0.5")
        if self.gpus_per_actor is not None and self.gpus_per_actor < 0:
            raise BadInput(f"GPUs per actor must be 0 or more, got {self.gpus_per_actor}",
                           "e.g. --ray-gpus-per-actor 1 (or 0.5 to share a GPU between two actors)")
        if self.video_segment_s < 0:
            raise BadInput(f"the video segment length must be 0 (off) or more, got {self.video_segment_s}",
                           "e.g. --ray-video-segment 600")
        addr = self.address or ""
        if addr and addr != "auto" and not (addr.startswith("ray://") or ":" in addr):
            raise BadInput(f"cannot use Ray address {addr!r}", "use auto, ray://HOST:10001 or HOST:6379")
        return self

    def describe(self) -> str:
        if self.local:
            return "local"
        where = self.address or "a local Ray instance"
        actors = self.actors or "auto"
        gpus = "auto" if self.gpus_per_actor is None else self.gpus_per_actor
        return f"ray on {where} ({actors} actors, {self.cpus_per_actor:g} CPU / {gpus} GPU each)"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Optional[dict]) -> "EngineSettings":
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known).validated()


LOCAL = EngineSettings()


def engine_settings(name: str = "local", address: Optional[str] = None, actors: int = 0,
                    gpus_per_actor: Optional[float] = None, cpus_per_actor: float = 1.0,
                    worker_root: str = "", check_installed: bool = True,
                    video_segment_s: float = 900.0) -> EngineSettings:
    """Validated settings from plain values (CLI, UI, nodes); says how to install Ray if missing."""
    settings = EngineSettings(name or "local", address or None, int(actors or 0), float(cpus_per_actor),
                              None if gpus_per_actor is None or gpus_per_actor < 0 else float(gpus_per_actor),
                              worker_root or "", float(video_segment_s)).validated()
    if check_installed and not settings.local:
        backend(settings)
    return settings


def backend(settings: EngineSettings) -> Any:
    """The module that runs stages for a non-local engine (imported on demand)."""
    module = importlib.import_module("..scale.ray_engine", __package__)
    module.require_ray()
    return module
