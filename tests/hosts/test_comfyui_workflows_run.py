"""Every shipped workflow, loaded into the real ComfyUI frontend and run from the canvas on a fresh install.

The ComfyUI of the `comfyui` fixture starts with an empty input folder: the UDW Sample Media nodes of
the workflows make their inputs. The models that a workflow's note asks for are put where the note
says (tiny models built by the tests: a WD14-shaped tagger, the anime-face cascade, an SD1
checkpoint, a ControlNet and a pose model). The Ray workflow needs `ray` in ComfyUI's Python; without
it, the engine node's message saying so is what a user sees. Each run leaves a screenshot
(UDW_SCREENSHOT_DIR); the canvas must show no node in error.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import cached, poll, shots_dir

pytestmark = [pytest.mark.host, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "example_workflows").glob("*.json"))
# COCO-17 keypoints of a standing person in the pose model's 288x384 crop
STANDING = [(144, 60), (150, 52), (138, 52), (158, 56), (130, 56), (174, 110), (114, 110), (190, 170), (98, 170),
            (196, 225), (92, 225), (164, 220), (124, 220), (166, 290), (122, 290), (168, 360), (120, 360)]
GENERATE = {"pose_transfer.json", "udw_generate.json"}  # run a (tiny) Stable Diffusion


@pytest.fixture
def models(comfyui, tiny_tagger, cascade_path):
    """The models the workflows' notes ask for, in the folders the notes name."""
    root = comfyui.base / "models"
    tagger = root / "udw_taggers" / "wd-swinv2-tagger-v3"
    if not tagger.is_dir():
        tiny_tagger("v3", folder=tagger)
    (root / "udw_detectors").mkdir(parents=True, exist_ok=True)
    shutil.copy(cascade_path, root / "udw_detectors" / cascade_path.name)
    return root


@pytest.fixture
def sd_models(models):
    pytest.importorskip("onnx")
    from udw.testing import tiny_sd
    from udw.testing.tiny_controlnet import COMFY, build_controlnet
    from udw.testing.tiny_pose import build_rtmpose

    built = {"checkpoints/udw.safetensors": cached("sd1_comfy_seed1.safetensors",
                                                   lambda p: tiny_sd.build_checkpoint(p, tiny_sd.COMFY, seed=1)),
             "controlnet/control_v11p_sd15_openpose_fp16.safetensors": cached(
                 "openpose_tiny_seed3.safetensors", lambda p: build_controlnet(p, COMFY, seed=3)),
             # a pose model that sees one standing person in any picture (the sample's drawn characters)
             "udw_pose/dw-ll_ucoco_384.onnx": cached(
                 "rtmpose_standing17.onnx", lambda p: build_rtmpose(p, mode="points", points=STANDING, n_keypoints=17))}
    for rel, path in built.items():
        (models / rel).parent.mkdir(parents=True, exist_ok=True)
        if not (models / rel).exists():
            os.symlink(path, models / rel)
    return models


def has_ray() -> bool:
    python = os.environ.get("UDW_COMFYUI_PYTHON")
    return bool(python) and subprocess.run([python, "-c", "import ray"], capture_output=True).returncode == 0


def shrink_generation(page) -> None:
    """What a user on a CPU would do: a 64 px latent and 2 steps (the tiny checkpoint draws noise anyway);
    where a look node feeds size and steps, those links are taken off first."""
    page.evaluate("""() => {
      const small = { EmptyLatentImage: { width: 64, height: 64 }, KSampler: { steps: 2 } };
      for (const node of window.app.graph._nodes) {
        const values = small[node.type];
        if (!values) continue;
        for (const [name, value] of Object.entries(values)) {
          const slot = (node.inputs || []).findIndex((i) => i.name === name && i.link != null);
          if (slot >= 0) node.disconnectInput(slot);
          const widget = (node.widgets || []).find((w) => w.name === name);
          if (widget) widget.value = value;
        }
      }
    }""")


