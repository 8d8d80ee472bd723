"""Where stages run: in this process (`local`, the default) or on a Ray cluster (`ray`).

Engine settings travel with the `Ports`, like ONNX providers: both say *where* work runs, not
*what* it does. So every stage function that takes ports (tag_dataset, run_faces, ...) can run on
a cluster without a new parameter, and `run_stage(..., engine=...)` overrides the ports' choice.
The core never imports its scale-out layer: an engine's implementation registers itself here
(`register_engine`; importing `udw.scale` registers Ray's, as the CLI, the app and the ComfyUI
nodes do), and core functions ask the engine in their ports for a hook (`engine_hook`):
`run_batches` for stages, `extract_frames`, `import_images`. The local default needs no
cluster and no Ray.
"""

from __future__ import annotations

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


_ENGINES: dict[str, Any] = {}


def register_engine(name: str, implementation: Any) -> None:
    """Make `implementation` run the work of engine `name`.

    It offers `require()` (raises BadInput when the engine cannot run here, e.g. Ray missing)
    and any of the hooks: run_batches(ds, stage, key, todo, ports, report, settings),
    extract_frames(dataset, inputs, settings, ports), import_images(dataset, inputs, mode,
    licence, ports). 'local' may offer hooks too (imports from URLs).
    """
    _ENGINES[name] = implementation


def backend(settings: EngineSettings) -> Any:
    """The registered implementation of a non-local engine, checked to be usable here."""
    found = _ENGINES.get(settings.name)
    if found is None:
        raise BadInput(f"the {settings.name} engine is not loaded",
                       "import udw.scale before using it (the udw command, the app and the ComfyUI "
                       f"nodes do); {RAY_HINT}")
    found.require()
    return found


def engine_hook(settings: Optional[EngineSettings], hook: str) -> Optional[Any]:
    """The engine's implementation of `hook` (e.g. 'extract_frames'), or None to run it here."""
    if settings is None or settings.local:
        return getattr(_ENGINES.get("local"), hook, None)
    return getattr(backend(settings), hook, None)
