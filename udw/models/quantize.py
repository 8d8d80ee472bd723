"""Opt-in int8 dynamic quantization of an ONNX model, cached on disk.

Weights of MatMul/Gemm become 8-bit; activations are quantized per run (no calibration data
needed). Convolutions are left in float: dynamic ConvInteger kernels are slow on CPU. The quantized
file lives in the UDW cache, keyed by the source file's path, size and mtime, written atomically.

Signed weights are the fast choice, but x86 CPUs without VNNI multiply u8 x s8 pairs with a
saturating 16-bit add (onnxruntime's documented caveat): on those, a ViT tagger's scores moved by up
to 0.5 and only a third of the selected tags survived. There we use unsigned weights (u8 x u8 is
exact), which kept 99% of the tags in our measurement; CPUs with VNNI and ARM get signed weights.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
from pathlib import Path
from typing import Optional

from ..core.atomic import atomic_path
from ..core.errors import BadInput, UdwError

log = logging.getLogger("udw.models")
QUANT_OPS = ("MatMul", "Gemm")


def cache_dir() -> Path:
    base = os.environ.get("UDW_CACHE_DIR") or Path.home() / ".cache" / "udw"
    return Path(base) / "int8"


def saturating_u8s8(cpuinfo: Optional[str] = None) -> bool:
    """True on x86 CPUs without VNNI (where u8 x s8 products saturate), and when unsure on x86."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return False
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return True
    return not any(flag in cpuinfo for flag in ("avx512_vnni", "avx_vnni", "amx_int8"))


def weight_kind() -> str:
    return "u8" if saturating_u8s8() else "s8"


def int8_path(model: Path, folder: Optional[Path] = None, kind: Optional[str] = None) -> Path:
    """Where the int8 twin of `model` is cached (whether it exists yet or not)."""
    st = model.stat()
    key = hashlib.sha1(f"{model.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return (folder or cache_dir()) / f"{model.stem}-{key}.int8{kind or weight_kind()}.onnx"


def int8_model(model: Path, folder: Optional[Path] = None, kind: Optional[str] = None) -> Path:
    """The int8 twin of `model`, quantized on first use (takes a while for big models).

    kind: "u8" or "s8" weights; by default what is exact and fastest on this CPU (see above).
    """
    model = Path(model)
    kind = kind or weight_kind()
    target = int8_path(model, folder, kind)
    if target.is_file():
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # onnxruntime.quantization needs the `onnx` package
        raise UdwError("int8 quantization needs the onnx package", "pip install onnx") from exc
    log.warning("quantizing %s to int8 (%s weights; once, cached in %s)", model.name, kind, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(target) as tmp:
            quantize_dynamic(str(model), str(tmp), op_types_to_quantize=list(QUANT_OPS),
                             weight_type=QuantType.QUInt8 if kind == "u8" else QuantType.QInt8)
    except (OSError, UdwError):
        raise
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds of errors for bad graphs
        raise BadInput(f"cannot quantize {model}: {type(exc).__name__}: {exc}",
                       "run without int8, or check that the model file is complete") from exc
    return target
