"""Tagging section: interrogate one image, or tag a whole dataset / plain folder of images."""

from __future__ import annotations

import json

import gradio as gr

from ...core.manifest import MANIFEST_NAME, Dataset
from ...core.ports import Ports
from ...models.registry import search_dirs
from ...tagging import DEFAULT_MODEL, TagOptions, list_local, open_tagger, parse_tag_list, tag_arrays
from ...tagging.model import DEVICES
from ..compat import make
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "Tagging"


def _options(general, character, general_mcut, character_mcut, exclude, max_tags, underscores, escape,
             drop_overlap) -> TagOptions:
    return TagOptions(general=float(general), character=float(character), general_mcut=bool(general_mcut),
                      character_mcut=bool(character_mcut), blacklist=parse_tag_list(exclude or ""),
                      drop_overlap=bool(drop_overlap), max_tags=int(max_tags or 0), underscores=bool(underscores),
                      escape=bool(escape))


def _option_inputs() -> list:
    """Model choice and post-processing settings, shared by both actions."""
    with gr.Row():
        general = gr.Slider(0.0, 1.0, value=0.35, step=0.01, label="General threshold")
        character = gr.Slider(0.0, 1.0, value=0.85, step=0.01, label="Character threshold")
    with gr.Row():
        general_mcut = gr.Checkbox(False, label="MCut for general tags")
        character_mcut = gr.Checkbox(False, label="MCut for characters")
        drop_overlap = gr.Checkbox(True, label="Drop overlapping (hair with long hair)")
    with gr.Row():
        exclude = gr.Textbox(label="Exclude tags (comma-separated)", elem_id="udw_tag_exclude")
        max_tags = gr.Number(value=0, precision=0, label="Max general tags (0: all)")
    with gr.Row():
        underscores = gr.Checkbox(False, label="Keep underscores")
        escape = gr.Checkbox(True, label="Escape ( ) for prompts")
    return [general, character, general_mcut, character_mcut, exclude, max_tags, underscores, escape, drop_overlap]


def build(host: UiHost) -> None:
    dirs = search_dirs("taggers", Ports(model_dirs=host.model_dirs))
    with gr.Row():
        model = make(gr.Dropdown, choices=list_local(dirs), value=DEFAULT_MODEL, label="Tagger model",
                     allow_custom_value=True, elem_id="udw_tag_model",
                     info="a SmilingWolf WD tagger name or the path of an .onnx tagger (selected_tags.csv beside it)")
        device = gr.Radio(list(DEVICES), value="auto", label="Device")
        int8 = gr.Checkbox(False, label="int8 (faster on CPU)")
    with gr.Accordion("Tag settings", open=False):
        settings = _option_inputs()

    with gr.Tab("Interrogate"):
        with gr.Row():
            with gr.Column(scale=1):
                image = make(gr.Image, type="pil", image_mode="RGBA", label="Image", elem_id="udw_tag_image",
                             sources=["upload", "clipboard"], source="upload")
                go = gr.Button("Interrogate", variant="primary", elem_id="udw_interrogate_btn")
            with gr.Column(scale=1):
                tags = make(gr.Textbox, label="Tags", lines=4, show_copy_button=True, elem_id="udw_tag_text")
                rating = gr.Label(label="Rating", num_top_classes=4)
                confidences = gr.Label(label="Confidences", num_top_classes=40)
                as_json = make(gr.Textbox, label="JSON", lines=4, show_copy_button=True)

    with gr.Tab("Tag a dataset"):
        folder = gr.Textbox(label="Dataset or image folder", value="my_dataset", elem_id="udw_tag_dataset_path",
                            info="a plain folder becomes a dataset in place (.tags files beside the images)")
        sidecars = gr.Checkbox(True, label="Write .tags files")
        with gr.Row():
            run = gr.Button("Tag", variant="primary", elem_id="udw_tag_dataset_btn")
            stop_button(host)
        status = gr.Markdown(elem_id="udw_tag_status")

    def ports(device_name, progress=None, label=""):
        p = host.ports(progress, label)
        p.providers = DEVICES.get(device_name) or host.providers
        return p

    @friendly
    def interrogate(img, model_name, device_name, use_int8, *opts):
        if img is None:
            raise gr.Error("Upload an image first")
        options = _options(*opts)
        tagger = open_tagger(model_name, ports(device_name), int8=bool(use_int8), for_batches=False)
        result = tag_arrays(tagger, [img], options)[0]
        return (result.prompt(options), result.ratings, result.confidences(options),
                json.dumps(result.to_json(options), ensure_ascii=False, indent=1))

    @friendly(status=0, outputs=1)
    def tag_folder(path, model_name, device_name, use_int8, write_sidecars, *opts, progress=gr.Progress()):
        from ...dataset.ingest import index_in_place
        from ...tagging.stage import run_lines, tag_dataset

        root = host.roots.resolve(path)
        p = ports(device_name, progress, "tag")
        lines = []
        if (root / MANIFEST_NAME).exists():
            ds = Dataset(root)
        else:
            ds, added = index_in_place(root, p)
            lines.append(f"new dataset in place:\n{added.summary()}")  # names unreadable files
        report = tag_dataset(ds, model_name, _options(*opts), p, int8=bool(use_int8), sidecars=bool(write_sidecars))
        return "\n\n".join(run_lines(ds, report, top=20) + lines)

    go.click(interrogate, inputs=[image, model, device, int8, *settings],
             outputs=[tags, rating, confidences, as_json], api_name="udw_interrogate")
    run.click(tag_folder, inputs=[folder, model, device, int8, sidecars, *settings], outputs=[status],
              api_name="udw_tag_dataset")
