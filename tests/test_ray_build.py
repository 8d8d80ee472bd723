"""`udw build`: the pipeline in one call; on Ray it writes the manifest the local run writes."""

import shutil

import pytest

from udw.cli.main import main
from udw.core.engine import EngineSettings
from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dataset.build import build_dataset, split_inputs
from udw.scale.compare import canonical_manifest, manifest_differences

samples = pytest.importorskip("udw.samples")


@pytest.fixture
def sample_frames(tmp_path):
    from PIL import Image

    plan = samples.plan_episode(episode=1, seed=4, duration_s=10.0)
    truth = samples.build_truth(plan, "x.mp4", "mp4", "h264")
    for scene in truth.scenes:
        i = (scene.start + scene.end) // 2
        Image.fromarray(samples.render_frame(plan, i)).save((tmp_path / "in").mkdir(exist_ok=True) or
                                                             tmp_path / "in" / f"f{i:04d}.png")
    return tmp_path / "in"


@pytest.fixture
def detectors(tmp_path, cascade_path):
    folder = tmp_path / "models" / "detectors"
    folder.mkdir(parents=True)
    shutil.copy(cascade_path, folder / cascade_path.name)
    return {"detectors": [str(folder)]}


def test_split_inputs():
    assert split_inputs(["a.mkv", "b.PNG", "folder", "*.mp4"]) == (["a.mkv", "folder", "*.mp4"], ["b.PNG", "folder"])


def test_build_runs_every_available_step(tmp_path, sample_frames, detectors):
    report = build_dataset(tmp_path / "ds", [sample_frames], ports=Ports(model_dirs=detectors))
    status = {s.name: s.status for s in report.steps}
    assert status == {"frames": "done", "dedupe": "done", "tag": "skipped", "faces": "done",
                      "characters": "done", "gallery": "done"}  # no tagger here; export not asked for
    assert "added" in report.status("frames").summary
    assert "put model.onnx" in report.status("tag").hint  # says what to do
    ds = Dataset(tmp_path / "ds")
    assert ds.stage_summary()["faces"]["ok"] == ds.count(status="active")
    assert report.gallery == (tmp_path / "ds" / "previews" / "gallery" / "index.html").resolve()
    assert report.gallery.is_file()
    again = build_dataset(tmp_path / "ds", [sample_frames], ports=Ports(model_dirs=detectors))
    assert "0 added" in again.status("frames").summary  # resumes: nothing twice
    with pytest.raises(BadInput, match="unknown build step"):
        build_dataset(tmp_path / "ds", [], steps=["frames", "paint"])


@pytest.mark.slow
def test_build_on_ray_matches_local(tmp_path, sample_frames, detectors, ray_local):
    build_dataset(tmp_path / "local", [sample_frames], ports=Ports(model_dirs=detectors))
    ray = Ports(model_dirs=detectors, engine=EngineSettings("ray", actors=2))
    report = build_dataset(tmp_path / "ray", [sample_frames], ports=ray)
    assert not report.cancelled and report.status("faces").status == "done"
    assert manifest_differences(canonical_manifest(Dataset(tmp_path / "local")),
                                canonical_manifest(Dataset(tmp_path / "ray"))) == []


def test_build_verb(tmp_path, sample_frames, capsys):
    assert main(["-q", "build", str(sample_frames), "-o", str(tmp_path / "ds"), "--steps", "frames"]) == 0
    out = capsys.readouterr().out
    assert "frames:" in out and "faces" not in out and Dataset(tmp_path / "ds").count() > 3
