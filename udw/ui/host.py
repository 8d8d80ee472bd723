"""What the shared UI needs from whoever embeds it (A1111, Forge, or the standalone app)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from ..core.engine import EngineSettings
from ..core.paths import Roots
from ..core.ports import Ports
from ..models.fetch import auto_download_enabled


@dataclass
class UiHost:
    """name: 'standalone', 'a1111' or 'forge'. roots: where typed paths may point.

    `host_cancelled` lets a host add its own stop signal (A1111's Interrupt button);
    `send_to_txt2img` is set where the host can take a prompt: send_to_txt2img(button, textbox)
    binds `button` so that the A1111-style parameters in `textbox` fill the host's txt2img.
    `active_model()` describes the host's loaded checkpoint ({"name", "path", "hash"}) and
    `apply_conventions({"clip_skip": 2, "vae": name or ""})` applies UDW's settings in the
    host, returning what it did; both are None in the standalone app (which has its own).
    `a1111_api` is A1111's own web API (when launched with --api) and `controlnet_extension` the
    installed sd-webui-controlnet's name: the pose section hands its prepared pose and reference
    to that extension through them.
    `engine` says where pipeline stages run (None: here); set from the Engine panel.
    """

    name: str
    roots: Roots
    model_dirs: dict[str, list[str]] = field(default_factory=dict)
    providers: Optional[Sequence[str]] = None
    allow_download: bool = field(default_factory=auto_download_enabled)  # UDW_AUTO_DOWNLOAD=0: off
    host_cancelled: Callable[[], bool] = lambda: False
    send_to_txt2img: Optional[Callable[..., Any]] = None
    active_model: Optional[Callable[[], Optional[dict]]] = None
    apply_conventions: Optional[Callable[[dict], str]] = None
    a1111_api: Optional[str] = None
    controlnet_extension: Optional[str] = None
    thumb_dir: Optional[str] = None   # thumbnail cache; None: the system temp folder (gradio serves it)
    engine: Optional[EngineSettings] = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self._stop.set()

    def ports(self, progress: Any = None, label: str = "") -> Ports:
        """Ports for one UI action: gradio's progress tracker and the Stop button."""
        self._stop.clear()

        def report(done: int, total: int, preview: Any = None) -> None:
            if progress is not None and total:
                progress(done / total, desc=f"{label} {done}/{total}".strip())

        return Ports(progress=report,
                     cancelled=lambda: self._stop.is_set() or self.host_cancelled(),
                     model_dirs=self.model_dirs, providers=self.providers,
                     allow_download=self.allow_download, engine=self.engine).steady()
