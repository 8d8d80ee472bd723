"""UDW Pose Transfer inside a real ComfyUI (UDW_COMFYUI_DIR) with tiny models built here.

ComfyUI accepts only real SD1.5 widths (UNet 320 channels, CLIP-L, full VAE), so the checkpoint is
tiny_sd.COMFY (one UNet level, ~450 MB) and the ControlNet is built from the same config.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from udw.testing.workflows import load_with_own_inputs

pytestmark = [pytest.mark.host, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    if not os.environ.get("UDW_COMFYUI_DIR"):
        pytest.skip("UDW_COMFYUI_DIR is not set: point it at a real ComfyUI checkout to run this test")
    pytest.importorskip("onnx")
    from udw.testing import tiny_sd
    from udw.testing.tiny_controlnet import COMFY, build_controlnet, build_sdxl_like_controlnet
    from udw.testing.tiny_pose import build_rtmpose

    d = tmp_path_factory.mktemp("comfy-pose-models")
    return {"ckpt": tiny_sd.build_checkpoint(d / "udw_tiny.safetensors", tiny_sd.COMFY, seed=5),
            "cn": build_controlnet(d / "openpose_tiny.safetensors", COMFY, seed=3),
            "cn_xl": build_sdxl_like_controlnet(d / "openpose_xl_tiny.safetensors", COMFY, seed=3),
            "pose": build_rtmpose(d / "dw-ll_ucoco_384.onnx", mode="skeleton", n_keypoints=17)}


def test_transfer_in_process_against_comfyui_code(tiny_models, tmp_path):
    """Sampling through ComfyUI's own KSampler, ModelPatcher and ControlNet: off = bit-identical,
    the reference and the pose change the result, the ControlNet of another architecture is refused."""
    folder = Path(os.environ["UDW_COMFYUI_DIR"])
    python = os.environ.get("UDW_COMFYUI_PYTHON") or "python"
    (tmp_path / "base").mkdir()
    proc = subprocess.run([python, str(REPO / "tests" / "hosts" / "comfy_pose_check.py"), str(REPO),
                           str(tmp_path / "base"), str(tiny_models["ckpt"]), str(tiny_models["cn"]),
                           str(tiny_models["cn_xl"])], cwd=folder, capture_output=True, text=True, timeout=5400)
    assert proc.returncode == 0, proc.stderr[-4000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(r, indent=1))
    assert r["model_class"] == "BaseModel" or "SD" in r["model_class"]
    assert r["disabled_identical"] and r["zero_strengths_identical"] and r["model_untouched"]
    assert r["deterministic"] and r["pose_image_equals_keypoints"]
    scale = r["plain_mean_abs"]
    assert r["transfer_vs_plain"] > 0.01 * scale
    assert r["reference_changes_output"] > 0 and r["reference_only_a_vs_b"] > 0
    assert r["pose_changes_output"] > 1e-3 * scale
    assert 0 < r["half_strength_between"] < r["reference_only_vs_plain"]
    assert r["late_start_vs_full"] > 0
    assert "ControlNet is for SDXL but the model is SD1.x" in r["xl_error"]
    assert "no pose given" in r["no_pose_error"]


def test_pose_nodes_listed(comfyui):
    info = comfyui.get("/object_info")
    for name in ("UDWPoseFromImage", "UDWLoadPoseJSON", "UDWSavePoseJSON", "UDWPoseRetarget", "UDWRenderPose",
                 "UDWPoseEval", "UDWPoseTransfer"):
        assert name in info, name
    transfer = info["UDWPoseTransfer"]
    assert transfer["output"][:3] == ["MODEL", "CONDITIONING", "CONDITIONING"]
    assert transfer["input"]["optional"]["pose"][0] == "POSE_KEYPOINT"


def test_shipped_workflow_runs(comfyui, run_prompt, tiny_models):
    from udw.pose import PoseFrame, render_pose
    from udw.testing.poses import figure

    models = comfyui.base / "models"
    for sub, key in (("checkpoints", "ckpt"), ("controlnet", "cn"), ("controlnet", "cn_xl")):
        (models / sub).mkdir(parents=True, exist_ok=True)
        target = models / sub / tiny_models[key].name
        if not target.exists():
            os.symlink(tiny_models[key], target)
    (models / "udw_pose").mkdir(parents=True, exist_ok=True)
    shutil.copy(tiny_models["pose"], models / "udw_pose" / "dw-ll_ucoco_384.onnx")
    b = figure(neck=(128, 80), torso=100, shoulder=30, upper_arm=45, forearm=40, hip=18, thigh=55, shin=50,
               head=25, arm_angle=110)
    a = figure(neck=(128, 90), torso=60, shoulder=25, upper_arm=25, forearm=22, hip=14, thigh=28, shin=25, head=40)
    for name, person in (("udw_pose_b.png", b), ("udw_character_a.png", a)):
        Image.fromarray(render_pose(PoseFrame(256, 320, [person]), stick_scale=0.5)).save(comfyui.base / "input" / name)
    graph = load_with_own_inputs("pose_transfer", images=True)  # the pictures written above, not the samples
    graph["1"]["inputs"]["ckpt_name"] = tiny_models["ckpt"].name
    graph["10"]["inputs"]["control_net_name"] = tiny_models["cn"].name
    graph["12"]["inputs"].update(width=64, height=64)
    graph["13"]["inputs"].update(steps=2, sampler_name="euler")
    entry = run_prompt(comfyui, graph, timeout=3600)
    assert entry["status"]["status_str"] == "success", json.dumps(entry["status"])[-3000:]
    saved = entry["outputs"]["15"]["images"][0]
    out = comfyui.base / "output" / saved["subfolder"] / saved["filename"]
    assert Image.open(out).size == (64, 64)
    assert "1 pose(s) found" in entry["outputs"]["7"]["text"][0]
    # the same graph with an SDXL ControlNet: a clear error from the transfer node
    graph["10"]["inputs"]["control_net_name"] = tiny_models["cn_xl"].name
    bad = run_prompt(comfyui, graph, timeout=3600)
    assert bad["status"]["status_str"] == "error"
    text = json.dumps(bad["status"]["messages"])
    assert "ControlNet is for SDXL but the model is SD1.x" in text and "control_v11p_sd15_openpose" in text
