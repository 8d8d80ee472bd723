"""Benchmarks for UDW model loading and inspection, each printed as a ratio to a named baseline.

1. Inspection of a ~2 GB SD1 checkpoint (full-size, random fp16 weights, built once into the
   bench cache): wall time vs hashing the file alone (the floor: sha256 must read it all), and
   peak RSS vs the largest tensor and vs a naive full load (safetensors.numpy.load_file).
2. Lineage of that file against a perturbed copy (two 2 GB files streamed): wall time and peak
   RSS vs reading both files whole.
3. With UDW_COMFYUI_DIR set: load time through the UDW Checkpoint Loader vs ComfyUI's
   CheckpointLoaderSimple on the same file, in the real ComfyUI (target <= 1.05x).

    python bench/bench_checkpoints.py [--repeat 3] [--skip-comfy]
Files go to UDW_BENCH_DIR (default ~/.cache/udw/bench); nothing is committed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def bench_dir() -> Path:
    d = Path(os.environ.get("UDW_BENCH_DIR", Path.home() / ".cache" / "udw" / "bench"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def in_repo(code: str) -> str:
    """Run Python in this checkout (cwd first on sys.path, so `udw` is this checkout's)."""
    return subprocess.run([PY, "-c", code], cwd=REPO, check=True, capture_output=True, text=True).stdout


def build_inputs() -> tuple[Path, Path]:
    d = bench_dir()
    full, tuned = d / "sd1_full_fp16_seed1.safetensors", d / "sd1_full_fp16_seed1_tuned.safetensors"
    for path, perturb in ((full, 0.0), (tuned, 0.05)):
        if not path.is_file():
            t = time.perf_counter()
            print(f"building {path.name} (full-size SD1, random fp16 weights)...", flush=True)
            in_repo(f"from udw.testing import tiny_sd; "
                    f"tiny_sd.build_checkpoint({str(path)!r}, tiny_sd.FULL, seed=1, perturb={perturb})")
            print(f"  {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - t:.0f} s", flush=True)
    return full, tuned


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of a child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
                            cwd=REPO)
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out


