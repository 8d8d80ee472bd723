"""`udw pose extract|render|retarget`, `udw pose-eval` and `udw transfer` from the command line."""

import json

import numpy as np
import pytest
from PIL import Image

from udw.cli.main import main
from udw.pose import PoseFrame, load_pose_json, render_pose, save_pose_json
from udw.pose.keypoints import NECK, NOSE, R_WRI
from udw.testing.poses import figure

pytest.importorskip("onnx")


@pytest.fixture
def files(tmp_path, monkeypatch):
    from udw.testing.tiny_pose import build_embedder, build_rtmpose

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("UDW_MODELS_DIR", str(tmp_path / "models"))
    build_rtmpose(tmp_path / "models" / "pose" / "dw-ll_ucoco_384.onnx", mode="skeleton", n_keypoints=17)
    build_embedder(tmp_path / "models" / "embedders" / "ccip_caformer_24" / "model_feat.onnx", size=64)
    b = figure(arm_angle=120)
    Image.fromarray(render_pose(PoseFrame(512, 640, [b]), stick_scale=0.5)).save(tmp_path / "b.png")
    chibi = figure(torso=80, shoulder=30, upper_arm=35, forearm=30, thigh=40, shin=35, head=45)
    Image.fromarray(render_pose(PoseFrame(512, 640, [chibi]), stick_scale=0.5)).save(tmp_path / "a.png")
    Image.new("RGB", (64, 64)).save(tmp_path / "black.png")
    return tmp_path, b


def test_extract_render_retarget(files, capsys):
    d, b = files
    assert main(["-q", "pose", "extract", str(d / "b.png"), "-o", str(d / "b.json"), "--render", str(d / "b_skel.png")]) == 0
    (frame,) = load_pose_json(d / "b.json")
    assert np.abs(frame.people[0].body[R_WRI, :2] - b.body[R_WRI, :2]).max() < 2
    assert Image.open(d / "b_skel.png").size == (512, 640)
    assert main(["pose", "render", str(d / "b.json"), "-o", str(d / "small.png"), "--width", "256", "--height", "320"]) == 0
    assert Image.open(d / "small.png").size == (256, 320) and "256x320" in capsys.readouterr().out
    assert main(["pose", "retarget", str(d / "b.json"), "--proportions", str(d / "a.png"), "-o", str(d / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "relative to the torso" in out and "wrote" in out
    (new,) = load_pose_json(d / "r.json")
    head_new = np.linalg.norm(new.people[0].body[NOSE, :2] - new.people[0].body[NECK, :2])
    head_old = np.linalg.norm(frame.people[0].body[NOSE, :2] - frame.people[0].body[NECK, :2])
    assert head_new > 1.5 * head_old


def test_no_person_is_an_error_unless_blank(files, capsys):
    d, _ = files
    assert main(["pose", "extract", str(d / "black.png"), "-o", str(d / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "no person found" in err and "anime mode" in err and not (d / "x.json").exists()
    assert main(["pose", "extract", str(d / "black.png"), "-o", str(d / "x.json"), "--blank-if-none"]) == 0
    assert load_pose_json(d / "x.json")[0].people == []


def test_pose_eval_prints_scores(files, capsys):
    d, b = files
    save_pose_json(d / "target.json", [PoseFrame(512, 640, [b])])
    moved = figure(arm_angle=120, neck=(286, 160))
    Image.fromarray(render_pose(PoseFrame(512, 640, [moved]), stick_scale=0.5)).save(d / "moved.png")
    assert main(["pose-eval", str(d / "b.png"), str(d / "moved.png"), "--pose", str(d / "target.json"),
                 "--reference", str(d / "b.png"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    exact, shifted = data["images"][str(d / "b.png")], data["images"][str(d / "moved.png")]
    assert exact["pose_error"] < 0.01 and exact["identity_similarity"] == pytest.approx(1.0, abs=1e-6)
    assert shifted["pose_error"] == pytest.approx(30 / b.size(), abs=0.01)
    assert exact["keypoints_compared"] == 18 and exact["keypoints_missed"] == []
    assert main(["pose-eval", str(d / "b.png")]) == 2
    assert "nothing to score against" in capsys.readouterr().err


@pytest.mark.slow
def test_transfer_writes_a_png_with_parameters(files, capsys):
    pytest.importorskip("diffusers")
    torch = pytest.importorskip("torch")
    from udw.testing import tiny_sd
    from udw.testing.tiny_controlnet import build_controlnet

    d, _ = files
    ckpt = tiny_sd.build_checkpoint(d / "tiny.safetensors", seed=5)
    cn = build_controlnet(d / "cn.safetensors", seed=3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = main(["-q", "transfer", "-c", str(ckpt), "--controlnet", str(cn), "-r", str(d / "a.png"),
                     "--pose", str(d / "b.png"), "--width", "64", "--height", "64", "--steps", "2", "--seed", "4",
                     "--sampler", "euler", "-o", str(d / "out")])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    pngs = sorted((d / "out").glob("*.png"))
    assert [p.name for p in pngs] == ["00000-4-pose.png", "00000-4.png"]
    text = Image.open(pngs[1]).text["parameters"]
    assert "UDW pose transfer: \"control 1 (cn), reference 1, style fidelity 0.5" in text and "Seed: 4" in text
