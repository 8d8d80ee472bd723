"""The shipped workflows in the real ComfyUI frontend (headless Chromium), plus screenshots.

For every `example_workflows/api/NAME.json` there is a UI-format twin `example_workflows/NAME.json` (what users
drag onto the canvas). The frontend loads the twin and converts it back to the API format; that
must equal the API file. With UDW_WRITE_UI_WORKFLOWS=1 the twins are (re)written from the API files
by the frontend itself. Screenshots go to UDW_SCREENSHOT_DIR (default: the test's temp folder).
"""

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]
API_FILES = sorted((REPO / "example_workflows" / "api").glob("*.json"))


@pytest.fixture(scope="module")
def page(comfy_page):
    return comfy_page


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
