"""The UDW Blocks: one tab per task, each section built by its own module."""

from __future__ import annotations

import gradio as gr

from .host import UiHost
from .sections import arrange as arrange_section
from .sections import build as build_section
from .sections import dataset as dataset_section
from .sections import dedupe as dedupe_section
from .sections import faces as faces_section
from .sections import frames as frames_section
from .sections import gallery as gallery_section
from .sections import models as models_section
from .sections import pose as pose_section
from .sections import tagging as tagging_section

# Each section module has build(host) and is shown as one tab, in this order.
# Lasting messages of the sections (udw/ui/sections/common.py): errors red, skipped steps amber.
STYLE = """<style>
.udw-msg{border-radius:8px;padding:10px 14px;margin:4px 0 8px;line-height:1.5;overflow-wrap:anywhere}
.udw-msg.udw-error{background:#fde8e8;color:#7a1010;border:1px solid #e05252}
.udw-msg.udw-warning{background:#fff4dc;color:#6b4500;border:1px solid #e0a030}
.dark .udw-msg.udw-error{background:#4a1414;color:#ffd6d6}.dark .udw-msg.udw-warning{background:#4a3510;color:#ffe2a8}
</style>"""

SECTIONS = [build_section, dataset_section, frames_section, dedupe_section, tagging_section, faces_section,
            arrange_section, gallery_section, models_section, pose_section]


def build_blocks(host: UiHost) -> gr.Blocks:
    with gr.Blocks(title="UDW Studio", analytics_enabled=False) as blocks:
        gr.Markdown("## UDW Studio\nBuild anime datasets from video, tag, dedupe, arrange; "
                    f"UDW models, pose transfer, galleries. Paths are relative to `{host.roots.default}`.")
        gr.HTML(STYLE, visible=True)
        with gr.Tabs():
            for section in SECTIONS:
                with gr.Tab(section.TITLE, elem_id=f"udw_tab_{section.__name__.rsplit('.', 1)[-1]}"):
                    section.build(host)
    return blocks
