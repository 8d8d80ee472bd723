"""Dataset section: import images into a dataset and preview it as a grid."""

from __future__ import annotations

import html

import gradio as gr

from ...core.manifest import Dataset
from ...dataset.ingest import MODES, import_images
from ...gallery.grid import dataset_grid
from ..compat import make
from ..host import UiHost
from .common import friendly, stop_button
from .engine import engine_panel

TITLE = "Dataset"


def build(host: UiHost) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            dataset = gr.Textbox(label="Dataset folder", value="my_dataset", elem_id="udw_dataset_path")
            source = gr.Textbox(label="Images to import (folder, file or glob)", elem_id="udw_import_source")
            mode = gr.Radio(list(MODES), value="copy", label="Import mode")
            with gr.Row():
                import_btn = gr.Button("Import", variant="primary", elem_id="udw_import_btn")
                preview_btn = gr.Button("Preview", elem_id="udw_preview_btn")
                stop_button(host)
            status = gr.Markdown(elem_id="udw_dataset_status")
            engine_panel(host)
        with gr.Column(scale=2):
            grid = make(gr.Image, label="Preview", type="pil", interactive=False, elem_id="udw_grid")

    @friendly(status=0, outputs=2)
    def do_import(ds_path: str, src: str, how: str, progress=gr.Progress()):
        root = host.roots.resolve(ds_path)
        report = import_images(root, [host.roots.resolve(src)], mode=how,
                               ports=host.ports(progress, "import"))
        head, *failures = report.summary().splitlines()
        lines = [f"**{head}**"] + [f"- {html.escape(line.strip())}" for line in failures]
        return "\n".join(lines), _grid(root)

    @friendly(status=0, outputs=2)
    def do_preview(ds_path: str):
        root = host.roots.resolve(ds_path)
        ds = Dataset(root)
        return f"**{ds.count()} items** in `{root}`", _grid(root)

    import_btn.click(do_import, inputs=[dataset, source, mode], outputs=[status, grid], api_name="udw_import")
    preview_btn.click(do_preview, inputs=[dataset], outputs=[status, grid], api_name="udw_preview")


def _grid(root):
    ds = Dataset(root)
    return dataset_grid(ds, limit=48, cell=160) if ds.count() else None
