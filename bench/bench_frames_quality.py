"""Does frame extraction keep every distinct drawing, and each only once? (issue 14)

    python bench/bench_frames_quality.py [--quick] [--only default,grey,mpdecimate,seed,build]

On the sample episodes (`python -m udw.samples`, truth v2: a distinct-drawing id and a kind of
case per frame), each method's kept frames are scored with `udw.dedupe.quality`: coverage (share
of distinct drawings kept) and redundancy (kept frames per kept drawing) per kind of case, and
precision/recall/F1 of the duplicate decisions. Methods, each a separate timed process:

- default:    `udw frames` with its defaults (hold rule hi=64*50:lo=64*12, colour near-dup rule);
- grey:       the rule before issue 14 (`--grey-dedupe --hi 12800 --lo 3200`: the old defaults);
- mpdecimate: the seed's mpdecimate alone (`--mode mpdecimate --no-dedupe --hi 12800 --lo 3200`,
              which keeps exactly the frames `ffmpeg -vf mpdecimate=hi=64*200:lo=64*50` keeps);
- seed:       the seed recipe: that mpdecimate to PNGs, then `udw dedupe` (its defaults) over them
              (the seed's mobilenet embeddings cannot be downloaded here: our dedupe stands in);
- build:      `udw build --steps frames,dedupe` (frames and dedupe defaults, end to end).
Ratios are against the seed recipe. Timings are wall and CPU (user+sys) of the processes; the
machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_video import CACHE, PY, REPO, Run, run  # noqa: E402

SEED_HOLD = ["--hi", "12800", "--lo", "3200"]
METHODS = {
    "default": [["frames"]],
    "grey": [["frames", "--grey-dedupe", *SEED_HOLD]],
    "mpdecimate": [["frames", "--mode", "mpdecimate", "--no-dedupe", *SEED_HOLD]],
    "seed": [["frames", "--no-dedupe", "--cross-episode", "off", *SEED_HOLD], ["dedupe", "{ds}"]],
    "build": [["build", "--steps", "frames,dedupe"]],
}
COPY_ORDER = ("hold", "blink", "lip_flap", "slow_pan", "small_move", "episode_repeat")


def sample_set(quick: bool) -> Path:
    folder = CACHE / ("samples_v2_quick" if quick else "samples_v2")
    if not list(folder.glob("*.truth.json")):
        extra = ["--width", "320", "--height", "180", "--fps", "12", "--duration", "12"] if quick else []
        subprocess.run([PY, "-m", "udw.samples", str(folder), "--quiet", *extra], cwd=REPO, check=True,
                       env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return folder


def run_method(name: str, videos: list[Path], work: Path) -> tuple[Run, Path]:
    ds = work / name
    shutil.rmtree(ds, ignore_errors=True)
    total = Run(0.0, 0.0, 0.0)
    for step in METHODS[name]:
        args = [a.replace("{ds}", str(ds)) for a in step]
        cmd = [PY, "-m", "udw.cli", "-q", *args]
        if args[0] in ("frames", "build"):
            cmd += [*map(str, videos), "-o", str(ds)]
        r = run(cmd)
        total = Run(total.wall + r.wall, total.cpu + r.cpu, max(total.rss_mb, r.rss_mb))
    return total, ds


def score(ds: Path, videos: list[Path], truths):
    from udw.core.manifest import Dataset
    from udw.dedupe.quality import quality
    from udw.samples import episode_labels
    from udw.video.evaluate import kept_from_dataset

    kept = kept_from_dataset(Dataset(ds), {str(v.resolve()): t.prefix for v, t in zip(videos, truths)})
    labels = episode_labels(truths)
    return quality(labels.items, labels.drawing_of, labels.kind_of, [(p, i) for p, d in kept.items() for i in d])


def fmt(v) -> str:
    return "   -  " if v is None else f"{v:6.3f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small episodes (320x180, 12 fps, 12 s)")
    p.add_argument("--only", default=",".join(METHODS))
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args()
    from udw.samples import load_truth

    folder = sample_set(a.quick)
    truths = [load_truth(t) for t in sorted(folder.glob("*.truth.json"))]
    videos = [folder / t.video for t in truths]
    work = CACHE / "work_frames_quality"
    results = {}
    for name in a.only.split(","):
        r, ds = run_method(name, videos, work)
        results[name] = (r, score(ds, videos, truths))
        print(f"  ran {name}: {r.wall:.1f}s wall, {r.cpu:.1f}s CPU", file=sys.stderr)
    names = list(results)
    kinds = sorted({k for _, q in results.values() for k in q.by_kind})
    distinct = [k for k in kinds if any(q.by_kind[k].drawings for _, q in results.values() if k in q.by_kind)]
    copies = [k for k in COPY_ORDER if k in kinds]
    print(f"sample episodes: {len(truths)} x {truths[0].frame_count} frames, {truths[0].width}x{truths[0].height}")
    print("coverage of distinct drawings, per kind (drawings)     " + "".join(f"{n:>11}" for n in names))
    for k in distinct:
        n = results[names[0]][1].by_kind[k].drawings
        print(f"  {k:<14}({n:>3})" + " " * 33 + "".join(f"{fmt(results[m][1].by_kind[k].coverage):>11}" for m in names))
    print("copies merged (recall of duplicate decisions), per kind" + "".join(f"{n:>11}" for n in names))
    for k in copies:
        n = results[names[0]][1].by_kind[k].items
        print(f"  {k:<14}({n:>3})" + " " * 33 + "".join(f"{fmt(results[m][1].by_kind[k].recall):>11}" for m in names))
    print("overall" + " " * 49 + "".join(f"{n:>11}" for n in names))
    rows = [("coverage", lambda r, q: q.overall.coverage), ("redundancy", lambda r, q: q.overall.redundancy),
            ("precision", lambda r, q: q.overall.precision), ("recall", lambda r, q: q.overall.recall),
            ("F1", lambda r, q: q.overall.f1), ("wall s", lambda r, q: r.wall), ("CPU s", lambda r, q: r.cpu)]
    for label, get in rows:
        print(f"  {label:<54}" + "".join(f"{fmt(get(*results[m])):>11}" for m in names))
    if "seed" in results and "default" in results:
        (rs, qs), (rd, qd) = results["seed"], results["default"]
        print(f"default vs seed recipe: coverage {qd.overall.coverage / qs.overall.coverage:.2f}x, F1 "
              f"{qd.overall.f1 / qs.overall.f1:.2f}x, redundancy {qd.overall.redundancy / qs.overall.redundancy:.2f}x, "
              f"wall {rs.wall / rd.wall:.2f}x faster, CPU {rs.cpu / rd.cpu:.2f}x less "
              f"(goals: coverage >= 0.95, redundancy <= 1.2)")
    if a.json:
        Path(a.json).write_text(json.dumps({m: {"wall": r.wall, "cpu": r.cpu, "quality": q.to_dict()}
                                            for m, (r, q) in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
