"""Dedupe section: remove near-duplicates from a dataset or a plain folder, preview, undo, score."""

from __future__ import annotations

import html

import gradio as gr

from ...dedupe.evaluate import format_scores
from ...dedupe.run import dedupe_dataset, restore
from ...dedupe.settings import ACTIONS, KEEP_RULES, LINKAGES, METHODS, DedupeSettings
from ..compat import make, update
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "Dedupe"
_HELP = ("Threshold = the smallest signature similarity of a *candidate* pair (1 = identical only). Typical: "
         + ", ".join(f"{m.name} {m.candidate:g}" for m in METHODS.values())
         + ". Each candidate is then checked by the pair verifier: copies (re-encodes, rescales, slight crops "
         "and shifts, tone drift) are merged, different drawings (another expression, outfit colour, pose) are "
         "kept; the status lists the closest calls on both sides and the preview shows why. "
         "A re-run replaces the previous result; **Undo** restores everything (moved files too).")


def build(host: UiHost) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            dataset = gr.Textbox(label="Dataset or folder of pictures", value="my_dataset", elem_id="udw_dedupe_path")
            with gr.Row():
                method = gr.Dropdown(list(METHODS), value="structure", label="Method", elem_id="udw_dedupe_method")
                threshold = make(gr.Slider, minimum=0.5, maximum=1.0, step=0.001, value=METHODS["structure"].candidate,
                                 label="Threshold (similarity)", elem_id="udw_dedupe_threshold")
            with gr.Row():
                keep = gr.Radio(list(KEEP_RULES), value="sharpest", label="Keep")
                linkage = gr.Radio(list(LINKAGES), value="direct", label="Linkage")
            action = make(gr.Radio, choices=list(ACTIONS), value="mark", label="Duplicates",
                          info="mark: manifest only · move: to duplicates/ · delete: gone for good")
            model = gr.Textbox(label="Embedding model (method embed)", value="mobilenetv3-large",
                               placeholder="mobilenetv3-large, clip-vit-b32 or a path to an .onnx file")
            truth = gr.Textbox(label="Ground truth JSON (optional, for precision/recall)", value="")
            with gr.Row():
                run_btn = gr.Button("Find duplicates", variant="primary", elem_id="udw_dedupe_btn")
                dry_btn = gr.Button("Dry run", elem_id="udw_dedupe_dry_btn")
                undo_btn = gr.Button("Undo", elem_id="udw_dedupe_undo_btn")
                stop_button(host)
            gr.Markdown(_HELP)
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="udw_dedupe_status")
            preview = make(gr.Image, label="Largest clusters (kept on the left)", type="pil",
                           interactive=False, elem_id="udw_dedupe_preview")

    def _run(ds_path, meth, thr, kp, link, act, mdl, truth_path, dry, progress):
        root = host.roots.resolve(ds_path)
        settings = DedupeSettings(method=meth, threshold=float(thr), keep=kp, linkage=link, action=act,
                                  model=(mdl or None) if meth == "embed" else None)
        truth_files = [host.roots.resolve(truth_path)] if str(truth_path or "").strip() else []
        report = dedupe_dataset(root, settings, host.ports(progress, "dedupe"), truth=truth_files, dry_run=dry)
        lines = [f"**{html.escape(report.summary())}**"]
        lines += [f"- {html.escape(line.strip())}" for line in report.details()]
        lines += [f"- cluster of {n}: kept `{html.escape(p)}`" for p, n in report.largest[:5]]
        if report.scores:
            lines.append("```\n" + format_scores(report.scores) + "\n```")
        return "\n".join(lines), report.preview

    @friendly(status=0, outputs=2)
    def do_run(ds_path, meth, thr, kp, link, act, mdl, truth_path, progress=gr.Progress()):
        return _run(ds_path, meth, thr, kp, link, act, mdl, truth_path, False, progress)

    @friendly(status=0, outputs=2)
    def do_dry(ds_path, meth, thr, kp, link, act, mdl, truth_path, progress=gr.Progress()):
        return _run(ds_path, meth, thr, kp, link, act, mdl, truth_path, True, progress)

    @friendly(status=0, outputs=1)
    def do_undo(ds_path, progress=gr.Progress()):
        return f"**{html.escape(restore(host.roots.resolve(ds_path), host.ports(progress, 'undo')).summary())}**"

    def default_threshold(meth):
        return update(value=METHODS[meth].default)

    inputs = [dataset, method, threshold, keep, linkage, action, model, truth]
    run_btn.click(do_run, inputs=inputs, outputs=[status, preview], api_name="udw_dedupe")
    dry_btn.click(do_dry, inputs=inputs, outputs=[status, preview], api_name="udw_dedupe_dry_run")
    undo_btn.click(do_undo, inputs=[dataset], outputs=[status], api_name="udw_dedupe_undo")
    method.change(default_threshold, inputs=[method], outputs=[threshold])
