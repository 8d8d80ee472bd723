"""UDW Studio inside a real ComfyUI (UDW_COMFYUI_DIR): nodes load, workflows run through /prompt."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]


def test_pack_loads_without_import_errors(comfyui):
    info = comfyui.get("/object_info")
    ours = {k: v for k, v in info.items() if k.startswith("UDW")}
    assert {"UDWImportImages", "UDWLoadDataset", "UDWDatasetPreview"} <= set(ours)
    assert all(v["category"].startswith("UDW Studio") for v in ours.values())
    assert ours["UDWImportImages"]["display_name"] == "UDW Import Images"
    ours_in_log = [line for line in comfyui.log_text().splitlines() if "udw-studio" in line]
    assert ours_in_log and not any("IMPORT FAILED" in line for line in ours_in_log)


def test_dataset_workflow_runs(comfyui, run_prompt):
    folder = comfyui.base / "input" / "udw_sample_images"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(5):
        Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    graph = json.loads((REPO / "example_workflows" / "api" / "dataset_import_preview.json").read_text())
    # own pictures into an own dataset (the shipped graph takes the sample pictures; other tests use it)
    graph["1"]["inputs"].update(source="udw_sample_images", dataset="own_pictures")
    entry = run_prompt(comfyui, graph)
    assert entry["status"]["status_str"] == "success", entry["status"]
    assert "5 added" in entry["outputs"]["1"]["text"][0]
    shown = entry["outputs"]["2"]["udw_gallery"]  # the items one by one, served by the browser's routes
    assert [e["label"] for e in shown] == [f"img{i}" for i in range(5)]
    thumb = comfyui.get(f"/udw/browser/thumb?dataset={shown[0]['dataset']}&id={shown[0]['id']}")
    assert thumb
    assert (comfyui.base / "output" / "udw" / "own_pictures" / "udw-manifest.sqlite").is_file()


def test_missing_path_is_a_validation_error(comfyui):
    graph = json.loads((REPO / "example_workflows" / "api" / "dataset_import_preview.json").read_text())
    graph["1"]["inputs"]["source"] = "no_such_folder"
    status, body = comfyui.post("/prompt", {"prompt": graph})
    assert status == 400
    errors = body["node_errors"]["1"]["errors"]
    assert any("no such file or folder" in e["details"] for e in errors)
