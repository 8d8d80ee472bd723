"""ComfyUI: a UDW Ray Engine node sends a pipeline node's work to Ray; unconnected stays local."""

import shutil
import sys


from udw.core.engine import EngineSettings



def test_engine_node_validates_and_builds_settings(comfy):
    assert "UDWRayEngine" in comfy.nodes
    good = dict(address="auto", actors=4, gpus_per_actor=0.5, cpus_per_actor=2.0, worker_root="")
    assert "Ray address" in comfy.validate("UDWRayEngine", {**good, "address": "nowhere"})
    for name in ("UDWImportImages", "UDWExtractFrames", "UDWDetectFaces", "UDWClassifyCharacters"):
        spec = comfy.nodes[name].INPUT_TYPES()
        assert spec["optional"]["engine"][0] == "UDW_ENGINE"  # optional: unconnected runs locally


def test_engine_node_connects_and_gives_its_settings(comfy, ray_local):
    good = dict(address="", actors=4, gpus_per_actor=0.5, cpus_per_actor=2.0, worker_root="")
    (engine,), _ = comfy.run("UDWRayEngine", **good)  # connected (here: the tests' local Ray) before any stage
    assert engine.to_dict() == EngineSettings("ray", None, 4, 2.0, 0.5, "").to_dict()


def test_engine_node_without_ray_says_how_to_install(comfy, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    msg = comfy.validate("UDWRayEngine", dict(address="", actors=0, gpus_per_actor=-1.0, cpus_per_actor=1.0,
                                               worker_root=""))
    assert 'pip install "udw-studio[ray]"' in msg


def test_ray_workflow_imports_with_progress(comfy, image_folder, load_workflow, ray_local):
    shutil.copytree(image_folder, comfy.base / "input" / "udw_sample_images")
    outputs = comfy.run_workflow(load_workflow("dataset_import_ray.api.json"))
    ds, report = outputs["1"]
    assert ds.count() == 6 and "6 added" in report
    assert comfy.progress[-1][:2] == (6, 6)  # progress came back from the cluster job
    assert outputs["2"][0].shape[0] == 1

