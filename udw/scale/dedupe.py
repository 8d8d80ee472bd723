"""Dedupe's similar-pair search on Ray: per-shard LSH indexes, merged, cross-shard pairs verified.

The same random-hyperplane LSH as `udw.dedupe.search.join_vectors` (same plan, same planes, same
sketch filter, same exact verification), split so that the heavy parts run on workers:

1. each shard (a slice of the rows) builds its part of the index on a worker: the sketch and, for
   every table, the key and the multi-probe key of its rows; it also finds and verifies the pairs
   inside the shard, exactly as the one-machine search does for those rows;
2. the driver merges the shards' keys into one index per table (a sort of small integers) and
   takes the pairs that share a key across shards, filtered by their sketches;
3. workers verify those cross-shard candidates on the full rows (chunks of pairs).

Every pair the one-machine search finds is found (a pair is either inside one shard or across
two), and nothing unverified is returned: the result is the same set of pairs.
Shared arrays travel once through Ray's object store.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..core.engine import EngineSettings
from ..core.ports import Ports

VERIFY_CHUNK = 1 << 20  # candidate pairs per verification task


def join_vectors_sharded(full: np.ndarray, threshold: float, rows: np.ndarray, index: Optional[np.ndarray],
                         recall: float, engine: EngineSettings, ports: Optional[Ports] = None,
                         seed: int = 0, shards: int = 0):
    from ..dedupe import search
    from .runtime import connect, plan_actors

    ports = ports or Ports()
    ray = connect(engine)
    rows = np.asarray(rows, dtype=np.int64)
    m = len(rows)
    t = float(threshold) - 1e-6
    view = full if index is None else index
    sub = np.ascontiguousarray(view[rows], dtype=np.float32)
    bits, tables = search.lsh_plan(m, threshold, recall)
    plan = plan_actors(ray, engine, 10 ** 6)
    n_shards = max(1, shards or plan.actors)
    edges = np.linspace(0, m, n_shards + 1).astype(np.int64)
    refs = {"sub": ray.put(sub), "full": ray.put(full), "rows": ray.put(rows)}
    task = ray.remote(num_cpus=plan.cpus, num_gpus=0)(_shard_index)
    futures = [task.remote(refs["sub"], refs["full"], refs["rows"], int(a), int(b), bits, tables, seed,
                           threshold, index is not None) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    parts = _gather(ray, futures, ports)
    inside = [p["pairs"] for p in parts]
    sketch = [np.concatenate([p["sketch"][w] for p in parts]) for w in range(len(parts[0]["sketch"]))]
    limit = parts[0]["limit"]
    shard_of = np.repeat(np.arange(len(parts)), [p["size"] for p in parts])
    cand = []
    for k in range(tables):
        key = np.concatenate([p["keys"][k] for p in parts])
        flip = np.concatenate([p["flips"][k] for p in parts])
        li, lj = _cross_pairs(np.concatenate([key, key ^ flip]), np.tile(np.arange(m), 2), shard_of, sketch,
                              limit)
        cand.append(search.sorted_unique(np.minimum(li, lj) * m + np.maximum(li, lj)))
        ports.check()
    keys = search.sorted_unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
    li, lj = keys // m, keys % m
    verify = ray.remote(num_cpus=plan.cpus, num_gpus=0)(_verify)
    checks = [verify.remote(refs["sub"], refs["full"], refs["rows"], li[a:a + VERIFY_CHUNK], lj[a:a + VERIFY_CHUNK],
                            t, index is not None) for a in range(0, len(li), VERIFY_CHUNK)]
    across = _gather(ray, checks, ports)
    found = search.Pairs.concat(inside + across)
    found.stats.update(search=f"LSH on Ray ({tables} tables of {bits} bits, {len(parts)} shards)", searched=m,
                       candidates=int(sum(p["candidates"] for p in parts) + len(keys)),
                       verified=int(sum(p["verified"] for p in parts) + sum(a.stats["verified"] for a in across)),
                       cross_shard=int(len(keys)))
    return found


def _gather(ray: Any, futures: list, ports: Ports) -> list:
    """Results in order, polling the host's cancel between completions."""
    pending = list(futures)
    while pending:
        _, pending = ray.wait(pending, num_returns=1, timeout=0.5)
        if ports.cancelled():
            for f in pending:
                ray.cancel(f)
            from ..core.errors import Cancelled
            raise Cancelled()
    return ray.get(futures)


