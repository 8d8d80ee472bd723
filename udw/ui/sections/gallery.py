"""Gallery section: browse and edit a dataset, write gallery pages, read generation parameters."""

import tempfile
from pathlib import Path

import gradio as gr

from ...gallery.browser import BrowserService
from ...gallery.thumbs import ThumbCache
from ..host import UiHost
from . import gallery_browser, gallery_tools

TITLE = "Gallery"


def build(host: UiHost) -> None:
    # Gradio only serves files from its allowed folders: the temp folder by default (the standalone
    # app adds its persistent cache folder to `allowed_paths`).
    cache = ThumbCache(host.thumb_dir or Path(tempfile.gettempdir()) / "udw-thumbs")
    svc = BrowserService(host.roots, cache)
    with gr.Tabs():
        with gr.Tab("Browser", elem_id="udw_gallery_browser"):
            gallery_browser.build(host, svc)
        with gr.Tab("Gallery page", elem_id="udw_gallery_export"):
            gallery_tools.build_export(host, cache)
        with gr.Tab("Image info", elem_id="udw_gallery_info"):
            gallery_tools.build_info(host)
