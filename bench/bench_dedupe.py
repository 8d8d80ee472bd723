"""Dedupe quality and speed against imagededup, as ratios in one run (issue 4).

    sh bench/setup_imagededup_venv.sh             # once: imagededup in its own venv
    python bench/bench_dedupe.py [--only quality,speed] [--repeat 3] [--baseline-python PY]

quality: precision / recall / F1 (pairs, exact clusters, removals) of every method over a
         threshold sweep, on (a) the sample episodes (`python -m udw.samples`: 2 x 576 frames
         decoded to PNG, near-duplicate groups from their truth, shared openings merged) and
         (b) a synthetic set with planted near-duplicates (shift, crop, re-encode, brightness,
         downscale, small patch) and hard negatives (udw.dedupe.synthetic). Baseline: imagededup
         PHash on the same files, its pairs joined by union-find, at distances 0..16 bits (its
         default is 10). Printed: each method's best F1, and its recall at the baseline's
         precision (the highest recall among thresholds whose precision is at least as high).
speed:   imagededup's CNN (MobileNetV3-small features; its pretrained weights cannot be
         downloaded here, so the backbone is randomly initialised, which does not change the
         work) encoding + find_duplicates, vs `udw dedupe --method embed` with the same
         randomly initialised backbone exported to ONNX, end to end from the files, and vs
         `udw dedupe` with its default weight-free method. Each run is a fresh process; wall and
         CPU time (user+sys of the child) are printed: the machine may be shared.

Inputs are made at bench time and cached in .cache/bench/dedupe (never committed). The `embed`
method's quality is not scored: with random weights it says nothing about a trained model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench" / "dedupe"
BASELINE_PY = "/work/bench-venvs/imagededup/bin/python"
SWEEP = {"structure": [0.85, 0.875, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998],
         "phash": [1 - b / 64 for b in (0, 2, 4, 6, 8, 10, 12, 14)],
         "dhash": [1 - b / 64 for b in (0, 2, 4, 6, 8, 10, 12, 14)]}


def reexec_with_repo() -> None:
    """Run again with this checkout on PYTHONPATH (so `udw` is this worktree's code)."""
    if os.environ.get("UDW_BENCH_CHILD") != "1":
        env = {**os.environ, "PYTHONPATH": str(REPO), "UDW_BENCH_CHILD": "1"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


# -- inputs ----------------------------------------------------------------------------------------

def sample_frames() -> tuple[Path, list[Path]]:
    """PNG frames of the sample episodes (named <prefix>_<frame>) and their truth files."""
    folder = CACHE / "samples"
    frames = folder / "frames"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "udw.samples", str(folder / "video"), "--quiet"], check=True)
        import av

        frames.mkdir()
        for truth in sorted((folder / "video").glob("*.truth.json")):
            meta = json.loads(truth.read_text())
            with av.open(str(truth.parent / meta["video"])) as container:
                for i, frame in enumerate(container.decode(video=0)):
                    frame.to_image().save(frames / f"{meta['prefix']}_{i:05d}.png", compress_level=1)
        (folder / "done").write_text("ok")
    return frames, sorted((folder / "video").glob("*.truth.json"))


