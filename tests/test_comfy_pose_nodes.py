"""Pose nodes inside the fake ComfyUI (the transfer itself runs in the real one: tests/hosts)."""

import json
import types

import numpy as np
import pytest
import torch

from udw.pose import PoseFrame, frames_from_json, frames_to_json, render_pose
from udw.pose.keypoints import NECK, R_ELB
from udw.testing.poses import figure

onnx = pytest.importorskip("onnx")




@pytest.fixture
def pose_comfy(comfy, tmp_path, monkeypatch):
    from udw.testing.tiny_pose import build_embedder, build_rtmpose

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)
    folder = comfy.base / "models"
    build_rtmpose(folder / "udw_pose" / "dw-ll_ucoco_384.onnx", mode="skeleton", n_keypoints=17)
    build_embedder(folder / "udw_embedders" / "ccip-caformer-24-randaug-pruned" / "model_feat.onnx", size=64)
    return comfy


def image_of(*people, size=(512, 640), **kw):
    arr = render_pose(PoseFrame(size[0], size[1], list(people)), stick_scale=0.5, **kw)
    return torch.from_numpy(arr.astype(np.float32) / 255.0)[None]


def test_pose_nodes_are_registered(comfy):
    names = {"UDWPoseFromImage", "UDWLoadPoseJSON", "UDWSavePoseJSON", "UDWPoseRetarget", "UDWRenderPose",
             "UDWPoseEval", "UDWPoseTransfer"}
    assert names <= set(comfy.nodes)
    assert comfy.pack.NODE_DISPLAY_NAME_MAPPINGS["UDWPoseTransfer"] == "UDW Pose Transfer"
    types_ = comfy.nodes["UDWPoseTransfer"].INPUT_TYPES()
    assert types_["optional"]["pose"][0] == "POSE_KEYPOINT" and comfy.nodes["UDWPoseTransfer"].RETURN_TYPES[:3] == (
        "MODEL", "CONDITIONING", "CONDITIONING")


def test_pose_from_image_finds_the_drawn_pose(pose_comfy):
    target = figure(arm_angle=100)
    (pose, image, notes), ui = pose_comfy.run("UDWPoseFromImage", image=image_of(target), boxes="anime (whole image)",
                                              hands=False, face=False, person="largest", outside_canvas="drop",
                                              if_no_person="error", pose_model="dwpose_wholebody", detector="yolox_l")
    assert isinstance(pose, list) and pose[0]["canvas_width"] == 512 and pose[0]["canvas_height"] == 640
    got = frames_from_json(pose)[0].people[0].body
    assert np.abs(got[R_ELB, :2] - target.body[R_ELB, :2]).max() < 2
    assert image.shape == (1, 640, 512, 3)
    assert "1 pose(s) found" in notes and ui["text"] == [notes]
    assert pose_comfy.progress[-1][:2] == (1, 1)
    # the model is also offered by file name in the node's list
    assert "dw-ll_ucoco_384.onnx" in pose_comfy.nodes["UDWPoseFromImage"].INPUT_TYPES()["required"]["pose_model"][0]


def test_no_person_is_an_error_or_a_blank_pose(pose_comfy):
    black = torch.zeros(1, 64, 64, 3)
    kw = dict(image=black, boxes="anime (whole image)", hands=False, face=False, person="largest",
              outside_canvas="drop", pose_model="dwpose_wholebody", detector="yolox_l")
    with pytest.raises(RuntimeError, match="no person found"):
        pose_comfy.run("UDWPoseFromImage", if_no_person="error", **kw)
    (pose, image, notes), _ = pose_comfy.run("UDWPoseFromImage", if_no_person="blank pose", **kw)
    assert pose[0]["people"] == [] and "blank pose" in notes and float(image.max()) == 0


def test_save_then_load_json(pose_comfy):
    pose = frames_to_json([PoseFrame(512, 512, [figure()])])
    (path,), ui = pose_comfy.run("UDWSavePoseJSON", pose=pose, filename_prefix="poses/b")
    assert path.endswith("b_00001.json") and json.loads(open(path).read()) == pose
    (path2,), _ = pose_comfy.run("UDWSavePoseJSON", pose=pose, filename_prefix="poses/b")
    assert path2.endswith("b_00002.json")
    assert "outside" in pose_comfy.validate("UDWSavePoseJSON", {"filename_prefix": "../../escape"})
    (pose_comfy.base / "input" / "b.json").write_text(open(path).read())
    (loaded, image), _ = pose_comfy.run("UDWLoadPoseJSON", path="b.json", canvas_width=0, canvas_height=0)
    assert loaded == pose and image.shape == (1, 512, 512, 3)
    assert "no such file" in pose_comfy.validate("UDWLoadPoseJSON", {"path": "missing.json"})
    (pose_comfy.base / "input" / "bad.json").write_text('[{"people": [{"pose_keypoints_2d": [1, 2]}]}]')
    with pytest.raises(RuntimeError, match="triples"):
        pose_comfy.run("UDWLoadPoseJSON", path="bad.json", canvas_width=0, canvas_height=0)


