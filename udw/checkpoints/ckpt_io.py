"""Pickle-based checkpoints (.ckpt/.pt/.pth/.bin) through torch.load(weights_only=True) only.

weights_only refuses every pickled callable that is not on torch's small allow-list, so a file
carrying code is refused before anything runs. Old Stable Diffusion .ckpt files also hold a few
benign training leftovers (a Lightning callback class used as a dict key, numpy scalars for the
step counter): those names are mapped onto inert placeholders that build nothing, so such files
still open; their values are simply dropped. Any other global is refused with its name.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, Union

from ..core.errors import BadInput


class _Inert:
    """Stands in for a benign non-tensor object in an old .ckpt; keeps no state, runs no code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


def _inert_call(*args: Any, **kwargs: Any) -> None:
    return None


BENIGN_GLOBALS = {
    "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint": _Inert,
    "lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint": _Inert,
    "numpy.core.multiarray.scalar": _inert_call,
    "numpy._core.multiarray.scalar": _inert_call,
    "numpy.dtype": _Inert,
    "_codecs.encode": _inert_call,
}

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise BadInput("reading .ckpt/.pt files needs PyTorch, which is not installed here",
                       "convert the file to .safetensors, or install torch") from exc
    return torch


def _load(torch: Any, path: Path, mmap: bool) -> Any:
    kwargs = {"map_location": "cpu", "weights_only": True}
    if mmap:
        kwargs["mmap"] = True
    safe = getattr(torch.serialization, "safe_globals", None)
    if safe is None:  # torch < 2.5: no renamed allow-list entries; plain weights_only
        return torch.load(str(path), **kwargs)
    with safe([(obj, name) for name, obj in BENIGN_GLOBALS.items()]):
        return torch.load(str(path), **kwargs)


def load_state_dict(path: Union[str, Path]) -> dict:
    """The tensors of a pickle checkpoint, safely: {key: torch.Tensor}. Raises BadInput."""
    path = Path(path)
    torch = _torch()
    try:
        try:
            obj = _load(torch, path, mmap=zipfile.is_zipfile(path))
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = _load(torch, path, mmap=False)
    except pickle.UnpicklingError as exc:
        found = sorted(set(_GLOBAL.findall(str(exc))) | set(_unsafe_globals(torch, path)))
        found = [f for f in found if "." in f or not any(g.endswith("." + f) for g in found)]
        what = f" (it references {', '.join(found)})" if found else ""
        raise BadInput(f"{path.name} contains pickled code, not only weights{what}; refused without running it",
                       "use a .safetensors version of this model, or convert it with a tool you trust "
                       "in an isolated environment") from exc
    except (EOFError, zipfile.BadZipFile) as exc:
        raise BadInput(f"{path.name} is truncated or damaged ({exc})", "download or copy it again") from exc
    except (RuntimeError, ValueError, OSError, AttributeError, TypeError) as exc:
        raise BadInput(f"{path.name} is not a PyTorch checkpoint ({str(exc).splitlines()[0][:200]})",
                       "check that this is a model file (.safetensors, .ckpt)") from exc
    return _tensors(obj, path, torch)


def _unsafe_globals(torch: Any, path: Path) -> list[str]:
    """Every non-allow-listed global in the file, named without loading it (torch >= 2.5)."""
    lister = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint", None)
    if lister is None:
        return []
    try:
        return [g for g in lister(str(path)) if g not in BENIGN_GLOBALS]
    except Exception:  # an old (non-zip) format: the message's own name is enough
        return []


def _tensors(obj: Any, path: Path, torch: Any) -> dict:
    """Unwrap the usual containers ({"state_dict": ...}, {"model": ...}) to a flat tensor dict."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "module"):
            inner = obj.get(key)
            if isinstance(inner, dict) and any(isinstance(v, torch.Tensor) for v in inner.values()):
                obj = inner
                break
    if not isinstance(obj, dict):
        raise BadInput(f"{path.name} holds a {type(obj).__name__}, not a dictionary of weights",
                       "check that this is a model checkpoint")
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise BadInput(f"{path.name} contains no weight tensors", "check that this is a model checkpoint")
    return tensors


DTYPE_NAMES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
               "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2", "int64": "I64", "int32": "I32",
               "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def dtype_name(tensor: Any) -> str:
    return DTYPE_NAMES.get(str(tensor.dtype).replace("torch.", ""), str(tensor.dtype).replace("torch.", ""))
