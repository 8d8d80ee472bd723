"""Finding every pair of similar signatures without comparing all n^2 pairs.

Vectors (structure signatures, embeddings; unit rows, similarity = dot product):
- callers collapse identical rows first (holds, re-saved copies) and search one representative;
- small inputs (<= `exact_limit` rows) are joined exactly, one matrix product per block;
- larger ones use random-hyperplane LSH (Charikar 2002): a key is the sign pattern of ~log2(n)+3
  random projections of a low-dimensional view of each row (`index`), and each row is also filed
  under its key with the least certain bit flipped (multi-probe, Lv et al. 2007). Rows that share a
  key in any table are candidates; the number of tables follows from the threshold so that a pair
  at the threshold is found with the asked recall. All pairs of a bucket are candidates, however
  large it is (a tight cluster). Cost: tables x (n log n sort + n projections), memory O(n).
- candidates are filtered cheaply before the exact check: a 128-bit sketch (sign bits of more
  projections; a pair at the threshold is dropped with p < 1e-5), then the index view with the
  Cauchy-Schwarz bound x_a.x_b >= t - rho_a rho_b (rho: the norm left out of the view; exact).
- every candidate left is verified on the full rows: no pair below the threshold is returned.

Hamming codes (64-bit perceptual hashes) use multi-index hashing: keys of 16 bits; the first four
tables partition the 64 bits, so every pair within 3 bits shares a key (pigeonhole); further
tables sample bits at random until a pair at the threshold is found with p >= 0.98; candidates
are verified by popcount.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core.ports import Ports

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass
class Pairs:
    """Similar pairs: indices into the searched rows (i < j) and their similarity."""

    i: np.ndarray
    j: np.ndarray
    sim: np.ndarray
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.i)

    @classmethod
    def empty(cls) -> "Pairs":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    @classmethod
    def concat(cls, parts: list["Pairs"]) -> "Pairs":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(np.concatenate([p.i for p in parts]), np.concatenate([p.j for p in parts]),
                   np.concatenate([p.sim for p in parts]))

    def unique(self) -> "Pairs":
        """Drop repeated pairs (a pair can be found in several leaves or tables)."""
        if not len(self):
            return self
        lo, hi = np.minimum(self.i, self.j), np.maximum(self.i, self.j)
        key = lo.astype(np.int64) * (int(hi.max()) + 1) + hi
        _, first = np.unique(key, return_index=True)
        return Pairs(lo[first], hi[first], self.sim[first], self.stats)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2.3+'s hashing unique is ~50x slower on pair keys)."""
    s = np.sort(a)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def _chunks(total: int, size: int):
    for start in range(0, total, size):
        yield start, min(total, start + size)


# -- vectors --------------------------------------------------------------------------------------

def full_dot(x: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 1 << 15) -> np.ndarray:
    """Exact similarity of pairs (i[k], j[k]) of rows (float16 or float32), in chunks."""
    out = np.empty(len(i), np.float32)
    for a, b in _chunks(len(i), chunk):
        out[a:b] = np.einsum("ij,ij->i", x[i[a:b]].astype(np.float32, copy=False),
                             x[j[a:b]].astype(np.float32, copy=False))
    return out


def _exact_block(x: np.ndarray, a: np.ndarray, b: Optional[np.ndarray], t: float) -> Pairs:
    """Every pair between rows `a` and rows `b` with dot >= t (upper triangle of a x a if b is None)."""
    same = b is None
    b = a if same else b
    xa = x[a].astype(np.float32, copy=False)
    s = xa @ (xa if same else x[b].astype(np.float32, copy=False)).T
    hit = s >= t
    if same:
        hit = np.triu(hit, 1)
    r, c = np.nonzero(hit)
    return Pairs(a[r], b[c], s[r, c])


