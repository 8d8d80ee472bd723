"""Fetching a model's files from its public source into a model folder, once.

Where a file comes from: `UDW_MODEL_MIRROR=URL` -> `URL/<model name>/<file name>` (offline mirrors,
tests); else the model's own URL (the LBP cascade on GitHub) or its Hugging Face repo
(`https://huggingface.co/<repo>/resolve/<revision>/<file>`, with `HF_TOKEN` when set).
`HF_HUB_OFFLINE=1` stops every download from the internet; a mirror is still used (that is what
an offline mirror is for). Files land in `<model folder>/<model name>/<file name>` under a
temporary name and are renamed when complete, so a killed download leaves nothing half-written
and a second call finds the files and downloads nothing.
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from ..core.atomic import atomic_path
from ..core.errors import ModelNotFound
from ..core.ports import Ports

log = logging.getLogger("udw.models")

MIRROR_ENV = "UDW_MODEL_MIRROR"
AUTO_ENV = "UDW_AUTO_DOWNLOAD"  # 0/false/no/off: hosts do not fetch missing models on first use
CHUNK = 1 << 16
_FALSE = ("0", "false", "no", "off")


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def mirror() -> Optional[str]:
    url = os.environ.get(MIRROR_ENV, "").strip()
    return url.rstrip("/") or None


def auto_download_enabled() -> bool:
    """The user's setting for fetching missing models on first use (on unless UDW_AUTO_DOWNLOAD=0)."""
    return os.environ.get(AUTO_ENV, "").strip().lower() not in _FALSE


def can_download(spec) -> bool:
    """Whether a download of `spec` could be attempted now (a source exists and we are not offline)."""
    if mirror():
        return True
    return not offline() and bool(spec.repo_id or spec.options.get("urls"))


def source(spec) -> str:
    """Where the model is published (shown in lists and hints)."""
    if spec.options.get("urls"):
        return ", ".join(spec.options["urls"].values())
    if spec.repo_id:
        return f"https://huggingface.co/{spec.repo_id}"
    return "no public source (give the file)"


def file_url(spec, name: str) -> str:
    """The URL one file of `spec` is fetched from (the mirror's when UDW_MODEL_MIRROR is set)."""
    base = mirror()
    if base:
        return f"{base}/{spec.name}/{Path(name).name}"
    if spec.options.get("urls"):
        return spec.options["urls"][name]
    if spec.repo_id:
        return f"https://huggingface.co/{spec.repo_id}/resolve/{spec.revision or 'main'}/{name}"
    raise ModelNotFound(f"model {spec.name} has no public source", "give the model file's path instead")


def install_dir(spec, ports: Optional[Ports] = None) -> Path:
    """The folder a download of `spec` goes to: the host's model folder for its kind (ComfyUI
    models/udw_<kind>, A1111 models/udw/<kind>), else UDW_MODELS_DIR/<kind>, else
    ~/.cache/udw/models/<kind>; always in a sub-folder named after the model."""
    host = (ports.model_dirs.get(spec.kind) if ports else None) or []
    env = [p for p in os.environ.get("UDW_MODELS_DIR", "").split(os.pathsep) if p]
    if host:
        base = Path(host[0])
    elif env:
        base = Path(env[0]) / spec.kind
    else:
        base = Path.home() / ".cache" / "udw" / "models" / spec.kind
    return base.expanduser() / spec.name


def fetch(spec, ports: Optional[Ports] = None, folder: Optional[Path] = None) -> dict[str, Path]:
    """Download every file of `spec` that is not yet in `folder` (default: `install_dir`)."""
    ports = ports or Ports()
    if not can_download(spec):
        raise ModelNotFound(f"model {spec.name} cannot be downloaded now: HF_HUB_OFFLINE is set",
                            f"unset HF_HUB_OFFLINE, or set {MIRROR_ENV} to a mirror that holds it")
    folder = Path(folder) if folder else install_dir(spec, ports)
    out = {}
    for name in spec.files:
        target = folder / Path(name).name
        if not target.is_file():
            _download(file_url(spec, name), target, spec.name, ports)
        out[name] = target
    return out


def _request(url: str) -> urllib.request.Request:
    headers = {"User-Agent": "udw-studio"}
    token = os.environ.get("HF_TOKEN")
    if token and url.startswith("https://huggingface.co/"):
        headers["Authorization"] = f"Bearer {token}"
    return urllib.request.Request(url, headers=headers)


def _download(url: str, target: Path, model: str, ports: Ports) -> None:
    """Stream `url` into `target` (temporary name, then rename), reporting bytes as progress."""
    log.warning("downloading %s: %s -> %s", model, url, target)
    try:
        with urllib.request.urlopen(_request(url), timeout=60) as resp, atomic_path(target) as tmp:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            with open(tmp, "wb") as fh:
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    fh.write(chunk)
                    done += len(chunk)
                    ports.step(done, total or done)
            if total and done != total:
                raise OSError(f"connection closed after {done} of {total} bytes")
    except (OSError, urllib.error.URLError) as exc:
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else str(exc)
        raise ModelNotFound(f"could not download {model} from {url}: {reason}",
                            f"check the network (or {MIRROR_ENV}), or save the file by hand as {target}") from exc
