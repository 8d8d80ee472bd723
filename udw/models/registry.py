"""Known models and where their files are found.

Lookup order for a model's files: an explicit path -> the host's model folders (ComfyUI
`folder_paths` under `udw_<kind>`, A1111 `models/udw/<kind>`, `UDW_MODELS_DIR/<kind>`) -> the
Hugging Face cache -> a download into the host's model folder (`fetch.py`), only when allowed. A
missing model raises one ModelNotFound that names the files, every folder searched and the command
that fetches it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

from ..core.errors import ModelNotFound
from ..core.ports import Ports
from . import fetch


@dataclass(frozen=True)
class ModelSpec:
    """A known model. `files` are paths inside the HF repo (may include a subfolder)."""

    name: str
    kind: str                      # taggers | detectors | embedders | pose | checkpoints | controlnet
    repo_id: Optional[str]
    files: tuple[str, ...]
    licence: str = "unknown"
    revision: Optional[str] = None
    description: str = ""
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class ModelFiles:
    spec: ModelSpec
    paths: dict[str, Path]         # repo file name -> local path
    origin: str                    # explicit | folder | hf-cache | download

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]

    @property
    def first(self) -> Path:
        return self.paths[self.spec.files[0]]


_REGISTRY: dict[str, ModelSpec] = {}


def register(*specs: ModelSpec) -> None:
    for spec in specs:
        _REGISTRY[spec.name] = spec


def get_spec(name: str) -> ModelSpec:
    from . import catalog  # noqa: F401  (fills the registry on first use)

    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ModelNotFound(f"unknown model {name!r}", f"known models: {known}; or give a file path") from None


def known_specs(kind: Optional[str] = None) -> list[ModelSpec]:
    from . import catalog  # noqa: F401

    return [s for s in _REGISTRY.values() if kind is None or s.kind == kind]


def search_dirs(kind: str, ports: Optional[Ports] = None) -> list[Path]:
    """Folders searched for models of `kind`, in order."""
    dirs = [Path(d) for d in (ports.model_dirs.get(kind, []) if ports else [])]
    env = os.environ.get("UDW_MODELS_DIR")
    if env:
        dirs += [Path(p) / kind for p in env.split(os.pathsep) if p] + [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(Path.home() / ".cache" / "udw" / "models" / kind)
    return dirs


def locate(spec: Union[ModelSpec, str], ports: Optional[Ports] = None,
           explicit: Optional[Union[str, Path]] = None) -> ModelFiles:
    """Find every file of `spec` (see the module doc for the order)."""
    spec = get_spec(spec) if isinstance(spec, str) else spec
    ports = ports or Ports()
    if explicit:
        return _explicit(spec, Path(explicit))
    dirs = search_dirs(spec.kind, ports)
    for folder in dirs:
        found = _in_folder(spec, folder)
        if found:
            return ModelFiles(spec, found, "folder")
    cached = _hf_cache(spec)
    if cached:
        return ModelFiles(spec, cached, "hf-cache")
    if ports.allow_download and fetch.can_download(spec):
        return ModelFiles(spec, fetch.fetch(spec, ports), "download")
    raise _not_found(spec, dirs, ports.allow_download)


def _explicit(spec: ModelSpec, path: Path) -> ModelFiles:
    """A file path (siblings found beside it) or a folder holding the files."""
    path = path.expanduser()
    folder = path if path.is_dir() else path.parent
    paths = {f: folder / Path(f).name for f in spec.files}
    if path.is_file():  # the given file stands for the main file, whatever its name
        paths[spec.files[0]] = path
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ModelNotFound(f"model {spec.name}: missing {', '.join(missing)}",
                            f"put {', '.join(Path(f).name for f in spec.files)} together in {folder}")
    return ModelFiles(spec, paths, "explicit")


def _in_folder(spec: ModelSpec, folder: Path) -> Optional[dict[str, Path]]:
    """Files in `folder/<name>/` (or `folder/<repo subfolder>/`, or directly in `folder`)."""
    for base in (folder / spec.name, folder):
        paths = {f: base / Path(f).name for f in spec.files}
        if all(p.is_file() for p in paths.values()):
            return paths
        nested = {f: base / f for f in spec.files}
        if all(p.is_file() for p in nested.values()):
            return nested
    return None


def _hf_home() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return home / "hub"


def _hf_cache(spec: ModelSpec) -> Optional[dict[str, Path]]:
    """Files of the repo in the Hugging Face cache layout (no huggingface_hub needed)."""
    if not spec.repo_id:
        return None
    repo = _hf_home() / ("models--" + spec.repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / (spec.revision or "main")
    order = [snapshots / ref.read_text().strip()] if ref.is_file() else []
    order += sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for snap in order:
        paths = {f: snap / f for f in spec.files}
        if all(p.is_file() for p in paths.values()):
            return paths
    return None


def _not_found(spec: ModelSpec, dirs: Sequence[Path], allowed: bool) -> ModelNotFound:
    """One error naming the files, every folder searched, and the one command that fetches them."""
    names = ", ".join(Path(f).name for f in spec.files)
    where = "\n".join(f"    {d}" for d in dirs)
    hint = f"put {names} into one of these folders (or a sub-folder named {spec.name}):\n{where}\n  "
    if spec.repo_id or spec.options.get("urls"):
        why = " (downloads are off here: HF_HUB_OFFLINE)" if allowed and not fetch.can_download(spec) else ""
        hint += (f"or fetch it from {fetch.source(spec)}{why}: run `udw models get {spec.name}`, "
                 f"or use the Download button of UDW Models (ComfyUI node / UDW tab section)")
    else:
        hint += "or give the file path explicitly"
    return ModelNotFound(f"model {spec.name} ({names}) is not on this machine", hint)
