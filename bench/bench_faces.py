"""Faces on real anime-style art; with --characters also characters and export on the sample episodes.

    python bench/bench_faces.py [--cascade ../shared/models/lbpcascade_animeface.xml] [--pictures 40]

Faces: Ren'Py sprites (Expat) on painted backgrounds at 640x360, the tallest face 0.1-1.0 of the
frame height, one or two people, a fifth with a face cut by the border (udw/testing/face_scenes.py;
truth = OpenCV 4's box on the bare sprite, scaled). Detectors: the LBP cascade with the close-up
pass against the same cascade without it (baseline) and OpenCV 4's own run (side venv,
udw/testing/opencv4.py); nudenet's YOLOv8 export (faces only) when pip can fetch it. Printed: recall
by size band, box IoU against OpenCV 4, bucket and count accuracy, frames/s, smallest and largest
face found. Characters: the colour embedder on bangs and eyes vs the wider head region it first
used (baseline). Export: arranging and balancing a 5,000-image manifest.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from udw.characters import embed as E
from udw.faces.cascade import CascadeDetector
from udw.faces.evaluate import match
from udw.faces.geometry import Buckets, face_height_ratio
from udw.samples import build_truth, plan_episode, render_frame
from udw.faces import load_detector
from udw.faces.cascade import load_cascade, detect_numpy
from udw.testing import face_scenes, nudenet, opencv4, real_art

REPO = Path(__file__).resolve().parents[1]


def frames(episode: int, step: int):
    plan = plan_episode(episode=episode, seed=episode - 1)
    truth = build_truth(plan, "x.mp4", "mp4", "h264")
    for scene in truth.scenes:
        n = scene.end - scene.start
        for i in range(scene.start + n // (step + 1), scene.end, max(1, n // (step + 1)))[:step]:
            yield plan, truth.frames[i], render_frame(plan, i)


def detect_all(det, items):
    """Faces per picture and the CPU seconds this process spent (the machine is shared: wall time
    would measure the other jobs; the detectors run on one thread, onnxruntime's threads count too)."""
    found, start = [], time.process_time()
    for _, _, img in items:
        found.append(det.detect(img))
    return found, time.process_time() - start


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


BANDS = [(k / 10, (k + 1) / 10) for k in range(10)]


def real_scenes(cascade: Path, n: int):
    """Composites whose truth is OpenCV 4's box on each bare sprite (the port's when pip is offline)."""
    try:
        opencv4.side_python()
        truth_by = "OpenCV 4"

        def detect(rgb):
            _, (boxes,) = opencv4.detect_multiscale([grey(rgb)], cascade)
            return [(x, y, x + w, y + h) for x, y, w, h in boxes]
    except opencv4.OpenCV4Unavailable as exc:
        truth_by = f"the NumPy port ({exc})"
        port = CascadeDetector(cascade, max_side=0, closeups=False)

        def detect(rgb):
            return [f.box for f in port.detect(rgb)]
    faces = face_scenes.sprite_faces(real_art.sprites(), detect)
    scenes = face_scenes.build_scenes(faces, list(real_art.backgrounds().values()), n=n,
                                      bands=((0.1, 0.4), (0.4, 0.7), (0.7, 1.0)), seed=7)
    return scenes, truth_by


def grey(rgb):
    import cv2

    return cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY))


def score_real(name: str, scenes, found, secs: float) -> dict:
    buckets, by_band, heights = Buckets(), {b: [0, 0] for b in BANDS}, []
    bucket_right = count_right = matched = n_found = 0
    for s, fs in zip(scenes, found):
        pairs = match(s.truth, [f.box for f in fs], 0.5)
        hit = {i for i, _, _ in pairs}
        for i, t in enumerate(s.truth):
            r = (t[3] - t[1]) / s.image.shape[0]
            band = next((b for b in BANDS if b[0] <= r < b[1]), BANDS[-1] if r >= 0.9 else None)
            if band:
                by_band[band][0] += 1
                by_band[band][1] += i in hit
            if i in hit:
                heights.append(r)
        matched, n_found = matched + len(pairs), n_found + len(fs)
        count_right += len(fs) == len(s.truth)
        bucket_right += bool(fs) and buckets.bucket(face_height_ratio(fs, s.image.shape[0])) == buckets.bucket(s.ratio)
    total = sum(len(s.truth) for s in scenes)
    bands = ", ".join(f"{a:.1f}-{b:.1f}: {h}/{t}" for (a, b), (t, h) in by_band.items() if t)
    print(f"  {name}: recall {matched / total:.3f} ({matched}/{total}), precision {matched / max(n_found, 1):.3f}; "
          f"buckets right {bucket_right}/{len(scenes)}, counts right {count_right}/{len(scenes)}; "
          f"{len(scenes) / secs:.2f} frames/s (CPU time)")
    print(f"    recall by face height (share of the frame): {bands}")
    if heights:
        print(f"    faces found from {min(heights):.2f} to {max(heights):.2f} of the frame height")
    return {"recall": matched / total, "buckets": bucket_right / len(scenes), "counts": count_right / len(scenes),
            "fps": len(scenes) / secs}


