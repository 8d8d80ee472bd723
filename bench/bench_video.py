"""Frame extraction against its baselines, as ratios in one run (issue 3).

    python bench/bench_video.py [--quick] [--only seed,mpdecimate,decode,memory] [--repeat N]

1. seed:       the seed recipe (ffmpeg mpdecimate=hi=64*200:lo=64*50:frac=0.33 to PNG, then our
               near-duplicate rule over the PNGs, openings/endings across episodes included) vs
               `udw frames` with its defaults: wall time to the final clean set, and
               precision/recall of duplicate removal against the sample episodes' truth
               (coverage per kind of case: bench/bench_frames_quality.py).
2. mpdecimate: ffmpeg's mpdecimate alone (the seed's first step, PNG) vs `udw frames --mode
               mpdecimate --no-dedupe --hi 64*200 --lo 64*50` (PNG): kept-frame count (goal +-2%)
               and wall time (goal <= 1.0x).
3. decode:     `ffmpeg -i X -f null -` vs `udw frames` defaults (goal <= 2x since issue 14).
4. memory:     peak RSS of `udw frames` on the 55 s Big Buck Bunny trailer vs the full 596 s film
               (10.8x longer; goal: at most +10%).

Inputs are fetched at bench time and cached in .cache/bench: the sample episodes (`python -m
udw.samples`), Big Buck Bunny and its trailer from the moviepy==2.2.1 sdist (pip download). Each
run is a separate process; wall time, CPU time (user+sys) and peak RSS come from wait4. The
machine may be shared: CPU-time ratios are printed beside the wall-time ones.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"
PY = sys.executable
SEED_FILTER = "mpdecimate=hi=64*200:lo=64*50:frac=0.33,setpts=N/FRAME_RATE/TB"


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    out: str = ""


def run(cmd: list[str], cwd: Path = REPO) -> Run:
    """Run a command; wall time, CPU time of it and its children, peak RSS (largest process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{out[-3000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


# -- inputs --------------------------------------------------------------------------------------
def samples() -> Path:
    folder = CACHE / "samples_v2"  # truth v2 (distinct drawings, kinds of case)
    if not list(folder.glob("*.truth.json")):
        subprocess.run([PY, "-m", "udw.samples", str(folder), "--quiet"], cwd=REPO, check=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    return folder


def big_buck_bunny() -> tuple[Path, Path]:
    """(full film, trailer) from the moviepy 2.2.1 sdist (DESIGN.md section 6)."""
    full, trailer = CACHE / "bbb.mp4", CACHE / "trailer_bbb.mp4"
    if full.exists() and trailer.exists():
        return full, trailer
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / "moviepy-2.2.1.tar.gz"
    if not sdist.exists():
        subprocess.run([PY, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "moviepy==2.2.1",
                        "-d", str(CACHE)], check=True)
    inner = "docs/_static/medias/getting_started/moviepy_10_minutes/"
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if member.name.endswith(inner + "trailer_bbb.mp4"):
                trailer.write_bytes(tar.extractfile(member).read())
            elif member.name.endswith(inner + "moviepy_10_minutes.zip"):
                zpath = CACHE / "moviepy_10_minutes.zip"
                zpath.write_bytes(tar.extractfile(member).read())
                with zipfile.ZipFile(zpath) as zf:
                    name = next(n for n in zf.namelist() if n.endswith("resources/bbb.mp4"))
                    full.write_bytes(zf.read(name))
                zpath.unlink()
    return full, trailer


def need_ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise SystemExit("the ffmpeg command is needed for the baselines: apt-get install -y ffmpeg")
    return exe


# -- the pieces that run in their own processes --------------------------------------------------
def ffmpeg_kept_indices(video: Path, filt: str) -> list[int]:
    """Frame indices the FFmpeg filter keeps (showinfo), to score the baseline against the truth."""
    import av

    with av.open(str(video)) as c:
        index = {f.pts: i for i, f in enumerate(c.decode(video=0))}
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", str(video), "-vf", f"{filt},showinfo",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return [index[int(p)] for p in re.findall(r"pts:\s*(\d+)", out)]


def dedupe_pngs(folders: list[str]) -> None:
    """The seed recipe's second step with our near-duplicate rule: read back every PNG in order,
    drop near-duplicates of the last 32 kept ones and opening/ending repeats of earlier episodes,
    delete the dropped files. Prints the kept file names as JSON."""
    import cv2

    from udw.video.colour import thumb_size
    from udw.video.crossep import CrossEpisodeIndex, in_thirds
    from udw.video.frames import thumb_source
    from udw.video.neardup import signature
    from udw.video.settings import FrameSettings

    s = FrameSettings()
    cross = CrossEpisodeIndex(s.cross_threshold)
    kept: dict[str, list[str]] = {}
    for folder in folders:
        meta = json.loads(Path(folder, "meta.json").read_text())
        fps, frames = meta["fps_frames"]
        files = sorted(Path(folder).glob("*.png"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
        recent, mine, thirds = None, [], []
        for n, f in enumerate(files):
            bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
            size = (bgr.shape[1], bgr.shape[0])
            if recent is None:
                recent = s.recent_kept(size)
            sig = signature(thumb_source(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)),
                            lambda b=bgr: cv2.resize(b, thumb_size(size), interpolation=cv2.INTER_AREA)[..., ::-1].copy())
            in_ends = in_thirds(meta["indices"][n] / fps, frames / fps)
            if recent.match(sig) is not None or (in_ends and cross.match(sig) is not None):
                f.unlink()
                continue
            recent.add(sig, n)
            mine.append(f.name)
            if in_ends:
                thirds.append(sig)
        for sig in thirds:  # this episode's opening/ending frames are matched by the next episodes
            cross.add(sig, 0)
        kept[folder] = mine
    print(json.dumps(kept))


# -- the comparisons -----------------------------------------------------------------------------
def seed_recipe(videos: list[Path], work: Path, truths=None) -> dict:
    """Baseline: ffmpeg -> PNG, then dedupe over the PNGs. Ours: `udw frames` defaults."""
    import av

    shutil.rmtree(work, ignore_errors=True)
    folders = []
    wall = cpu = 0.0
    for v in videos:
        folder = work / "seed" / v.stem
        folder.mkdir(parents=True)
        r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(v), "-filter:v", SEED_FILTER, "-qscale:v", "1",
                 "-qmin", "1", str(folder / f"{v.stem}_%d.png")])
        wall, cpu = wall + r.wall, cpu + r.cpu
        with av.open(str(v)) as c:  # bookkeeping for the dedupe step and the score (not timed)
            st = c.streams.video[0]
            fps = float(st.average_rate)
            frames = st.frames or sum(1 for _ in c.decode(st))
        (folder / "meta.json").write_text(json.dumps({"fps_frames": [fps, frames],
                                                      "indices": ffmpeg_kept_indices(v, SEED_FILTER.split(",")[0])}))
        folders.append(folder)
    r = run([PY, str(Path(__file__)), "--dedupe-pngs", *map(str, folders)])
    wall, cpu = wall + r.wall, cpu + r.cpu
    kept_files = json.loads(r.out.strip().splitlines()[-1])
    ours = run([PY, "-m", "udw.cli", "-q", "frames", *map(str, videos), "-o", str(work / "ours")])
    result = {"baseline_wall": wall, "baseline_cpu": cpu, "ours_wall": ours.wall, "ours_cpu": ours.cpu,
              "baseline_kept": sum(len(v) for v in kept_files.values())}
    from udw.core.manifest import Dataset

    ds = Dataset(work / "ours")
    result["ours_kept"] = ds.count()
    if truths:
        from udw.video.evaluate import kept_from_dataset, score

        by_video = {str(v.resolve()): t.prefix for v, t in zip(videos, truths)}
        result["ours_score"] = score(truths, kept_from_dataset(ds, by_video)).to_dict()
        base = {}
        for v, t, folder in zip(videos, truths, folders):
            meta = json.loads((folder / "meta.json").read_text())
            names = kept_files[str(folder)]
            base[t.prefix] = {meta["indices"][int(n.rsplit("_", 1)[1].split(".")[0]) - 1]: 0 for n in names}
        result["baseline_score"] = score(truths, base).to_dict()
    return result


def mpdecimate_alone(video: Path, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    (work / "ffmpeg").mkdir(parents=True)
    base = run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(video), "-filter:v", SEED_FILTER, "-qscale:v", "1",
                "-qmin", "1", str(work / "ffmpeg" / "f_%d.png")])
    ours = run([PY, "-m", "udw.cli", "-q", "frames", str(video), "-o", str(work / "ours"), "--mode", "mpdecimate",
                "--no-dedupe", "--cross-episode", "off", "--hi", "64*200", "--lo", "64*50"])
    from udw.core.manifest import Dataset

    return {"ffmpeg_kept": len(list((work / "ffmpeg").glob("*.png"))), "ours_kept": Dataset(work / "ours").count(),
            "ffmpeg_wall": base.wall, "ffmpeg_cpu": base.cpu, "ours_wall": ours.wall, "ours_cpu": ours.cpu}


def decode_only(video: Path, work: Path, *extra: str) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    base = run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(video), "-f", "null", "-"])
    ours = run([PY, "-m", "udw.cli", "-q", "frames", str(video), "-o", str(work / "ours"), *extra])
    from udw.core.manifest import Dataset

    return {"ffmpeg_wall": base.wall, "ffmpeg_cpu": base.cpu, "ours_wall": ours.wall, "ours_cpu": ours.cpu,
            "ours_kept": Dataset(work / "ours").count()}


