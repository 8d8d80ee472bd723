"""Every shipped workflow runs on a fresh install: the pack makes its own sample inputs (UDW Sample
Media), models arrive on first use (here from a local mirror), and workflows that need models the
user brings (checkpoints) say so in a note. Layout: what ComfyUI's template browser lists."""

import glob
import json
import os
from pathlib import Path

import pytest

from udw.models import fetch
from udw.testing import workflows
from udw.testing.mirror import serve_mirror

REPO = Path(__file__).resolve().parents[1]
USER_MODELS = {"pose_transfer", "udw_generate"}   # an SD1 checkpoint (and ControlNet) the user brings
NEEDS_RAY = {"dataset_import_ray"}


def test_template_browser_lists_ui_workflows_only_each_with_a_thumbnail(tmp_path):
    # ComfyUI (app/custom_node_manager.py) globs custom_nodes/*/<folder>/*.json for these folder names
    scanned = ["example_workflows", "example", "examples", "workflow", "workflows"]
    listed = [Path(p) for name in scanned for p in glob.glob(str(REPO / name / "*.json"))]
    assert sorted(p.stem for p in listed) == workflows.names()
    for name in workflows.names():
        ui = workflows.load_ui(name)
        assert "nodes" in ui and "links" in ui, f"{name}: not a UI-format workflow"
        thumb = REPO / "example_workflows" / f"{name}.jpg"
        assert thumb.is_file() and thumb.read_bytes()[:3] == b"\xff\xd8\xff", f"{name}.jpg missing"
        api = workflows.load_api(name)
        assert {n["type"] for n in ui["nodes"] if n["type"] != "Note"} == {v["class_type"] for v in api.values()}
        notes = [n["widgets_values"][0] for n in ui["nodes"] if n["type"] == "Note"]
        assert len(notes) == 1 and notes[0], f"{name}: a note says what it does and what it needs"
        if name in USER_MODELS:
            assert "models/checkpoints" in notes[0]


def test_no_shipped_workflow_names_a_file_nothing_creates():
    for name in workflows.names():
        api = workflows.load_api(name)
        for node in api.values():
            if node["class_type"] == "LoadImage":
                pytest.fail(f"{name}: LoadImage of {node['inputs']['image']} (use UDW Sample Media)")
            for key in ("source", "video", "refs"):
                value = node["inputs"].get(key)
                assert not isinstance(value, str) or not value, f"{name}: {key}={value!r} typed, not made"


@pytest.mark.slow
def test_every_workflow_runs_on_a_fresh_install(comfy, tiny_tagger, tmp_path, monkeypatch):
    shared = [REPO.parent / "shared", Path(os.environ.get("UDW_SHARED_DIR", "/nonexistent"))]
    cascade = next((b / "models" / "lbpcascade_animeface.xml" for b in shared
                    if (b / "models" / "lbpcascade_animeface.xml").is_file()), None)
    if cascade is None:
        pytest.skip("../shared/models/lbpcascade_animeface.xml is missing (set UDW_SHARED_DIR)")
    for name in ("HF_HUB_OFFLINE", "UDW_MODELS_DIR", fetch.AUTO_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tagger = tiny_tagger("v3", folder=tmp_path / "tagger")
    with serve_mirror(tmp_path / "mirror") as mirror:
        mirror.add("lbpcascade_animeface", cascade)
        mirror.add("wd-swinv2-tagger-v3", tagger.onnx)
        mirror.add("wd-swinv2-tagger-v3", tagger.csv)
        monkeypatch.setenv(fetch.MIRROR_ENV, mirror.url)
        reports = {}
        for name in workflows.names():
            if name in USER_MODELS | NEEDS_RAY:
                continue
            out = comfy.run_workflow(workflows.load_api(name))
            reports[name] = out
    assert (comfy.base / "input" / "udw_samples" / "episodes" / "udwdemo_EP01.mp4").is_file()
    assert (comfy.base / "models" / "udw_detectors" / "lbpcascade_animeface" / "lbpcascade_animeface.xml").is_file()
    assert (comfy.base / "models" / "udw_taggers" / "wd-swinv2-tagger-v3" / "model.onnx").is_file()
    build = reports["build_dataset"]["1"][1]
    for step in ("frames", "dedupe", "tag", "faces", "characters", "export", "gallery"):
        assert f"  {step}: " in build and f"  {step}: skipped" not in build and f"  {step}: failed" not in build, build
    assert reports["extract_frames"]["1"][0].count() > 5
    assert reports["dedupe"]["2"][0].count() > 0
    tags = reports["tag_images"]["2"][0]
    assert tags and all(isinstance(t, str) for t in tags)
    assert "faces in" in reports["faces_characters_export"]["2"][1]
    assert json.loads(reports["face_detect_images"]["3"][2])