def queue_and_wait(page, comfyui, timeout: float) -> dict:
    """Queue from the canvas; the run's history entry, or {"node_errors": ...} when the graph was refused."""
    before = set(comfyui.get("/history"))
    page.evaluate("async () => { window.app.lastNodeErrors = null; await window.app.queuePrompt(0, 1); }")

    def finished():
        refused = page.evaluate("() => window.app.lastNodeErrors")
        if refused:
            return {"node_errors": refused}
        new = [v for k, v in comfyui.get("/history").items() if k not in before]
        return new[0] if new and new[0]["status"].get("completed") is not None else None

    return poll(finished, timeout, "the workflow's run", every=0.5)


def settle(page, entry: dict) -> None:
    """Wait until the canvas shows the run: every node with an output got it and its images loaded."""
    ids = list(entry.get("outputs", {}))
    page.wait_for_function("""(ids) => {
      const outputs = window.app.nodeOutputs || {};
      const got = ids.every((id) => Object.keys(outputs).some((k) => k === id || k.endsWith(':' + id)));
      const imgs = [...document.querySelectorAll('[data-udw=thumb] img, [data-udw=report]')];
      return got && imgs.every((el) => el.tagName !== 'IMG' || el.loading === 'lazy' || el.complete);
    }""", arg=ids)
    # draw the canvas now and let the DOM widgets follow it (a loaded machine draws few frames a second)
    page.evaluate("""() => new Promise((done) => {
      window.app.canvas.setDirty(true, true);
      window.app.canvas.draw(true, true);
      let frames = 0;
      const next = () => (++frames >= 4 ? done() : requestAnimationFrame(next));
      requestAnimationFrame(next);
    })""")


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.stem for p in WORKFLOWS])
def test_shipped_workflow_runs_from_the_canvas(comfy_page, comfyui, models, request, path):
    if path.name in GENERATE:
        request.getfixturevalue("sd_models")
    page = comfy_page
    workflow = json.loads(path.read_text())
    page.evaluate("async (g) => { await window.app.loadGraphData(g); }", workflow)
    shrink_generation(page)
    entry = queue_and_wait(page, comfyui, 1800 if path.name in GENERATE else 600)
    if "node_errors" not in entry:
        settle(page, entry)
    page.screenshot(path=str(shots_dir() / f"comfyui_run_{path.stem}.png"))
    if path.stem == "dataset_import_ray" and not has_ray():
        # refused before it runs, on the engine node, saying what to install
        text = json.dumps(entry.get("node_errors"))
        assert "Ray Data, which is not installed" in text and "pip install" in text, text[-2000:]
        page.keyboard.press("Escape")  # the frontend's error dialog
        return
    assert "node_errors" not in entry, json.dumps(entry)[-3000:]
    messages = json.dumps(entry["status"].get("messages", []))[-3000:]
    assert entry["status"]["status_str"] == "success", messages
    assert entry["outputs"], "the run produced no output"
    errors = page.evaluate("() => window.app.graph._nodes.filter(n => n.has_errors).map(n => n.type)")
    assert errors == []


def test_browser_window_leaves_the_run_button_free(comfy_page):
    page = comfy_page
    page.locator("button:has-text('UDW Browser'), [aria-label*='UDW Browser']").first.click()
    page.wait_for_selector(".udwb")
    page.click(".udwb button[title='bigger window']")
    page.wait_for_selector(".udwb-popout")
    window_top, run_bottom = page.evaluate("""() => {
      const run = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Run');
      return [document.querySelector('.udwb-popout').getBoundingClientRect().top, run.getBoundingClientRect().bottom];
    }""")
    page.screenshot(path=str(shots_dir() / "comfyui_browser_window.png"))
    assert window_top >= run_bottom
    page.click(".udwb button[title='bigger window']")  # back into the sidebar
    page.wait_for_selector(".udwb-popout", state="detached")