def _exact(x: np.ndarray, rows: np.ndarray, t: float, ports: Ports, block: int = 2048) -> Pairs:
    parts = []
    for a0, a1 in _chunks(len(rows), block):
        a = rows[a0:a1]
        parts.append(_exact_block(x, a, None, t))
        for b0, b1 in _chunks(len(rows) - a1, block):
            parts.append(_exact_block(x, a, rows[a1 + b0:a1 + b1], t))
        ports.check()
    return Pairs.concat(parts)


def lsh_plan(n: int, threshold: float, recall: float = 0.99) -> tuple[int, int]:
    """(bits per key, tables) for random-hyperplane LSH with one probe of the least certain bit.

    Keys of about log2(n) + 3 bits keep random collisions near n/4 per table; enough tables are
    used that a pair exactly at the threshold collides in one of them with p >= recall (a pair
    that differs in one bit is counted as found 60% of the time: the probe catches it when that
    bit is the least certain one of either side).
    """
    from math import acos, ceil, log, pi

    bits = int(min(28, max(12, round(np.log2(max(n, 2))) + 3)))
    p = 1.0 - acos(min(1.0, max(-1.0, threshold))) / pi
    table = p ** bits + 0.6 * bits * (1 - p) * p ** (bits - 1)
    if table >= recall:
        return bits, 1
    return bits, int(min(48, max(4, ceil(log(1 - recall) / log(1 - table)))))


@dataclass
class _Job:
    """What every table of one join shares (local row numbers 0..m-1 throughout)."""

    sub: np.ndarray           # m x k float32 index view
    sketch: list              # 128-bit sketches: two arrays of m uint64 words
    limit: int                # largest sketch distance of a plausible pair


