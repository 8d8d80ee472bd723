"""The pipeline's stages on Ray give the local engine's manifest, on the sample episodes.

Frames: one drawing per scene of a generated sample episode (udw.samples). Stages: import, faces
(LBP cascade, with crops written by the workers and crop items created by the driver), faces with
an ONNX detector (its session rebuilt on each worker), characters (colour embedder; faces sent with
the items since workers cannot read the manifest).
"""


import pytest
from PIL import Image

from udw.characters import CharacterSettings, run_characters
from udw.core.engine import EngineSettings
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dataset.ingest import import_images
from udw.faces import FaceSettings, run_faces
from udw.scale.compare import canonical_manifest, manifest_differences

samples = pytest.importorskip("udw.samples")
RAY = Ports(engine=EngineSettings("ray", actors=2))


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray_samples")
    plan = samples.plan_episode(episode=2, seed=1, duration_s=16.0)
    truth = samples.build_truth(plan, "x.mp4", "mp4", "h264")
    (root / "frames").mkdir()
    for scene in truth.scenes:
        i = (scene.start + scene.end) // 2
        Image.fromarray(samples.render_frame(plan, i)).save(root / "frames" / f"udwdemo_EP02_{i}.png")
    return root / "frames"


def pipeline(root, frames, ports, cascade_path, detector):
    ds = Dataset.open_or_create(root)
    import_images(ds, [frames], ports=ports)
    faces = run_faces(ds, FaceSettings(detector=str(cascade_path), count_from="faces", crop=True), ports=ports)
    run_characters(ds, CharacterSettings(embedder="colour"), ports=ports)
    onnx = run_faces(ds, FaceSettings(detector=str(detector), count_from="faces"), ports=ports)
    return ds, faces, onnx


@pytest.mark.slow
def test_sample_pipeline_on_ray_matches_local(tmp_path, frames, cascade_path, tiny_yolo, ray_local):
    local, lf, lo = pipeline(tmp_path / "local", frames, Ports(), cascade_path, tiny_yolo)
    remote, rf, ro = pipeline(tmp_path / "ray", frames, RAY, cascade_path, tiny_yolo)
    assert lf.faces > 3 and lf.crops > 0  # the cascade found faces in the sample frames
    assert (rf.faces, rf.crops, rf.buckets) == (lf.faces, lf.crops, lf.buckets)
    assert rf.stage.stats["engine"].startswith("ray") and ro.stage.stats["engine"].startswith("ray")
    assert manifest_differences(canonical_manifest(local), canonical_manifest(remote)) == []
    for crop in (local.root / "crops").iterdir():  # the workers wrote the same crop files
        assert (remote.root / "crops" / crop.name).read_bytes() == crop.read_bytes()
    with local.db() as a, remote.db() as b:  # and the same ids, crops included (order preserved)
        q = "SELECT id, key FROM items ORDER BY id"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
