"""UDW Build Dataset inside a real ComfyUI (UDW_COMFYUI_DIR): sample episodes through the shipped workflow."""

import shutil
from pathlib import Path

import pytest

from udw.samples import generate_samples
from udw.testing.workflows import load_with_own_inputs  # the test puts its own files in input/

pytestmark = pytest.mark.host
REPO = Path(__file__).resolve().parents[2]


def test_build_workflow_runs_in_comfyui(comfyui, run_prompt, cascade_path):
    generate_samples(comfyui.base / "input" / "udw_samples", episodes=2, duration_s=4.0, width=320, height=180)
    detectors = comfyui.base / "models" / "udw_detectors"
    detectors.mkdir(parents=True, exist_ok=True)
    shutil.copy(cascade_path, detectors / cascade_path.name)
    entry = run_prompt(comfyui, load_with_own_inputs("build_dataset", refs=""))
    assert entry["status"]["status_str"] == "success", [m[1].get("exception_message") for m in
                                                         entry["status"]["messages"]]
    report = entry["outputs"]["1"]["text"][0]
    assert "kept from 2 of 2 video(s)" in report and "faces: " in report and "export: arranged" in report
    assert "tag: skipped" in report and "udw_taggers" in report  # no tagger weights here: says where they go
    out = comfyui.base / "output" / "udw"
    assert (out / "sample_build" / "previews" / "gallery" / "index.html").is_file()
    assert list((out / "sample_train").rglob("*.txt"))  # captions beside the arranged pictures
