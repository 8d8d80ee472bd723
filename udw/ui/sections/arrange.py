"""Arrange & export section: the Level 1-3 tree, balancing, trainer files and the dataset card."""

from __future__ import annotations

import gradio as gr

from ...dataset import ArrangeSettings, CaptionSettings, ExportSettings, MetaSettings, arrange, balance_table, run_export
from ...dataset.arrange import MODES
from ...dataset.balance import parse_weights
from ...dataset.trainers import KOHYA_LAYOUTS, STRATEGIES, TRAINERS
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "Arrange & export"


def build(host: UiHost) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            dataset = gr.Textbox(label="Dataset folder", value="my_dataset", elem_id="udw_arrange_dataset")
            output = gr.Textbox(label="Target folder", value="my_dataset_train", elem_id="udw_arrange_output")
            with gr.Row():
                mode = gr.Radio(list(MODES), value="link", label="Files")
                min_images = gr.Number(label="Min images per character combination", value=1, precision=0)
            levels = gr.Textbox(label="Levels", value="count,character,bucket")
            template = gr.Textbox(label="Caption template", value=CaptionSettings().template)
            general = gr.Textbox(label="General description", value="anishot")
            weights = gr.Textbox(label="Folder weights (FOLDER=WEIGHT per line)", lines=2)
            merge = gr.Checkbox(label="Merge into a folder that holds other files", value=False)
            arrange_btn = gr.Button("Arrange", elem_id="udw_arrange_btn")
            with gr.Row():
                trainer = gr.Radio(list(TRAINERS), value="everydream", label="Trainer")
                kohya_layout = gr.Radio(list(KOHYA_LAYOUTS), value="toml", label="kohya layout")
                strategy = gr.Radio(list(STRATEGIES), value="REPEATS", label="OneTrainer balancing")
            export_btn = gr.Button("Export", variant="primary", elem_id="udw_export_btn")
            stop_button(host)
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="udw_arrange_status")

    def settings(mode_, min_n, levels_, template_, general_, weights_, merge_) -> ArrangeSettings:
        return ArrangeSettings(levels=tuple(x.strip() for x in levels_.split(",") if x.strip()), mode=mode_,
                               min_images=int(min_n or 1), merge=bool(merge_),
                               meta=MetaSettings(general=general_), caption=CaptionSettings(template=template_),
                               weights=parse_weights([ln for ln in weights_.splitlines() if ln.strip()]))

    @friendly(status=0, outputs=1)
    def do_arrange(ds, out, mode_, min_n, levels_, template_, general_, weights_, merge_, progress=gr.Progress()):
        report = arrange(host.roots.resolve(ds), host.roots.resolve(out),
                         settings(mode_, min_n, levels_, template_, general_, weights_, merge_),
                         host.ports(progress, "arrange"))
        table = balance_table(report.balance) if report.balance.rows else ""
        return _md(report.summary() + "\n\n" + table)

    @friendly(status=0, outputs=1)
    def do_export(ds, out, mode_, min_n, levels_, template_, general_, weights_, merge_, trainer_, layout, strat,
                  progress=gr.Progress()):
        s = ExportSettings(trainer=trainer_, kohya_layout=layout, strategy=strat,
                           arrange=settings(mode_, min_n, levels_, template_, general_, weights_, merge_))
        report = run_export(host.roots.resolve(ds), host.roots.resolve(out), s, host.ports(progress, "export"))
        return _md(report.summary())

    common = [dataset, output, mode, min_images, levels, template, general, weights, merge]
    arrange_btn.click(do_arrange, inputs=common, outputs=[status], api_name="udw_arrange")
    export_btn.click(do_export, inputs=common + [trainer, kohya_layout, strategy], outputs=[status],
                     api_name="udw_export")


def _md(text: str) -> str:
    return "```\n" + text.replace("```", "'''") + "\n```"