def parity(cascade: Path, scenes) -> None:
    """The NumPy port's first pass against OpenCV 4's detectMultiScale on the same grey pictures."""
    greys = [grey(s.image) for s in scenes]
    try:
        version, theirs = opencv4.detect_multiscale(greys, cascade)
    except opencv4.OpenCV4Unavailable as exc:
        print(f"  parity with OpenCV 4: not measured ({exc})")
        return
    model = load_cascade(cascade)
    ious, same_count = [], 0
    for g, boxes in zip(greys, theirs):
        ours = [(x, y, x + w, y + h) for x, y, w, h, _ in detect_numpy(model, g)]
        ref = [(x, y, x + w, y + h) for x, y, w, h in boxes]
        same_count += len(ours) == len(ref)
        ious += [v for *_, v in match(ref, ours, 0.0)] + [0.0] * abs(len(ref) - len(ours))
    print(f"  box IoU, NumPy port vs OpenCV {version} (first pass, {sum(map(len, theirs))} faces): "
          f"min {min(ious, default=1):.3f}, mean {statistics.fmean(ious) if ious else 1:.3f}; "
          f"same face count in {same_count}/{len(scenes)} pictures")


def yolo_boxes(scenes) -> None:
    """nudenet's YOLOv8 export (face classes only) and how its boxes differ from the cascade's."""
    try:
        det = load_detector(str(nudenet.yolo_export()))
    except (nudenet.ExportUnavailable, Exception) as exc:  # noqa: BLE001 - optional part
        print(f"  YOLO (nudenet 320n): not measured ({exc})")
        return
    found, secs = detect_all(det, [(None, None, s.image) for s in scenes])
    score_real(f"YOLOv8 nudenet 320n ({', '.join(det.classes.values())})", scenes, found, secs)
    rel = []
    for s, fs in zip(scenes, found):
        for i, j, _ in match(s.truth, [f.box for f in fs], 0.2):
            t, f = s.truth[i], fs[j]
            th = t[3] - t[1]
            rel.append((f.height / th, f.width / (t[2] - t[0]), (f.y0 - t[1]) / th))
    if rel:
        h, w, top = (statistics.median(v) for v in zip(*rel))
        print(f"    its face boxes vs the cascade's (median of {len(rel)}): height x{h:.2f}, width x{w:.2f}, "
              f"top {top:.2f} box heights lower: the same pictures land in the same buckets with cascade "
              f"edges = YOLO edges / {h:.2f}")


def real_art_faces(cascade: Path, n: int) -> None:
    scenes, truth_by = real_scenes(cascade, n)
    print(f"{len(scenes)} composites of real art at 640x360 ({sum(len(s.truth) for s in scenes)} faces, "
          f"{sum(s.cut for s in scenes)} pictures with a face cut by the border); truth: {truth_by}'s box "
          "on the bare sprite, scaled")
    ours = CascadeDetector(cascade)
    found, secs = detect_all(ours, [(None, None, s.image) for s in scenes])
    a = score_real(f"cascade + close-up pass ({ours.backend})", scenes, found, secs)
    plain = CascadeDetector(cascade, closeups=False)
    found, secs = detect_all(plain, [(None, None, s.image) for s in scenes])
    b = score_real("cascade, one pass (baseline)", scenes, found, secs)
    print(f"  ratios close-up pass / baseline: recall {a['recall'] / b['recall']:.2f}x, buckets "
          f"{a['buckets'] / max(b['buckets'], 1e-9):.2f}x, counts {a['counts'] / max(b['counts'], 1e-9):.2f}x, "
          f"speed {a['fps'] / b['fps']:.2f}x; speed vs the 1.15 frames/s goal: {a['fps'] / 1.15:.2f}x")
    parity(cascade, scenes)
    yolo_boxes(scenes)


def sample_characters(cascade: Path, step: int) -> None:
    """The colour embedder on the sample episodes (the earlier part of this benchmark)."""
    test, train = list(frames(2, step)), list(frames(1, step))
    det = CascadeDetector(cascade)
    found, _ = detect_all(det, test)
    train_found, _ = detect_all(det, train)
    acc, n = character_accuracy(E.ColourEmbedder(), train, train_found, test, found)
    acc_base, _ = character_accuracy(WideColour(), train, train_found, test, found)
    print(f"characters (colour embedder, 3 references each from episode 1): {acc:.3f} of {n} faces right; "
          f"wide head region (baseline) {acc_base:.3f}; ratio {acc / max(acc_base, 1e-9):.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cascade", default=str(REPO.parent / "shared" / "models" / "lbpcascade_animeface.xml"))
    ap.add_argument("--pictures", type=int, default=40, help="real-art composites (640x360)")
    ap.add_argument("--characters", action="store_true", help="also the character and export parts")
    ap.add_argument("--step", type=int, default=2, help="frames per scene (characters part)")
    args = ap.parse_args()
    real_art_faces(Path(args.cascade), args.pictures)
    if args.characters:
        sample_characters(Path(args.cascade), args.step)
        secs = bench_export(5000)
        print(f"export (kohya TOML + card) of 5,000 images: {secs:.1f} s ({5000 / secs:.0f} images/s)")


if __name__ == "__main__":
    main()
