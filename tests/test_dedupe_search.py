"""Dedupe core: the structure signature, the pair search (index vs exact), clustering, scores."""

import numpy as np
import pytest

from udw.dedupe import signatures as sg
from udw.dedupe.cluster import cluster, rank_rows, union_find
from udw.dedupe.engine import aspect_buckets, collapse, find_similar
from udw.dedupe.evaluate import score
from udw.dedupe.search import Pairs, join_hashes, join_vectors, lsh_plan
from udw.dedupe.settings import DedupeSettings, hash_bits_for
from udw.dedupe.synthetic import scene, variant


def arr(im):
    return np.asarray(im.convert("RGB"))


def test_structure_signature_invariances_and_discrimination():
    base = scene(3, (320, 180))
    s = sg.structure(arr(base))
    assert s.shape == (sg.STRUCTURE_DIM,) and abs(np.linalg.norm(s) - 1) < 1e-5
    for kind in ("bright", "jpeg", "small", "patch"):
        assert float(s @ sg.structure(arr(variant(base, kind, 1)))) > 0.98, kind
    assert float(s @ sg.structure(arr(variant(base, "shift", 1)))) > 0.93
    moved = sg.structure(arr(scene(3, (320, 180), moved=0)))
    other = sg.structure(arr(scene(4, (320, 180))))
    assert float(s @ moved) < 0.95 and float(s @ other) < 0.6
    assert not sg.structure(np.full((40, 60, 3), 200, np.uint8)).any()  # flat: no structure
    grey = arr(base.convert("L"))
    assert sg.structure(grey).shape == (sg.STRUCTURE_DIM,)  # 2-D input works


def test_sharpness_prefers_the_sharp_copy_at_any_size_and_contrast():
    from PIL import ImageFilter

    base = scene(5, (640, 360))
    sharp = sg.sharpness(arr(base))
    assert sg.sharpness(arr(base.filter(ImageFilter.GaussianBlur(2)))) < 0.5 * sharp
    assert abs(sg.sharpness(arr(variant(base, "bright", 2))) - sharp) < 0.2 * sharp
    assert sg.sharpness(np.zeros((2, 2), np.uint8)) == 0.0


def planted_vectors(n, d, pairs, lo, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32) * (1 / np.arange(1, d + 1) ** 0.5)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    src = rng.choice(n - pairs, pairs, replace=False)
    noise = rng.standard_normal((pairs, d)).astype(np.float32)
    noise -= np.einsum("ij,ij->i", noise, x[src])[:, None] * x[src]
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    c = rng.uniform(lo, 1.0, pairs).astype(np.float32)[:, None]
    x[n - pairs:] = c * x[src] + np.sqrt(1 - c ** 2) * noise
    return x, np.stack([src, np.arange(n - pairs, n)], 1)


def as_set(p: Pairs):
    return set(zip(p.i.tolist(), p.j.tolist()))


def test_lsh_join_finds_planted_pairs_and_never_returns_a_false_one():
    x, planted = planted_vectors(12000, 96, 600, 0.95)
    exact = join_vectors(x, 0.95, exact=True)
    fast = join_vectors(x, 0.95, index=x[:, :32].copy(), exact_limit=100)
    assert fast.stats["search"].startswith("LSH")
    assert as_set(fast) <= as_set(exact)                      # verified: no false pair
    assert np.all(fast.sim >= 0.95 - 1e-5) and np.all(fast.i < fast.j)
    assert len(fast) >= 0.97 * len(exact)                      # the index misses very little
    got = as_set(fast)
    assert np.mean([(min(a, b), max(a, b)) in got for a, b in planted]) > 0.97
    np.testing.assert_allclose(np.sort(fast.sim), np.sort(exact.sim[[p in got for p in zip(exact.i, exact.j)]]), atol=1e-5)


def test_lsh_plan_grows_with_n_and_with_a_looser_threshold():
    bits_small, tables_strict = lsh_plan(10_000, 0.98)
    bits_big, tables_loose = lsh_plan(1_000_000, 0.9)
    assert bits_big > bits_small and tables_loose > tables_strict


def test_hash_join_exact_and_multi_index_agree():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 2 ** 63, 9000, dtype=np.int64).astype(np.uint64)
    for k in range(300):  # planted copies 0..6 bits away
        mask = 0
        for b in rng.choice(64, int(rng.integers(0, 7)), replace=False):
            mask |= 1 << int(b)
        codes[8000 + k] = codes[k] ^ np.uint64(mask)
    codes = np.unique(codes)  # distinct codes, as the engine passes them
    exact = join_hashes(codes, 6, exact=True)
    fast = join_hashes(codes, 6, exact_limit=10)
    assert "multi-index" in fast.stats["search"] and as_set(fast) <= as_set(exact)
    assert len(fast) >= 0.97 * len(exact) and len(exact) >= 250  # (0-bit copies collapse)
    assert np.all(fast.sim >= 1 - 6 / 64 - 1e-6)


