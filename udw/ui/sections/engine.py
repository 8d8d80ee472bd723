"""The engine panel: where pipeline stages run (this machine, or a Ray cluster).

Pipeline sections include `engine_panel(host)`; the choice is kept on the UiHost, so every
section's ports (and so every stage) use it until it is changed. Progress of a cluster job
comes back through the same ports as a local one.
"""

from __future__ import annotations

import gradio as gr

from ... import scale  # noqa: F401 - registers the Ray engine (and URL imports) with the core
from ...core.engine import ENGINES, backend, engine_settings
from ..compat import make
from ..host import UiHost
from .common import friendly


def _settings(name: str, address: str, actors: float, gpus: float):
    return engine_settings(name, (address or "").strip() or None, int(actors or 0),
                           None if gpus is None or gpus < 0 else float(gpus))


def engine_panel(host: UiHost) -> None:
    with make(gr.Accordion, label="Engine: where stages run", open=False, elem_id="udw_engine_panel"):
        with gr.Row():
            name = gr.Radio(list(ENGINES), value="local", label="Engine", elem_id="udw_engine_name")
            address = gr.Textbox(label="Ray address", placeholder="empty: a local Ray; auto; ray://host:10001",
                                 elem_id="udw_engine_address")
            actors = make(gr.Number, value=0, precision=0, label="Actors (0: automatic)", minimum=0)
            gpus = make(gr.Number, value=-1, label="GPUs per actor (-1: automatic)", minimum=-1)
        with gr.Row():
            apply_btn = gr.Button("Use these settings", elem_id="udw_engine_apply")
            check_btn = gr.Button("Check the cluster", elem_id="udw_engine_check")
        status = gr.Markdown(f"Stages run on: **{_describe(host)}**", elem_id="udw_engine_status")

    @friendly(status=0, outputs=1)
    def apply(n: str, addr: str, a: float, g: float) -> str:
        settings = _settings(n, addr, a, g)
        if not settings.local:
            backend(settings).connect(settings)  # the same check as `udw cluster`, before any stage
        host.engine = None if settings.local else settings
        return f"Stages run on: **{_describe(host)}**"

    @friendly(status=0, outputs=1)
    def check(n: str, addr: str, a: float, g: float) -> str:
        settings = _settings(n, addr, a, g)
        if settings.local:
            return "Stages run on: **local** (this machine; no cluster needed)"
        from ...scale.runtime import cluster_summary

        return f"{cluster_summary(settings)}. Press *Use these settings* to run stages there."

    apply_btn.click(apply, inputs=[name, address, actors, gpus], outputs=[status], api_name="udw_engine")
    check_btn.click(check, inputs=[name, address, actors, gpus], outputs=[status], api_name="udw_engine_check")


def _describe(host: UiHost) -> str:
    return host.engine.describe() if host.engine is not None else "local"
