"""Run by the real ComfyUI's Python (cwd = the ComfyUI checkout): UDW Pose Transfer against ComfyUI's
own loaders, samplers, ModelPatcher and ControlNet code, in one process (no server).

usage: python comfy_pose_check.py REPO BASE CHECKPOINT CONTROLNET CONTROLNET_XL  -> JSON on the last line
"""

import importlib.util
import json
import sys
import time

repo, base, ckpt, cn_path, cn_xl_path = sys.argv[1:6]
sys.argv = ["main.py", "--cpu", "--base-directory", base]
sys.path.insert(0, ".")  # the ComfyUI checkout (cwd), as main.py sees it

import comfy.options  # noqa: E402

comfy.options.enable_args_parsing()
import folder_paths  # noqa: E402,F401
import comfy.controlnet  # noqa: E402
import comfy.sd  # noqa: E402
import nodes  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

# Load the pack the way ComfyUI's load_custom_node does: a module named after its folder path.
name = repo.replace(".", "_x_")
spec = importlib.util.spec_from_file_location(name, f"{repo}/__init__.py", submodule_search_locations=[repo])
pack = importlib.util.module_from_spec(spec)
sys.modules[name] = pack
spec.loader.exec_module(pack)
Transfer = pack.NODE_CLASS_MAPPINGS["UDWPoseTransfer"]
PoseFromImage = pack.NODE_CLASS_MAPPINGS["UDWPoseFromImage"]
tiny = importlib.import_module(name + ".udw.testing.poses")
pose_mod = importlib.import_module(name + ".udw.pose")

t0 = time.time()
model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(ckpt, output_vae=True, output_clip=True)[:4]
control = comfy.controlnet.load_controlnet(cn_path)
control_xl = comfy.controlnet.load_controlnet(cn_xl_path)
pos = nodes.CLIPTextEncode().encode(clip, "1girl, standing, anime")[0]
neg = nodes.CLIPTextEncode().encode(clip, "lowres")[0]
results = {"load_s": round(time.time() - t0, 2), "model_class": type(model.model).__name__}


def picture(seed):
    rng = np.random.default_rng(seed)
    img = np.zeros((64, 64, 3), np.float32) + rng.random(3, dtype=np.float32)
    y, x = np.mgrid[:64, :64]
    for _ in range(4):
        cx, cy, r = rng.integers(10, 54, 2).tolist() + [int(rng.integers(5, 15))]
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.random(3, dtype=np.float32)
    return torch.from_numpy(img)[None]


ref_a, ref_b = picture(1), picture(2)
pose_a = pose_mod.frames_to_json([pose_mod.PoseFrame(256, 256, [tiny.figure(neck=(128, 70), torso=80, shoulder=25,
                                                                               upper_arm=35, forearm=30, hip=15,
                                                                               thigh=45, shin=40, head=20)])])
pose_b = pose_mod.frames_to_json([pose_mod.PoseFrame(256, 256, [tiny.figure(neck=(128, 70), torso=80, shoulder=25,
                                                                               upper_arm=35, forearm=30, hip=15,
                                                                               thigh=45, shin=40, head=20,
                                                                               arm_angle=150)])])
latent = {"samples": torch.zeros(1, 4, 8, 8)}  # 64 px: the host CPU is shared; the UNet is full width


def sample(m, p, n):
    print("sampling", round(time.time() - t0, 1), file=sys.stderr, flush=True)
    t = time.time()
    out = nodes.common_ksampler(m, 7, 3, 5.0, "euler", "normal", p, n, latent)[0]["samples"]
    return out, time.time() - t


def transfer(**kw):
    args = dict(model=model, positive=pos, negative=neg, control_net=control, vae=vae, reference=ref_a,
                enabled=True, control_strength=1.0, reference_strength=1.0, style_fidelity=0.5,
                start_percent=0.0, end_percent=1.0, pose=pose_a)
    args.update(kw)
    return Transfer().run(**args)


plain, results["plain_s"] = sample(model, pos, neg)
results["plain_mean_abs"] = float(plain.abs().mean())
m, p, n, hint = transfer(enabled=False)
off, _ = sample(m, p, n)
results["disabled_identical"] = bool(torch.equal(off, plain)) and m is model and p is pos and n is neg
results["hint_shape"] = list(hint.shape)
m, p, n, _ = transfer(control_strength=0.0, reference_strength=0.0)
results["zero_strengths_identical"] = bool(torch.equal(sample(m, p, n)[0], plain))
m, p, n, _ = transfer()
la, results["transfer_s"] = sample(m, p, n)
la2, _ = sample(m, p, n)
results["deterministic"] = bool(torch.equal(la, la2))
results["model_untouched"] = bool(torch.equal(sample(model, pos, neg)[0], plain))
lb, _ = sample(*transfer(reference=ref_b)[:3])
results["reference_changes_output"] = float((la - lb).abs().mean())
results["transfer_vs_plain"] = float((la - plain).abs().mean())
lp, _ = sample(*transfer(pose=pose_b)[:3])
results["pose_changes_output"] = float((la - lp).abs().mean())
r_only_a, _ = sample(*transfer(control_strength=0.0)[:3])
r_only_b, _ = sample(*transfer(control_strength=0.0, reference=ref_b)[:3])
results["reference_only_vs_plain"] = float((r_only_a - plain).abs().mean())
results["reference_only_a_vs_b"] = float((r_only_a - r_only_b).abs().mean())
half, _ = sample(*transfer(control_strength=0.0, reference_strength=0.5)[:3])
results["half_strength_between"] = float((half - plain).abs().mean())
late, _ = sample(*transfer(control_strength=0.0, start_percent=0.5)[:3])
results["late_start_vs_full"] = float((late - r_only_a).abs().mean())
img = torch.from_numpy(pose_mod.render_pose(pose_mod.frames_from_json(pose_a)[0]).astype(np.float32) / 255)[None]
via_image, _ = sample(*transfer(pose=None, pose_image=img)[:3])
results["pose_image_equals_keypoints"] = bool(torch.equal(via_image, la))
try:
    transfer(control_net=control_xl)
    results["xl_error"] = None
except RuntimeError as exc:
    results["xl_error"] = str(exc)
try:
    transfer(pose=None)
    results["no_pose_error"] = None
except RuntimeError as exc:
    results["no_pose_error"] = str(exc)
print(json.dumps(results))
