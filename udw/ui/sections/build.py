"""Build section: videos or pictures -> the whole dataset pipeline in one click (as `udw build`)."""

from __future__ import annotations

import gradio as gr

from ...core.manifest import Dataset
from ...dataset.build import STEPS, build_dataset
from ...dataset.defaults import DATASET, TRAINER, BuildChoices
from ...dataset.trainers import TRAINERS
from ...gallery.grid import dataset_grid
from ..compat import make
from ..host import UiHost
from .common import friendly, skipped_html, stop_button

TITLE = "Build"


def build(host: UiHost) -> None:
    gr.Markdown("Every step with its defaults: frames (videos) or import (pictures), dedupe, WD14 tags, "
                "faces and face-ratio buckets, characters, the training folder and a gallery page. A step "
                "whose model is missing is skipped with what to do; run again to resume.")
    with gr.Row():
        with gr.Column(scale=1):
            source = gr.Textbox(label="Videos or pictures (file, folder or glob)", placeholder="episodes/*.mkv",
                                elem_id="udw_build_source")
            dataset = gr.Textbox(label="Dataset folder", value=DATASET, elem_id="udw_build_dataset")
            refs = gr.Textbox(label="Character references (refs/NAME/*.png, optional)", elem_id="udw_build_refs")
            steps = gr.CheckboxGroup(list(STEPS), value=list(STEPS), label="Steps", elem_id="udw_build_steps")
            with gr.Row():
                export_to = gr.Textbox(label="Training folder (export; empty: none)", elem_id="udw_build_export")
                trainer = gr.Radio(list(TRAINERS), value=TRAINER, label="Trainer")
            run = gr.Button("Build dataset", variant="primary", elem_id="udw_build_btn")
            stop_button(host)
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="udw_build_status")
            grid = make(gr.Image, label="Dataset", type="pil", interactive=False, elem_id="udw_build_grid")
    built = gr.State(None)  # the dataset folder the grid shows, handed from the build to the grid

    @friendly(status=0, outputs=2)
    def do_build(src, ds_path, ref_path, chosen, target, trainer_name, progress=gr.Progress()):
        root = host.roots.resolve(ds_path)
        inputs = [str(host.roots.resolve(src))] if src.strip() else []
        settings = BuildChoices(refs=host.roots.resolve(ref_path) if ref_path.strip() else None,
                                export_to=host.roots.resolve(target) if target.strip() else None,
                                trainer=trainer_name).settings()
        report = build_dataset(root, inputs, chosen, host.ports(progress, "build"), settings, strict=False)
        skipped = [step.line().strip() for step in report.steps if step.status == "skipped"]
        return skipped_html(skipped) + "\n\n```\n" + report.summary() + "\n```", str(root)

    def show_grid(root):
        ds = Dataset(root) if root else None
        return dataset_grid(ds, limit=48, cell=160) if ds is not None and ds.count() else None

    # one progress bar (on the report): the grid is filled by a second, silent step
    run.click(do_build, inputs=[source, dataset, refs, steps, export_to, trainer], outputs=[status, built],
              api_name="udw_build").then(show_grid, inputs=[built], outputs=[grid], show_progress="hidden")
