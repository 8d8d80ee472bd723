"""One reading interface over safetensors (streamed) and pickle checkpoints (loaded safely).

`open_checkpoint(path)` picks the reader from the extension, or from the file's first bytes
when the extension is unknown or wrong. Both readers expose `tensors` (key -> TensorInfo),
`metadata`, `read_float32(key)` and `chunks(key)`, so inspection and lineage never care which.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Union

import numpy as np

from ..core.errors import BadInput
from .safetensors_io import SafetensorsFile, TensorInfo

SAFETENSORS_SUFFIXES = {".safetensors", ".sft"}
PICKLE_SUFFIXES = {".ckpt", ".pt", ".pth", ".bin"}
MODEL_SUFFIXES = SAFETENSORS_SUFFIXES | PICKLE_SUFFIXES


class TorchCheckpoint:
    """A pickle checkpoint loaded with weights_only=True (memory-mapped when the format allows)."""

    format = "ckpt"

    def __init__(self, path: Union[str, os.PathLike]):
        from .ckpt_io import dtype_name, load_state_dict

        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.metadata: dict[str, str] = {}
        self.state_dict = load_state_dict(self.path)
        self.tensors = {k: TensorInfo(k, dtype_name(t), tuple(t.shape), -1, t.numel() * t.element_size())
                        for k, t in self.state_dict.items()}

    def keys(self) -> list[str]:
        return list(self.tensors)

    def read_float32(self, key: str) -> np.ndarray:
        return self.state_dict[key].detach().float().numpy()

    def chunks(self, key: str, max_elems: int = 1 << 20) -> Iterator[np.ndarray]:
        flat = self.state_dict[key].detach().reshape(-1)
        for start in range(0, flat.numel(), max_elems):
            yield flat[start:start + max_elems].float().numpy()

    def close(self) -> None:
        self.state_dict = {}

    def __enter__(self) -> "TorchCheckpoint":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SafetensorsCheckpoint(SafetensorsFile):
    format = "safetensors"


def _looks_pickled(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head.startswith(b"PK\x03\x04") or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05")


def open_checkpoint(path: Union[str, os.PathLike]):
    """A reader for the model file at `path` (use as a context manager). Raises BadInput."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file", "check the path (or pick a file from the list)")
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES or (suffix not in SAFETENSORS_SUFFIXES and _looks_pickled(path)):
        return TorchCheckpoint(path)
    return SafetensorsCheckpoint(path)
