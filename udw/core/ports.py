"""Ports: what the core needs from its host, given as plain callables.

Each host adapter maps these onto its own display: ComfyUI's ProgressBar and interrupt flag,
A1111's shared.state, Gradio's gr.Progress, or a terminal bar in the CLI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from .errors import Cancelled

if TYPE_CHECKING:
    from .engine import EngineSettings

ProgressFn = Callable[..., None]  # (done, total, preview=None) -> None
CancelFn = Callable[[], bool]     # -> True when the host wants the work to stop

log = logging.getLogger("udw")


def _no_progress(done: int, total: int, preview: Any = None) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class Ports:
    """Everything host-specific that core functions take.

    progress: called as progress(done, total, preview=None); preview is an optional RGB numpy image.
    cancelled: polled between units of work; True raises `Cancelled` via `check()`.
    model_dirs: extra folders to search for models, by model kind (host model folders).
    providers: onnxruntime execution providers to try, best first (None: chosen at run time).
    allow_download: whether models may be fetched from the Hugging Face Hub.
    engine: where stages run (`EngineSettings`; None: in this process). See `udw.core.engine`.
    """

    progress: ProgressFn = _no_progress
    cancelled: CancelFn = _never
    model_dirs: dict[str, list[str]] = field(default_factory=dict)
    providers: Optional[Sequence[str]] = None
    allow_download: bool = False
    logger: logging.Logger = log
    engine: Optional["EngineSettings"] = None

    def check(self) -> None:
        """Raise `Cancelled` if the host asked to stop."""
        if self.cancelled():
            raise Cancelled()

    def step(self, done: int, total: int, preview: Any = None) -> None:
        """Report progress, then honour a pending cancel."""
        self.progress(done, total, preview)
        self.check()

    def scaled(self, start: int, span: int, total: int) -> "Ports":
        """Ports whose progress maps a sub-task's 0..n onto start..start+span of `total`."""

        def progress(done: int, sub_total: int, preview: Any = None) -> None:
            frac = done / sub_total if sub_total else 1.0
            self.progress(start + int(round(frac * span)), total, preview)

        return replace(self, progress=progress)
