"""Pose benchmark: extraction accuracy/speed, scores on constructed cases, and what pose transfer
costs against plain txt2img (the named baseline), all with models built here (no downloads).

    python bench/bench_pose.py [--quick]

1. Extraction: 40 random poses drawn as OpenPose skeletons at several sizes, read back through the
   full DWPose path (crop warp, ONNX, SimCC decoding, inverse warp) by a tiny model that finds the
   joint colours: mean keypoint error in pixels, and images/s.
2. `pose-eval` scores on constructed cases (the same pose, shifted, with an arm moved; the same
   character image, shifted, recoloured, another one) with the tiny CCIP-layout embedder.
3. Sampling time of pose transfer (ControlNet only, reference only, both) as a ratio to plain
   txt2img with the same tiny SD1 checkpoint, steps and size (reference-only runs the UNet twice).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from udw.pose import PoseFrame, render_pose
from udw.pose.evaluate import evaluate
from udw.pose.extract import ExtractOptions, PoseExtractor
from udw.pose.keypoints import NECK
from udw.pose.metrics import Embedder
from udw.testing.poses import figure
from udw.testing.tiny_pose import build_embedder, build_rtmpose


def random_pose(rng, w, h):
    s = min(w, h) / 512
    return figure(neck=(w / 2 + rng.uniform(-40, 40) * s, h * 0.25), torso=rng.uniform(110, 170) * s,
                  shoulder=rng.uniform(35, 60) * s, upper_arm=rng.uniform(50, 80) * s, forearm=rng.uniform(45, 70) * s,
                  hip=rng.uniform(20, 35) * s, thigh=rng.uniform(70, 100) * s, shin=rng.uniform(60, 90) * s,
                  head=rng.uniform(25, 45) * s, arm_angle=rng.uniform(20, 160), elbow_bend=rng.uniform(-40, 40),
                  leg_spread=rng.uniform(0, 20), knee_bend=rng.uniform(-30, 30))


def bench_extraction(d: Path, n: int) -> None:
    model = build_rtmpose(d / "skeleton.onnx", mode="skeleton", n_keypoints=17)
    extractor = PoseExtractor(model)
    rng = np.random.default_rng(0)
    errors, found, t = [], 0, 0.0
    for i in range(n):
        w, h = [(512, 768), (768, 512), (640, 640), (384, 512)][i % 4]
        person = random_pose(rng, w, h)
        img = render_pose(PoseFrame(w, h, [person]), stick_scale=0.5)
        t0 = time.perf_counter()
        frame = extractor.extract(img, ExtractOptions(boxes="whole", hands=False, face=False)).frame
        t += time.perf_counter() - t0
        if frame.people:
            found += 1
            got, want = frame.people[0].body, person.body
            both = (got[:, 2] > 0) & (want[:, 2] > 0)
            both[NECK] = False  # DWPose's neck is the shoulders' midpoint by definition
            errors.append(np.hypot(*(got[both, :2] - want[both, :2]).T).mean())
    print(f"extraction: {found}/{n} poses found, mean keypoint error {np.mean(errors):.2f} px, "
          f"{n / t:.1f} images/s (whole-image box, 384x288 model input)")


def character(seed, shift=0, palette=None):
    rng = np.random.default_rng(seed)
    cols = palette or [tuple(int(c) for c in rng.integers(0, 255, 3)) for _ in range(6)]
    im = Image.new("RGB", (256, 256), cols[0])
    draw = ImageDraw.Draw(im)
    for k in range(1, 6):
        x, y = rng.integers(20, 180, 2)
        draw.ellipse([int(x) + shift, int(y), int(x) + shift + 60, int(y) + 80], fill=cols[k])
    return im


def bench_scores(d: Path) -> None:
    model = build_rtmpose(d / "skeleton.onnx", mode="skeleton", n_keypoints=17)
    extractor = PoseExtractor(model)
    target = figure(arm_angle=100)
    frame = PoseFrame(512, 640, [target])
    cases = {"same pose": target, "shifted 5% of body size": figure(arm_angle=100, neck=(256 + 0.05 * target.size(), 160)),
             "right arm raised": figure(arm_angle=100), "other pose": figure(arm_angle=20, knee_bend=40, leg_spread=25)}
    raised = cases["right arm raised"]
    raised.body[3, :2] = raised.body[2, :2] + (0, -70)
    raised.body[4, :2] = raised.body[3, :2] + (0, -60)
    images = [Image.fromarray(render_pose(PoseFrame(512, 640, [p]), stick_scale=0.5)) for p in cases.values()]
    reports = evaluate(images, frame, None, extractor, None, ExtractOptions(boxes="whole", hands=False, face=False))
    for name, r in zip(cases, reports):
        print(f"pose error, {name}: {r.pose.error:.4f} over {r.pose.compared} keypoints")
    embedder = Embedder(build_embedder(d / "embedder.onnx", size=384))
    ref = character(1)
    ids = {"same image": ref, "shifted 8 px": character(1, shift=8), "recoloured": character(1, palette=[
        (250, 250, 250), (20, 20, 20), (200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0)]),
           "another character": character(2)}
    for name, im in ids.items():
        print(f"identity similarity, {name}: {embedder.similarity(ref, im):.4f}")


def bench_transfer(d: Path, steps: int) -> None:
    import torch

    from udw.generate import load_pipeline
    from udw.pose.refattn import ReferenceSettings
    from udw.pose.transfer_diffusers import TransferParams, generate_plain, load_controlnet, transfer
    from udw.testing import tiny_sd
    from udw.testing.tiny_controlnet import build_controlnet

    torch.set_num_threads(1)
    pipe = load_pipeline(tiny_sd.build_checkpoint(d / "tiny.safetensors", seed=5), hashes=False).pipe
    cn = load_controlnet(build_controlnet(d / "cn.safetensors", seed=3), pipe.unet)
    skel = Image.fromarray(render_pose(PoseFrame(128, 128, [random_pose(np.random.default_rng(1), 128, 128)])))
    ref = character(3).resize((128, 128))

    def params(**kw):
        return TransferParams("1girl", "lowres", 128, 128, steps, 5.0, 1, "euler", "normal", **kw)

    def timed(fn, reps=2):
        fn()  # warm-up
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        return (time.perf_counter() - t0) / reps

    base = timed(lambda: generate_plain(pipe, params()))
    cases = {"ControlNet only": lambda: transfer(pipe, cn, [ref], skel, params(reference=ReferenceSettings(strength=0))),
             "reference only": lambda: transfer(pipe, None, [ref], None, params(control_strength=0)),
             "ControlNet + reference": lambda: transfer(pipe, cn, [ref], skel, params())}
    print(f"plain txt2img (baseline): {base:.2f} s for {steps} steps at 128x128 (tiny SD1, 1 thread)")
    for name, fn in cases.items():
        t = timed(fn)
        print(f"{name}: {t:.2f} s = {t / base:.2f}x plain txt2img")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer poses and steps")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        bench_extraction(d, 12 if args.quick else 40)
        bench_scores(d)
        try:
            bench_transfer(d, 4 if args.quick else 8)
        except ImportError as exc:
            print(f"transfer timing skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
