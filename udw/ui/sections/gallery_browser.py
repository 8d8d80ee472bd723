"""Gallery section, Browser tab: a filtered, paged thumbnail grid over a dataset manifest, the
detail of one item (faces drawn, tags, provenance, generation parameters), tag editing per
image and in batch, moving an item to another character or bucket, "send to txt2img" in A1111."""

# No `from __future__ import annotations` here: gradio finds gr.SelectData by its real annotation.
from pathlib import Path
from typing import Any, Optional

import gradio as gr

from ...core.errors import BadInput
from ...gallery.browser import BrowserService
from ...gallery.query import NONE, ORDERS, STATUSES, Filter
from ...gallery.tagedit import OPS
from ..compat import make, update
from ..host import UiHost
from .common import friendly
from .gallery_html import detail_html

ANY = "(any)"
PAGE = 48


def _filter(tags: str, status: str, bucket: str, character: str, episode: str, cluster: str) -> Filter:
    pick = lambda v: None if v in (None, "", ANY) else v  # noqa: E731
    cluster = (cluster or "").strip()
    if cluster and not cluster.lstrip("-").isdigit():
        raise BadInput(f"cluster must be a whole number, not {cluster!r}")
    return Filter(tags=tags or "", status=status or "active", bucket=pick(bucket), character=pick(character),
                  episode=pick(episode), cluster=int(cluster) if cluster else None)


