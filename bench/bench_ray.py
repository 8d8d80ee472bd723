"""Scale-out: the local engine against the Ray engine, and a scaling curve for 1/2/4 workers.

    python bench/bench_ray.py [--frames 240] [--size 1280x720] [--workloads signatures,faces,frames]

Input: distinct frames of a generated sample episode (udw.samples), written as PNGs and imported
into a dataset. Workloads are real stages run through `run_stage`:
  signatures  decode the PNG, grey thumbnail + dHash + pHash (udw.dedupe.signatures);
  faces       the faces stage with the LBP anime-face cascade (udw.faces);
  frames      frame extraction from sample episodes: local, one Ray task per video, time segments;
  (more are added by name in WORKLOADS as the pipeline's stages exist.)
For each workload: the local engine (baseline), then the Ray engine with 1, 2 and 4 actors on a
private local Ray on this machine (4 actors share 2 cores: 0.5 CPU each). Ratios are Ray wall time
over local wall time (> 1: Ray is slower). Every Ray manifest is checked against the local one.

The curve for a real cluster is a model fed with measured costs: per-item compute c (local run),
the driver's serial commit cost per item k (measured in the Ray runs), Ray's per-block overhead
and its start-up. With n workers the driver commits while workers compute, so
    T(n) = startup + max(N*c/n + blocks*o/n, N*k)
and the speed-up can never exceed c/k, however many workers: that is where the driver's SQLite
commits cap scaling.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from udw.core.engine import EngineSettings
from udw.core.errors import BadInput
from udw.core.images import open_image
from udw.core.manifest import Dataset
from udw.core.stages import ItemError, Stage, run_stage
from udw.dataset.ingest import import_images
from udw.dedupe.signatures import dhash, grey_thumb, phash
from udw.samples import plan_episode, render_frame
from udw.scale.compare import canonical_manifest, manifest_differences
from udw.scale.ray_engine import MAX_BLOCKS


class SignatureStage(Stage):
    """Decode + perceptual signatures, stored in the manifest's signatures table."""

    name = "bench_signatures"
    batch_size = 8

    def load(self, ds, item):
        try:
            return np.asarray(open_image(ds.abspath(item)))
        except BadInput as exc:
            raise ItemError(str(exc).splitlines()[0]) from exc

    def process(self, ds, items, loaded):
        return [(grey_thumb(img).astype(np.float16).tobytes(), int(dhash(img)), int(phash(img)))
                for img in loaded]

    def commit(self, ds, conn, item, result):
        thumb, d, p = result
        conn.executemany("INSERT OR REPLACE INTO signatures(item_id, kind, data) VALUES(?,?,?)",
                         [(item.id, "thumb16", thumb), (item.id, "dhash", d.to_bytes(8, "big")),
                          (item.id, "phash", p.to_bytes(8, "big"))])


CASCADE = Path(__file__).resolve().parents[2] / "shared" / "models" / "lbpcascade_animeface.xml"


def faces_stage():
    """The faces stage with the LBP anime-face cascade (weight file from ../shared/models)."""
    from udw.faces.cascade import CascadeDetector
    from udw.faces.stage import FaceSettings, FaceStage

    if not CASCADE.is_file():
        raise SystemExit(f"faces workload: {CASCADE} is missing (../shared beside the repository)")
    return FaceStage(FaceSettings(detector=str(CASCADE), count_from="faces"), CascadeDetector(CASCADE))


WORKLOADS = {"signatures": SignatureStage, "faces": faces_stage}


def make_frames(folder: Path, count: int, width: int, height: int) -> None:
    """`count` distinct drawings of a sample episode (one per run of identical frames)."""
    plan = plan_episode("benchray", 1, seed=3, width=width, height=height, duration_s=max(30.0, count / 4))
    folder.mkdir(parents=True, exist_ok=True)
    last, n = None, 0
    for i in range(plan.frame_count):
        state = plan.state(i)
        if state == last:
            continue
        last = state
        Image.fromarray(render_frame(plan, i)).save(folder / f"f{n:05d}.png", compress_level=1)
        n += 1
        if n >= count:
            return


def fresh_copy(template: Path, target: Path) -> Dataset:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(template, target)
    return Dataset(target)


def run_local(template: Path, work: Path, stage_cls) -> tuple[float, Dataset]:
    ds = fresh_copy(template, work / "local")
    t = time.perf_counter()
    run_stage(ds, stage_cls())
    return time.perf_counter() - t, ds


