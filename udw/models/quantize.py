"""Opt-in int8 dynamic quantization of an ONNX model, cached on disk.

Weights of MatMul/Gemm become int8; activations are quantized per run (no calibration data needed).
On CPUs this roughly doubles the speed of transformer taggers at a small cost in agreement, which
callers should measure (bench/bench_tagging.py reports it). Convolutions are left in float: dynamic
ConvInteger kernels are slow on CPU. The quantized file lives in the UDW cache, keyed by the
source file's path, size and mtime, and is written atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Optional

from ..core.atomic import atomic_path
from ..core.errors import BadInput, UdwError

log = logging.getLogger("udw.models")
QUANT_OPS = ("MatMul", "Gemm")


def cache_dir() -> Path:
    base = os.environ.get("UDW_CACHE_DIR") or Path.home() / ".cache" / "udw"
    return Path(base) / "int8"


def int8_path(model: Path, folder: Optional[Path] = None) -> Path:
    """Where the int8 twin of `model` is cached (whether it exists yet or not)."""
    st = model.stat()
    key = hashlib.sha1(f"{model.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return (folder or cache_dir()) / f"{model.stem}-{key}.int8.onnx"


def int8_model(model: Path, folder: Optional[Path] = None) -> Path:
    """The int8 twin of `model`, quantized on first use (takes a while for big models)."""
    model = Path(model)
    target = int8_path(model, folder)
    if target.is_file():
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # onnxruntime.quantization needs the `onnx` package
        raise UdwError("int8 quantization needs the onnx package", "pip install onnx") from exc
    log.warning("quantizing %s to int8 (once; cached in %s)", model.name, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(target) as tmp:
            quantize_dynamic(str(model), str(tmp), op_types_to_quantize=list(QUANT_OPS),
                             weight_type=QuantType.QInt8)
    except (OSError, UdwError):
        raise
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds of errors for bad graphs
        raise BadInput(f"cannot quantize {model}: {type(exc).__name__}: {exc}",
                       "run without int8, or check that the model file is complete") from exc
    return target
