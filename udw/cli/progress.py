"""A terminal progress bar and Ctrl-C handling mapped onto the core's ports."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any, Optional, TextIO

from ..core.ports import Ports
from .engine_options import current_engine


class TerminalBar:
    """`label [#####.....] 12/40 3.1/s ETA 9s` on one line of stderr (plain lines when not a tty)."""

    def __init__(self, label: str, stream: Optional[TextIO] = None, min_interval: float = 0.1):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0
        self.min_interval = min_interval if self.tty else 5.0
        self.last_done = -1

    def __call__(self, done: int, total: int, preview: Any = None) -> None:
        now = time.perf_counter()
        final = total and done >= total
        if done == self.last_done or (now - self.last < self.min_interval and not final):
            return
        self.last, self.last_done = now, done
        rate = done / max(now - self.start, 1e-9)
        line = f"{self.label} {done}/{total or '?'}"
        if total:
            filled = int(24 * min(done, total) / total)
            eta = (total - done) / rate if rate > 0 else 0
            line = f"{self.label} [{'#' * filled}{'.' * (24 - filled)}] {done}/{total} {rate:.1f}/s ETA {eta:.0f}s"
        self.stream.write(("\r" + line + " " * 4) if self.tty else line + "\n")
        if final and self.tty:
            self.stream.write("\n")
        self.stream.flush()


class CtrlC:
    """First Ctrl-C asks the running stage to stop after the current unit; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._old = None

    def __enter__(self) -> "CtrlC":
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self._old = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        sys.stderr.write("\nstopping after the current item (Ctrl-C again to abort)...\n")

    def __call__(self) -> bool:
        return self.requested


def terminal_ports(label: str, ctrl_c: CtrlC, quiet: bool = False, **kwargs: Any) -> Ports:
    kwargs.setdefault("engine", current_engine())  # --engine of the running command
    bar = (lambda *a, **k: None) if quiet else TerminalBar(label)
    return Ports(progress=bar, cancelled=ctrl_c, **kwargs).steady(0.0)  # the bar throttles itself