def test_retarget_and_render_nodes(pose_comfy):
    b = frames_to_json([PoseFrame(512, 640, [figure(arm_angle=120)])])
    a = frames_to_json([PoseFrame(300, 300, [figure(neck=(150, 60), torso=60, upper_arm=40, forearm=35, head=30)])])
    (out, image, notes), _ = pose_comfy.run("UDWPoseRetarget", pose=b, proportions=a, enabled=True, strength=1.0,
                                             target_person=0, reference_person=0)
    new = frames_from_json(out)[0].people[0].body
    assert np.allclose(new[NECK], frames_from_json(b)[0].people[0].body[NECK]) and "torso" in notes
    assert not np.allclose(new, frames_from_json(b)[0].people[0].body)
    (same, _, notes), _ = pose_comfy.run("UDWPoseRetarget", pose=b, proportions=a, enabled=False, strength=1.0,
                                          target_person=0, reference_person=0)
    assert same is b and notes == "retargeting off"
    with pytest.raises(RuntimeError, match="reference pose has no person"):
        pose_comfy.run("UDWPoseRetarget", pose=b, proportions=[{"people": [], "canvas_width": 8, "canvas_height": 8}],
                       enabled=True, strength=1.0, target_person=0, reference_person=0)
    (img,), _ = pose_comfy.run("UDWRenderPose", pose=out, width=256, height=320, body=True, hands=True, face=True)
    assert img.shape == (1, 320, 256, 3) and float(img.max()) == 1.0


def test_eval_node_scores_pose_and_identity(pose_comfy):
    target = figure(arm_angle=100)
    pose = frames_to_json([PoseFrame(512, 640, [target])])
    moved = figure(arm_angle=100, neck=(276, 160))
    images = torch.cat([image_of(target), image_of(moved)])
    (report, err, ident), ui = pose_comfy.run("UDWPoseEval", images=images, boxes="anime (whole image)",
                                               pose_model="dwpose_wholebody", embedder="ccip_caformer_24",
                                               target_pose=pose, reference=image_of(target))
    lines = report.splitlines()
    assert len(lines) == 2 and "pose error 0.0" in lines[0] and "identity similarity 1.0000" in lines[0]
    size = target.size()
    e1 = float(lines[1].split("pose error ")[1].split()[0])
    assert e1 == pytest.approx(20 / size, abs=0.01)
    assert 0 < err < 0.1 and 0.5 < ident <= 1.0
    (report, err, ident), _ = pose_comfy.run("UDWPoseEval", images=images, boxes="anime (whole image)",
                                              pose_model="dwpose_wholebody", embedder="ccip_caformer_24")
    assert err == -1.0 and ident == -1.0 and "nothing to score" in report


# -- UDW Pose Transfer: the adapter logic that does not need ComfyUI's model code ---------------
class FakeControlNet:
    def __init__(self, log):
        self.log, self.previous, self.hint = log, None, None

    def copy(self):
        return FakeControlNet(self.log)

    def set_cond_hint(self, hint, strength, percent, vae=None):
        self.hint, self.strength, self.percent, self.vae = hint, strength, percent, vae
        self.log.append(self)
        return self

    def set_previous_controlnet(self, previous):
        self.previous = previous


def conditioning(previous=None):
    d = {"pooled_output": None}
    if previous is not None:
        d["control"] = previous
    return [[torch.zeros(1, 77, 768), d]]


def test_transfer_disabled_returns_inputs_untouched(comfy):
    model, pos, neg = object(), conditioning(), conditioning()
    pose = frames_to_json([PoseFrame(256, 384, [figure(neck=(128, 90), torso=100)])])
    (m, p, n, hint), _ = comfy.run("UDWPoseTransfer", model=model, positive=pos, negative=neg, control_net=None,
                                   vae=None, reference=torch.zeros(1, 64, 64, 3), enabled=False, control_strength=1.0,
                                   reference_strength=1.0, style_fidelity=0.5, start_percent=0.0, end_percent=1.0,
                                   pose=pose)
    assert m is model and p is pos and n is neg
    assert hint.shape == (1, 384, 256, 3) and float(hint.max()) == 1.0
    with pytest.raises(RuntimeError, match="no pose given"):
        comfy.run("UDWPoseTransfer", model=model, positive=pos, negative=neg, control_net=None, vae=None,
                  reference=torch.zeros(1, 8, 8, 3), enabled=True, control_strength=1.0, reference_strength=1.0,
                  style_fidelity=0.5, start_percent=0.0, end_percent=1.0)
    assert "after end_percent" in comfy.validate("UDWPoseTransfer", {"start_percent": 0.8, "end_percent": 0.2})