def largest_tensor_mb(path: Path) -> tuple[str, float]:
    out = in_repo("import json; from udw.checkpoints.safetensors_io import SafetensorsFile as F; "
                  f"f = F({str(path)!r}); i = max(f.tensors.values(), key=lambda i: i.nbytes); "
                  "print(json.dumps([i.key, i.nbytes]))")
    key, nbytes = json.loads(out)
    return key, nbytes / 2 ** 20


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-comfy", action="store_true")
    args = ap.parse_args()
    full, tuned = build_inputs()
    size_gb = full.stat().st_size / 1e9
    key, big = largest_tensor_mb(full)
    rows = []

    # warm the page cache equally for everyone
    subprocess.run(["cat", str(full), str(tuned)], stdout=subprocess.DEVNULL, check=True)
    base_wall, base_rss, _ = measure([PY, "-c", "import udw.checkpoints, udw.cli.main"])
    sha_wall, _, _ = measure(["sha256sum", str(full)])
    floor_wall, _, _ = measure([PY, "-c", "import hashlib; h = hashlib.sha256(); f = open(%r, 'rb'); "
                                "[h.update(b) for b in iter(lambda: f.read(1 << 20), b'')]" % str(full)])
    with tempfile.TemporaryDirectory() as cache:
        wall, rss, out = measure([PY, "-m", "udw.cli", "-q", "inspect", str(full), "--json"],
                                 {"UDW_CACHE_DIR": cache})
    report = json.loads(out)
    assert report["arch"]["family"] == "SD1"
    hdr_wall, hdr_rss, _ = measure([PY, "-m", "udw.cli", "-q", "inspect", str(full), "--json", "--no-hash"],
                                   {"UDW_CACHE_DIR": tempfile.mkdtemp()})
    naive_wall, naive_rss, _ = measure([PY, "-c", f"from safetensors.numpy import load_file; load_file({str(full)!r})"])
    rows.append(("inspect 2 GB (with sha256/AutoV2/legacy hashes)", f"{wall:.2f} s",
                 f"{wall / floor_wall:.2f}x hashing the file alone with hashlib ({floor_wall:.2f} s); "
                 f"sha256sum {sha_wall:.2f} s"))
    rows.append(("inspect 2 GB, header only (--no-hash)", f"{hdr_wall:.2f} s",
                 f"{hdr_wall / base_wall:.2f}x bare interpreter+imports ({base_wall:.2f} s)"))
    rows.append(("inspect peak RSS", f"{rss:.0f} MB",
                 f"+{rss - base_rss:.1f} MB over interpreter+imports ({base_rss:.0f} MB); largest tensor {big:.0f} MB "
                 f"({key}); {rss / naive_rss:.3f}x naive load_file ({naive_rss:.0f} MB)"))

    lin_wall, lin_rss, out = measure([PY, "-m", "udw.cli", "-q", "inspect", str(tuned), "--base", str(full),
                                      "--no-hash", "--json"], {"UDW_CACHE_DIR": tempfile.mkdtemp()})
    lineage = json.loads(out)["lineage"]
    both_wall, both_rss, _ = measure([PY, "-c", "from safetensors.numpy import load_file; "
                                      f"a = load_file({str(full)!r}); b = load_file({str(tuned)!r})"])
    cos = ", ".join(f"{c['name']} {c['cosine']:.4f}" for c in lineage["components"])
    rows.append(("lineage 2 GB vs 2 GB (streamed)", f"{lin_wall:.1f} s",
                 f"{lin_wall / both_wall:.2f}x loading both whole ({both_wall:.1f} s); cosines {cos}"))
    rows.append(("lineage peak RSS", f"{lin_rss:.0f} MB",
                 f"+{lin_rss - base_rss:.1f} MB over interpreter; {lin_rss / both_rss:.3f}x loading both ({both_rss:.0f} MB)"))

    comfy = os.environ.get("UDW_COMFYUI_DIR")
    if comfy and not args.skip_comfy:
        py = os.environ.get("UDW_COMFYUI_PYTHON") or str(Path(comfy) / ".venv" / "bin" / "python")
        proc = subprocess.run([py, str(REPO / "bench" / "comfyui_probe.py"), "bench", "--ckpt", str(full),
                               "--repeat", str(args.repeat)], cwd=comfy, env={**os.environ, "PYTHONPATH": comfy},
                              capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("UDW-PROBE ")), None)
        if not line:
            raise SystemExit("ComfyUI probe failed:\n" + proc.stderr[-3000:])
        res = json.loads(line[len("UDW-PROBE "):])
        med = res["median"]
        runs = "; ".join(f"{k}: " + ", ".join(f"{t:.2f}" for t in v) for k, v in res["runs"].items())
        rows.append(("load 2 GB in ComfyUI: UDW Checkpoint Loader", f"{med['UDWCheckpointLoader']:.2f} s",
                     f"{res['ratio']:.3f}x CheckpointLoaderSimple ({med['CheckpointLoaderSimple']:.2f} s) by median, "
                     f"{res['ratio_min']:.3f}x by best run, {res['ratio_cpu']:.3f}x by median process CPU time; "
                     f"wall runs {runs}"))
        rows.append(("  what the UDW node adds (header check, clip skip, INFO)",
                     f"{res['udw_overhead_s'] * 1000:.1f} ms",
                     f"{res['udw_overhead_s'] / med['CheckpointLoaderSimple']:.4f} of a load"))
    else:
        rows.append(("load in ComfyUI", "skipped", "set UDW_COMFYUI_DIR to compare with CheckpointLoaderSimple"))

    print(f"\nfile: {full.name}, {size_gb:.2f} GB, {report['tensors']} tensors; machine: {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>9}  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
