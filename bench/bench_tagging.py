"""WD14 tagging speed: the UDW pipeline against the loops people use today.

    python bench/bench_tagging.py [--frames 200] [--frames-a 20]

Model: a randomly initialised ViT-B/16 tagger, 448x448, 10,861 outputs (the WD v3 signature; see
tagging_inputs.py). Inputs: 1920x1080 PNG frames of the Big Buck Bunny trailer. Baselines:
  (a) a new onnxruntime session (and a re-read tag list) per image, as the popular ComfyUI WD14
      node does; per-image cost is constant, so it runs on the first --frames-a frames only;
  (b) one reused session, each image decoded and prepared, then run, one after the other.
Both use SmilingWolf's reference preprocessing. Ours: udw.tagging (decoding and preparation in
threads overlapped with inference, batched), then the opt-in int8 path. Outputs of ours are
compared with (b) (scores and selected tags), int8 with fp32 (selected tags).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from udw.core.ports import Ports
from udw.tagging import open_tagger, select
from udw.tagging.preprocess import load_prepared
from udw.tagging.run import predict_stream


def _helper(name: str):
    """A sibling module of this script (bench/ is not a package; no sys.path edits)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tagging_inputs = _helper("tagging_inputs")


def reference_prepare(path: Path, side: int) -> np.ndarray:
    """SmilingWolf's wd-tagger app: alpha on white, pad to square, bicubic, BGR (batch of 1)."""
    image = Image.open(path).convert("RGBA")
    canvas = Image.new("RGBA", image.size, (255, 255, 255))
    canvas.alpha_composite(image)
    image = canvas.convert("RGB")
    max_dim = max(image.size)
    padded = Image.new("RGB", (max_dim, max_dim), (255, 255, 255))
    padded.paste(image, ((max_dim - image.size[0]) // 2, (max_dim - image.size[1]) // 2))
    if max_dim != side:
        padded = padded.resize((side, side), Image.BICUBIC)
    return np.expand_dims(np.asarray(padded, dtype=np.float32)[:, :, ::-1], 0)


def read_names(csv_path: Path) -> list[str]:
    with open(csv_path, newline="") as fh:
        return [row["name"] for row in csv.DictReader(fh)]


def baseline_a(model: Path, csv_path: Path, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
    import onnxruntime as ort

    out, start = [], time.perf_counter()
    for p in paths:
        sess = ort.InferenceSession(str(model), providers=ort.get_available_providers())
        read_names(csv_path)
        inp = sess.get_inputs()[0]
        out.append(sess.run([sess.get_outputs()[0].name], {inp.name: reference_prepare(p, inp.shape[1])})[0][0])
    return time.perf_counter() - start, out


def baseline_b(model: Path, csv_path: Path, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    read_names(csv_path)
    inp, name = sess.get_inputs()[0], sess.get_outputs()[0].name
    sess.run([name], {inp.name: reference_prepare(paths[0], inp.shape[1])})  # warm-up, not timed
    out, start = [], time.perf_counter()
    for p in paths:
        out.append(sess.run([name], {inp.name: reference_prepare(p, inp.shape[1])})[0][0])
    return time.perf_counter() - start, out


def ours(model: Path, paths: list[Path], int8: bool, batch: int, workers: int,
         threads: int) -> tuple[float, list[np.ndarray], str]:
    tagger = open_tagger(model, int8=int8, threads=threads)
    tagger.predict(load_prepared(paths[0], tagger.side)[None])  # warm-up, not timed
    out, start = [], time.perf_counter()
    for _, scores in predict_stream(tagger, paths, lambda p: load_prepared(p, tagger.side), batch, workers,
                                    Ports(), total=len(paths)):
        select(scores, tagger.labels)  # the post-processing is part of the pipeline
        out.append(scores)
    return time.perf_counter() - start, out, tagger.describe()


def agreement(ref: list[np.ndarray], got: list[np.ndarray], labels) -> dict:
    """Selected tags (defaults: 0.35 / 0.85) of `got` against `ref`, image by image."""
    jac, exact, rating, top1 = [], 0, 0, 0
    for a, b in zip(ref, got):
        ra, rb = select(a, labels), select(b, labels)
        sa, sb = set(ra.general) | set(ra.character), set(rb.general) | set(rb.character)
        jac.append(len(sa & sb) / len(sa | sb) if sa | sb else 1.0)
        exact += sa == sb
        rating += ra.rating == rb.rating
        top1 += next(iter(ra.general), None) == next(iter(rb.general), None)
    n = len(ref)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ref, got))
    tags = np.mean([len(select(a, labels).general) for a in ref])
    return {"jaccard": float(np.mean(jac)), "identical_sets": exact / n, "rating": rating / n,
            "top1": top1 / n, "max_abs_diff": diff, "tags_per_image": float(tags)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--frames-a", type=int, default=20, help="frames for baseline (a)")
    ap.add_argument("--batch", type=int, default=0, help="batch size of ours (0: the default)")
    ap.add_argument("--workers", type=int, default=2, help="decoding threads of ours")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: its default)")
    ap.add_argument("--skip", default="", help="comma list of runs to skip: a,b,ours,int8")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    folder = tagging_inputs.vit_tagger()
    model, csv_path = folder / "model.onnx", folder / "selected_tags.csv"
    paths = tagging_inputs.frames(args.frames)
    print(f"model {model} ({model.stat().st_size / 1e6:.0f} MB), {len(paths)} frames 1920x1080 PNG, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    rates, outs = {}, {}

    def report(key: str, label: str, seconds: float, n: int) -> None:
        rates[key] = n / seconds
        print(f"{label:<58} {n:4d} images {seconds:8.1f} s  {rates[key]:6.3f} img/s", flush=True)

    if "b" not in skip:
        sec, outs["b"] = baseline_b(model, csv_path, paths)
        report("b", "(b) one session, decode one by one", sec, len(paths))
    if "ours" not in skip:
        sec, outs["ours"], desc = ours(model, paths, False, args.batch, args.workers, args.threads)
        report("ours", f"UDW pipeline fp32 [{desc.split(': ', 1)[1]}]", sec, len(paths))
    if "int8" not in skip:
        sec, outs["int8"], desc = ours(model, paths, True, args.batch, args.workers, args.threads)
        report("int8", "UDW pipeline int8 (opt-in)", sec, len(paths))
    if "a" not in skip:
        sec, outs["a"] = baseline_a(model, csv_path, paths[:args.frames_a])
        report("a", "(a) new session per image", sec, min(len(paths), args.frames_a))

    tagger = open_tagger(model)
    print()
    for key, base in (("ours", "a"), ("ours", "b"), ("int8", "b"), ("int8", "ours")):
        if key in rates and base in rates:
            print(f"{key} / ({base}) speed: {rates[key] / rates[base]:.2f}x")
    if "ours" in outs and "b" in outs:
        print(f"ours vs (b) outputs: {agreement(outs['b'], outs['ours'], tagger.labels)}")
    if "a" in outs and "b" in outs:
        n = len(outs["a"])
        print(f"(a) vs (b) outputs: {agreement(outs['b'][:n], outs['a'], tagger.labels)}")
    if "int8" in outs:
        ref = outs.get("b") or outs.get("ours")
        if ref is not None:
            print(f"int8 vs fp32 agreement: {agreement(ref, outs['int8'], tagger.labels)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