def _shard_index(sub: np.ndarray, full: np.ndarray, rows: np.ndarray, a: int, b: int, bits: int, tables: int,
                 seed: int, threshold: float, has_index: bool) -> dict:
    """A worker: the shard's sketch and keys per table, and its own verified pairs."""
    from ..dedupe import search

    part = sub[a:b]
    sketch, limit = search._sketch(part, threshold, seed)
    job = search._Job(part, sketch, limit)
    seeds = np.random.SeedSequence(seed).spawn(tables)
    keys, flips, cand = [], [], []
    m = b - a
    local = np.arange(m)
    for s in seeds:
        key, flip = lsh_keys(part, bits, np.random.default_rng(s))
        keys.append(key)
        flips.append(flip)
        i, j = search._bucket_pairs(job, np.concatenate([key, key ^ flip]), np.concatenate([local, local]))
        cand.append(search.sorted_unique(np.minimum(i, j) * m + np.maximum(i, j)))
    pair_keys = search.sorted_unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
    li, lj = pair_keys // m + a, pair_keys % m + a
    pairs = _verify(sub, full, rows, li, lj, float(threshold) - 1e-6, has_index)
    return {"size": m, "keys": keys, "flips": flips, "sketch": sketch, "limit": limit, "pairs": pairs,
            "candidates": len(pair_keys), "verified": pairs.stats["verified"]}


def lsh_keys(sub: np.ndarray, bits: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One table's key (sign bits of random projections) and multi-probe flip mask, per row:
    the same planes and bit layout as `search._table`."""
    m = len(sub)
    planes = rng.standard_normal((sub.shape[1], bits)).astype(np.float32)
    z = sub @ planes
    packed = np.packbits(z > 0, axis=1, bitorder="little")
    key = np.zeros((m, 4), np.uint8)
    key[:, :packed.shape[1]] = packed
    key = key.view("<u4").ravel()
    flip = np.uint32(1) << np.abs(z).argmin(axis=1).astype(np.uint32)
    return key, flip


def _cross_pairs(key: np.ndarray, item: np.ndarray, shard_of: np.ndarray, sketch: list, limit: int,
                 max_offset: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of entries with equal keys from different shards, sketch-filtered (as
    `search._bucket_pairs`, restricted to pairs no shard has seen)."""
    from ..dedupe import search

    order = np.argsort(key, kind="stable")
    sk, si = key[order], item[order]
    ii, jj = [], []

    def keep(p: np.ndarray, q: np.ndarray) -> None:
        near = (shard_of[p] != shard_of[q])
        p, q = p[near], q[near]
        near = search.sketch_distance(sketch, p, q) <= limit
        ii.append(p[near])
        jj.append(q[near])

    for d in range(1, max_offset + 1):
        hit = np.flatnonzero(sk[d:] == sk[:-d])
        if not len(hit):
            break
        keep(si[hit], si[hit + d])
    else:
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        sizes = np.diff(np.r_[starts, len(sk)])
        for s0, size in zip(starts[sizes > max_offset], sizes[sizes > max_offset]):
            members = search.sorted_unique(si[s0:s0 + size])
            for c0 in range(0, len(members), 1024):
                p, q = np.meshgrid(members[c0:c0 + 1024], members, indexing="ij")
                upper = q > p
                keep(p[upper], q[upper])
    empty = np.zeros(0, np.int64)
    return (np.concatenate(ii) if ii else empty, np.concatenate(jj) if jj else empty)


def _verify(sub: np.ndarray, full: np.ndarray, rows: np.ndarray, li: np.ndarray, lj: np.ndarray, t: float,
            has_index: bool):
    """Candidates (local rows) -> verified pairs of `full` rows (the one-machine search's checks)."""
    from ..dedupe import search

    if has_index and len(li):  # the index view with the Cauchy-Schwarz bound (loses nothing)
        norms = np.einsum("ij,ij->i", sub, sub)
        rho = np.sqrt(np.maximum(0.0, 1.0 - norms))
        near = search.full_dot(sub, li, lj) >= t - rho[li] * rho[lj]
        li, lj = li[near], lj[near]
    ci, cj = rows[li], rows[lj]
    sim = search.full_dot(full, ci, cj)
    ok = sim >= t
    found = search.Pairs(ci[ok], cj[ok], sim[ok])
    found.stats["verified"] = len(ci)
    return found