def test_controlnet_is_applied_like_apply_controlnet_advanced(comfy):
    module = comfy.pack.nodes.pose_transfer
    log = []
    earlier = object()
    pos, neg = conditioning(earlier), conditioning()
    hint = torch.rand(1, 64, 48, 3)
    p, n = module.apply_controlnet(pos, neg, FakeControlNet(log), hint, 0.8, 0.1, 0.9, vae="vae")
    assert p is not pos and p[0][1] is not pos[0][1] and "control" not in neg[0][1]  # inputs not mutated
    assert p[0][1]["control"].previous is earlier and n[0][1]["control"].previous is None
    assert p[0][1]["control_apply_to_uncond"] is False and len(log) == 2
    net = n[0][1]["control"]
    assert net.strength == 0.8 and net.percent == (0.1, 0.9) and net.vae == "vae"
    assert net.hint.shape == (1, 3, 64, 48)  # channels first, as set_cond_hint takes it


def test_controlnet_for_another_architecture_is_refused(comfy):
    module = comfy.pack.nodes.reference_patch

    def unet(width):
        block = torch.nn.Module()
        block.attn2 = torch.nn.Module()
        block.attn2.to_k = torch.nn.Linear(width, 8)
        root = torch.nn.Sequential(block)
        return root

    model = types.SimpleNamespace(model=types.SimpleNamespace(diffusion_model=unet(768)))
    module.check_controlnet(model, types.SimpleNamespace(control_model=unet(768)))
    with pytest.raises(Exception, match="ControlNet is for SDXL but the model is SD1.x") as err:
        module.check_controlnet(model, types.SimpleNamespace(control_model=unet(2048)))
    assert "control_v11p_sd15_openpose" in str(err.value)
    module.check_controlnet(model, types.SimpleNamespace(control_model=None))  # T2I adapters: no check
    with pytest.raises(Exception, match="needs a UNet model"):
        module.unet_blocks(types.SimpleNamespace(model=types.SimpleNamespace(diffusion_model=torch.nn.Linear(1, 1))))


def test_ipadapter_route_uses_the_installed_pack(comfy, monkeypatch):
    module = comfy.pack.nodes.pose_transfer
    calls = []

    class IPAdapterAdvanced:
        FUNCTION = "apply_ipadapter"

        def apply_ipadapter(self, **kw):
            calls.append(kw)
            return ("patched model",)

    monkeypatch.setitem(__import__("sys").modules, "nodes",
                        types.SimpleNamespace(NODE_CLASS_MAPPINGS={"IPAdapterAdvanced": IPAdapterAdvanced}))
    out = module.apply_ipadapter("model", "ipa", "cv", "image", 0.7, 0.0, 1.0)
    assert out == "patched model" and calls[0]["weight"] == 0.7 and calls[0]["clip_vision"] == "cv"
    monkeypatch.setitem(__import__("sys").modules, "nodes", types.SimpleNamespace(NODE_CLASS_MAPPINGS={}))
    with pytest.raises(Exception, match="ComfyUI_IPAdapter_plus"):
        module.apply_ipadapter("model", "ipa", "cv", "image", 0.7, 0.0, 1.0)


def test_shipped_workflow_matches_the_nodes(comfy, load_workflow):
    """UDW nodes in the workflow get every required input they declare (the real run: tests/hosts)."""
    api = load_workflow("pose_transfer.api.json")
    ours = {k: v for k, v in api.items() if v["class_type"].startswith("UDW")}
    assert {v["class_type"] for v in ours.values()} == {"UDWPoseFromImage", "UDWPoseRetarget", "UDWPoseTransfer",
                                                        "UDWSampleMedia"}  # the sample pictures A and B
    for node in ours.values():
        spec = comfy.nodes[node["class_type"]].INPUT_TYPES()
        assert set(spec["required"]) <= set(node["inputs"]), node["class_type"]
        for name, value in node["inputs"].items():
            assert name in spec["required"] or name in spec.get("optional", {})
            kind = (spec["required"].get(name) or spec["optional"][name])[0]
            if isinstance(kind, list) and not isinstance(value, list):
                assert value in kind, (name, value)
    assert api["13"]["inputs"]["model"] == ["11", 0] and api["13"]["inputs"]["positive"] == ["11", 1]
    assert api["2"]["inputs"]["stop_at_clip_layer"] == -2
