"""The WD14 tagger nodes inside a real ComfyUI (UDW_COMFYUI_DIR), with a tiny tagger in its models folder."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from udw.testing.workflows import load_with_own_inputs

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]


def test_tagger_nodes_are_listed(comfyui):
    info = comfyui.get("/object_info")
    node = info["UDWWD14Tagger"]
    assert node["display_name"] == "UDW WD14 Tagger" and node["output_is_list"] == [True, True, True]
    assert "wd-vit-tagger-v3" in node["input"]["required"]["model"][0]
    assert "UDWTagDataset" in info


def test_tag_images_workflow_runs(comfyui, run_prompt, tiny_tagger):
    tiny = tiny_tagger("v3", folder=comfyui.base / "models" / "udw_taggers" / "wd-swinv2-tagger-v3")
    rgba = np.zeros((64, 96, 4), np.uint8)
    rgba[16:48, 24:72] = (200, 30, 30, 255)
    Image.fromarray(rgba, "RGBA").save(comfyui.base / "input" / "udw_tag_example.png")
    graph = load_with_own_inputs("tag_images", images=True, character="udw_tag_example.png")
    graph["2"]["inputs"]["mask"] = ["1", 1]  # LoadImage's alpha: transparent parts become white
    entry = run_prompt(comfyui, graph)
    assert entry["status"]["status_str"] == "success", entry["status"]
    rating, line = entry["outputs"]["2"]["text"][0].split(": ", 1)
    assert entry["outputs"]["3"]["text"] == [line] and entry["outputs"]["5"]["text"] == [rating]
    confidences = json.loads(entry["outputs"]["4"]["text"][0])
    assert set(confidences) == {t.replace("\\", "") for t in line.split(", ")}
    # the scores are the tiny model's on the image composited onto white, as the taggers expect
    from udw.tagging import TagOptions, select
    from udw.tagging.labels import read_labels
    from udw.tagging.preprocess import prepare
    want = select(tiny.expected(prepare(Image.open(comfyui.base / "input" / "udw_tag_example.png"), 64)),
                  read_labels(tiny.csv), TagOptions())
    assert line == want.prompt() and rating == want.rating


def test_missing_tagger_says_where_it_goes(comfyui, run_prompt):
    graph = load_with_own_inputs("tag_images", images=True, character="udw_tag_example.png")
    graph["2"]["inputs"].update(model="wd-eva02-large-tagger-v3", allow_download=False)
    entry = run_prompt(comfyui, graph)  # valid (it would arrive on first use), but this node may not download
    assert entry["status"]["status_str"] == "error"
    text = json.dumps(entry["status"]["messages"])
    assert "is not on this machine" in text and "udw_taggers" in text and "udw models get" in text
