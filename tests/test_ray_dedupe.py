"""Dedupe on Ray: signatures on workers, the sharded index finds exactly the one-machine pairs."""

import numpy as np
import pytest

pytest.importorskip("udw.dedupe.engine", reason="dedupe (udw.dedupe) is not merged yet")

from udw.core.engine import EngineSettings  # noqa: E402
from udw.core.manifest import Dataset  # noqa: E402
from udw.core.ports import Ports  # noqa: E402
from udw.dataset.ingest import import_images  # noqa: E402
from udw.dedupe import DedupeSettings, dedupe_dataset, search  # noqa: E402
from udw.scale.compare import canonical_manifest, manifest_differences  # noqa: E402
from udw.scale.dedupe import join_vectors_sharded  # noqa: E402

RAY = EngineSettings("ray", actors=2)


def planted(n=12000, d=96, dups=1500, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[-dups:] = x[rng.integers(0, n - dups, dups)] + 0.15 * rng.standard_normal((dups, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float16)


def pairs(p):
    return set(zip(np.minimum(p.i, p.j).tolist(), np.maximum(p.i, p.j).tolist()))


def test_sharded_index_finds_the_one_machine_pairs(ray_local):
    x = planted()
    index = np.ascontiguousarray(x[:, :48].astype(np.float32))
    rows = np.arange(100, len(x))  # a subset, as one aspect bucket would be
    one = search.join_vectors(x, 0.95, rows=rows, index=index)
    assert one.stats["search"].startswith("LSH") and len(one) > 1000
    for shards in (2, 3):
        many = join_vectors_sharded(x, 0.95, rows, index, 0.99, RAY, shards=shards)
        assert pairs(many) == pairs(one)
        assert many.stats["cross_shard"] > 0  # pairs across shards were found by the merged index
        assert np.allclose(np.sort(many.sim), np.sort(one.sim))


@pytest.mark.slow
def test_dedupe_dataset_on_ray_matches_local(tmp_path, ray_local):
    from PIL import Image

    samples = pytest.importorskip("udw.samples")
    plan = samples.plan_episode(episode=1, seed=2, duration_s=12.0, width=320, height=180)
    (tmp_path / "in").mkdir()
    for i in range(0, plan.frame_count, 3):
        Image.fromarray(samples.render_frame(plan, i)).save(tmp_path / "in" / f"f{i:04d}.png")
    for name, ports in (("local", Ports()), ("ray", Ports(engine=RAY))):
        ds = Dataset(tmp_path / name, create=True)
        import_images(ds, [tmp_path / "in"])
        report = dedupe_dataset(ds, DedupeSettings(), ports=ports, preview=False)
        assert report.removed > 10
    assert manifest_differences(canonical_manifest(Dataset(tmp_path / "local")),
                                canonical_manifest(Dataset(tmp_path / "ray"))) == []
