"""The dataset browser (web/udw_browser_core.js) as a first-time user meets it, in headless Chromium:
the only dataset opens by itself, the filters have labels, whole frame names show, and a tag filter
on a dataset that was never tagged says why nothing matches. Screenshot: /tmp/udw-shots."""

import importlib.util
from pathlib import Path

import pytest

from udw.testing.frame_datasets import frames_dataset

pytest.importorskip("aiohttp")
HERE = Path(__file__).resolve().parent
SHOTS = Path("/tmp/udw-shots")


def harness_module():
    spec = importlib.util.spec_from_file_location("browser_harness", HERE / "browser_harness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lone(comfy, make_image, tmp_path, monkeypatch):
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    # frames named as the extraction names them, never tagged (the tag step was skipped)
    frames_dataset(comfy.base / "output" / "udw" / "only_one", make_image,
                   [f"udwdemoEP01_{i:06d}" for i in range(1, 15)])
    server = harness_module().HarnessServer(comfy.routes, dataset="")  # nothing remembered
    yield server
    server.close()


def test_first_look_at_the_browser(lone, chromium):
    bp = chromium(420, 900)  # about the width of ComfyUI's sidebar
    page = bp.page
    page.goto(lone.url)
    page.wait_for_function("document.querySelector('.udwb')?.dataset.udwState === 'ready' && "
                           "document.querySelectorAll('.udwb-tile').length === 14")
    assert page.input_value("[data-udw=dataset]").endswith("only_one")  # opened without choosing
    labels = page.locator(".udwb-field > span").all_inner_texts()
    assert labels == ["Status", "Bucket", "Character", "Episode", "Cluster", "Order"]
    name = page.locator(".udwb-tile span").first
    assert name.inner_text() == "udwdemoEP01_000001.png"
    assert name.evaluate("s => s.scrollWidth <= s.clientWidth")  # the frame number is not cut off
    page.fill("[data-udw=tags]", "1girl")
    page.click("[data-udw=apply]")
    page.wait_for_function("document.querySelector('[data-udw=info]').innerText.startsWith('0 items')")
    info = page.inner_text("[data-udw=info]")
    assert "no tags yet" in info and "tag step" in info
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "browser_first_look.png"))
    assert not bp.errors and not bp.dialogs