def _bucket_pairs(job: _Job, key: np.ndarray, item: np.ndarray,
                  max_offset: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (local rows, sketch-filtered) of entries with equal keys.

    Pairs up to `max_offset` apart in the sorted keys are taken in one vectorised pass per
    offset; buckets larger than that (a tight cluster, or keys skewed by dominant coordinates)
    are enumerated whole, each pair tested on its sketch first."""
    order = np.argsort(key, kind="stable")
    sk, si = key[order], item[order]
    ii, jj = [], []

    def keep(a: np.ndarray, b: np.ndarray) -> None:
        near = (a != b) & (sketch_distance(job.sketch, a, b) <= job.limit)
        ii.append(a[near])
        jj.append(b[near])

    for d in range(1, max_offset + 1):
        hit = np.flatnonzero(sk[d:] == sk[:-d])
        if not len(hit):
            break
        keep(si[hit], si[hit + d])
    else:  # some bucket is larger than max_offset: all its pairs
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        sizes = np.diff(np.r_[starts, len(sk)])
        for s0, size in zip(starts[sizes > max_offset], sizes[sizes > max_offset]):
            members = sorted_unique(si[s0:s0 + size])
            for c0, c1 in _chunks(len(members), 1024):  # bounded memory for a huge bucket
                a, b = np.meshgrid(members[c0:c1], members, indexing="ij")
                upper = b > a
                keep(a[upper], b[upper])
    empty = np.zeros(0, np.int64)
    return (np.concatenate(ii) if ii else empty, np.concatenate(jj) if jj else empty)


def _table(job: _Job, bits: int, rng: np.random.Generator) -> np.ndarray:
    """One LSH table: sign bits of `bits` random projections of the index view, plus the key
    with the least certain bit flipped (multi-probe); candidates share a key. Returns the
    candidate pair keys (lo * m + hi, local rows)."""
    m = len(job.sub)
    planes = rng.standard_normal((job.sub.shape[1], bits)).astype(np.float32)
    z = job.sub @ planes
    packed = np.packbits(z > 0, axis=1, bitorder="little")
    key = np.zeros((m, 4), np.uint8)
    key[:, :packed.shape[1]] = packed
    key = key.view("<u4").ravel()
    flip = np.uint32(1) << np.abs(z).argmin(axis=1).astype(np.uint32)
    del z, packed
    local = np.arange(m)
    i, j = _bucket_pairs(job, np.concatenate([key, key ^ flip]), np.concatenate([local, local]))
    return sorted_unique(np.minimum(i, j) * m + np.maximum(i, j))


def _sketch(sub: np.ndarray, threshold: float, seed: int, bits: int = 128) -> tuple[list, int]:
    """`bits` sign bits of random projections per row (as uint64 words) and the largest Hamming
    distance a pair at `threshold` plausibly has: the binomial mean + 4.5 sigma of the bit-flip
    probability angle/pi (a pair at the threshold is dropped with p < 1e-5)."""
    from math import acos, pi, sqrt

    planes = np.random.default_rng([seed, bits]).standard_normal((sub.shape[1], bits)).astype(np.float32)
    words = np.empty((len(sub), bits // 64), np.uint64)
    for a, b in _chunks(len(sub), 1 << 16):
        words[a:b] = np.packbits((sub[a:b] @ planes) > 0, axis=1).view(">u8").astype(np.uint64)
    words = [np.ascontiguousarray(words[:, k]) for k in range(words.shape[1])]  # 1-D gathers are faster
    p = acos(min(1.0, max(-1.0, threshold))) / pi
    return words, int(min(bits, np.ceil(bits * p + 4.5 * sqrt(bits * p * (1 - p)) + 1)))


def sketch_distance(sketch: list, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distance between the sketches of rows a[k] and b[k]."""
    out = popcount64(sketch[0][a] ^ sketch[0][b])
    for words in sketch[1:]:
        out += popcount64(words[a] ^ words[b])
    return out


def join_vectors(full: np.ndarray, threshold: float, rows: Optional[np.ndarray] = None,
                 index: Optional[np.ndarray] = None, recall: float = 0.99, exact_limit: int = 5000,
                 seed: int = 0, ports: Optional[Ports] = None, exact: bool = False,
                 threads: int = 2) -> Pairs:
    """All pairs (i < j) among `rows` (default: all) of the unit rows of `full` (float16 or
    float32, never copied whole) with dot >= threshold.

    `index`: a low-dimensional view of all rows of `full` (n x k: leading coordinates or main
    components, an orthonormal projection) that the hash tables project; default: the rows.
    Pass distinct, non-zero rows. Every returned pair is verified on the full rows.
    """
    ports = ports or Ports()
    rows = np.arange(len(full)) if rows is None else np.asarray(rows, dtype=np.int64)
    t = float(threshold) - 1e-6
    if len(rows) < 2:
        return Pairs.empty()
    if exact or len(rows) <= exact_limit:
        found = _exact(full, rows, t, ports)
        found.stats.update(search="exact", searched=len(rows), compared=len(rows) * (len(rows) - 1) // 2)
        return found
    view = full if index is None else index
    whole = len(rows) == len(view) and bool(np.all(rows == np.arange(len(rows))))
    sub = np.ascontiguousarray(view if whole else view[rows], dtype=np.float32)
    sketch, limit = _sketch(sub, threshold, seed)
    job = _Job(sub, sketch, limit)
    bits, tables = lsh_plan(len(rows), threshold, recall)
    seeds = np.random.SeedSequence(seed).spawn(tables)
    cand = []
    with cf.ThreadPoolExecutor(max(1, threads)) as pool:
        for keys in pool.map(lambda s: _table(job, bits, np.random.default_rng(s)), seeds):
            cand.append(keys)
            ports.check()
    m = len(rows)
    keys = sorted_unique(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
    del cand
    li, lj = keys // m, keys % m
    n_candidates = len(keys)
    del keys
    if index is not None:  # the index view with the Cauchy-Schwarz bound (loses nothing)
        rho = np.sqrt(np.maximum(0.0, 1.0 - np.einsum("ij,ij->i", sub, sub)))
        near = full_dot(sub, li, lj) >= t - rho[li] * rho[lj]
        li, lj = li[near], lj[near]
    ci, cj = rows[li], rows[lj]
    sim = full_dot(full, ci, cj)
    ok = sim >= t
    found = Pairs(ci[ok], cj[ok], sim[ok])
    found.stats.update(search=f"LSH ({tables} tables of {bits} bits)", searched=len(rows),
                       candidates=int(n_candidates), verified=int(len(ci)))
    return found


# -- Hamming codes ------------------------------------------------------------------------------

def popcount64(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x).astype(np.int32)
    return _POP8[x.view(np.uint8).reshape(x.shape + (8,))].sum(axis=-1, dtype=np.int32)


def _table_bits(tables: int, bits: int, seed: int) -> list[np.ndarray]:
    """First 64/bits tables partition the 64 bits; the rest sample bits at random."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(64)
    out = [perm[k * bits:(k + 1) * bits] for k in range(64 // bits)]
    while len(out) < tables:
        out.append(rng.choice(64, bits, replace=False))
    return out[:tables]


def _key(codes: np.ndarray, positions: np.ndarray) -> np.ndarray:
    key = np.zeros(len(codes), np.uint64)
    for k, pos in enumerate(positions):
        key |= ((codes >> np.uint64(pos)) & np.uint64(1)) << np.uint64(k)
    return key


def _equal_key_pairs(key: np.ndarray, max_run: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows with equal keys (offsets up to max_run inside each run of the sorted keys)."""
    order = np.argsort(key, kind="stable")
    sk = key[order]
    ii, jj = [], []
    for d in range(1, max_run + 1):
        hit = np.flatnonzero(sk[d:] == sk[:-d])
        if not len(hit):
            break
        ii.append(order[hit])
        jj.append(order[hit + d])
    if not ii:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ii), np.concatenate(jj)


def join_hashes(codes: np.ndarray, max_bits: int, rows: Optional[np.ndarray] = None, tables: int = 0,
                exact_limit: int = 6000, seed: int = 0, ports: Optional[Ports] = None,
                exact: bool = False) -> Pairs:
    """All pairs among `rows` (distinct codes) of 64-bit codes within `max_bits` bits
    (similarity = 1 - bits/64). tables=0 picks enough tables for ~98% recall at `max_bits`.
    """
    ports = ports or Ports()
    codes = np.ascontiguousarray(codes, dtype=np.uint64)
    rows = np.arange(len(codes)) if rows is None else np.asarray(rows)
    if len(rows) < 2:
        return Pairs.empty()
    parts = []
    if exact or len(rows) <= exact_limit:
        parts.append(_hash_exact(codes, rows, max_bits, ports))
        how = "exact"
    else:
        tables = tables or _tables_for(max_bits)
        for positions in _table_bits(tables, 16, seed):
            i, j = _equal_key_pairs(_key(codes[rows], positions), 64)
            i, j = rows[i], rows[j]
            dist = popcount64(codes[i] ^ codes[j])
            keep = dist <= max_bits
            parts.append(Pairs(i[keep], j[keep], (1 - dist[keep] / 64).astype(np.float32)))
            ports.check()
        how = f"multi-index ({tables} tables)"
    out = Pairs.concat(parts).unique()
    out.stats = {"search": how, "searched": len(rows)}
    return out


def _tables_for(max_bits: int, target: float = 0.98) -> int:
    """Tables of 16 random bits so that a pair `max_bits` apart collides in one with p >= target."""
    from math import comb, log

    p = comb(64 - max_bits, 16) / comb(64, 16)
    if p >= target:
        return 4
    return int(min(64, max(4, np.ceil(log(1 - target) / log(1 - p)))))


def _hash_exact(codes: np.ndarray, rows: np.ndarray, max_bits: int, ports: Ports,
                block: int = 1024) -> Pairs:
    parts = []
    sub = codes[rows]
    for a0, a1 in _chunks(len(rows), block):
        dist = popcount64(sub[a0:a1, None] ^ sub[None, a0:])
        r, c = np.nonzero(np.triu(dist <= max_bits, 1))
        parts.append(Pairs(rows[a0 + r], rows[a0 + c], (1 - dist[r, c] / 64).astype(np.float32)))
        ports.check()
    return Pairs.concat(parts)
