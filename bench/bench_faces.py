"""Faces, characters and export on the sample episodes (udw.samples ground truth).

    python bench/bench_faces.py [--cascade ../shared/models/lbpcascade_animeface.xml] [--step 1]

Detector: the LBP cascade (NumPy, or OpenCV's where present) against the truth, with its boxes
calibrated to the face-box convention vs the raw cascade windows (baseline). Characters: the
colour embedder on bangs and eyes vs the wider head region it first used (baseline), references
from episode 1, faces of episode 2. Export: arranging and balancing a 5,000-image manifest.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from udw.characters import embed as E
from udw.faces.cascade import CascadeDetector
from udw.faces.evaluate import Score, match
from udw.faces.geometry import Buckets, face_height_ratio
from udw.samples import build_truth, plan_episode, render_frame

REPO = Path(__file__).resolve().parents[1]


def frames(episode: int, step: int):
    plan = plan_episode(episode=episode, seed=episode - 1)
    truth = build_truth(plan, "x.mp4", "mp4", "h264")
    for scene in truth.scenes:
        n = scene.end - scene.start
        for i in range(scene.start + n // (step + 1), scene.end, max(1, n // (step + 1)))[:step]:
            yield plan, truth.frames[i], render_frame(plan, i)


def detect_all(det, items):
    found, start = [], time.perf_counter()
    for _, _, img in items:
        found.append(det.detect(img))
    return found, time.perf_counter() - start


def score(items, found, height):
    b, s = Buckets(), Score()
    for (_, fr, _), fs in zip(items, found):
        tb = b.bucket(max(f.height for f in fr.faces) / height) if fr.faces else None
        s.add([f.box for f in fr.faces], [f.box for f in fs], 0.3, (tb, b.bucket(face_height_ratio(fs, height)) if fs else None))
    return s


class WideColour(E.ColourEmbedder):
    def region(self, face, width, height):
        return E._box(face, width, height, 0.1, 0.4, 0.1, -0.3)


def character_accuracy(embedder, train, train_found, test, test_found) -> float:
    def crops(items, found, per_char=None):
        out, names, count = [], [], {}
        for (_, fr, img), fs in zip(items, found):
            for i, j, _ in match([f.box for f in fr.faces], [f.box for f in fs], 0.3):
                c = fr.faces[i].char
                if per_char and count.get(c, 0) >= per_char:
                    continue
                count[c] = count.get(c, 0) + 1
                x0, y0, x1, y1 = embedder.region(fs[j], img.shape[1], img.shape[0])
                out.append(img[y0:y1, x0:x1])
                names.append(c)
        return embedder.embed(out), names

    refs, ref_names = crops(train, train_found, per_char=3)
    faces, truth = crops(test, test_found)
    pred = [ref_names[k] for k in E.difference(faces, refs).argmin(axis=1)]
    return float(np.mean([p == t for p, t in zip(pred, truth)])), len(truth)


def bench_export(n: int = 5000) -> float:
    from udw.core.manifest import Dataset
    from udw.dataset import ExportSettings, run_export
    from udw.faces.geometry import Face
    from udw.faces.store import save_faces
    from PIL import Image

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        ds = Dataset.open_or_create(root)
        (root / "images").mkdir()
        Image.new("RGB", (16, 9)).save(root / "images" / "base.png")
        with ds.transaction() as conn:
            for k in range(n):
                rel = f"images/f{k}.png"
                (root / rel).hardlink_to(root / "images" / "base.png")
                item = ds.add_item(conn, rel, f"k{k}", width=1920, height=1080)
                chars = rng.choice(["Aoi", "Beni", "Kuro", "Shiro", "others"], size=rng.integers(0, 4), replace=False)
                save_faces(conn, item, [Face(100 * j, 100, 100 * j + 80, 100 + float(rng.integers(50, 900)),
                                             character=str(c)) for j, c in enumerate(chars)])
        start = time.perf_counter()
        run_export(ds, Path(tmp) / "out", ExportSettings(trainer="kohya"))
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cascade", default=str(REPO.parent / "shared" / "models" / "lbpcascade_animeface.xml"))
    ap.add_argument("--step", type=int, default=2, help="frames per scene")
    args = ap.parse_args()
    test = list(frames(2, args.step))
    train = list(frames(1, args.step))
    height = test[0][0].height
    det = CascadeDetector(Path(args.cascade))
    raw = CascadeDetector(Path(args.cascade), calibrate=False)
    found, secs = detect_all(det, test)
    raw_found, _ = detect_all(raw, test)
    train_found, _ = detect_all(det, train)
    ours, base = score(test, found, height), score(test, raw_found, height)
    print(f"{len(test)} frames of episode 2 ({test[0][0].width}x{height}), cascade backend {det.backend}: "
          f"{len(test) / secs:.2f} frames/s")
    print(f"  calibrated: {ours.summary()}")
    print(f"  raw (baseline): {base.summary()}")
    print(f"  mean IoU ratio calibrated/raw: {ours.mean_iou / base.mean_iou:.2f}x; buckets right "
          f"{ours.buckets_right}/{ours.buckets_compared} vs {base.buckets_right}/{base.buckets_compared}")
    acc, n = character_accuracy(E.ColourEmbedder(), train, train_found, test, found)
    acc_base, _ = character_accuracy(WideColour(), train, train_found, test, found)
    print(f"characters (colour embedder, 3 references each from episode 1): {acc:.3f} of {n} faces right; "
          f"wide head region (baseline) {acc_base:.3f}; ratio {acc / max(acc_base, 1e-9):.2f}x")
    secs = bench_export(5000)
    print(f"export (kohya TOML + card) of 5,000 images: {secs:.1f} s ({5000 / secs:.0f} images/s)")


if __name__ == "__main__":
    main()
