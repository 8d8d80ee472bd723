"""The shipped workflows in the real ComfyUI frontend (headless Chromium), plus screenshots.

For every `example_workflows/api/NAME.json` there is a UI-format twin `example_workflows/NAME.json` (what users
drag onto the canvas). The frontend loads the twin and converts it back to the API format; that
must equal the API file. With UDW_WRITE_UI_WORKFLOWS=1 the twins are (re)written from the API files
by the frontend itself. Screenshots go to UDW_SCREENSHOT_DIR (default: the test's temp folder).
"""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
API_FILES = sorted((REPO / "example_workflows" / "api").glob("*.json"))


@pytest.fixture(scope="module")
def page(comfyui):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="udw-chromium-")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=shutil.which("chromium"),
                                                   headless=True, args=FLAGS,
                                                   viewport={"width": 1600, "height": 1000})
        pg = ctx.new_page()
        pg.goto(comfyui.url, wait_until="load", timeout=120000)
        pg.wait_for_function("window.app && window.app.graph", timeout=120000)
        pg.wait_for_timeout(1500)
        pg.keyboard.press("Escape")  # a fresh user folder opens the template dialog first
        yield pg
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def ui_twin(api_path: Path) -> Path:
    return api_path.parent.parent / api_path.name  # example_workflows/NAME.json beside api/NAME.json


def api_inputs(api: dict) -> dict:
    return {k: (v["class_type"], v["inputs"]) for k, v in api.items()}


@pytest.mark.parametrize("api_path", API_FILES, ids=[p.name for p in API_FILES])
def test_ui_workflow_matches_api_workflow(page, api_path):
    api = json.loads(api_path.read_text())
    twin = ui_twin(api_path)
    if os.environ.get("UDW_WRITE_UI_WORKFLOWS"):
        page.evaluate("async ([api, name]) => { await window.app.loadApiJson(api, name); }", [api, twin.name])
        graph = page.evaluate("() => JSON.parse(JSON.stringify(window.app.graph.serialize()))")
        twin.write_text(json.dumps(graph, indent=2) + "\n")
    assert twin.is_file(), f"{twin.name} is missing (run with UDW_WRITE_UI_WORKFLOWS=1)"
    ui = json.loads(twin.read_text())
    assert {n["type"] for n in ui["nodes"] if n["type"] != "Note"} == {v["class_type"] for v in api.values()}
    page.evaluate("async (g) => { await window.app.loadGraphData(g); }", ui)
    converted = page.evaluate("async () => (await window.app.graphToPrompt()).output")
    assert api_inputs(converted) == api_inputs(api)


def test_run_dataset_workflow_from_the_canvas(page, comfyui):
    folder = comfyui.base / "input" / "udw_sample_images"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(12):
        colour = rng.integers(0, 255, 3, dtype=np.uint8)
        img = np.full((90, 160, 3), colour, np.uint8)
        img[20:70, 40 + i * 4:90 + i * 4] = 255 - colour
        Image.fromarray(img).save(folder / f"frame_{i:02d}.png")
    ui = json.loads(ui_twin(REPO / "example_workflows" / "api" / "dataset_import_preview.json").read_text())
    page.evaluate("async (g) => { await window.app.loadGraphData(g); }", ui)
    before = set(comfyui.get("/history"))
    page.evaluate("async () => { await window.app.queuePrompt(0, 1); }")
    deadline = time.time() + 120
    while not (set(comfyui.get("/history")) - before) and time.time() < deadline:
        time.sleep(0.5)
    (entry,) = [v for k, v in comfyui.get("/history").items() if k not in before]
    assert entry["status"]["status_str"] == "success", entry["status"]
    page.wait_for_timeout(2000)  # let the canvas draw the preview
    shots = Path(os.environ.get("UDW_SCREENSHOT_DIR") or tempfile.mkdtemp())
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "comfyui_dataset_workflow.png"))
    assert (comfyui.base / "output" / "udw" / "sample_dataset" / "udw-manifest.sqlite").is_file()
