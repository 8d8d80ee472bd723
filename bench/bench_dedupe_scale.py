"""Dedupe at scale: 100k and 1M synthetic structure signatures with planted near-duplicates.

    python bench/bench_dedupe_scale.py --n 100000 1000000          # generate + run each size
    python bench/bench_dedupe_scale.py --n 1000000 --method phash

For each size a child process generates the signatures into a temporary .npy (so that the
generator's memory is not counted), then a fresh process loads them (float16, as the manifest
holds them), runs the search and the clustering, and reports wall time, CPU time and peak RSS;
then the planted pairs are checked. Baseline: the all-pairs comparison the seed did in chunks of
10,000 (n^2 / 2 dot products), timed on a sample and extrapolated, printed as a ratio.

Signatures: Gaussian vectors with the per-coordinate spread measured on the sample episodes
(luma DCT coefficient k: 0.357 k^-0.53, chroma: 0.124 k^-0.43), unit norm; 10% of the rows are
planted near-duplicates of earlier rows (some rows get several: clusters) at a cosine drawn
uniformly between the threshold and 1; the rest are random. Hash methods: random 64-bit codes,
planted copies with 0..max_bits random bit flips.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def spectrum() -> np.ndarray:
    from udw.dedupe.signatures import STRUCTURE_CHROMA, STRUCTURE_LUMA

    k = np.arange(1, STRUCTURE_LUMA + 1)
    c = np.arange(1, STRUCTURE_CHROMA + 1)
    return np.r_[0.357 * k ** -0.53, 0.124 * c ** -0.43, 0.124 * c ** -0.43].astype(np.float32)


def generate(n: int, threshold: float, method: str, out: Path, seed: int = 0, dup_frac: float = 0.1) -> None:
    rng = np.random.default_rng(seed)
    m = int(n * dup_frac)
    src = rng.integers(0, n - m, m)                       # originals of the planted copies
    stats = np.zeros((n, 6), np.float32)
    stats[:, 0] = rng.uniform(10, 1000, n)                # sharpness
    stats[:, 1], stats[:, 2] = 640, 360
    if method in ("phash", "dhash"):
        from udw.dedupe.settings import hash_bits_for

        codes = rng.integers(0, 2 ** 63, n, dtype=np.int64).astype(np.uint64) << np.uint64(1)
        codes ^= rng.integers(0, 2, n).astype(np.uint64)
        flips = rng.integers(0, hash_bits_for(threshold) + 1, m)
        for row, (s, f) in enumerate(zip(src, flips)):
            mask = 0
            for b in rng.choice(64, f, replace=False):
                mask |= 1 << int(b)
            codes[n - m + row] = codes[s] ^ np.uint64(mask)
        np.save(out / "data.npy", codes)
    else:
        sd = spectrum()
        data = np.lib.format.open_memmap(out / "data.npy", mode="w+", dtype=np.float16, shape=(n, len(sd)))
        for a in range(0, n - m, 100000):  # originals, in chunks (bounded generator memory)
            b = min(n - m, a + 100000)
            x = rng.standard_normal((b - a, len(sd)), dtype=np.float32) * sd
            data[a:b] = x / np.linalg.norm(x, axis=1, keepdims=True)
        base = data[src].astype(np.float32)
        noise = rng.standard_normal((m, len(sd)), dtype=np.float32) * sd
        noise -= np.einsum("ij,ij->i", noise, base)[:, None] * base
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        cos = rng.uniform(threshold, 1.0, m).astype(np.float32)[:, None]
        data[n - m:] = cos * base + np.sqrt(1 - cos ** 2) * noise
        data.flush()
    np.save(out / "stats.npy", stats)
    np.save(out / "planted.npy", np.stack([src, np.arange(n - m, n)], axis=1))


def run(folder: Path, method: str, threshold: float, exact: bool) -> dict:
    from udw.dedupe.cluster import cluster, rank_rows
    from udw.dedupe.engine import Similarity, find_similar
    from udw.dedupe.settings import DedupeSettings

    t0, c0 = time.perf_counter(), time.process_time()
    data = np.load(folder / "data.npy")
    stats = np.load(folder / "stats.npy")
    settings = DedupeSettings(method=method, threshold=threshold, exact=exact).validated()
    t1 = time.perf_counter()
    cand = find_similar(settings, data, stats)
    t2 = time.perf_counter()
    n = len(data)
    rank = rank_rows("sharpest", stats[:, 0], stats[:, 1] * stats[:, 2], np.arange(n))
    clusters = cluster(cand.rep_of, cand.pairs, rank, "direct")
    t3 = time.perf_counter()
    planted = np.load(folder / "planted.npy")
    real = Similarity(method, data)(planted[:, 0], planted[:, 1])
    want = planted[real >= threshold]
    found = set((np.minimum(cand.pairs.i, cand.pairs.j) * n + np.maximum(cand.pairs.i, cand.pairs.j)).tolist())
    rep = cand.rep_of
    hit = [(rep[a] == rep[b]) or (min(rep[a], rep[b]) * n + max(rep[a], rep[b]) in found) for a, b in want]
    removed = np.isin(want[:, 1], clusters.removed) | np.isin(want[:, 0], clusters.removed)
    return {"n": n, "method": method, "threshold": threshold, "load_s": t1 - t0, "search_s": t2 - t1,
            "cluster_s": t3 - t2, "total_s": t3 - t0, "cpu_s": time.process_time() - c0,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "planted_pairs": int(len(want)), "planted_found": float(np.mean(hit)) if len(want) else 1.0,
            "planted_one_removed": float(np.mean(removed)) if len(want) else 1.0,
            "pairs": int(len(cand.pairs)), "removed": int(len(clusters.removed)), **cand.stats}


def baseline_seconds(folder: Path, method: str, sample: int = 4000) -> float:
    """All-pairs cost (the seed's chunked comparison), timed on `sample` rows, scaled to n^2/2."""
    data = np.load(folder / "data.npy", mmap_mode="r")
    n = len(data)
    x = np.asarray(data[:sample], dtype=np.float32 if method not in ("phash", "dhash") else np.uint64)
    t = time.perf_counter()
    if method in ("phash", "dhash"):
        from udw.dedupe.search import _hash_exact
        from udw.core.ports import Ports

        _hash_exact(x, np.arange(len(x)), 8, Ports())
    else:
        for a in range(0, len(x), 1000):
            s = x[a:a + 1000] @ x.T
            np.nonzero(s >= 0.96)
    dt = time.perf_counter() - t
    return dt * (n * n) / (len(x) * len(x))


def reexec_with_repo() -> None:
    """Run again with this checkout first on PYTHONPATH (so `udw` is this worktree's code)."""
    if os.environ.get("UDW_BENCH_CHILD") != "1":
        env = {**os.environ, "PYTHONPATH": str(REPO), "UDW_BENCH_CHILD": "1"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main() -> int:
    reexec_with_repo()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, nargs="+", default=[100000, 1000000])
    p.add_argument("--method", default="structure", choices=["structure", "phash", "dhash"])
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--exact", action="store_true", help="all pairs instead of the index (slow)")
    p.add_argument("--child", nargs=2, metavar=("STEP", "FOLDER"), help=argparse.SUPPRESS)
    a = p.parse_args()
    from udw.dedupe.settings import METHODS

    # the default search threshold: candidates for the pair verifier (what `udw dedupe` uses)
    threshold = a.threshold if a.threshold is not None else METHODS[a.method].candidate
    if a.child:
        step, folder = a.child[0], Path(a.child[1])
        if step == "gen":
            generate(a.n[0], threshold, a.method, folder)
        else:
            print(json.dumps(run(folder, a.method, threshold, a.exact)))
        return 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for n in a.n:
        with tempfile.TemporaryDirectory(prefix="udw-bench-") as tmp:
            base = [sys.executable, __file__, "--n", str(n), "--method", a.method, "--threshold", str(threshold)]
            subprocess.run(base + ["--child", "gen", tmp], check=True, env=env, cwd=REPO)
            out = subprocess.run(base + (["--exact"] if a.exact else []) + ["--child", "run", tmp], check=True,
                                 env=env, cwd=REPO, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            est = baseline_seconds(Path(tmp), a.method)
        print(f"{a.method} n={n:,} threshold={threshold}: {r['total_s']:.1f} s wall "
              f"(load {r['load_s']:.1f}, search {r['search_s']:.1f}, cluster {r['cluster_s']:.1f}), "
              f"{r['cpu_s']:.1f} s CPU, peak RSS {r['peak_rss_mib']:.0f} MiB; {r['search']}")
        print(f"  planted pairs at/above the threshold: {r['planted_pairs']:,}, found "
              f"{r['planted_found']:.2%}, one of the two removed {r['planted_one_removed']:.2%}; "
              f"{r['pairs']:,} verified pairs, {r['removed']:,} removed")
        print(f"  all-pairs baseline (seed's chunked comparison, extrapolated): {est:.0f} s "
              f"-> {est / max(r['total_s'], 1e-9):.0f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
