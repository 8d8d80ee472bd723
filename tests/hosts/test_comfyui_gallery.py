"""The gallery node, the /udw routes and the dataset browser sidebar in a real ComfyUI.

Needs UDW_COMFYUI_DIR (a ComfyUI checkout) and UDW_COMFYUI_PYTHON (its Python).
ComfyUI runs with --base-directory in a temporary folder holding this repository as a custom
node (a symlink; the `comfyui` fixture of tests/hosts/conftest.py), so the checkout is never modified.
"""

import importlib.util
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from udw.testing.workflows import load_with_own_inputs  # the test puts its own files in input/

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/udw-shots")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def post_json(url, data, timeout=30):
    req = urllib.request.Request(url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


GALLERY_INPUT = "udw_gallery_images"  # its own input folder: the ComfyUI server is shared by all host tests


@pytest.fixture(scope="module")
def gallery_comfy(comfyui):
    """The shared real ComfyUI (tests/hosts/conftest.py) plus a hostile test dataset and sample images."""
    base = comfyui.base
    conftest = _load(REPO / "tests" / "conftest.py", "udw_conftest_host")
    browser_tests = _load(REPO / "tests" / "test_browser_gallery.py", "udw_browser_tests_host")
    evil = browser_tests.evil_dataset(base / "output" / "udw" / "ds", conftest.make_image, n=90)
    for i in range(6):
        conftest.make_image(base / "input" / GALLERY_INPUT / f"frame {i:02d}.png", i)
    return comfyui.url, base, evil


def test_nodes_and_routes_are_registered(gallery_comfy):
    url, base, _ = gallery_comfy
    info = json.loads(get(url + "/object_info")[1])
    assert info["UDWGallery"]["display_name"] == "UDW Gallery"
    assert "labels" in info["UDWGallery"]["input"]["optional"]
    assert "UDWDatasetImages" in info
    for prefix in ("", "/api"):
        data = json.loads(get(url + prefix + "/udw/browser/datasets")[1])
        assert "udw/ds" in [d["label"] for d in data["datasets"]]  # other tests add theirs
    for bad in ("../../..", "/etc", str(base.parent)):
        with pytest.raises(urllib.error.HTTPError) as err:
            get(url + "/udw/browser/page?" + urllib.parse.urlencode({"dataset": bad}))
        assert err.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as err:
        get(url + "/udw/file/thumb?" + urllib.parse.urlencode({"type": "output", "subfolder": "../..", "filename": "x.png"}))
    assert err.value.code == 403


def test_gallery_workflow_over_the_api(gallery_comfy):
    url, base, _ = gallery_comfy
    api = load_with_own_inputs("dataset_gallery")
    api["1"]["inputs"].update(dataset="api_dataset", source=GALLERY_INPUT)
    prompt_id = post_json(url + "/prompt", {"prompt": api})["prompt_id"]
    deadline = time.time() + 180
    while time.time() < deadline:
        hist = json.loads(get(url + f"/history/{prompt_id}")[1])
        if prompt_id in hist and hist[prompt_id].get("status", {}).get("completed") is not None:
            break
        time.sleep(1)
    entry = hist[prompt_id]
    assert entry["status"]["status_str"] == "success", entry["status"]
    shown = entry["outputs"]["3"]["udw_gallery"]
    assert len(shown) == 6 and shown[0]["label"] == "frame 00"
    folder = base / "output" / shown[0]["subfolder"]
    assert (folder / shown[0]["filename"]).is_file() and (folder.parent / "index.html").is_file()


def test_gallery_node_and_browser_sidebar_in_chromium(gallery_comfy, chromium):
    url, base, evil = gallery_comfy
    bp = chromium(1500, 950)
    page = bp.page
    page.goto(url)
    page.wait_for_function("window.app && window.app.graph", timeout=90_000)
    page.wait_for_timeout(1500)
    page.keyboard.press("Escape")  # a fresh user folder opens the template dialog first
    api = load_with_own_inputs("dataset_gallery")
    api["1"]["inputs"].update(dataset="ui_dataset", source=GALLERY_INPUT)
    api["3"]["inputs"]["title"] = '<script>window.__xss=9</script> "><img src=x onerror=window.__xss=8>'
    page.evaluate("api => window.app.loadApiJson(api, 'udw_gallery.json')", api)
    page.evaluate("() => window.app.queuePrompt(0, 1)")
    page.wait_for_function("document.querySelectorAll('[data-udw=thumb] img').length === 6", timeout=180_000)
    page.wait_for_function("[...document.querySelectorAll('[data-udw=thumb] img')].every(i => i.complete && i.naturalWidth > 0)")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "comfyui_gallery_node.png"))
    page.locator("[data-udw=thumb]").first.click()
    page.wait_for_selector("[data-udw=lightbox] img")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('[data-udw=lightbox]').innerText.includes('(2/6)')")
    page.screenshot(path=str(SHOTS / "comfyui_gallery_lightbox.png"))
    page.keyboard.press("Escape")

    page.locator('button[aria-label^="UDW Dataset Browser"]').click()
    page.wait_for_selector(".udwb [data-udw=dataset]")
    page.select_option(".udwb [data-udw=dataset]", str(base / "output" / "udw" / "ds"))
    page.wait_for_function("document.querySelector('.udwb')?.dataset.udwState === 'ready'")
    page.locator(".udwb [data-udw=tags]").fill("1girl, -twintails")
    page.locator(".udwb [data-udw=tags]").press("Enter")
    browser_tests = _load(REPO / "tests" / "test_browser_gallery.py", "udw_browser_tests_host2")
    n = browser_tests.expect(base / "output" / "udw" / "ds", tags="1girl, -twintails")
    page.wait_for_function(f"document.querySelector('[data-udw=info]').innerText.startsWith('{n} items')")
    assert page.locator(".udwb-tile").count() == n
    page.screenshot(path=str(SHOTS / "comfyui_browser_sidebar.png"))
    page.click(".udwb button[title='bigger window']")
    page.locator(f'.udwb-tile[data-id="{evil}"]').click()
    page.wait_for_selector("[data-udw=detail] [data-udw=meta]")
    assert "<script>" in page.locator("[data-udw=meta]").inner_text()
    page.screenshot(path=str(SHOTS / "comfyui_browser_detail.png"))
    assert page.evaluate("window.__xss") is None and page.locator('img[src="x"]').count() == 0
    assert not [d for d in bp.dialogs if d.startswith("alert")]
    # Ours only: the stock frontend raises "reading 'id'" on every load and asks for optional
    # user files (404) and remote templates (no network here), with or without packs.
    errors = [e for e in bp.errors if "udw" in e.lower() or not (
        e.startswith("HTTP ") or "Failed to load resource" in e or "reading 'id'" in e)]
    assert not errors, errors
