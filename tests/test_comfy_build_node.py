"""UDW Build Dataset inside a fake ComfyUI: sample episodes in, dataset + training folder + page out."""

import shutil
from pathlib import Path

import pytest

from udw.samples import generate_samples
from udw.testing.workflows import load_with_own_inputs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def samples_in_input(comfy, cascade_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    generate_samples(comfy.base / "input" / "udw_samples", episodes=1, duration_s=4.0, width=320, height=180,
                     containers=("mp4",))
    detectors = comfy.base / "models" / "udw_detectors"
    detectors.mkdir(parents=True, exist_ok=True)
    shutil.copy(cascade_path, detectors / cascade_path.name)  # where a ComfyUI user puts it


def test_shipped_build_workflow_runs_every_step(comfy, samples_in_input):
    api = load_with_own_inputs("build_dataset", refs="")
    out = comfy.run_workflow(api)
    ds, report = out["1"][0], out["1"][1]
    assert ds.root == comfy.base / "output" / "udw" / "sample_build" and ds.count() > 10
    assert "tag: skipped" in report and "udw_taggers" in report  # says where the tagger goes in ComfyUI
    assert "faces: " in report and "export: arranged" in report
    train = comfy.base / "output" / "udw" / "sample_train"
    assert (train / "multiply.txt").exists() or list(train.rglob("multiply.txt"))
    assert (ds.root / "previews" / "gallery" / "index.html").is_file()
    assert comfy.progress and comfy.progress[-1][0] == comfy.progress[-1][1]  # the bar reached its end


def test_turning_a_step_off_and_bad_paths(comfy, samples_in_input):
    node = comfy.nodes["UDWBuildDataset"]
    args = dict(source="udw_samples", dataset="b", dedupe=False, tag=False, faces=True, characters=False,
                gallery=False, refs="", export_to="", trainer="kohya")
    (ds, report), ui = comfy.run("UDWBuildDataset", **args)
    assert "dedupe" not in report and "tag" not in report and "faces: " in report and ui["text"] == [report]
    assert "outside" in node.VALIDATE_INPUTS(source="/etc")
    assert "no such file" in node.VALIDATE_INPUTS(source="missing_folder")


def test_skipped_steps_are_sent_to_the_node_as_warnings(comfy, samples_in_input):
    """web/udw_report.js colours the node and lists these; a step that ran is not among them."""
    (_, report), ui = comfy.run("UDWBuildDataset", source="udw_samples", dataset="warned", dedupe=False, tag=True,
                                faces=False, characters=False, gallery=False, refs="", export_to="",
                                trainer="everydream")
    assert ui["text"] == [report]
    (warning,) = ui["udw_warnings"]
    assert warning.startswith("tag: skipped") and "udw_taggers" in warning
