"""The Gallery section in a real A1111 (gradio 3.41): browse a dataset, open an image made in
ComfyUI, send its prompt to txt2img through A1111's own paste; hostile metadata stays text.

Needs UDW_A1111_DIR and UDW_A1111_PYTHON (the `a1111` fixture of tests/hosts/conftest.py).
"""

import importlib.util
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from udw.core.manifest import Dataset
from udw.gallery.meta_write import save_image

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(tempfile.gettempdir()) / "udw-shots"

# A ComfyUI graph as SaveImage embeds it: the gallery must walk it to prompt, seed, sampler, size.
GRAPH = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 4242, "steps": 23, "cfg": 6.5, "sampler_name": "euler_ancestral",
                                               "scheduler": "karras", "denoise": 1.0, "model": ["4", 0],
                                               "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "udw_v1.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "1girl, saber, <script>x</script>", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "lowres, bad hands", "clip": ["4", 1]}},
}


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gallery_a1111(a1111):
    root = a1111.base / "outputs" / "udw" / "gallery_ds"  # its own: the A1111 server is shared
    _load(REPO / "tests" / "test_gallery_browser.py", "udw_gb_a1111").build_dataset(
        root, _load(REPO / "tests" / "conftest.py", "udw_cf_a1111").make_image)
    save_image(Image.new("RGB", (96, 64), (30, 160, 200)), root / "images" / "comfy.png", comfy_prompt=GRAPH)
    ds = Dataset(root)
    with ds.transaction() as conn:
        item = ds.add_item(conn, "images/comfy.png", "comfy", width=96, height=64)
        conn.execute("INSERT INTO tags VALUES(?,?,?,?)", (item, '"><img src=x onerror=alert(1)>', "general", .6))
    return a1111, item


def test_gallery_browser_sends_a_comfyui_prompt_to_txt2img(gallery_a1111, chromium):
    server, item = gallery_a1111
    bp = chromium(1500, 1000)
    page = bp.page
    page.goto(server.url, wait_until="domcontentloaded")
    page.wait_for_selector("#txt2img_prompt textarea", timeout=180_000)
    page.locator("#tabs > .tab-nav > button", has_text="UDW").first.click()
    page.locator("#tab_udw_studio .tab-nav > button", has_text="Gallery").first.click()
    page.fill("#udw_browser_dataset textarea", "gallery_ds")
    page.click("#udw_browser_open")
    page.wait_for_function("document.querySelector('#udw_browser_info').innerText.includes('12 items')")
    page.wait_for_function("document.querySelectorAll('#udw_browser_gallery img').length === 12")
    page.fill("#udw_browser_tags textarea", "1girl, -twintails")
    page.click("#udw_browser_filter")
    page.wait_for_function("document.querySelector('#udw_browser_info').innerText.includes('3 items')")
    page.fill("#udw_browser_item_id textarea", str(item))
    page.click("#udw_browser_show")
    page.wait_for_function("document.querySelector('#udw_browser_infotext textarea').value.includes('Seed: 4242')")
    detail = page.inner_text("#udw_browser_detail")
    assert '"><img src=x onerror=alert(1)>' in detail and "1girl, saber, <script>x</script>" in detail
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "a1111_gallery.png"), full_page=True)
    page.click("#udw_browser_send")
    page.wait_for_function("document.querySelector('#txt2img_prompt textarea').value.startsWith('1girl, saber')")
    values = {k: page.input_value(sel) for k, sel in (
        ("negative", "#txt2img_neg_prompt textarea"), ("width", "#txt2img_width input[type=number]"),
        ("height", "#txt2img_height input[type=number]"), ("steps", "#txt2img_steps input[type=number]"),
        ("seed", "#txt2img_seed input[type=number]"))}
    values["sampler"] = page.input_value("#txt2img_sampling input")
    page.screenshot(path=str(SHOTS / "a1111_gallery_txt2img.png"))
    assert values == {"negative": "lowres, bad hands", "width": "512", "height": "768", "steps": "23",
                      "seed": "4242", "sampler": "Euler a"}, values
    assert not [d for d in bp.dialogs if d.startswith("alert")] and page.locator('img[src="x"]').count() == 0
