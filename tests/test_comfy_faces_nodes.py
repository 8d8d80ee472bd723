"""Face, character, arrangement and export nodes inside the fake ComfyUI, and their workflows."""

import json
import shutil

import pytest
from PIL import Image




@pytest.fixture
def comfy_faces(comfy, tiny_yolo, magenta_frame):
    """ComfyUI with the tiny detector installed as face_detect_v1.4_s, frames and references in input/."""
    det = comfy.base / "models" / "udw_detectors" / "face_detect_v1.4_s"
    det.mkdir(parents=True)
    shutil.copy(tiny_yolo, det / "model.onnx")
    frames = comfy.base / "input" / "udw_sample_frames"
    frames.mkdir()
    specs = {"a": [(40, 60, 240, 260)], "b": [(300, 60, 460, 220), (480, 100, 600, 220)], "c": []}
    for name, boxes in specs.items():
        Image.fromarray(magenta_frame((640, 320), boxes)).save(frames / f"{name}.png")
    refs = comfy.base / "input" / "udw_sample_refs" / "Mage"
    refs.mkdir(parents=True)
    Image.fromarray(magenta_frame((320, 320), [(100, 100, 180, 180)])).save(refs / "1.png")
    return comfy


def test_nodes_are_registered(comfy):
    for name in ("UDWDetectFaces", "UDWFaceDetectImages", "UDWClassifyCharacters", "UDWArrangeDataset",
                 "UDWExportDataset"):
        cls = comfy.nodes[name]
        assert cls.DESCRIPTION and cls.CATEGORY.startswith("UDW Studio") and hasattr(cls, cls.FUNCTION)
        for spec in cls.INPUT_TYPES()["required"].values():
            assert len(spec) == 1 or "tooltip" in spec[1] or spec[0] in ("IMAGE", "UDW_DATASET")


def test_pipeline_workflow_runs(comfy_faces, load_workflow):
    out = comfy_faces.run_workflow(load_workflow("faces_characters_export.api.json"))
    ds, report = out["2"]
    assert "3 faces in 2 images" in report and "face_detect_v1.4_s" in report
    assert "face-height buckets:" in report and "no face in: " in report and "c.png" in report
    assert "Mage" in out["3"][1] and "colour-v1" in out["3"][1]
    table, folder = out["4"]
    root = comfy_faces.base / "output" / "udw" / "sample_faces_everydream"
    assert folder == str(root) and (root / "README.md").is_file() and "total" in table
    assert (root / "others" / "c.png").is_file() and list(root.rglob("multiply.txt"))
    captions = sorted(p.read_text() for p in root.rglob("*.txt") if p.name != "multiply.txt")
    assert any(c.startswith("1person, Mage, anishot, fvp") for c in captions)


def test_image_batch_detector_workflow(comfy_faces, load_workflow):
    out = comfy_faces.run_workflow(load_workflow("face_detect_images.api.json"))
    annotated, crops, boxes_json, n = out["3"]
    boxes = json.loads(boxes_json)
    # the grid shrinks the frames off the tiny model's 8-px grid: it finds every face, plus a
    # looser duplicate of the largest one (a real detector is not needed to check the plumbing)
    assert 3 <= n == sum(len(b["faces"]) for b in boxes) <= 4 and annotated.shape[0] == 1
    assert annotated.shape == out["2"][0].shape and boxes[0]["width"] == annotated.shape[2]
    assert crops.shape[0] == n and crops.shape[1:] == (256, 256, 3)
    assert boxes[0]["detector"] == "face_detect_v1.4_s" and boxes[0]["bucket"].startswith("face_height_ratio_")


def test_arrange_node_and_guards(comfy_faces):
    (ds, _), _ = comfy_faces.run("UDWImportImages", source="udw_sample_frames", dataset="d", mode="copy")
    (ds, _), _ = comfy_faces.run("UDWDetectFaces", dataset=ds, detector="auto", conf=0.25, iou=0.7,
                                 buckets="25,50,75", count_from="faces", crop=True, crop_size=128)
    args = dict(mode="copy", min_images=1, levels="count,bucket", template="{count}, {facepos}",
                weights="others=2", merge=False)
    (_, table, folder), ui = comfy_faces.run("UDWArrangeDataset", dataset=ds, output="arr", **args)
    assert "1_character/face_height_ratio_" in table and "others" in table and ui["text"] == [_ + "" if False else ui["text"][0]]
    (comfy_faces.base / "output" / "udw" / "busy").mkdir(parents=True)
    (comfy_faces.base / "output" / "udw" / "busy" / "x.txt").write_text("mine")
    with pytest.raises(RuntimeError, match="pass --merge"):
        comfy_faces.run("UDWArrangeDataset", dataset=ds, output="busy", **args)
    assert "outside the allowed folders" in comfy_faces.validate("UDWArrangeDataset", {"output": "/etc/x"})
    assert "buckets" in comfy_faces.validate("UDWDetectFaces", {"buckets": "90,10"})
    assert "buckets" in comfy_faces.validate("UDWDetectFaces", {"buckets": "25,50", "detector_buckets": "x"})
    (_, report), ui = comfy_faces.run("UDWDetectFaces", dataset=ds, detector="auto", conf=0.25, iou=0.7,
                                      buckets="25,50,75", count_from="faces", crop=False, crop_size=128,
                                      detector_buckets="face_detect_v1.4_s=60,70,80")
    # faces of 62 % and 50 % of the height: buckets 1 and 0 of the detector's edges, named as the defaults
    assert "face_height_ratio_0-25" in report and "face_height_ratio_25-50" in report and "50-75" not in report
    assert "no face in: " in ui["text"][0]
    with pytest.raises(RuntimeError, match="models/udw_detectors"):
        comfy_faces.run("UDWDetectFaces", dataset=ds, detector="/etc/passwd.onnx", conf=0.25, iou=0.7,
                        buckets="25,50,75", count_from="faces", crop=False, crop_size=128)


@pytest.mark.parametrize("trainer,expect", [("kohya", "dataset.toml"), ("onetrainer", "concepts.json")])
def test_export_node_for_each_trainer(comfy_faces, trainer, expect):
    (ds, _), _ = comfy_faces.run("UDWImportImages", source="udw_sample_frames", dataset="d", mode="copy")
    comfy_faces.run("UDWDetectFaces", dataset=ds, detector="auto", conf=0.25, iou=0.7, buckets="25,50,75",
                    count_from="faces", crop=False, crop_size=128)
    (table, folder), _ = comfy_faces.run(
        "UDWExportDataset", dataset=ds, trainer=trainer, output=f"x_{trainer}", mode="link", min_images=1,
        levels="count,character,bucket", template="{count}, {tags}", weights="", merge=False,
        kohya_layout="toml", strategy="SAMPLES")
    assert (comfy_faces.base / "output" / "udw" / f"x_{trainer}" / expect).is_file() and "total" in table

