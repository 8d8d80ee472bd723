"""Frame extraction inside a real ComfyUI (UDW_COMFYUI_DIR): the shipped workflow through /prompt."""

from pathlib import Path

import pytest

from udw.testing.workflows import load_with_own_inputs  # the test puts its own files in input/

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]


def test_extract_frames_nodes_are_listed(comfyui):
    info = comfyui.get("/object_info")
    node = info["UDWExtractFrames"]
    assert node["display_name"] == "UDW Extract Frames" and node["category"] == "UDW Studio/video"
    assert node["input"]["optional"]["video_input"][0] == "VIDEO"
    assert info["UDWExtractFramesImages"]["output"][0] == "IMAGE"


def test_extract_frames_workflow_runs(comfyui, run_prompt, make_clip):
    make_clip(comfyui.base / "input" / "udw_sample_episode.mkv", shots=((8, 2, 0), (6, 3, 0), (6, 2, 0)))
    graph = load_with_own_inputs("extract_frames")
    entry = run_prompt(comfyui, graph)
    assert entry["status"]["status_str"] == "success", entry["status"]
    report = entry["outputs"]["1"]["text"][0]
    assert "udw_sample_episode.mkv:" in report and "frames kept of 46 decoded" in report
    frames = list((comfyui.base / "output" / "udw" / "sample_frames" / "frames").rglob("*.png"))
    assert frames and (comfyui.base / "temp" / entry["outputs"]["2"]["images"][0]["filename"]).is_file()


def test_bad_paths_and_times_name_their_input_once(comfyui, make_clip, run_prompt):
    make_clip(comfyui.base / "input" / "udw_sample_episode.mkv")
    graph = load_with_own_inputs("extract_frames")
    status, body = comfyui.post("/prompt", {"prompt": {**graph, "1": {**graph["1"], "inputs": {
        **graph["1"]["inputs"], "video": "missing.mkv"}}}})
    assert status == 400  # one error, against `video` (not repeated against dataset, start and end)
    assert [e["extra_info"]["input_name"] for e in body["node_errors"]["1"]["errors"]] == ["video"]
    graph["1"]["inputs"]["start"] = "soon"  # checked when it runs, by an error that names `start`
    entry = run_prompt(comfyui, graph)
    assert entry["status"]["status_str"] == "error"
    errors = [m[1] for m in entry["status"]["messages"] if m[0] == "execution_error"]
    assert errors and "start: cannot read the time 'soon'" in errors[0]["exception_message"]
