"""The shipped workflows in a real ComfyUI: the template browser lists the UI files only, each with its
picture, and a workflow runs as shipped on a fresh base folder (its sample node makes the inputs)."""

import urllib.request

import pytest

from udw.testing import workflows

pytestmark = pytest.mark.host


def test_template_browser_lists_ui_workflows_with_thumbnails(comfyui):
    listed = comfyui.get("/workflow_templates")
    assert sorted(listed["udw-studio"]) == workflows.names()  # no API files, no sub-folders
    for name in workflows.names():
        with urllib.request.urlopen(f"{comfyui.url}/api/workflow_templates/udw-studio/{name}.jpg", timeout=30) as r:
            assert r.status == 200 and r.read(3) == b"\xff\xd8\xff", name


def test_shipped_workflow_runs_on_a_fresh_base(comfyui, run_prompt):
    assert "UDWSampleMedia" in comfyui.get("/object_info/UDWSampleMedia")
    entry = run_prompt(comfyui, workflows.load_api("dataset_import_preview"), timeout=600)
    assert entry["status"]["status_str"] == "success", entry["status"]
    assert "24 added" in entry["outputs"]["1"]["text"][0]
    assert (comfyui.base / "input" / "udw_samples" / "images" / "udwdemo_EP01_46.png").is_file()
