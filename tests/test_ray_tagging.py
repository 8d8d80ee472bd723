"""The tag stage on Ray workers (each actor opens its own ONNX session) gives the local manifest."""

import pytest

from udw.core.engine import EngineSettings
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dataset.ingest import import_images
from udw.scale.compare import canonical_manifest, manifest_differences
from udw.tagging.stage import tag_dataset


@pytest.fixture
def pics(tmp_path, make_image):
    folder = tmp_path / "pics"
    for i in range(9):
        make_image(folder / f"p{i}.png", i, (100 + 10 * i, 80))
    return folder


@pytest.mark.slow
def test_tagging_on_ray_matches_local(tmp_path, pics, tiny_tagger, ray_local):
    model = tiny_tagger("v3").onnx
    reports = {}
    for name, ports in (("local", Ports()), ("ray", Ports(engine=EngineSettings("ray", actors=2)))):
        ds = Dataset.open_or_create(tmp_path / name)
        import_images(ds, [pics], ports=ports)
        reports[name] = tag_dataset(ds, model, ports=ports, batch_size=4)
    assert (reports["ray"].done, len(reports["ray"].failed)) == (reports["local"].done, 0) == (9, 0)
    assert reports["ray"].stats["engine"].startswith("ray")
    assert manifest_differences(canonical_manifest(Dataset(tmp_path / "local")),
                                canonical_manifest(Dataset(tmp_path / "ray"))) == []
    again = tag_dataset(Dataset(tmp_path / "ray"), model, ports=Ports(engine=EngineSettings("ray", actors=2)))
    assert again.done == 0 and again.already_done == 9  # resumable as locally
