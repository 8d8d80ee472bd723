"""Scale-out: the dataset pipeline on Ray Data when one machine is not enough.

`run_stage(ds, stage, ports, engine=EngineSettings("ray", ...))` (or `ports.engine`) runs any
Stage's load+process in Ray actors and commits results in this process, the only writer of the
manifest. Ray is optional (`pip install "udw-studio[ray]"`); nothing here imports it until a
Ray engine is used. Importing it registers its engines with the core (see `engines`).
"""

from .engines import register
from .runtime import ray_available, require_ray

register()

__all__ = ["ray_available", "require_ray"]
