"""Frames section: extract the distinct frames of videos into a dataset, with a contact sheet."""

from __future__ import annotations

import gradio as gr

from ...core.manifest import Dataset
from ...gallery.grid import make_grid
from ...video import CROSS_EPISODE, FORMATS, MODES, FrameSettings, extract_frames, parse_time
from ..compat import make
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "Frames"
_D = FrameSettings()


def build(host: UiHost) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            videos = gr.Textbox(label="Videos (files, folders or globs; one per line)", lines=2,
                                placeholder="episodes/*.mkv", elem_id="udw_frames_videos")
            dataset = gr.Textbox(label="Dataset folder", value="frames", elem_id="udw_frames_dataset")
            mode = gr.Radio(list(MODES), value=_D.mode, label="Mode")
            with gr.Row():
                fmt = gr.Radio(list(FORMATS), value=_D.format, label="Format")
                quality = make(gr.Slider, minimum=1, maximum=100, step=1, value=_D.quality,
                               label="JPEG/WebP quality (WebP 100: lossless)")
            with gr.Row():
                dedupe = gr.Checkbox(value=True, label="Drop near-duplicates while decoding")
                cross = gr.Radio(list(CROSS_EPISODE), value=_D.cross_episode,
                                 label="Openings/endings repeated across episodes")
            with gr.Accordion("More settings", open=False):
                with gr.Row():
                    start = gr.Textbox(label="Start (s or MM:SS)", value="")
                    end = gr.Textbox(label="End (s or MM:SS)", value="")
                    max_frames = make(gr.Number, value=0, precision=0, label="Max frames per video (0: all)")
                with gr.Row():
                    every = make(gr.Number, value=_D.every, precision=0, label="every: Nth frame")
                    fps = make(gr.Number, value=0, label="every: frames per second (0: off)")
                with gr.Row():
                    hi = make(gr.Number, value=_D.hi, precision=0, label="mpdecimate hi")
                    lo = make(gr.Number, value=_D.lo, precision=0, label="mpdecimate lo")
                    frac = make(gr.Number, value=_D.frac, label="mpdecimate frac")
                with gr.Row():
                    change = make(gr.Number, value=_D.dedupe_change, label="near-duplicate: changed share")
                    prefix = gr.Textbox(label="series_episode (one video)", value="", placeholder="yamaS2_EP04")
                    series = gr.Textbox(label="series (episodes from file names)", value="")
            with gr.Row():
                run_btn = gr.Button("Extract frames", variant="primary", elem_id="udw_frames_btn")
                stop_button(host)
            status = gr.Markdown(elem_id="udw_frames_status")
        with gr.Column(scale=2):
            sheet = make(gr.Image, label="Kept frames", type="pil", interactive=False, elem_id="udw_frames_sheet")

    @friendly(status=0, outputs=2)
    def do_extract(video_text, ds_path, how, out_fmt, q, use_dedupe, cross_mode, t0, t1, cap, nth, rate,
                   hi_v, lo_v, frac_v, change_v, prefix_v, series_v, progress=gr.Progress()):
        inputs = [host.roots.resolve(line) for line in str(video_text or "").splitlines() if line.strip()]
        settings = FrameSettings(
            mode=how, format=out_fmt, quality=int(q), dedupe=bool(use_dedupe), cross_episode=cross_mode,
            start=parse_time(t0) or 0.0, end=parse_time(t1), max_frames=int(cap or 0), every=int(nth or 1),
            fps=float(rate or 0), hi=int(hi_v), lo=int(lo_v), frac=float(frac_v), dedupe_change=float(change_v),
            prefix=str(prefix_v or "").strip(), series=str(series_v or "").strip()).validated()
        root = host.roots.resolve(ds_path)
        report = extract_frames(root, inputs, settings, host.ports(progress, "frames"))
        lines = [f"**{report.summary()}**"]
        for v in report.videos:
            lines.append(f"- {v.line()}")
            lines += [f"  - warning: {w}" for w in v.warnings]
        return "\n".join(lines), _sheet(root)

    run_btn.click(do_extract, inputs=[videos, dataset, mode, fmt, quality, dedupe, cross, start, end, max_frames,
                                      every, fps, hi, lo, frac, change, prefix, series],
                  outputs=[status, sheet], api_name="udw_frames")


def _sheet(root, limit: int = 48):
    """The most recently extracted frames, newest last."""
    ds = Dataset(root)
    items = ds.items(where="kind='frame'", order="id DESC", limit=limit)[::-1]
    if not items:
        return None
    labels = [f"{it.series or ''}{it.episode or ''} #{it.frame_index} s{it.scene}" for it in items]
    return make_grid([ds.abspath(it) for it in items], labels, cell=160,
                     title=f"{root.name}: last {len(items)} of {ds.count()} frames")