def memory(short: Path, long: Path, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    out = {}
    for name, video in (("short", short), ("long", long)):
        r = run([PY, "-m", "udw.cli", "-q", "frames", str(video), "-o", str(work / name)])
        out[name] = {"rss_mb": r.rss_mb, "wall": r.wall}
    return out


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="sample episodes and the trailer only")
    p.add_argument("--only", default="seed,mpdecimate,decode,memory")
    p.add_argument("--repeat", type=int, default=1, help="repeat each comparison, keep the fastest")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--dedupe-pngs", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.dedupe_pngs:
        dedupe_pngs(a.dedupe_pngs)
        return 0
    need_ffmpeg()
    sys.path.insert(0, str(REPO))
    from udw.samples import load_truth

    only = set(a.only.split(","))
    sample_dir = samples()
    truths = [load_truth(t) for t in sorted(sample_dir.glob("*.truth.json"))]
    episodes = [sample_dir / t.video for t in truths]
    full, trailer = big_buck_bunny()
    film = trailer if a.quick else full
    work = CACHE / "work"
    figures: dict = {"machine": {"cpus": os.cpu_count(), "load": os.getloadavg()}}

    def repeat(fn, *args):
        runs = [fn(*args) for _ in range(max(1, a.repeat))]
        return min(runs, key=lambda r: r.get("ours_wall", 0))

    if "seed" in only:
        s = figures["seed_samples"] = repeat(seed_recipe, episodes, work / "seed_samples", truths)
        print(f"[1] seed recipe vs udw frames, sample episodes ({len(episodes)} x {truths[0].frame_count} frames):")
        print(f"    wall {s['baseline_wall']:.1f}s vs {s['ours_wall']:.1f}s: {ratio(s['baseline_wall'], s['ours_wall'])} "
              f"faster (goal >= 5x); CPU {s['baseline_cpu']:.1f}s vs {s['ours_cpu']:.1f}s: "
              f"{ratio(s['baseline_cpu'], s['ours_cpu'])}")
        for who in ("baseline", "ours"):
            sc = s[f"{who}_score"]
            print(f"    {who:8s}: kept {sc['kept']}, coverage {sc['coverage']:.3f}, drop precision "
                  f"{sc['drop_precision']:.3f}, drop recall {sc['drop_recall']:.3f}, redundant {sc['redundant']}")
        s = figures["seed_film"] = repeat(seed_recipe, [film], work / "seed_film")
        print(f"    {film.name}: wall {s['baseline_wall']:.1f}s vs {s['ours_wall']:.1f}s: "
              f"{ratio(s['baseline_wall'], s['ours_wall'])} faster; CPU {ratio(s['baseline_cpu'], s['ours_cpu'])}; "
              f"kept {s['baseline_kept']} vs {s['ours_kept']}")
    if "mpdecimate" in only:
        for name, video in (("film", film), ("EP01", episodes[0])):
            m = figures[f"mpdecimate_{name}"] = repeat(mpdecimate_alone, video, work / "mpd")
            print(f"[2] ffmpeg mpdecimate (PNG) vs udw --mode mpdecimate --no-dedupe (PNG), {video.name}: kept "
                  f"{m['ffmpeg_kept']} vs {m['ours_kept']} ({(m['ours_kept'] / m['ffmpeg_kept'] - 1) * 100:+.2f}%, goal "
                  f"+-2%); wall {m['ffmpeg_wall']:.1f}s vs {m['ours_wall']:.1f}s: {ratio(m['ours_wall'], m['ffmpeg_wall'])} "
                  f"(goal <= 1.0x); CPU {ratio(m['ours_cpu'], m['ffmpeg_cpu'])}")
    if "decode" in only:
        for name, video in (("film", film), ("EP01", episodes[0])):
            d = figures[f"decode_{name}"] = repeat(decode_only, video, work / "dec")
            print(f"[3] ffmpeg decode-only vs udw frames defaults, {video.name}: wall {d['ffmpeg_wall']:.1f}s vs "
                  f"{d['ours_wall']:.1f}s: {ratio(d['ours_wall'], d['ffmpeg_wall'])} (goal <= 2x); CPU "
                  f"{d['ffmpeg_cpu']:.1f}s vs {d['ours_cpu']:.1f}s: {ratio(d['ours_cpu'], d['ffmpeg_cpu'])}; "
                  f"{d['ours_kept']} frames kept")
    if "decode" in only:  # the same with JPEG output (4-5x cheaper to write than PNG)
        d = figures["decode_film_jpeg"] = repeat(decode_only, film, work / "dec", "--format", "jpeg")
        print(f"[3] ... with --format jpeg, {film.name}: wall {d['ffmpeg_wall']:.1f}s vs {d['ours_wall']:.1f}s: "
              f"{ratio(d['ours_wall'], d['ffmpeg_wall'])}; CPU {ratio(d['ours_cpu'], d['ffmpeg_cpu'])}")
    if "memory" in only:
        m = figures["memory"] = memory(trailer, full if not a.quick else trailer, work / "mem")
        print(f"[4] peak RSS, {trailer.name} vs {(full if not a.quick else trailer).name}: {m['short']['rss_mb']:.0f} MB "
              f"vs {m['long']['rss_mb']:.0f} MB: {ratio(m['long']['rss_mb'], m['short']['rss_mb'])} (goal <= 1.10x)")
    figures["machine"]["load_after"] = os.getloadavg()
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