def build(host: UiHost, svc: BrowserService) -> None:
    with gr.Row():
        dataset = make(gr.Textbox, label="Dataset folder", value="my_dataset", scale=4, elem_id="udw_browser_dataset")
        open_btn = make(gr.Button, value="Open", variant="primary", scale=1, elem_id="udw_browser_open")
    with gr.Row():
        tags = make(gr.Textbox, label="Tags", scale=4, elem_id="udw_browser_tags",
                    placeholder="1girl, -smile, red hair|blue hair, * eyes   (comma: AND, |: OR, -: NOT)")
        status = make(gr.Dropdown, choices=list(STATUSES), value="active", label="Status", scale=1)
        order = make(gr.Dropdown, choices=list(ORDERS), value="id", label="Order", scale=1)
    with gr.Row():
        bucket = make(gr.Dropdown, choices=[ANY], value=ANY, label="Bucket", allow_custom_value=True, scale=1)
        character = make(gr.Dropdown, choices=[ANY], value=ANY, label="Character", allow_custom_value=True, scale=1)
        episode = make(gr.Dropdown, choices=[ANY], value=ANY, label="Episode", allow_custom_value=True, scale=1)
        cluster = make(gr.Textbox, label="Cluster", value="", scale=1)
    with gr.Row():
        filter_btn = make(gr.Button, value="Filter", variant="primary", elem_id="udw_browser_filter")
        prev_btn = make(gr.Button, value="◀ Previous", elem_id="udw_browser_prev")
        page_num = make(gr.Number, value=1, precision=0, label="Page", minimum=1, elem_id="udw_browser_page")
        next_btn = make(gr.Button, value="Next ▶", elem_id="udw_browser_next")
    info = make(gr.Markdown, value="Open a dataset to browse it.", elem_id="udw_browser_info")
    gallery = make(gr.Gallery, label="Items", columns=8, height=520, allow_preview=False, object_fit="contain",
                   fit_columns=False, show_label=False, elem_id="udw_browser_gallery")
    page_ids = gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            faces = make(gr.Image, label="Image with faces", type="pil", interactive=False, height=460,
                         elem_id="udw_browser_image")
        with gr.Column(scale=2):
            with gr.Row():
                item_id = make(gr.Textbox, label="Item id", value="", scale=1, elem_id="udw_browser_item_id")
                show_btn = make(gr.Button, value="Show", scale=1, elem_id="udw_browser_show")
            detail = make(gr.HTML, value="", elem_id="udw_browser_detail")
            item_tags = make(gr.Textbox, label="Tags of this image (comma separated)", lines=3,
                             elem_id="udw_browser_item_tags")
            save_btn = make(gr.Button, value="Save tags", variant="primary", elem_id="udw_browser_save")
            with gr.Row():
                move_char = make(gr.Textbox, label="Character", elem_id="udw_browser_move_char")
                move_bucket = make(gr.Textbox, label="Bucket", elem_id="udw_browser_move_bucket")
            move_btn = make(gr.Button, value="Move to character / bucket", elem_id="udw_browser_move")
            infotext = make(gr.Textbox, label="Generation parameters (A1111 infotext)", lines=3,
                            elem_id="udw_browser_infotext")
            if host.send_to_txt2img is not None:
                send_btn = make(gr.Button, value="Send to txt2img", elem_id="udw_browser_send")
                host.send_to_txt2img(send_btn, infotext)
            edit_status = make(gr.Markdown, value="", elem_id="udw_browser_edit_status")
    with make(gr.Accordion, label="Batch edit the tags of every item the filter matches", open=False):
        with gr.Row():
            op = make(gr.Radio, choices=list(OPS), value="add", label="Operation")
            arg1 = make(gr.Textbox, label="Tags / old tag / pattern", elem_id="udw_browser_arg1")
            arg2 = make(gr.Textbox, label="New tag / replacement (replace, regex)", elem_id="udw_browser_arg2")
        with gr.Row():
            preview_btn = make(gr.Button, value="Preview", elem_id="udw_browser_batch_preview")
            apply_btn = make(gr.Button, value="Apply", variant="stop", elem_id="udw_browser_batch_apply")
            check_btn = make(gr.Button, value="Check files (mark deleted ones missing)")
        batch_out = make(gr.Markdown, value="", elem_id="udw_browser_batch_out")

    filters = [tags, status, bucket, character, episode, cluster]

    def page_of(ds: str, page: Any, order_: str, *fvals) -> tuple:
        f = _filter(*fvals)
        page = max(1, int(page or 1))
        result = svc.page(ds, f, offset=(page - 1) * PAGE, limit=PAGE, order=order_ or "id")
        pages = max(1, -(-result.total // PAGE))
        if page > pages and result.total:
            return page_of(ds, pages, order_, *fvals)
        thumbs = svc.thumbs_many(ds, [i["id"] for i in result.items])
        shown = [(str(t), f"{i['name']}" + (f" [{i['status']}]" if i["status"] != "active" else ""))
                 for t, i in zip(thumbs, result.items)]
        text = (f"**{result.total:,} items** match · page {page} of {pages} · {result.ms:.0f} ms"
                if result.total else "**No item matches.** Loosen the filter.")
        return shown, text, [i["id"] for i in result.items], page

    @friendly(status=4, outputs=7)
    def do_open(ds: str, order_: str, *fvals):
        fac = svc.facets(ds)
        svc.warm(ds)
        out = page_of(ds, 1, order_, *fvals)
        return (update(choices=[ANY] + [b["value"] for b in fac["buckets"]]),
                update(choices=[ANY, NONE] + [c["value"] for c in fac["characters"]]),
                update(choices=[ANY] + [e["value"] for e in fac["episodes"]]), *out)

    @friendly(status=1, outputs=4)
    def do_page(ds: str, page: Any, order_: str, *fvals):
        return page_of(ds, page, order_, *fvals)

    def show(ds: str, ident: Optional[int], note: str = "") -> tuple:
        if ident is None:
            return None, "", "", "", "", "", "", note
        d = svc.detail(ds, ident)
        image = svc.faces_image(ds, ident) if d["exists"] else None
        main = next((f for f in d["faces"] if f["character"]), d["faces"][0] if d["faces"] else None)
        meta = d.get("metadata") or {}
        return (image, detail_html(d), ", ".join(t["tag"] for t in d["tags"]), (main or {}).get("character") or "",
                d["item"].get("bucket") or "", meta.get("infotext", ""), str(ident), note)

    detail_outputs = [faces, detail, item_tags, move_char, move_bucket, infotext, item_id, edit_status]

    @friendly(status=7, outputs=8)
    def do_select(ds: str, ids: list, evt: gr.SelectData):
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        return show(ds, ids[index] if 0 <= index < len(ids) else None)

    @friendly(status=7, outputs=8)
    def do_show(ds: str, ident: str):
        if not str(ident).strip().isdigit():
            raise BadInput(f"item id must be a number, not {ident!r}")
        return show(ds, int(ident))

    @friendly(status=7, outputs=8)
    def do_save(ds: str, ident: str, text: str):
        if not str(ident).strip().isdigit():
            raise BadInput("choose an image first")
        report = svc.set_tags(ds, int(ident), text)
        return show(ds, int(ident), f"Saved: {report.summary()}")

    @friendly(status=7, outputs=8)
    def do_move(ds: str, ident: str, char: str, bkt: str):
        if not str(ident).strip().isdigit():
            raise BadInput("choose an image first")
        d = svc.detail(ds, int(ident))
        main = next((f for f in d["faces"] if f["character"]), d["faces"][0] if d["faces"] else None)
        new_char = char if char != ((main or {}).get("character") or "") else None
        new_bucket = bkt if bkt != (d["item"].get("bucket") or "") else None
        report = svc.move(ds, int(ident), new_char, new_bucket)
        return show(ds, int(ident), f"Moved: {report.summary()}")

    def batch(dry: bool, ds: str, op_: str, a1: str, a2: str, fvals: tuple, progress: Any) -> str:
        report = svc.batch_edit(ds, _filter(*fvals), op_, a1, a2, dry_run=dry, ports=host.ports(progress, "tags"))
        lines = [f"**{report.summary()}**"] + [
            f"- `{Path(x['path']).name}`: " + " ".join([f"−{t}" for t in x["removed"]] + [f"+{t}" for t in x["added"]])
            for x in report.examples[:6]]
        return "\n".join(lines).replace("<", "&lt;")

    @friendly(status=0, outputs=1)
    def do_preview(ds, op_, a1, a2, t, st, b, c, e, cl, progress=gr.Progress()):
        return batch(True, ds, op_, a1, a2, (t, st, b, c, e, cl), progress)

    @friendly(status=0, outputs=1)
    def do_apply(ds, op_, a1, a2, t, st, b, c, e, cl, progress=gr.Progress()):
        return batch(False, ds, op_, a1, a2, (t, st, b, c, e, cl), progress)

    @friendly(status=0, outputs=1)
    def do_check(ds, t, st, b, c, e, cl, progress=gr.Progress()):
        r = svc.check_files(ds, _filter(t, st, b, c, e, cl), host.ports(progress, "check"))
        return f"Checked {r['checked']} items: {r['missing']} missing, {r['found_again']} found again."

    page_outputs = [gallery, info, page_ids, page_num]
    open_btn.click(do_open, inputs=[dataset, order, *filters], outputs=[bucket, character, episode, *page_outputs],
                   api_name="udw_browser_open")
    first_page = lambda ds, *a: do_page(ds, 1, *a)  # noqa: E731
    filter_btn.click(first_page, inputs=[dataset, order, *filters], outputs=page_outputs, api_name="udw_browser_filter")
    tags.submit(first_page, inputs=[dataset, order, *filters], outputs=page_outputs)
    prev_btn.click(lambda ds, p, *a: do_page(ds, max(1, int(p or 1) - 1), *a), inputs=[dataset, page_num, order, *filters],
                   outputs=page_outputs, api_name="udw_browser_prev")
    next_btn.click(lambda ds, p, *a: do_page(ds, int(p or 1) + 1, *a), inputs=[dataset, page_num, order, *filters],
                   outputs=page_outputs, api_name="udw_browser_next")
    gallery.select(do_select, inputs=[dataset, page_ids], outputs=detail_outputs)
    show_btn.click(do_show, inputs=[dataset, item_id], outputs=detail_outputs, api_name="udw_browser_item")
    save_btn.click(do_save, inputs=[dataset, item_id, item_tags], outputs=detail_outputs, api_name="udw_browser_save_tags")
    move_btn.click(do_move, inputs=[dataset, item_id, move_char, move_bucket], outputs=detail_outputs,
                   api_name="udw_browser_move")
    preview_btn.click(do_preview, inputs=[dataset, op, arg1, arg2, *filters], outputs=batch_out,
                      api_name="udw_browser_batch_preview")
    apply_btn.click(do_apply, inputs=[dataset, op, arg1, arg2, *filters], outputs=batch_out,
                    api_name="udw_browser_batch_apply")
    check_btn.click(do_check, inputs=[dataset, *filters], outputs=batch_out, api_name="udw_browser_check")