def run_ray(template: Path, work: Path, stage_cls, actors: int, cpus: float):
    ds = fresh_copy(template, work / f"ray{actors}")
    t = time.perf_counter()
    report = run_stage(ds, stage_cls(), engine=EngineSettings("ray", actors=actors, cpus_per_actor=cpus))
    return time.perf_counter() - t, report, ds


def model(n_items: int, c: float, k: float, o: float, blocks: int, startup: float, workers: int) -> float:
    return startup + max(n_items * c / workers + blocks * o / workers, n_items * k)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--workloads", default="signatures,faces,frames")
    ap.add_argument("--episodes", type=int, default=4, help="frames workload: sample episodes")
    ap.add_argument("--seconds", type=float, default=48.0, help="frames workload: episode length")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    import ray

    work = Path(tempfile.mkdtemp(prefix="udw-bench-ray-"))
    try:
        t = time.perf_counter()
        make_frames(work / "frames", args.frames, width, height)
        import_images(work / "template", [work / "frames"], mode="link")
        print(f"input: {args.frames} distinct {width}x{height} sample frames ({time.perf_counter() - t:.1f}s to make)")
        t = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
                 configure_logging=False)
        print(f"ray {ray.__version__}: local instance started in {time.perf_counter() - t:.1f}s "
              f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
        for name in args.workloads.split(","):
            if name == "frames":
                bench_frames(work, args.episodes, args.seconds)
            else:
                bench_workload(name, WORKLOADS[name], work, args.frames)
        print(SERIAL_NOTE)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


SERIAL_NOTE = """
Where the serial parts cap scaling on a real cluster:
- SQLite commits in the driver: every result row passes through one process. Measured above at well
  under a millisecond per item, i.e. thousands of items/s: far above what per-item stages (faces,
  tagging, embeddings at 10-1000 ms/item/worker) deliver until hundreds of workers. Commits overlap
  with compute (results stream), so they cost wall time only when they are the bottleneck.
- Frame extraction: one video is decoded by one worker (decoding is sequential within a stream);
  parallelism = number of videos, or of time segments for long ones; the driver then renumbers the
  segments. With openings/endings matched across episodes, results are committed in input order and
  each episode that repeats an earlier one is extracted a second time, in order (exactly the local
  result; the serial part is one extraction per such episode).
- Dedupe: signatures are computed in parallel, per-shard candidate search too; the merge of
  cross-shard candidates and the final grouping run in the driver over signatures only (no pixels).
- Start-up: a Ray job costs seconds to tens of seconds (actors import the code, open their models):
  worth it for hours of work, not for a few hundred images on one machine.
"""


def bench_workload(name: str, stage_cls, work: Path, n: int) -> None:
    template = work / "template"
    local_s, local_ds = run_local(template, work, stage_cls)
    truth = canonical_manifest(local_ds)
    c = local_s / n
    print(f"\n[{name}] local engine: {local_s:.2f}s ({c * 1000:.1f} ms/item) = baseline")
    rows = []
    for actors, cpus in ((1, 1.0), (2, 1.0), (4, 0.5)):
        wall, report, ds = run_ray(template, work, stage_cls, actors, cpus)
        same = not manifest_differences(truth, canonical_manifest(ds))
        st = report.stats
        rows.append((actors, wall, st))
        print(f"  ray {actors} actor(s) x {cpus:g} CPU: {wall:6.2f}s  ratio {wall / local_s:5.2f}x local  "
              f"(first result {st['ray_first_result_seconds']:.1f}s, worker compute {st['ray_compute_seconds']:.1f}s, "
              f"driver commits {st['ray_driver_commit_seconds']:.2f}s, items/worker "
              f"{sorted(st['ray_items_per_worker'].values())}, manifest {'same' if same else 'DIFFERENT'})")
        if not same:
            print("    " + "\n    ".join(manifest_differences(truth, canonical_manifest(ds))))
    # Costs from the one-actor run (no two workers fighting over this machine's two cores):
    # Ray's overhead is its wall time beyond start-up and the worker's own compute.
    wall1, st = rows[0][1], rows[0][2]
    k = st["ray_driver_commit_seconds"] / n
    startup = st["ray_first_result_seconds"]
    blocks = st["ray_blocks"]
    o = max(0.0, wall1 - startup - st["ray_compute_seconds"] * (1 - 1 / blocks)) / max(1, blocks)
    print(f"  measured costs: compute c={c * 1000:.2f} ms/item, driver commit k={k * 1000:.3f} ms/item, "
          f"Ray overhead o={o * 1000:.1f} ms/block ({blocks} blocks), start-up {startup:.1f}s")
    print(f"  model for a cluster (N={n} and N=1,000,000 items):")
    for workers in (1, 2, 4, 16, 64, 256):
        t_small = model(n, c, k, o, blocks, startup, workers)
        big_blocks = min(-(-1_000_000 // max(1, n // blocks)), MAX_BLOCKS)  # as the engine cuts blocks
        t_big = model(1_000_000, c, k, o, big_blocks, startup, workers)
        t_big1 = model(1_000_000, c, k, o, big_blocks, startup, 1)
        print(f"    {workers:4d} workers: {t_small:7.1f}s (N={n}); {t_big / 3600:6.2f} h, speed-up "
              f"{t_big1 / t_big:5.1f}x (N=1M)")
    per_item = c + o * blocks / n  # what one worker spends per item, Ray's overhead included
    cap = per_item / k if k else float("inf")
    print(f"  (this machine: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, shared; "
          f"two actors cannot beat one core each, four share two)")
    print(f"  cap: the driver commits one item in {k * 1000:.3f} ms, so no cluster runs this stage faster "
          f"than {1 / k if k else float('inf'):.0f} items/s (speed-up <= {cap:.0f}x over one Ray worker).")


def bench_frames(work: Path, episodes: int, seconds: float) -> None:
    """Frame extraction: the local extractor vs one Ray task per video vs time segments."""
    try:
        from udw.video import FrameSettings, extract_frames
    except ImportError:
        print("\n[frames] skipped: udw.video is not in this checkout")
        return
    from udw.core.ports import Ports
    from udw.samples import generate_samples

    eps = generate_samples(work / "episodes", episodes=episodes, width=640, height=360, duration_s=seconds)
    videos = [e.video for e in eps]
    settings = FrameSettings(cross_episode="off")
    t = time.perf_counter()
    local = extract_frames(work / "frames-local", videos, settings)
    local_s = time.perf_counter() - t
    truth = canonical_manifest(Dataset(work / "frames-local"))
    print(f"\n[frames] {episodes} sample episodes of {seconds:.0f}s (640x360): local {local_s:.2f}s, "
          f"{local.kept} frames kept = baseline")
    for label, seg in (("one task per video", 0.0), (f"segments of {seconds / 4:.0f}s", seconds / 4)):
        for actors in (1, 2):
            out = work / f"frames-ray-{seg:g}-{actors}"
            t = time.perf_counter()
            rep = extract_frames(out, videos, settings, Ports(engine=EngineSettings(
                "ray", actors=actors, video_segment_s=seg)))
            wall = time.perf_counter() - t
            same = not manifest_differences(truth, canonical_manifest(Dataset(out)))
            print(f"  ray {label}, {actors} actor(s): {wall:6.2f}s  ratio {wall / local_s:5.2f}x local  "
                  f"({rep.kept} kept, manifest {'same' if same else 'DIFFERENT'})")
    bench_openings(work, videos)


def bench_openings(work: Path, videos: list) -> None:
    """Openings/endings matched across episodes: exact on Ray at the cost of ordered re-extractions."""
    from udw.core.ports import Ports
    from udw.video import FrameSettings, extract_frames

    settings = FrameSettings()  # cross_episode="drop"
    t = time.perf_counter()
    local = extract_frames(work / "openings-local", videos, settings)
    local_s = time.perf_counter() - t
    truth = canonical_manifest(Dataset(work / "openings-local"))
    repeats = sum(v.cross_episode for v in local.videos)
    print(f"  with openings/endings matched across episodes: local {local_s:.2f}s, {local.kept} kept, "
          f"{repeats} repeats dropped = baseline")
    for actors in (1, 2):
        out = work / f"openings-ray-{actors}"
        t = time.perf_counter()
        rep = extract_frames(out, videos, settings, Ports(engine=EngineSettings("ray", actors=actors, video_segment_s=0)))
        wall = time.perf_counter() - t
        same = not manifest_differences(truth, canonical_manifest(Dataset(out)))
        print(f"  ray {actors} actor(s): {wall:6.2f}s  ratio {wall / local_s:5.2f}x local  ({rep.kept} kept, "
              f"{sum(v.cross_episode > 0 for v in rep.videos)} episode(s) extracted again, "
              f"manifest {'same' if same else 'DIFFERENT'})")


if __name__ == "__main__":
    sys.exit(main())
