"""What a remote worker sees of a dataset: its folder, never its manifest.

The manifest is one SQLite file written only by the driver (SQLite over a network filesystem is
neither safe nor fast). A worker gets a `DatasetView` with the same `root`/`abspath` as `Dataset`,
pointing at the dataset folder as mounted on the worker; touching the manifest there is a bug in
the stage, reported as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

from ..core.errors import BadInput, UdwError
from ..core.manifest import MANIFEST_NAME, Item


class ManifestInWorker(UdwError):
    """A stage read or wrote the manifest from a remote worker."""


class DatasetView:
    """The dataset folder, as seen by a worker."""

    def __init__(self, root: Union[str, Path], stage: str = ""):
        self.root = Path(root)
        self.manifest_path = self.root / MANIFEST_NAME
        self.stage = stage

    def check(self) -> "DatasetView":
        """Fail clearly when the worker cannot see the dataset folder (not a shared filesystem)."""
        if not self.root.is_dir():
            raise BadInput(f"the dataset folder {self.root} does not exist on this Ray worker",
                           "put the dataset on a filesystem every node mounts at the same path, or "
                           "give the path it has on the workers (worker_root / --ray-worker-root)")
        return self

    def abspath(self, item: Union[Item, str]) -> Path:
        return self.root / (item.path if isinstance(item, Item) else item)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        # Dataset methods other than root/abspath all go through the manifest.
        raise ManifestInWorker(
            f"stage {self.stage or '?'} used Dataset.{name} inside a Ray worker, where the manifest "
            f"is not available", "read manifest facts in select()/commit() (the driver), or run with "
            "--engine local")

    def __repr__(self) -> str:
        return f"DatasetView({str(self.root)!r})"
