"""Ports: what the core needs from its host, given as plain callables.

Each host adapter maps these onto its own display: ComfyUI's ProgressBar and interrupt flag,
A1111's shared.state, Gradio's gr.Progress, or a terminal bar in the CLI.
"""

from __future__ import annotations

import logging
import time
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

    def part(self, index: int, count: int) -> "Ports":
        """Ports for part `index` of `count` equal parts of one job (video 2 of 3 starts at 1/3, not at 0)."""

        def progress(done: int, total: int, preview: Any = None) -> None:
            total = max(total, 1)
            self.progress(index * total + min(done, total), count * total, preview)

        return replace(self, progress=progress)

    def steady(self, min_interval: float = 0.1) -> "Ports":
        """Ports whose progress never goes back and is shown at most every `min_interval` seconds
        (the first and the final event always pass): what a host's bar should receive."""
        return replace(self, progress=SteadyProgress(self.progress, min_interval))


class SteadyProgress:
    """A progress callback that drops events that would move the bar backwards or come too fast."""

    def __init__(self, target: ProgressFn, min_interval: float = 0.1):
        self.target, self.min_interval = target, min_interval
        self.best, self.last = -1.0, float("-inf")

    def __call__(self, done: int, total: int, preview: Any = None) -> None:
        frac = done / total if total else 0.0
        now = time.monotonic()
        final = bool(total) and done >= total
        if frac < self.best or (now - self.last < self.min_interval and not final and self.best >= 0):
            return
        if final and frac == self.best and self.last > float("-inf") and preview is None:
            return  # the end was already shown
        self.best, self.last = frac, now
        self.target(done, total, preview)