def synthetic_set() -> tuple[Path, list[Path]]:
    from udw.dedupe.synthetic import write_set

    folder = CACHE / "synthetic"
    if not (folder / "truth.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_set(folder / "pics", scenes=150, variants_per_scene=3, negatives=50, seed=7, size=(320, 180))
        shutil.move(str(folder / "pics" / "truth.json"), folder / "truth.json")
    return folder / "pics", [folder / "truth.json"]


def dataset_for(pictures: Path, name: str):
    """A dataset of hard links to the pictures (the picture folder stays clean for imagededup)."""
    from udw.core.manifest import Dataset
    from udw.dataset.ingest import import_images

    ds = Dataset.open_or_create(CACHE / f"ds-{name}")
    import_images(ds, [pictures], mode="link")
    return ds


# -- quality ---------------------------------------------------------------------------------------

def sweep_ours(ds, truth_paths: list[Path]) -> dict:

    from udw.dedupe import compute
    from udw.dedupe.cluster import cluster, rank_rows
    from udw.dedupe.engine import find_similar
    from udw.dedupe.evaluate import evaluate_dataset, load_truth
    from udw.dedupe.run import dedupe_dataset
    from udw.dedupe.settings import DedupeSettings
    from udw.dedupe.stage import load_signatures

    dedupe_dataset(ds, DedupeSettings(), dry_run=True, preview=False)   # computes every weight-free kind
    truth = load_truth(truth_paths)
    kinds = {"structure": compute.STRUCTURE, "phash": compute.PHASH, "dhash": compute.DHASH}
    out = {}
    for method, thresholds in SWEEP.items():
        ids, sig = load_signatures(ds, [compute.STATS, kinds[method]])
        stats, data = sig[compute.STATS], sig[kinds[method]]
        rank = rank_rows("sharpest", stats[:, 0], stats[:, 1] * stats[:, 2], ids)
        for linkage in ("direct", "chain"):
            rows = []
            for t in thresholds:
                s = DedupeSettings(method=method, threshold=t, linkage=linkage).validated()
                found = find_similar(s, data, stats)
                cl = cluster(found.rep_of, found.pairs, rank, linkage)
                rows.append((t, evaluate_dataset(ds, truth, dict(zip(ids.tolist(), ids[cl.survivor].tolist())))))
            out[f"{method}/{linkage}"] = rows
    return out


BASELINE_SCRIPT = textwrap.dedent('''
    import json, sys, time, resource, logging, warnings
    warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
    from imagededup.methods import PHash
    folder, out = sys.argv[1], sys.argv[2]
    ph = PHash(verbose=False)
    t0 = time.perf_counter()
    enc = ph.encode_images(image_dir=folder)
    t1 = time.perf_counter()
    res = {}
    for d in range(0, 17, 2):
        res[d] = ph.find_duplicates(encoding_map=enc, max_distance_threshold=d)
    json.dump({"encode_s": t1 - t0, "by_distance": res}, open(out, "w"))
''')


def baseline_phash(pictures: Path, python: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script, out = Path(tmp) / "b.py", Path(tmp) / "out.json"
        script.write_text(BASELINE_SCRIPT)
        subprocess.run([python, str(script), str(pictures), str(out)], check=True, capture_output=True)
        return json.loads(out.read_text())


def score_baseline(ds, truth_paths: list[Path], dups: dict) -> dict:
    """imagededup's pairs -> clusters by union-find (survivor: the first name) -> our scores."""
    from udw.dedupe.evaluate import evaluate_dataset, load_truth

    truth = load_truth(truth_paths)
    by_name = {Path(it.path).name: it.id for it in ds.items(status=None)}
    parent = {i: i for i in by_name.values()}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for name, others in dups.items():
        for other in others:
            a, b = find(by_name[name]), find(by_name[other])
            if a != b:
                parent[max(a, b)] = min(a, b)
    return evaluate_dataset(ds, truth, {i: find(i) for i in by_name.values()})


def _recall_at(rows: list, precision: float, key: str) -> tuple:
    """(best recall, threshold) among settings whose `key` precision is >= `precision`."""
    ok = [(r[1][key]["recall"], r[0]) for r in rows if r[1][key]["precision"] >= precision - 1e-9]
    return max(ok) if ok else (0.0, None)


def report_quality(name: str, ours: dict, base: dict) -> None:
    print(f"\n== {name}")
    print(f"  {'method':<18}{'best thr':>9}{'pair P':>8}{'pair R':>8}{'pair F1':>8}{'clus F1':>8}"
          f"{'rem P':>7}{'rem R':>7}{'rem F1':>7}")
    for key, rows in ours.items():
        t, s = max(rows, key=lambda r: r[1]["removal"]["f1"])
        print(f"  {key:<18}{t:>9.4g}{s['pairs']['precision']:>8.3f}{s['pairs']['recall']:>8.3f}{s['pairs']['f1']:>8.3f}"
              f"{s['clusters']['f1']:>8.3f}{s['removal']['precision']:>7.3f}{s['removal']['recall']:>7.3f}"
              f"{s['removal']['f1']:>7.3f}")
    d, s = max(base.items(), key=lambda kv: kv[1]["removal"]["f1"])
    print(f"  {'imagededup PHash':<18}{str(d) + ' bits':>9}{s['pairs']['precision']:>8.3f}{s['pairs']['recall']:>8.3f}"
          f"{s['pairs']['f1']:>8.3f}{s['clusters']['f1']:>8.3f}{s['removal']['precision']:>7.3f}"
          f"{s['removal']['recall']:>7.3f}{s['removal']['f1']:>7.3f}   (its pairs joined by union-find)")
    print("  recall at equal precision (removals: a removed picture is right when the kept one is in its"
          " true group):")
    print(f"  {'imagededup PHash':<22}{'rem P':>7}{'rem R':>7}   {'structure rem R':>16}{'ratio':>7}"
          f"   {'pair P':>7}{'pair R':>7}   {'structure pair R':>17}{'ratio':>7}")
    rows = ours["structure/direct"]
    for d in sorted(base, key=int):
        b = base[d]
        rr, rt = _recall_at(rows, b["removal"]["precision"], "removal")
        pr, pt = _recall_at(rows, b["pairs"]["precision"], "pairs")
        print(f"  {'max ' + str(d) + ' bits':<22}{b['removal']['precision']:>7.3f}{b['removal']['recall']:>7.3f}   "
              f"{rr:>9.3f} @{(rt or 0):<6.4g}{rr / max(b['removal']['recall'], 1e-9):>6.2f}x   "
              f"{b['pairs']['precision']:>7.3f}{b['pairs']['recall']:>7.3f}   {pr:>10.3f} @{(pt or 0):<6.4g}"
              f"{pr / max(b['pairs']['recall'], 1e-9):>6.2f}x")


def quality(python: str) -> None:
    for name, (pictures, truth) in (("sample episodes (1152 frames)", sample_frames()),
                                    ("synthetic planted near-duplicates", synthetic_set())):
        ds = dataset_for(pictures, "samples" if "sample" in name else "synthetic")
        t = time.perf_counter()
        ours = sweep_ours(ds, truth)
        ours_s = time.perf_counter() - t
        base = baseline_phash(pictures, python)
        base_scores = {int(d): score_baseline(ds, truth, dups) for d, dups in base["by_distance"].items()}
        report_quality(name, ours, base_scores)
        print(f"  (our signatures + {sum(len(v) for v in SWEEP.values()) * 2} scored settings: {ours_s:.1f} s; "
              f"imagededup PHash encoding alone: {base['encode_s']:.1f} s)")


# -- speed -----------------------------------------------------------------------------------------

CNN_SCRIPT = textwrap.dedent('''
    import json, sys, time, logging, warnings
    warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
    import torch, torchvision
    torch.manual_seed(0)
    real = torchvision.models.mobilenet_v3_small
    def offline(*args, **kwargs):          # the pretrained weights cannot be downloaded here
        kwargs.pop("weights", None); kwargs.pop("pretrained", None)
        return real(weights=None)
    torchvision.models.mobilenet_v3_small = offline
    import imagededup.methods.cnn as cnn_mod
    if hasattr(cnn_mod, "models"):
        cnn_mod.models.mobilenet_v3_small = offline
    from imagededup.methods import CNN
    folder, out, onnx_path = sys.argv[1], sys.argv[2], sys.argv[3]
    t0 = time.perf_counter()
    cnn = CNN(verbose=False)
    enc = cnn.encode_images(image_dir=folder)
    t1 = time.perf_counter()
    dups = cnn.find_duplicates(encoding_map=enc, min_similarity_threshold=0.9)
    t2 = time.perf_counter()
    model = cnn.model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), onnx_path, input_names=["pixel_values"],
                      output_names=["features"], dynamic_axes={"pixel_values": {0: "n"}, "features": {0: "n"}},
                      opset_version=17, dynamo=False)
    json.dump({"encode_s": t1 - t0, "find_s": t2 - t1, "pairs": sum(len(v) for v in dups.values()) // 2,
               "torch_threads": torch.get_num_threads()}, open(out, "w"))
''')


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def speed(python: str, repeat: int) -> None:
    """Baseline and ours alternate `repeat` times (the machine is shared: its speed drifts);
    the ratios of each round and their median are printed."""
    import statistics

    pictures, _ = sample_frames()
    n = len(list(pictures.glob("*.png")))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        script, out, onnx_path = tmp / "cnn.py", tmp / "cnn.json", tmp / "mobilenet_v3_small_random.onnx"
        script.write_text(CNN_SCRIPT)
        for r in range(repeat):
            b_wall, b_cpu, _ = timed([python, str(script), str(pictures), str(out), str(onnx_path)])
            info = json.loads(out.read_text())
            row = {"imagededup CNN": (b_wall, b_cpu, f"encode {info['encode_s']:.1f} s, find_duplicates "
                                                     f"{info['find_s']:.1f} s")}
            for label, extra in (("udw embed, same backbone (ONNX)", ["-m", "embed", "--model", str(onnx_path), "-t", "0.9"]),
                                 ("udw structure (default)", [])):
                folder = tmp / f"ds-{r}-{len(row)}"
                shutil.copytree(pictures, folder)   # a fresh plain folder: nothing cached
                wall, cpu, proc = timed([sys.executable, "-m", "udw.cli", "-q", "dedupe", str(folder), "--no-preview",
                                         *extra], env)
                row[label] = (wall, cpu, proc.stdout.strip().splitlines()[0])
                shutil.rmtree(folder)
            rounds.append(row)
    print(f"\n== speed on {n} sample frames (PNG 640x360), end to end from the files, {repeat} alternating rounds")
    for r, row in enumerate(rounds):
        base_wall, base_cpu, note = row["imagededup CNN"]
        print(f"  round {r + 1}: imagededup CNN (MobileNetV3-small, random init) {base_wall:.1f} s wall, "
              f"{base_cpu:.1f} s CPU ({note})")
        for label, (wall, cpu, _) in list(row.items())[1:]:
            print(f"    {label}: {wall:.1f} s wall, {cpu:.1f} s CPU -> {base_wall / wall:.1f}x (wall), "
                  f"{base_cpu / max(cpu, 1e-9):.1f}x (CPU)")
    for label in list(rounds[0])[1:]:
        walls = [row["imagededup CNN"][0] / row[label][0] for row in rounds]
        cpus = [row["imagededup CNN"][1] / max(row[label][1], 1e-9) for row in rounds]
        print(f"  median ratio, {label}: {statistics.median(walls):.1f}x wall, {statistics.median(cpus):.1f}x CPU")
    print(f"    (last run: {rounds[-1][list(rounds[0])[-1]][2]})")


def main() -> int:
    reexec_with_repo()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="quality,speed")
    p.add_argument("--baseline-python", default=BASELINE_PY, help="python of the imagededup venv")
    p.add_argument("--repeat", type=int, default=3, help="alternating rounds of the speed comparison")
    a = p.parse_args()
    if not Path(a.baseline_python).exists():
        print(f"no imagededup venv at {a.baseline_python}: run sh bench/setup_imagededup_venv.sh", file=sys.stderr)
        return 2
    parts = set(a.only.split(","))
    if "quality" in parts:
        quality(a.baseline_python)
    if "speed" in parts:
        speed(a.baseline_python, max(1, a.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
