"""WD14 tagging speed: the UDW pipeline against the loops people use today.

    python bench/bench_tagging.py [--frames 200] [--frames-a 20]

Model: a randomly initialised ViT-B/16 tagger, 448x448, 10,861 outputs (the WD v3 signature; see
tagging_inputs.py). Inputs: 1920x1080 PNG frames of the Big Buck Bunny trailer. Baselines:
  (a) a new onnxruntime session (and a re-read tag list) per image, as the popular ComfyUI WD14
      node does; per-image cost is constant, so it runs on --frames-a frames spread over the rounds;
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
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from udw.core.manifest import Dataset
from udw.dataset.ingest import import_images
from udw.core.ports import Ports
from udw.tagging import open_tagger, select
from udw.tagging.preprocess import load_prepared
from udw.tagging.run import predict_stream
from udw.tagging.stage import tag_dataset


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


class BaselineB:
    """One reused session (onnxruntime defaults); decode, prepare, run, image after image."""

    def __init__(self, model: Path, csv_path: Path, warm: Path):
        import onnxruntime as ort

        self.sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        read_names(csv_path)
        self.inp, self.name = self.sess.get_inputs()[0], self.sess.get_outputs()[0].name
        self.labels = open_tagger(model).labels
        self.sess.run([self.name], {self.inp.name: reference_prepare(warm, self.inp.shape[1])})

    def __call__(self, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
        out, start = [], time.perf_counter()
        for p in paths:
            scores = self.sess.run([self.name], {self.inp.name: reference_prepare(p, self.inp.shape[1])})[0][0]
            select(scores, self.labels)
            out.append(scores)
        return time.perf_counter() - start, out


class Ours:
    """udw.tagging: threaded decoding and preparation overlapped with the model's runs."""

    def __init__(self, model: Path, warm: Path, int8: bool, batch: int, workers: int, threads: int):
        self.tagger = open_tagger(model, int8=int8, threads=threads)
        self.batch, self.workers = batch, workers
        x = load_prepared(warm, self.tagger.side)[None]
        self.tagger.predict(x)  # warm-up, not timed

    def __call__(self, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
        tagger = self.tagger
        out, start = [], time.perf_counter()
        for _, scores in predict_stream(tagger, paths, lambda p: load_prepared(p, tagger.side), self.batch,
                                        self.workers, Ports(), total=len(paths)):
            select(scores, tagger.labels)  # the post-processing is part of the pipeline
            out.append(scores)
        return time.perf_counter() - start, out


class OursStage:
    """The dataset stage end to end: manifest rows and .tags sidecars included (per-chunk dataset)."""

    def __init__(self, model: Path, workdir: Path):
        self.model, self.workdir, self.n = model, workdir, 0

    def __call__(self, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
        self.n += 1
        ds = Dataset(self.workdir / f"ds{self.n}", create=True)
        import_images(ds, paths, mode="link")  # not timed
        start = time.perf_counter()
        report = tag_dataset(ds, self.model)
        seconds = time.perf_counter() - start
        assert report.done == len(paths), report.summary()
        return seconds, []


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (robust to other users of the machine)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


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
    ap.add_argument("--frames-a", type=int, default=20, help="frames for baseline (a), spread over the rounds")
    ap.add_argument("--rounds", type=int, default=5, help="the runs alternate over this many chunks of frames, "
                                                          "so that all of them see the same machine load")
    ap.add_argument("--batch", type=int, default=0, help="images per model run in ours (0: the default)")
    ap.add_argument("--workers", type=int, default=0, help="decoding threads of ours (0: the default)")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime threads per run in ours (0: plan)")
    ap.add_argument("--skip", default="", help="comma list of runs to skip: a,b,ours,int8,stage")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    folder = tagging_inputs.vit_tagger()
    model, csv_path = folder / "model.onnx", folder / "selected_tags.csv"
    paths = tagging_inputs.frames(args.frames)
    print(f"model {model} ({model.stat().st_size / 1e6:.0f} MB), {len(paths)} frames 1920x1080 PNG, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    runs = {}
    if "b" not in skip:
        runs["b"] = ("(b) one session, decode one by one", BaselineB(model, csv_path, paths[0]))
    if "ours" not in skip:
        runs["ours"] = ("UDW pipeline fp32", Ours(model, paths[0], False, args.batch, args.workers, args.threads))
    if "int8" not in skip:
        runs["int8"] = ("UDW pipeline int8 (opt-in)", Ours(model, paths[0], True, args.batch, args.workers,
                                                           args.threads))
    tmp = Path(tempfile.mkdtemp(prefix="udw-bench-tag-"))
    if "stage" not in skip:
        runs["stage"] = ("UDW dataset stage fp32 (+ manifest, sidecars)", OursStage(model, tmp))
    if "a" not in skip:  # per-image cost is constant: a few frames of each chunk are enough
        runs["a"] = ("(a) new session per image", lambda ps: baseline_a(model, csv_path, ps))
    if "ours" in runs:
        print(f"ours: {runs['ours'][1].tagger.describe()}")
    seconds = {k: 0.0 for k in runs}
    cpu = {k: 0.0 for k in runs}
    count = {k: 0 for k in runs}
    outs: dict[str, list] = {k: [] for k in runs}
    n = max(1, args.rounds)
    chunks = [paths[i * len(paths) // n:(i + 1) * len(paths) // n] for i in range(n)]
    for r, chunk in enumerate(chunks):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for key in order:
            frames = chunk[:max(1, args.frames_a // n)] if key == "a" else chunk
            before = _cpu_seconds()
            sec, out = runs[key][1](frames)
            cpu[key] += _cpu_seconds() - before
            seconds[key] += sec
            count[key] += len(frames)
            outs[key] += out
        print(f"round {r + 1}/{n}: {len(chunk)} frames through {', '.join(order)} (load {os.getloadavg()[0]:.1f})",
              flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    rates = {}
    print()
    for key, (label, _) in runs.items():
        rates[key] = count[key] / seconds[key]
        print(f"{label:<48} {count[key]:4d} images {seconds[key]:7.1f} s  {rates[key]:6.3f} img/s  "
              f"{cpu[key] / count[key]:5.2f} CPU-s/img")
    print(f"load average after: {os.getloadavg()[0]:.1f}")

    labels = open_tagger(model).labels
    print()
    for key, base in (("ours", "a"), ("ours", "b"), ("stage", "b"), ("int8", "b"), ("int8", "ours")):
        if key in rates and base in rates:
            print(f"{key} / ({base}) speed: {rates[key] / rates[base]:.2f}x")
    if outs.get("ours") and outs.get("b"):
        identical = all(np.array_equal(x, y) for x, y in zip(outs["b"], outs["ours"]))
        print(f"ours vs (b): bit-identical scores {identical}; {agreement(outs['b'], outs['ours'], labels)}")
    if outs.get("a") and outs.get("b"):
        k = max(1, args.frames_a // n)
        same = [outs["b"][i * len(paths) // n + j] for i in range(n) for j in range(k)]
        print(f"(a) vs (b): {agreement(same[:len(outs['a'])], outs['a'], labels)}")
    if outs.get("int8"):
        ref = outs.get("b") or outs.get("ours")
        if ref:
            print(f"int8 vs fp32 agreement: {agreement(ref, outs['int8'], labels)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
