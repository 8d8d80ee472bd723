"""Faces & characters section: detect faces in a dataset, name characters from reference pictures."""

from __future__ import annotations

import gradio as gr

from ...characters import CharacterSettings, parse_renames, rename_characters, run_characters
from ...characters.cluster import METHODS
from ...core.manifest import Dataset
from ...faces import CropSettings, FaceSettings, run_faces
from ...faces.detect import DETECTOR_CHOICES
from ...faces.geometry import COUNT_SOURCES, Buckets, parse_detector_edges
from ...gallery.grid import dataset_grid
from ..compat import make
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "Faces & characters"


def build(host: UiHost) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            dataset = gr.Textbox(label="Dataset folder", value="my_dataset", elem_id="udw_faces_dataset")
            with gr.Accordion("Faces", open=True):
                detector = make(gr.Dropdown, choices=list(DETECTOR_CHOICES), value="auto", label="Detector",
                                allow_custom_value=True, elem_id="udw_faces_detector",
                                info="auto takes the best model found; a model path works too")
                with gr.Row():
                    conf = gr.Slider(0.05, 0.95, value=0.25, step=0.05, label="Confidence")
                    iou = gr.Slider(0.1, 0.95, value=0.7, step=0.05, label="NMS IoU")
                buckets = gr.Textbox(label="Face-height buckets (percent edges)", value="25,50,75")
                detector_buckets = gr.Textbox(label="Buckets for one detector's boxes (DETECTOR=EDGES per line)",
                                              lines=1, placeholder="lbpcascade_animeface=30,60,90")
                classes = gr.Textbox(label="YOLO classes counted as faces", placeholder="default: classes named like face")
                count_from = gr.Radio(list(COUNT_SOURCES), value="auto", label="Person count from")
                with gr.Row():
                    crop = gr.Checkbox(label="Save a crop per face", value=False)
                    crop_size = gr.Number(label="Crop side", value=768, precision=0)
                faces_btn = gr.Button("Detect faces", variant="primary", elem_id="udw_faces_btn")
            with gr.Accordion("Characters", open=True):
                refs = gr.Textbox(label="Reference folder (refs/NAME/*.png)", placeholder="default: DATASET/refs")
                with gr.Row():
                    embedder = gr.Radio(["auto", "ccip", "colour"], value="auto", label="Embedder")
                    cluster = gr.Radio(list(METHODS), value="dbscan", label="Group unknowns with")
                min_cluster = gr.Number(label="Faces per unknown group", value=3, precision=0)
                chars_btn = gr.Button("Classify characters", variant="primary", elem_id="udw_chars_btn")
                renames = gr.Textbox(label="Rename (one OLD=NEW per line)", lines=2, placeholder="unknown_1=Aoi")
                rename_btn = gr.Button("Rename", elem_id="udw_rename_btn")
            stop_button(host)
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="udw_faces_status")
            grid = make(gr.Image, label="Preview", type="pil", interactive=False, elem_id="udw_faces_grid")

    @friendly(status=0, outputs=2)
    def do_faces(ds_path, det, c, i, edges, count, crop_on, side, per_detector="", class_names="",
                 progress=gr.Progress()):
        root = host.roots.resolve(ds_path)
        det = str(host.roots.resolve(det)) if det.endswith((".onnx", ".xml")) else det
        edges, detector_edges = _edges(edges, per_detector or "")
        settings = FaceSettings(detector=det, conf=c, iou=i, edges=edges, detector_edges=detector_edges,
                                classes=tuple(x.strip() for x in (class_names or "").split(",") if x.strip()),
                                count_from=count, crop=crop_on, crop_settings=CropSettings(size=int(side or 768)))
        report = run_faces(root, settings, host.ports(progress, "faces"))
        return _md(report.summary()), _grid(root)

    @friendly(status=0, outputs=2)
    def do_characters(ds_path, ref_path, emb, method, min_size, progress=gr.Progress()):
        root = host.roots.resolve(ds_path)
        settings = CharacterSettings(embedder=emb, cluster=method, min_cluster=int(min_size or 3),
                                     refs=str(host.roots.resolve(ref_path)) if ref_path.strip() else None)
        report = run_characters(root, settings, host.ports(progress, "characters"))
        return _md(report.summary()), _grid(root)

    @friendly(status=0, outputs=2)
    def do_rename(ds_path, ref_path, text):
        root = host.roots.resolve(ds_path)
        done = rename_characters(root, parse_renames([ln for ln in text.splitlines() if ln.strip()]),
                                 refs=host.roots.resolve(ref_path) if ref_path.strip() else None)
        return _md("\n".join(f"renamed {k}: {v} faces" for k, v in done.items()) or "nothing to rename"), _grid(root)

    faces_btn.click(do_faces, inputs=[dataset, detector, conf, iou, buckets, count_from, crop, crop_size,
                                      detector_buckets, classes],
                    outputs=[status, grid], api_name="udw_faces")
    chars_btn.click(do_characters, inputs=[dataset, refs, embedder, cluster, min_cluster], outputs=[status, grid],
                    api_name="udw_characters")
    rename_btn.click(do_rename, inputs=[dataset, refs, renames], outputs=[status, grid], api_name="udw_rename")


def _edges(text: str, per_detector: str):
    from ...core.errors import BadInput

    try:
        return Buckets.parse(text).edges, parse_detector_edges(ln for ln in per_detector.splitlines() if ln.strip())
    except ValueError as exc:
        raise BadInput(str(exc), "e.g. 25,50,75, and per detector lbpcascade_animeface=30,60,90") from exc


def _md(text: str) -> str:
    return "```\n" + text.replace("```", "'''") + "\n```"


def _grid(root):
    ds = Dataset(root)
    return dataset_grid(ds, limit=48, cell=160) if ds.count() else None
