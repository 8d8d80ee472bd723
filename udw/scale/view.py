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


class ManifestInWorker(UdwError, AttributeError):
    """A stage read or wrote the manifest from a remote worker (an AttributeError too, so that
    `hasattr(view, ...)` stays a plain question)."""


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


class StagedView(DatasetView):
    """A worker's view of a dataset mirrored in object storage (`worker_root` is a URL).

    `abspath()` downloads the item's file into a private scratch folder on first use; files a
    stage writes under `root` are uploaded by `flush()` (called after each batch, before the
    results go back, so the driver never commits a row whose file is not in the store yet), and
    the scratch folder is emptied, so a worker's disk holds one batch at a time.
    """

    def __init__(self, url: str, stage: str = "", scratch: Union[str, Path, None] = None):
        import tempfile

        from .storage import filesystem

        self.url = url.rstrip("/")
        self.fs, self.base = filesystem(self.url)
        super().__init__(Path(scratch or tempfile.mkdtemp(prefix="udw-stage-")), stage)
        self.fetched: dict[Path, tuple[int, int]] = {}

    def check(self) -> "StagedView":
        try:
            self.fs.makedirs(self.base, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"the dataset mirror {self.url} cannot be reached from this worker ({exc})",
                           "check the URL and the workers' credentials") from exc
        return self

    def abspath(self, item: Union[Item, str]) -> Path:
        rel = item.path if isinstance(item, Item) else item
        local = self.root / rel
        if local not in self.fetched and not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.fs.get_file(f"{self.base}/{rel}", str(local))
            except FileNotFoundError:
                return local  # not in the store (yet): the stage reports it, or creates it
            st = local.stat()
            self.fetched[local] = (st.st_size, st.st_mtime_ns)
        return local

    def flush(self) -> int:
        """Upload what the batch wrote (new or changed files), then empty the scratch folder."""
        import shutil

        from ..core.atomic import TEMP_MARK

        sent = 0
        for path in sorted(p for p in self.root.rglob("*") if p.is_file() and TEMP_MARK not in p.name):
            st = path.stat()
            if self.fetched.get(path) != (st.st_size, st.st_mtime_ns):
                rel = path.relative_to(self.root).as_posix()
                self.fs.makedirs(f"{self.base}/{rel}".rsplit("/", 1)[0], exist_ok=True)
                self.fs.put_file(str(path), f"{self.base}/{rel}")
                sent += 1
        for child in list(self.root.iterdir()):
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        self.fetched.clear()
        return sent


def worker_view(root: str, stage: str = "") -> DatasetView:
    """A StagedView for a URL root (file:// too), else a plain view of a mounted folder."""
    from .storage import is_url

    return (StagedView(root, stage) if is_url(root) else DatasetView(root, stage)).check()
