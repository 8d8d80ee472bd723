"""Small pieces the sections share: error and warning display, the stop button."""

from __future__ import annotations

import functools
import html
import logging
from typing import Any, Callable, Iterable, Optional

import gradio as gr

from ...core.errors import UdwError
from ..host import UiHost

log = logging.getLogger("udw.ui")


def _paragraphs(text: str) -> str:
    """Escaped text with each line of a message (and its `-> hint`) as its own line."""
    lines = [line.strip() for line in str(text).replace("\\n", "\n").splitlines() if line.strip()]
    return "<br>".join("→ " + html.escape(line[2:].strip()) if line.startswith("->") else html.escape(line)
                       for line in lines)


def message_html(kind: str, title: str, text: str) -> str:
    """A lasting message box (kind: error | warning) for a section's status area."""
    return (f'<div class="udw-msg udw-{kind}" data-udw="{kind}"><b>{html.escape(title)}</b><br>'
            f"{_paragraphs(text)}</div>")


def skipped_html(lines: Iterable[str]) -> str:
    """A warning box listing skipped steps (each with its hint), or '' when none were skipped."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return ""
    items = []
    for line in lines:  # "name: skipped (why)\n -> what to do": the step's name in bold
        name, _, rest = line.strip().partition(":")
        items.append(f"<li><b>{html.escape(name)}</b>: {_paragraphs(rest)}</li>")
    return (f'<div class="udw-msg udw-warning" data-udw="warning"><b>⚠ {len(lines)} step(s) skipped — what to '
            f'do:</b><ul>{"".join(items)}</ul></div>')


def friendly(fn: Optional[Callable[..., Any]] = None, *, status: Optional[int] = None, outputs: int = 1):
    """Show errors readably. With `status` (the index of a Markdown/HTML output among `outputs`), an
    error becomes a lasting message there and the other outputs stay as they were; without it, a
    gradio error dialog. Expected errors (UdwError) print no traceback."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        def shown(title: str, text: str) -> Any:
            if status is None:
                raise gr.Error(" — ".join(line.strip() for line in text.replace("\\n", "\n").splitlines()
                                          if line.strip())) from None
            values = [gr.update() for _ in range(outputs)]
            values[status] = message_html("error", title, text)
            return values[0] if outputs == 1 else tuple(values)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except UdwError as exc:
                return shown("✖ Could not do that:", str(exc))
            except Exception as exc:  # keep the server alive; show what happened, log the details once
                log.exception("UDW: %s failed", func.__name__)
                return shown("✖ Unexpected error (details in the console):", f"{type(exc).__name__}: {exc}")

        return wrapper

    return wrap(fn) if fn is not None else wrap


def stop_button(host: UiHost) -> gr.Button:
    btn = gr.Button("Stop", variant="stop", elem_classes=["udw-stop"])
    btn.click(fn=host.stop, inputs=None, outputs=None)
    return btn
