"""Gallery section, Export and Image info tabs: write a gallery page of a folder or dataset; read
the generation parameters of any image (A1111 or ComfyUI) and send them to txt2img in A1111."""

# No `from __future__ import annotations`: gradio reads real annotations (gr.Progress defaults).
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from ...core.errors import BadInput
from ...gallery.export import GROUPS, export_gallery
from ...gallery.metadata import read_metadata
from ...gallery.thumbs import ThumbCache
from ..compat import major, make
from ..host import UiHost
from .common import friendly
from .gallery_html import STYLE


def build_export(host: UiHost, cache: ThumbCache) -> None:
    with gr.Row():
        source = make(gr.Textbox, label="Folder of images, or dataset folder", value="my_dataset", scale=2,
                      elem_id="udw_export_source")
        out = make(gr.Textbox, label="Site folder to write", value="gallery_site", scale=2, elem_id="udw_export_out")
    with gr.Row():
        group = make(gr.Dropdown, choices=list(GROUPS), value="auto", label="Sections by")
        title = make(gr.Textbox, label="Title", value="")
        tags = make(gr.Textbox, label="Dataset tag filter", value="")
        limit = make(gr.Number, label="Per section (0: all)", value=0, precision=0)
        link = make(gr.Checkbox, label="Link to originals instead of copying", value=False)
    go = make(gr.Button, value="Write gallery page", variant="primary", elem_id="udw_export_go")
    status = make(gr.Markdown, value="", elem_id="udw_export_status")
    preview = make(gr.Gallery, label="Preview", columns=8, height=360, allow_preview=True, elem_id="udw_export_preview")

    @friendly(status=0, outputs=2)
    def do_export(src, dst, group_, title_, tags_, limit_, link_, progress=gr.Progress()):
        report = export_gallery(host.roots.resolve(src), host.roots.resolve(dst), group_by=group_, title=title_,
                                link=bool(link_), limit=int(limit_ or 0), tags=tags_, cache=cache,
                                ports=host.ports(progress, "gallery"))
        thumbs = sorted((report.html.parent / "thumbs").glob("*.jpg"))[:48]
        text = (f"**{report.images} images in {report.sections} sections** → `{report.html}` and "
                f"`{report.markdown.name}` ({report.copied} files copied, {report.seconds:.1f} s)")
        if report.warnings:
            text += "\n\n" + "\n".join(f"- {w}" for w in report.warnings[:8])
        return text.replace("<", "&lt;"), [str(t) for t in thumbs]

    go.click(do_export, inputs=[source, out, group, title, tags, limit, link], outputs=[status, preview],
             api_name="udw_gallery_export")


def info_html(meta) -> str:
    info = meta.info
    rows = []
    if info:
        rows = [("prompt", info.prompt), ("negative", info.negative), ("seed", info.seed), ("steps", info.steps),
                ("cfg", info.cfg), ("sampler", " ".join(x for x in (info.sampler, info.scheduler) if x)),
                ("size", f"{info.width}×{info.height}" if info.width and info.height else ""),
                ("model", info.model), ("loras", ", ".join(lo.describe() for lo in info.loras)),
                *[(f"pass {n}", p.describe()) for n, p in enumerate(info.passes, 1) if len(info.passes) > 1],
                ("from the workflow", ", ".join(info.from_workflow)), ("made by", info.source)]
    cells = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in rows if v not in (None, ""))
    body = f"<table>{cells}</table>" if cells else "<div>No generation parameters found.</div>"
    warnings = "".join(f'<div class="warn">⚠ {escape(w)}</div>' for w in meta.warnings)
    head = f"<b>{escape(Path(meta.path).name)}</b> · {escape(meta.format)} {meta.width}×{meta.height}"
    return f'{STYLE}<div class="udw-d">{head}{body}{warnings}</div>'


def build_info(host: UiHost) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            upload = make(gr.File, label="Image (PNG, JPEG, WebP)", file_types=["image"],
                          type="file" if major() < 4 else "filepath", elem_id="udw_info_file")
            path = make(gr.Textbox, label="…or a path inside the allowed folders", elem_id="udw_info_path")
            read_btn = make(gr.Button, value="Read", variant="primary", elem_id="udw_info_read")
        with gr.Column(scale=2):
            summary = make(gr.HTML, value="", elem_id="udw_info_summary")
            infotext = make(gr.Textbox, label="Generation parameters (A1111 infotext)", lines=4,
                            elem_id="udw_info_infotext")
            if host.send_to_txt2img is not None:
                send = make(gr.Button, value="Send to txt2img", elem_id="udw_info_send")
                host.send_to_txt2img(send, infotext)
            raw = make(gr.Code, label="Raw metadata (JSON)", language="json", elem_id="udw_info_raw")

    @friendly(status=0, outputs=3)
    def do_read(file: Any, typed: str):
        if file:
            target = Path(getattr(file, "name", file))  # gradio 3 passes a tempfile, 4+ a path
        elif (typed or "").strip():
            target = host.roots.resolve(typed)
        else:
            raise BadInput("no image given", "upload an image or type its path")
        meta = read_metadata(target)
        return info_html(meta), meta.info.to_infotext() if meta.info else "", meta.raw_json()

    read_btn.click(do_read, inputs=[upload, path], outputs=[summary, infotext, raw], api_name="udw_image_info")
    upload.change(do_read, inputs=[upload, path], outputs=[summary, infotext, raw])
