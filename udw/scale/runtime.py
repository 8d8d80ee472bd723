"""Connecting to Ray and sizing the actor pool from what the cluster has.

A private local Ray binds to 127.0.0.1 and starts no dashboard. Workers must run the driver's
`udw` code: actors on this machine get it through PYTHONPATH, other machines through the job's
`py_modules` (Ray uploads the package once per content hash), so cluster nodes need only the
dependencies installed.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..core.engine import RAY_HINT, EngineSettings
from ..core.errors import BadInput
from .connect import WHAT_TO_DO, check_reachable, cluster_address

log = logging.getLogger("udw.scale")
_LOCK = threading.Lock()
UDW_DIR = Path(__file__).resolve().parents[1]


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


def require_ray() -> Any:
    """The `ray` module, or BadInput saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise BadInput(f"the Ray engine needs Ray Data, which is not installed ({exc.name or exc})",
                       RAY_HINT) from exc
    return ray


_JOINED: dict[str, Optional[str]] = {}  # "address": what this process's ray.init joined (None: local)


def connect(settings: EngineSettings) -> Any:
    """Join (or start) the Ray cluster the settings name; reuses an existing connection."""
    ray = require_ray()
    address = cluster_address(settings.address)
    with _LOCK:
        if not ray.is_initialized():
            _init(ray, settings)
            _JOINED["address"] = address
        elif address != _JOINED.get("address") and address is not None:
            check_reachable(address)  # a bad address gets its message even when connected elsewhere
            raise BadInput(f"this process is already connected to {_JOINED.get('address') or 'a local Ray'}, "
                           f"not to {address}", "restart it (the app, ComfyUI) to use another cluster")
    _quiet_data(ray)
    return ray


def _init(ray: Any, settings: EngineSettings) -> None:
    address = cluster_address(settings.address)
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "configure_logging": False}
    if address is None:
        kwargs["_node_ip_address"] = "127.0.0.1"  # a private local instance: never listen outside
    else:  # another machine's workers: ship this process's udw package with the job
        check_reachable(address)  # a bad address stops here, in seconds, before anything runs
        kwargs["runtime_env"] = {"py_modules": [str(UDW_DIR)], "excludes": ["__pycache__", "*.pyc"]}
    try:
        ray.init(address=settings.address or None, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise BadInput(f"cannot connect to the Ray cluster at {address or 'a local instance'} (Ray said: {exc})",
                       WHAT_TO_DO) from exc
    log.info("ray: connected (%s)", address or "local instance")


def worker_runtime_env() -> dict:
    """Actors on this machine import this process's `udw` first (a Ray started by someone else
    would otherwise import whatever `udw` its workers find); on other machines the folder does
    not exist, the entry is ignored, and the job's `py_modules` copy is used."""
    parts = [str(UDW_DIR.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(parts))}}


def _quiet_data(ray: Any) -> None:
    """Progress goes through the Ports, not Ray's own bars and per-dataset log lines."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "bars disabled": we know


@dataclass(frozen=True)
class ActorPlan:
    actors: int
    cpus: float
    gpus: float

    def describe(self) -> str:
        return f"{self.actors} actor(s) x {self.cpus:g} CPU" + (f" + {self.gpus:g} GPU" if self.gpus else "")


def plan_actors(ray: Any, settings: EngineSettings, batches: int) -> ActorPlan:
    """How many actors, with what resources: GPU actors when the cluster has GPUs (unless 0)."""
    res = ray.cluster_resources()
    cpus_total, gpus_total = float(res.get("CPU", 1)), float(res.get("GPU", 0))
    gpus = settings.gpus_per_actor if settings.gpus_per_actor is not None else (1.0 if gpus_total else 0.0)
    if gpus and gpus > gpus_total:
        raise BadInput(f"each actor asks for {gpus:g} GPU but the cluster has {gpus_total:g}",
                       "lower --ray-gpus-per-actor (0 runs on CPUs)")
    cpus = min(settings.cpus_per_actor, cpus_total)
    fit = math.floor(gpus_total / gpus) if gpus else math.floor(cpus_total / cpus)
    actors = settings.actors or max(1, fit)
    return ActorPlan(max(1, min(actors, batches)), cpus, gpus)


def cluster_summary(settings: EngineSettings) -> str:
    """One line about the cluster the settings reach (connects if needed)."""
    ray = connect(settings)
    res = ray.cluster_resources()
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    gpus = f", {res.get('GPU', 0):g} GPUs" if res.get("GPU") else ", no GPU"
    return f"Ray {ray.__version__}: {len(nodes)} node(s), {res.get('CPU', 0):g} CPUs{gpus}"
