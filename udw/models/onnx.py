"""Cached onnxruntime sessions with execution providers chosen at run time.

One session per (file, providers, threads) for the life of the process. The provider that really
runs is read back from the session: if a GPU provider was asked for but could not start (missing
CUDA libraries, a CPU-only onnxruntime), the session falls back to CPU with one warning. A session
on an accelerator also runs once on zeros (the self-check): CUDA/DirectML setups that create a
session but fail on the first run (cuDNN missing, driver too old) fall back to CPU right away,
with the reason stated once, instead of failing in the middle of a batch.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional, Sequence

from ..core.errors import BadInput
from ..core.packages import require

log = logging.getLogger("udw.models")

PREFERRED = ("CUDAExecutionProvider", "ROCMExecutionProvider", "DmlExecutionProvider",
             "CoreMLExecutionProvider", "CPUExecutionProvider")


@dataclass
class Session:
    session: Any                  # onnxruntime.InferenceSession
    path: Path
    provider: str                 # the provider that really runs
    requested: tuple[str, ...]
    fell_back: bool
    reason: str = ""              # why it fell back, for UIs that show it

    def describe(self) -> str:
        text = f"{self.path.name} on {self.provider}"
        return text + f" (asked for {self.requested[0]}; fell back)" if self.fell_back else text

    @property
    def inputs(self) -> list:
        return self.session.get_inputs()

    @property
    def outputs(self) -> list:
        return self.session.get_outputs()


_CACHE: dict[tuple, Session] = {}
_LOCK = threading.Lock()
_WARNED: set[str] = set()


def ort():
    return require("onnxruntime", "onnxruntime (or onnxruntime-gpu for CUDA)", "running ONNX models")


def choose_providers(requested: Optional[Sequence[str]] = None) -> tuple[str, ...]:
    """The requested providers that this onnxruntime has, else the best available; CPU always last."""
    available = ort().get_available_providers()
    wanted = list(requested) if requested else [p for p in PREFERRED if p in available]
    chosen = [p for p in wanted if p in available and p != "CPUExecutionProvider"]
    for p in wanted:
        if p not in available:
            _warn_once(f"{p} is not available in this onnxruntime ({', '.join(available)}); using CPU")
    return (*chosen, "CPUExecutionProvider")


def get_session(path: Path, providers: Optional[Sequence[str]] = None, threads: int = 0,
                spin: bool = True) -> Session:
    """A cached session for `path`; threads=0 lets onnxruntime choose.

    spin=False stops idle intra-op threads from busy-waiting between operators: a little more
    latency on an idle machine, much less wasted CPU when other work (decoding, other processes)
    shares the cores.
    """
    path = Path(path)
    chosen = choose_providers(providers)
    try:
        key = (str(path.resolve()), path.stat().st_mtime_ns, chosen, threads, spin)
    except OSError as exc:
        raise BadInput(f"cannot read model file {path}: {exc.strerror or exc}", "check the path") from exc
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _create(path, chosen, threads, spin)
        session = _CACHE[key]
    missing = [p for p in (providers or ()) if p not in chosen]
    if missing and not session.fell_back:  # asked for a provider this onnxruntime lacks: say so
        session = replace(session, requested=tuple(providers), fell_back=True,
                          reason=f"{missing[0]} is not available in this onnxruntime")
    return session


def _create(path: Path, providers: tuple[str, ...], threads: int, spin: bool = True) -> Session:
    rt = ort()
    opts = rt.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = rt.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        sess = rt.InferenceSession(str(path), sess_options=opts, providers=list(providers))
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several unrelated types
        if providers != ("CPUExecutionProvider",) and not _is_bad_model(exc):
            _warn_once(f"{providers[0]} failed to start ({exc}); using CPU")
            return _fallback(path, providers, opts, f"{providers[0]} failed to start: {exc}")
        raise BadInput(f"{path} is not a usable ONNX model ({type(exc).__name__}: {exc})",
                       "the file is damaged or incomplete: delete it and download it again") from exc
    active = sess.get_providers()[0]
    if active != providers[0]:
        reason = f"{providers[0]} did not start for {path.name}; running on {active}"
        _warn_once(reason)
        return Session(sess, path, active, providers, True, reason)
    if active != "CPUExecutionProvider":
        problem = self_check(sess)
        if problem:
            _warn_once(f"{active} failed its self-check on {path.name} ({problem}); using CPU")
            return _fallback(path, providers, opts, f"{active} failed its self-check: {problem}")
    return Session(sess, path, active, providers, False)


def self_check(sess: Any) -> str:
    """Run the session once on zeros (symbolic dimensions as 1); '' if it worked, else the error."""
    import numpy as np

    feeds = {}
    for inp in sess.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
        dtype = np.float16 if "float16" in inp.type else np.int64 if "int64" in inp.type else np.float32
        feeds[inp.name] = np.zeros(shape, dtype)
    try:
        sess.run(None, feeds)
    except Exception as exc:  # noqa: BLE001 - any failure means: do not trust this provider
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return ""


def _fallback(path: Path, providers: tuple[str, ...], opts: Any, reason: str = "") -> Session:
    try:
        sess = ort().InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        raise BadInput(f"{path} is not a usable ONNX model ({exc})",
                       "the file is damaged or incomplete: delete it and download it again") from exc
    return Session(sess, path, "CPUExecutionProvider", providers, True, reason)


def _is_bad_model(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("protobuf", "invalid_graph", "invalid model", "load model", "no such file"))


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        log.warning(message)


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