def test_aspect_buckets_and_collapse():
    ids = aspect_buckets(np.array([640, 1280, 100, 360, 655]), np.array([360, 720, 100, 640, 360]), 0.05)
    assert ids[0] == ids[1] == ids[4] and len({ids[0], ids[2], ids[3]}) == 3
    cols = [np.array([1, 1, 2, 1]), np.array([5, 5, 5, 6])]
    assert collapse(cols).tolist() == [0, 0, 2, 3]
    rows = np.array([[1, 2], [1, 3], [0, 0], [4, 4]])  # keys equal but rows differ: kept apart
    assert collapse([np.zeros(4, int)], rows=rows).tolist() == [0, 1, 2, 3]


def test_union_find_on_a_long_chain():
    n = 1000
    perm = np.random.default_rng(0).permutation(n)
    label = union_find(n + 2, perm[:-1], perm[1:])
    assert len(set(label[:n].tolist())) == 1 and label[n] == n and label[n + 1] == n + 1


def test_direct_linkage_only_removes_what_resembles_the_kept_picture():
    # a chain 0-1-2: 0~1 and 1~2 are similar, 0 and 2 are not
    pairs = Pairs(np.array([0, 1]), np.array([1, 2]), np.array([0.97, 0.96], np.float32))
    rep_of = np.arange(3)
    rank = rank_rows("earliest", np.zeros(3), np.ones(3), np.arange(3))
    chain = cluster(rep_of, pairs, rank, "chain")
    direct = cluster(rep_of, pairs, rank, "direct")
    assert chain.survivor.tolist() == [0, 0, 0]
    assert direct.survivor.tolist() == [0, 0, 2] and direct.similarity[1] == pytest.approx(0.97)
    groups = direct.groups()
    assert list(groups) == [0] and groups[0].tolist() == [0, 1]


def test_keep_rules_and_identical_groups():
    sharp = np.array([1.0, 5.0, 3.0])
    pixels = np.array([100, 10, 1000])
    order = np.arange(3)
    assert rank_rows("sharpest", sharp, pixels, order).tolist() == [2, 0, 1]
    assert rank_rows("largest", sharp, pixels, order).tolist() == [1, 2, 0]
    assert rank_rows("earliest", sharp, pixels, order).tolist() == [0, 1, 2]
    # rows 0 and 2 are identical (group rep 0); row 2 is the sharpest: it survives for both
    clusters = cluster(np.array([0, 1, 0]), Pairs.empty(), rank_rows("sharpest", sharp, pixels, order))
    assert clusters.survivor.tolist() == [2, 1, 2]


def test_find_similar_respects_aspect_and_flat_colours():
    x = np.zeros((5, sg.STRUCTURE_DIM), np.float32)
    x[0] = x[1] = x[2] = np.eye(sg.STRUCTURE_DIM)[3]  # same structure ...
    stats = np.zeros((5, 6), np.float32)
    stats[:, 1:3] = [[640, 360], [640, 360], [360, 640], [640, 360], [640, 360]]  # ... but 2 is portrait
    stats[3, 3:] = [10, 10, 10]
    stats[4, 3:] = [250, 250, 250]   # two flat pictures of different colours
    found = find_similar(DedupeSettings(), x, stats)
    assert found.rep_of.tolist() == [0, 0, 2, 3, 4]


def test_scores_by_hand():
    truth = ["a", "a", "a", "b", "c"]
    predicted = [0, 0, 2, 3, 3]          # a split, and b + c merged
    removed_ok = [None, True, None, None, False]
    s = score(truth, predicted, removed_ok)
    assert s["pairs"]["correct"] == 1 and s["pairs"]["predicted"] == 2 and s["pairs"]["true"] == 3
    assert s["pairs"]["precision"] == 0.5 and s["pairs"]["recall"] == pytest.approx(1 / 3)
    assert s["clusters"]["exact"] == 0 and s["clusters"]["true"] == 1
    assert s["removal"]["precision"] == 0.5 and s["removal"]["recall"] == 0.5
    perfect = score(truth, [0, 0, 0, 3, 4], [None, True, True, None, None])
    assert perfect["pairs"]["f1"] == perfect["clusters"]["f1"] == perfect["removal"]["f1"] == 1.0


def test_threshold_validation():
    from udw.core.errors import BadInput

    assert DedupeSettings(method="phash", verify=False).validated().threshold == pytest.approx(0.875)
    assert DedupeSettings(method="phash").validated().threshold == pytest.approx(0.75)  # candidates, verified
    assert hash_bits_for(0.875) == 8 and hash_bits_for(1.0) == 0
    for bad in (dict(threshold=0.2), dict(threshold=1.5), dict(method="sift"), dict(keep="oldest"),
                dict(action="burn"), dict(aspect_tolerance=-1)):
        with pytest.raises(BadInput) as err:
            DedupeSettings(**bad).validated()
        assert err.value.hint
