"""What models are installed, where, their licence and source: `udw models`, the UDW Models node
and the Models section of the UDW tab show the same rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import ModelNotFound
from ..core.ports import Ports
from . import fetch
from .registry import ModelFiles, ModelSpec, get_spec, known_specs, locate, search_dirs


@dataclass
class ModelStatus:
    name: str
    kind: str
    licence: str
    source: str
    description: str
    path: Optional[Path]          # the main file when installed
    origin: str                   # folder | hf-cache | "" (missing)
    install_to: Path              # where `get` puts it

    @property
    def installed(self) -> bool:
        return self.path is not None

    def row(self) -> list[str]:
        return [self.name, self.kind, str(self.path) if self.path else "not installed", self.licence, self.source]


HEADERS = ["model", "kind", "installed at", "licence", "source"]


def status(spec: ModelSpec, ports: Optional[Ports] = None) -> ModelStatus:
    local = Ports(model_dirs=dict(ports.model_dirs) if ports else {})  # looking never downloads
    try:
        found: Optional[ModelFiles] = locate(spec, local)
    except ModelNotFound:
        found = None
    return ModelStatus(spec.name, spec.kind, spec.licence, fetch.source(spec), spec.description,
                       found.first if found else None, found.origin if found else "",
                       fetch.install_dir(spec, ports))


def list_status(ports: Optional[Ports] = None, kind: Optional[str] = None) -> list[ModelStatus]:
    return [status(spec, ports) for spec in sorted(known_specs(kind), key=lambda s: (s.kind, s.name))]


def get_model(name: str, ports: Optional[Ports] = None) -> ModelFiles:
    """The files of model `name`, downloaded into the host's model folder unless already there."""
    spec = get_spec(name)
    try:
        return locate(spec, Ports(model_dirs=dict(ports.model_dirs) if ports else {}))
    except ModelNotFound:
        files = fetch.fetch(spec, ports)
        return ModelFiles(spec, files, "download")


def folders_text(kind: str, ports: Optional[Ports] = None) -> str:
    return "\n".join(f"  {d}" for d in search_dirs(kind, ports))
