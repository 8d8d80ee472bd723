"""The engine implementations `udw.scale` registers with the core (`udw.core.engine`).

The core asks the engine in its ports for a hook and never imports this package; importing
`udw.scale` (the udw command, the app and the ComfyUI nodes do) registers:

- `ray`: stages, frame extraction and imports on a Ray cluster;
- `local`: imports from fsspec URLs (s3://, gs://, file://) in this process.

Each hook imports its module when called, so registering loads neither Ray nor fsspec.
"""

from __future__ import annotations

from typing import Any

from ..core.engine import register_engine


class RayEngine:
    name = "ray"

    def require(self) -> Any:
        from .runtime import require_ray

        return require_ray()

    def connect(self, settings: Any) -> Any:
        """Join the cluster now (a step of its own): a bad address fails here, before any work."""
        from .runtime import connect

        return connect(settings)

    def run_batches(self, *args: Any) -> None:
        from .ray_engine import run_batches

        run_batches(*args)

    def extract_frames(self, dataset: Any, inputs: Any, settings: Any, ports: Any) -> Any:
        from .frames import extract_frames_scaled

        return extract_frames_scaled(dataset, inputs, settings, ports)

    def import_images(self, dataset: Any, inputs: Any, mode: str, licence: Any, ports: Any) -> Any:
        from .ingest import import_scaled

        return import_scaled(dataset, inputs, mode, licence, ports)


class LocalHooks:
    """What the local engine needs from this package: imports from URLs."""

    name = "local"

    def require(self) -> None:
        return None

    import_images = RayEngine.import_images


def register() -> None:
    register_engine("ray", RayEngine())
    register_engine("local", LocalHooks())
