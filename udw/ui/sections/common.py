"""Small pieces the sections share: error display, the stop button."""

from __future__ import annotations

import functools
import traceback
from typing import Any, Callable

import gradio as gr

from ...core.errors import UdwError
from ..host import UiHost


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show a UdwError as a readable message in the UI instead of a gradio error toast."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UdwError as exc:
            raise gr.Error(str(exc).replace("\n  -> ", " — ")) from exc
        except Exception as exc:  # keep the server alive; show what happened
            traceback.print_exc()
            raise gr.Error(f"{type(exc).__name__}: {exc}") from exc

    return wrapper


def stop_button(host: UiHost) -> gr.Button:
    btn = gr.Button("Stop", variant="stop", elem_classes=["udw-stop"])
    btn.click(fn=host.stop, inputs=None, outputs=None)
    return btn
