"""Inputs as local paths or fsspec URLs (`s3://`, `gs://`, `file://`, `memory://`, ...).

Plain paths go through the normal local expansion. A URL is listed and read with fsspec, by the
driver (listing) and by whichever process does the work (reading), so on a cluster workers read
object storage directly and nothing large passes through the driver. `s3://` needs `s3fs`,
`gs://` needs `gcsfs` (fsspec says so when they are missing; we add the pip hint).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any, Iterable, Union

from ..core.errors import BadInput
from ..core.inputs import expand_inputs

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_GLOB = set("*?[")
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}


def is_url(text: Union[str, Path]) -> bool:
    return isinstance(text, str) and bool(_URL.match(text))


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for a URL, with a pip hint when a driver is missing."""
    try:
        from fsspec.core import url_to_fs
    except ImportError as exc:
        raise BadInput(f"{url}: reading URLs needs fsspec", 'pip install "udw-studio[ray]" (or fsspec)') from exc
    scheme = url.split("://", 1)[0].lower()
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:
        pkg = _PACKAGES.get(scheme, f"the fsspec driver for {scheme}://")
        raise BadInput(f"{url}: cannot open {scheme}:// URLs here ({exc})", f"pip install {pkg}") from exc


def expand(inputs: Iterable[Union[str, Path]], suffixes: set[str]) -> list[str]:
    """Files from paths, folders, globs and URLs (folder and glob URLs listed), in input order.

    Local entries come back as local paths, URLs as full URLs (with their scheme).
    """
    out: list[str] = []
    for raw in inputs:
        if is_url(str(raw)):
            out += _expand_url(str(raw), suffixes)
        else:
            out += [str(p) for p in expand_inputs([raw], suffixes)]
    return list(dict.fromkeys(out))


def _expand_url(url: str, suffixes: set[str]) -> list[str]:
    fs, path = filesystem(url)
    scheme = url.split("://", 1)[0]
    try:
        if any(c in path for c in _GLOB):
            hits = sorted(fs.glob(path))
        elif fs.isdir(path):
            hits = sorted(fs.find(path))
        elif fs.exists(path):
            hits = [path]
        else:
            hits = []
    except (OSError, PermissionError) as exc:
        raise BadInput(f"cannot list {url}: {exc}", "check the URL and your credentials") from exc
    files = [h for h in hits if posixpath.splitext(h)[1].lower() in suffixes
             and not posixpath.basename(h).startswith(".")]
    if not files:
        raise BadInput(f"no matching files for {url!r}", f"expected files ending in {sorted(suffixes)}")
    return [_join(scheme, fs, h) for h in files]


def _join(scheme: str, fs: Any, path: str) -> str:
    full = fs.unstrip_protocol(path)
    return full if is_url(full) else f"{scheme}://{path}"


def local_path(src: str) -> Union[Path, None]:
    """The local path behind a plain path or a file:// URL (None for other URLs)."""
    if not is_url(src):
        return Path(src)
    if src.lower().startswith("file://"):
        return Path(src[len("file://"):])
    return None


def source_key(src: str) -> str:
    """The idempotency key of an input: its resolved local path (also for file://), or its URL."""
    local = local_path(src)
    return str(local.resolve()) if local is not None else src


def source_folder(src: str) -> str:
    local = local_path(src)
    return str(local.resolve().parent) if local is not None else src.rsplit("/", 1)[0]


def read_bytes(src: str) -> bytes:
    if not is_url(src):
        return Path(src).read_bytes()
    fs, path = filesystem(src)
    try:
        return fs.cat_file(path)
    except FileNotFoundError as exc:
        raise BadInput(f"{src}: file not found", "check the URL") from exc


def open_input(src: str, mode: str = "rb") -> Any:
    """A file object for a local path or URL (PyAV and Pillow read from file objects)."""
    if not is_url(src):
        return open(src, mode)
    fs, path = filesystem(src)
    return fs.open(path, mode)


def sync(root: Union[str, Path], url: str, direction: str) -> int:
    """Copy a dataset folder to ('push') or from ('pull') its mirror; only missing or resized files.

    The manifest itself never goes to the mirror this way: it is the driver's, and a pull never
    overwrites it (copy `udw-manifest.sqlite` by hand for a backup, when no stage runs).
    """
    from ..core.atomic import TEMP_MARK, atomic_path
    from ..core.manifest import MANIFEST_NAME

    if direction not in ("push", "pull"):
        raise BadInput(f"unknown direction {direction!r}", "use push or pull")
    root = Path(root)
    fs, base = filesystem(url.rstrip("/"))
    skip = (MANIFEST_NAME, f"{MANIFEST_NAME}-wal", f"{MANIFEST_NAME}-shm")
    if direction == "push":
        local = {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*")
                 if p.is_file() and p.name not in skip and TEMP_MARK not in p.name}
        remote = _listing(fs, base)
        todo = [rel for rel, size in sorted(local.items()) if remote.get(rel) != size]
        for rel in todo:
            fs.makedirs(f"{base}/{rel}".rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(root / rel), f"{base}/{rel}")
        return len(todo)
    remote = _listing(fs, base)
    todo = [rel for rel, size in sorted(remote.items()) if rel.rsplit("/", 1)[-1] not in skip
            and TEMP_MARK not in rel and not ((root / rel).is_file() and (root / rel).stat().st_size == size)]
    for rel in todo:
        with atomic_path(root / rel) as tmp:
            fs.get_file(f"{base}/{rel}", str(tmp))
    return len(todo)


def _listing(fs: Any, base: str) -> dict[str, int]:
    try:
        found = fs.find(base, detail=True)
    except FileNotFoundError:
        return {}
    strip = fs._strip_protocol(base).rstrip("/") + "/"
    return {fs._strip_protocol(path)[len(strip):]: info.get("size", -1) for path, info in found.items()
            if info.get("type") != "directory"}
