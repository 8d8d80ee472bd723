"""Model file hashes as A1111 and Civitai show them, computed in one streamed pass and cached.

Definitions (as in AUTOMATIC1111 v1.10 modules/hashes.py and modules/sd_models.py):
- sha256: of the whole file; AutoV2 / A1111 "Model hash" = its first 10 hex digits.
- legacy A1111 hash: sha256 of the 0x10000 bytes at offset 0x100000, first 8 hex digits.
- addnet hash (kohya-ss): sha256 of a safetensors file after its header, i.e. of the tensor data
  only; A1111 uses its first 12 hex digits for "Lora hashes" of .safetensors LoRAs.
The cache (UDW_CACHE_DIR, default ~/.cache/udw, file hashes.json) keys on path, size and mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Union

from ..core.atomic import write_text
from ..core.errors import UdwError
from ..core.ports import Ports

BLOCK = 1 << 20


@dataclass
class FileHashes:
    sha256: str
    legacy: str
    addnet: Optional[str] = None

    @property
    def autov2(self) -> str:
        return self.sha256[:10]

    @property
    def lora_short(self) -> str:
        """A1111's LoRA short hash: addnet for safetensors, else sha256; 12 hex digits."""
        return (self.addnet or self.sha256)[:12]

    def to_dict(self) -> dict:
        return {**asdict(self), "autov2": self.autov2}


def cache_dir() -> Path:
    env = os.environ.get("UDW_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "udw"


def legacy_hash(path: Union[str, Path]) -> str:
    with open(path, "rb") as fh:
        fh.seek(0x100000)
        return hashlib.sha256(fh.read(0x10000)).hexdigest()[:8]


def _cache_file() -> Path:
    return cache_dir() / "hashes.json"


def _load_cache() -> dict:
    try:
        data = json.loads(_cache_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def cached_hashes(path: Union[str, Path], addnet: bool = False) -> Optional[FileHashes]:
    """Hashes from the cache if the file is unchanged since they were computed, else None."""
    path = Path(path).resolve()
    try:
        st = path.stat()
    except OSError:
        return None
    entry = _load_cache().get(str(path))
    if not entry or entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns:
        return None
    if addnet and entry.get("addnet") is None and path.suffix.lower() == ".safetensors":
        return None
    return FileHashes(entry["sha256"], entry["legacy"], entry.get("addnet"))


def file_hashes(path: Union[str, Path], ports: Optional[Ports] = None, addnet: bool = False,
                use_cache: bool = True) -> FileHashes:
    """sha256 (+ legacy, + addnet for safetensors when asked) in one read of the file."""
    path = Path(path).resolve()
    if use_cache:
        hit = cached_hashes(path, addnet)
        if hit:
            return hit
    ports = ports or Ports()
    st = path.stat()
    whole = hashlib.sha256()
    data = hashlib.sha256() if addnet and path.suffix.lower() == ".safetensors" else None
    done, total_mb = 0, max(1, st.st_size // BLOCK)
    every = max(1, total_mb // 200)              # ~200 progress updates whatever the size
    with open(path, "rb") as fh:
        data_start = None
        if data is not None:
            head = fh.read(8)
            whole.update(head)
            data_start = 8 + struct.unpack("<Q", head)[0] if len(head) == 8 else len(head)
            done = len(head)
        while True:
            chunk = fh.read(BLOCK)
            if not chunk:
                break
            whole.update(chunk)
            if data is not None and data_start is not None:
                skip = max(0, data_start - done)
                if skip < len(chunk):
                    data.update(chunk[skip:] if skip else chunk)
            done += len(chunk)
            if (done // BLOCK) % every == 0:
                ports.step(done // BLOCK, total_mb)
    ports.step(total_mb, total_mb)
    result = FileHashes(whole.hexdigest(), legacy_hash(path), data.hexdigest() if data else None)
    if use_cache:
        _store(path, st, result)
    return result


def _store(path: Path, st: os.stat_result, hashes: FileHashes) -> None:
    cache = _load_cache()
    cache[str(path)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": hashes.sha256,
                        "legacy": hashes.legacy, "addnet": hashes.addnet}
    try:
        write_text(_cache_file(), json.dumps(cache, indent=1))
    except (OSError, UdwError):
        pass  # a read-only home must not break hashing
