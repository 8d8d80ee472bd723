"""The Gallery section of the shared Blocks, driven over HTTP by gradio_client."""

import importlib.util
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.paths import Roots  # noqa: E402
from udw.gallery.geninfo import GenerationInfo  # noqa: E402
from udw.gallery.meta_write import save_image  # noqa: E402
from udw.ui import UiHost  # noqa: E402
from udw.testing.ui import shown_error

HERE = Path(__file__).resolve().parent


def helper(name):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(tmp_path, make_image, serve_ui):
    root = tmp_path / "root"
    helper("test_gallery_browser").build_dataset(root / "ds", make_image)
    client = serve_ui(UiHost("standalone", Roots(root), thumb_dir=str(tmp_path / "thumbs")))
    yield root, client


FILTERS = dict(status="active", bucket="(any)", character="(any)", episode="(any)", cluster="")


def test_browse_filter_edit_over_http(served):
    root, client = served
    out = client.predict("ds", "id", "", *FILTERS.values(), api_name="/udw_browser_open")
    gallery, info, page = out[3], out[4], out[5]  # gr.State outputs are not part of the API
    assert len(gallery) == 11 and "11 items" in info and page == 1
    gallery, info, _ = client.predict("ds", "id", "1girl, -twintails", *FILTERS.values(), api_name="/udw_browser_filter")
    assert "3 items" in info and len(gallery) == 3
    _, info, _ = client.predict("ds", "id", "", "active", "(any)", "rin", "(any)", "", api_name="/udw_browser_filter")
    assert "4 items" in info
    image, html, tags, char, bucket, infotext, ident, note = client.predict("ds", "1", api_name="/udw_browser_item")
    assert tags == "1girl, solo, blonde hair" and char == "saber" and "f000.png" in html and image
    out = client.predict("ds", "1", "1girl, armor", api_name="/udw_browser_save_tags")
    assert set(out[2].split(", ")) == {"1girl", "armor"} and "Saved" in out[7]
    assert "armor" in (root / "ds/images/saber/f000.txt").read_text()
    text = client.predict("ds", "add", "red eyes", "", "", "active", "(any)", "rin", "(any)", "",
                          api_name="/udw_browser_batch_preview")
    assert "would change 4 items" in text
    client.predict("ds", "add", "red eyes", "", "", "active", "(any)", "rin", "(any)", "",
                   api_name="/udw_browser_batch_apply")
    _, info, _ = client.predict("ds", "id", "red eyes", *FILTERS.values(), api_name="/udw_browser_filter")
    assert "4 items" in info
    out = client.predict("ds", "2", "sakura", "", api_name="/udw_browser_move")
    assert "file moved" in out[7] and (root / "ds/images/sakura/f001.png").exists()
    result = client.predict("../..", "id", "", *FILTERS.values(), api_name="/udw_browser_open")
    assert "outside the allowed" in shown_error(result, 4)


def test_image_info_and_export_over_http(served):
    root, client = served
    info = GenerationInfo(prompt='<script>alert(1)</script> "><img src=x onerror=alert(1)>', seed=5, steps=3)
    save_image(gr_image(), root / "gen" / "a.png", info)
    html, infotext, raw = client.predict(None, "gen/a.png", api_name="/udw_image_info")
    assert "&lt;script&gt;" in html and "<script>" not in html and "Seed: 5" in infotext
    text, preview = client.predict("gen", "site", "auto", "T", "", 0, False, api_name="/udw_gallery_export")
    assert "1 images in 1 sections" in text and len(preview) == 1 and (root / "site/index.html").exists()


def gr_image():
    from PIL import Image

    return Image.new("RGB", (32, 24), (200, 100, 50))
