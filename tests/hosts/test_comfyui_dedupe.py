"""The dedupe nodes inside a real ComfyUI (UDW_COMFYUI_DIR): object_info, the shipped workflow
through /prompt, and a threshold out of range refused at validation."""

from pathlib import Path

import pytest

from udw.dedupe.synthetic import write_set
from udw.testing.workflows import load_with_own_inputs  # the test puts its own files in input/

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]


def test_dedupe_nodes_are_listed(comfyui):
    info = comfyui.get("/object_info")
    assert {"UDWRemoveDuplicates", "UDWRestoreDuplicates", "UDWDedupeImages"} <= set(info)
    node = info["UDWRemoveDuplicates"]
    assert node["display_name"] == "UDW Remove Duplicates"
    assert node["output"] == ["UDW_DATASET", "IMAGE", "STRING"]
    assert node["input"]["required"]["threshold"][1]["min"] == 0.5


def test_dedupe_workflow_runs(comfyui, run_prompt):
    folder = comfyui.base / "input" / "udw_dedupe_images"   # not the folder other host tests fill
    write_set(folder, scenes=4, variants_per_scene=3, negatives=1, seed=5, size=(160, 90))
    (folder / "truth.json").unlink()
    graph = load_with_own_inputs("dedupe")
    graph["1"]["inputs"]["source"] = "udw_dedupe_images"
    entry = run_prompt(comfyui, graph)
    assert entry["status"]["status_str"] == "success", entry["status"]
    report = entry["outputs"]["2"]["text"][0]
    assert "marked" in report and "clusters" in report
    assert (comfyui.base / "temp" / entry["outputs"]["2"]["images"][0]["filename"]).is_file()


def test_threshold_out_of_range_is_refused(comfyui):
    graph = load_with_own_inputs("dedupe")
    graph["2"]["inputs"]["threshold"] = 0.2
    status, body = comfyui.post("/prompt", {"prompt": graph})
    # ComfyUI still queues the outputs that validate (the import node, when its folder exists)
    # and answers 400 only when none does; the dedupe node is refused either way.
    assert status in (200, 400) and "2" in body["node_errors"]
    details = " ".join(e["details"] for e in body["node_errors"]["2"]["errors"])
    assert "threshold 0.2 is out of range" in details and "0.5 to 1.0" in details
