"""Streaming safetensors reading and writing with numpy only (no torch, no mmap).

Reading parses and validates the header ourselves, so that a truncated download, a pickle file
with the wrong extension or a random file get a message that says which; tensors are then read
one at a time (or in chunks) with plain file reads, so memory stays near one tensor (or one
chunk), whatever the file size. Writing streams too: the header is computed from shapes first,
then each tensor is produced and written in turn.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Union

import numpy as np

from ..core.errors import BadInput

MAX_HEADER = 100 * 1024 * 1024  # the safetensors format's own limit

# safetensors dtype name -> (numpy storage dtype, item size). BF16 and F8 have no numpy float
# type: they are read as raw unsigned ints and widened by `to_float32`.
DTYPES: dict[str, tuple[np.dtype, int]] = {
    "F64": (np.dtype("<f8"), 8), "F32": (np.dtype("<f4"), 4), "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2), "F8_E4M3": (np.dtype("u1"), 1), "F8_E5M2": (np.dtype("u1"), 1),
    "I64": (np.dtype("<i8"), 8), "I32": (np.dtype("<i4"), 4), "I16": (np.dtype("<i2"), 2),
    "I8": (np.dtype("i1"), 1), "U8": (np.dtype("u1"), 1), "U16": (np.dtype("<u2"), 2),
    "U32": (np.dtype("<u4"), 4), "U64": (np.dtype("<u8"), 8), "BOOL": (np.dtype("?"), 1),
}
FLOAT_DTYPES = {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"}
NUMPY_TO_ST = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
               np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16",
               np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL"}


@dataclass(frozen=True)
class TensorInfo:
    key: str
    dtype: str                 # safetensors name: F16, F32, BF16, ...
    shape: tuple[int, ...]
    begin: int                 # absolute file offset of the data
    nbytes: int

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def _f8_table(exp_bits: int, man_bits: int, bias: int, finite_only: bool) -> np.ndarray:
    """float32 value of each of the 256 byte patterns of an 8-bit float format."""
    out = np.empty(256, np.float32)
    for b in range(256):
        sign = -1.0 if b & 0x80 else 1.0
        exp = (b >> man_bits) & ((1 << exp_bits) - 1)
        man = b & ((1 << man_bits) - 1)
        if finite_only and exp == (1 << exp_bits) - 1 and man == (1 << man_bits) - 1:
            out[b] = np.nan                      # e4m3fn: only S.1111.111 is NaN
        elif not finite_only and exp == (1 << exp_bits) - 1:
            out[b] = sign * np.inf if man == 0 else np.nan
        elif exp == 0:
            out[b] = sign * (man / (1 << man_bits)) * 2.0 ** (1 - bias)
        else:
            out[b] = sign * (1 + man / (1 << man_bits)) * 2.0 ** (exp - bias)
    return out


_F8 = {"F8_E4M3": _f8_table(4, 3, 7, True), "F8_E5M2": _f8_table(5, 2, 15, False)}


def to_float32(raw: np.ndarray, dtype: str) -> np.ndarray:
    """Widen a raw array of safetensors `dtype` to float32 (BF16 and F8 included)."""
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if dtype in _F8:
        return _F8[dtype][raw]
    return raw.astype(np.float32, copy=False)


def _sniff(head: bytes) -> str:
    """What a file that is not valid safetensors seems to be, for the error message."""
    if head.startswith(b"PK\x03\x04"):
        return "it is a zip archive, as PyTorch .ckpt/.pt files are: rename it to .ckpt"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "it is a Python pickle (an old-style .ckpt): rename it to .ckpt"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8") or head.startswith(b"GIF8"):
        return "it is an image, not a model"
    if head.lstrip().startswith((b"<", b"{")):
        return "it is a text/HTML file (often an error page saved instead of a download)"
    return "it does not start with a safetensors header"


class SafetensorsFile:
    """An open safetensors file: header facts now, tensor data on request."""

    def __init__(self, path: Union[str, os.PathLike]):
        self.path = Path(path)
        try:
            self._fh: BinaryIO = open(self.path, "rb")
        except OSError as exc:
            raise BadInput(f"cannot open {self.path}: {exc.strerror or exc}", "check the path") from exc
        try:
            self.size = os.fstat(self._fh.fileno()).st_size
            self.header_len, self.metadata, self.tensors = self._parse()
        except BaseException:
            self._fh.close()
            raise

    def _parse(self) -> tuple[int, dict[str, str], dict[str, TensorInfo]]:
        head = self._fh.read(8)
        name = self.path.name
        if len(head) < 8:
            raise BadInput(f"{name} is not a safetensors file: it is only {self.size} bytes",
                           "the file is empty or cut short; download or copy it again")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER or n + 8 > self.size or n < 2:
            what = _sniff(head + self._fh.read(8))
            if n + 8 > self.size and n <= MAX_HEADER and what.startswith("it does not"):
                raise BadInput(f"{name} is truncated: its header needs {n + 8} bytes, the file has {self.size}",
                               "download or copy the file again")
            raise BadInput(f"{name} is not a valid safetensors file: {what}",
                           "check that this is a model file")
        raw = self._fh.read(n)
        try:
            header = json.loads(raw.decode("utf-8"))
            if not isinstance(header, dict):
                raise ValueError("header is not a JSON object")
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadInput(f"{name} is not a valid safetensors file: its header is not JSON ({exc})",
                           "the file is damaged or not a model; download it again") from exc
        meta = header.pop("__metadata__", None) or {}
        data_start, data_len = 8 + n, self.size - 8 - n
        tensors: dict[str, TensorInfo] = {}
        furthest = 0
        for key, entry in header.items():
            tensors[key] = info = self._entry(name, key, entry, data_start)
            furthest = max(furthest, info.begin - data_start + info.nbytes)
        if furthest > data_len:
            raise BadInput(f"{name} is truncated: the header describes {furthest + data_start} bytes, "
                           f"the file has {self.size}", "download or copy the file again")
        return n, {str(k): str(v) for k, v in meta.items()}, tensors

    @staticmethod
    def _entry(name: str, key: str, entry: dict, data_start: int) -> TensorInfo:
        try:
            dtype = entry["dtype"]
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(x) for x in entry["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"{name}: malformed header entry for {key!r}", "the file is damaged") from exc
        if dtype not in DTYPES:
            raise BadInput(f"{name}: tensor {key!r} has an unsupported dtype {dtype}",
                           "convert the file to F16/F32/BF16 with a current tool")
        numel = 1
        for d in shape:
            numel *= d
        if end < begin or begin < 0 or end - begin != numel * DTYPES[dtype][1]:
            raise BadInput(f"{name}: tensor {key!r} has inconsistent offsets", "the file is damaged")
        return TensorInfo(key, dtype, shape, data_start + begin, end - begin)

    # -- reading -----------------------------------------------------------------------------
    def keys(self) -> list[str]:
        return list(self.tensors)

    def read_raw(self, key: str) -> np.ndarray:
        """The tensor in its stored dtype (BF16/F8 as unsigned ints), shaped."""
        info = self.tensors[key]
        arr = np.empty(info.shape, DTYPES[info.dtype][0])
        self._read_into(info.begin, arr.reshape(-1).view(np.uint8) if info.nbytes else arr)
        return arr

    def read_float32(self, key: str) -> np.ndarray:
        info = self.tensors[key]
        return to_float32(self.read_raw(key), info.dtype)

    def chunks(self, key: str, max_elems: int = 1 << 20) -> Iterator[np.ndarray]:
        """The tensor flattened, as float32 arrays of at most `max_elems` elements each."""
        info = self.tensors[key]
        storage, size = DTYPES[info.dtype]
        done = 0
        while done < info.numel:
            n = min(max_elems, info.numel - done)
            part = np.empty(n, storage)
            self._read_into(info.begin + done * size, part.view(np.uint8))
            yield to_float32(part, info.dtype)
            done += n

    def _read_into(self, offset: int, out: np.ndarray) -> None:
        self._fh.seek(offset)
        view = memoryview(out).cast("B")
        got = 0
        while got < len(view):
            n = self._fh.readinto(view[got:])
            if not n:
                raise BadInput(f"{self.path.name} ended early while reading tensor data",
                               "the file is truncated; download or copy it again")
            got += n

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "SafetensorsFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- writing ----------------------------------------------------------------------------------
TensorSpec = tuple[str, str, tuple[int, ...]]          # key, safetensors dtype, shape
Producer = Callable[[str, str, tuple[int, ...]], np.ndarray]


def header_bytes(specs: Iterable[TensorSpec], metadata: Optional[dict[str, str]] = None) -> bytes:
    """The length prefix and JSON header (padded to 8 bytes) for tensors stored in this order."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for key, dtype, shape in specs:
        numel = 1
        for d in shape:
            numel *= d
        end = offset + numel * DTYPES[dtype][1]
        header[key] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, end]}
        offset = end
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def write_streaming(path: Union[str, os.PathLike], specs: list[TensorSpec], produce: Producer,
                    metadata: Optional[dict[str, str]] = None) -> Path:
    """Write a safetensors file whose tensors come one at a time from produce(key, dtype, shape).

    `produce` returns an array of the tensor's storage dtype (see DTYPES) and shape. Only one
    tensor is held at a time. The caller makes the write atomic (see core.atomic).
    """
    path = Path(path)
    with open(path, "wb") as fh:
        fh.write(header_bytes(specs, metadata))
        for key, dtype, shape in specs:
            arr = np.asarray(produce(key, dtype, shape))
            arr = arr if arr.flags.c_contiguous else arr.copy()
            want = DTYPES[dtype][0]
            if arr.shape != tuple(shape) or arr.dtype.itemsize != want.itemsize:
                raise ValueError(f"{key}: produced {arr.dtype}{arr.shape}, header says {dtype}{tuple(shape)}")
            fh.write(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    return path


def bf16_from_float32(arr: np.ndarray) -> np.ndarray:
    """float32 -> BF16 bit patterns (round to nearest even), as uint16."""
    bits = np.ascontiguousarray(arr, np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    return ((bits + rounding) >> 16).astype(np.uint16)
