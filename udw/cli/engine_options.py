"""`--engine local|ray` and the Ray options, added to every verb that runs a stage by one helper.

The chosen engine rides on the Ports that `terminal_ports` builds (see `udw.core.engine`), so
verb handlers need no engine code: `main` parses the options once and scopes them to the command.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
from typing import Iterator, Optional

from .. import scale  # noqa: F401 - registers the Ray engine (and URL imports) with the core
from ..core.engine import ENGINES, EngineSettings, backend, engine_settings

# Verbs whose work runs as stages or fan-out jobs (others only read or arrange the manifest).
ENGINE_VERBS = ("import", "frames", "dedupe", "tag", "faces", "characters", "build")

_CURRENT: contextvars.ContextVar[Optional[EngineSettings]] = contextvars.ContextVar("udw_engine", default=None)


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine (where the work runs)")
    group.add_argument("--engine", choices=ENGINES, default="local",
                       help='local: this machine (default); ray: a Ray cluster, needs '
                            'pip install "udw-studio[ray]"')
    group.add_argument("--address", metavar="ADDR", default=None,
                       help="Ray cluster: auto (this machine's cluster or RAY_ADDRESS), ray://HOST:10001, "
                            "HOST:6379; default: start a private local Ray")
    group.add_argument("--ray-actors", type=int, default=0, metavar="N",
                       help="worker actors per stage (default: as many as the cluster's CPUs/GPUs allow)")
    group.add_argument("--ray-gpus-per-actor", type=float, default=None, metavar="X",
                       help="GPUs each actor reserves (default: 1 when the cluster has GPUs, else 0; "
                            "0.5 shares a GPU between two actors)")
    group.add_argument("--ray-cpus-per-actor", type=float, default=1.0, metavar="X",
                       help="CPUs each actor reserves (default 1)")
    group.add_argument("--ray-worker-root", default="", metavar="PATH",
                       help="the dataset folder as mounted on the workers, when it differs from here, "
                            "or the URL of its mirror (see udw mirror)")
    group.add_argument("--ray-video-segment", type=float, default=900.0, metavar="S",
                       help="frames: cut videos longer than 2*S seconds into segments extracted in "
                            "parallel (default 900; 0: one task per video)")


def add_to_verbs(sub: argparse._SubParsersAction) -> None:
    for verb, parser in sub.choices.items():
        if verb in ENGINE_VERBS:
            add_engine_options(parser)


def engine_from_args(args: argparse.Namespace) -> Optional[EngineSettings]:
    """The engine the command asked for (None: local), connected; says how to install Ray when it is
    missing and what to do when the cluster cannot be reached."""
    if getattr(args, "engine", "local") == "local":
        return None
    settings = engine_settings(args.engine, args.address, args.ray_actors, args.ray_gpus_per_actor,
                               args.ray_cpus_per_actor, args.ray_worker_root,
                               video_segment_s=args.ray_video_segment)
    backend(settings).connect(settings)  # before any stage: a bad address stops the command here
    return settings


@contextlib.contextmanager
def engine_scope(settings: Optional[EngineSettings]) -> Iterator[None]:
    token = _CURRENT.set(settings)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_engine() -> Optional[EngineSettings]:
    return _CURRENT.get()
