"""YOLO exports with several classes: only face classes count, `classes` picks others, a model
without a face class is refused with its class list; on the tiny detector and on a real
Ultralytics export (nudenet's 320n.onnx, fetched from PyPI; skipped with the reason offline)."""

import pytest

from udw.core.errors import BadInput
from udw.faces import load_detector
from udw.faces.cascade import CascadeDetector
from udw.faces.evaluate import match
from udw.faces.yolo import model_names, pick_classes
from udw.testing import face_scenes, nudenet

onnx = pytest.importorskip("onnx")
TRUTH = [(100, 100, 160, 160), (300, 40, 400, 140)]


def with_classes(src, dst, names, face_row):
    """The tiny detector with its face scores moved to class `face_row` of `names` (others 0)."""
    from onnx import TensorProto, helper

    model = onnx.load(str(src))
    graph = model.graph
    graph.node[-1].output[0] = "raw"

    def const(name, values):
        graph.initializer.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
    const("c_b0", [0]), const("c_b1", [4]), const("c_s1", [5]), const("c_ax", [1])
    graph.node.extend([helper.make_node("Slice", ["raw", "c_b0", "c_b1", "c_ax"], ["xywh"]),
                       helper.make_node("Slice", ["raw", "c_b1", "c_s1", "c_ax"], ["score"]),
                       helper.make_node("Sub", ["score", "score"], ["zero"])])
    rows = ["score" if k == face_row else "zero" for k in range(len(names))]
    graph.node.append(helper.make_node("Concat", ["xywh", *rows], ["output0"], axis=1))
    out = graph.output[0].type.tensor_type.shape.dim
    out[1].dim_value = 4 + len(names)
    helper.set_model_props(model, {"names": repr(dict(enumerate(names))), "imgsz": "[256, 256]"})
    onnx.save(model, str(dst))
    return dst


def test_names_metadata_and_class_choice():
    names = model_names({"names": "{0: 'person', 1: 'FACE_FEMALE', 2: 'FACE_MALE'}"}, 3)
    assert pick_classes(names, (), "m.onnx") == {1: "FACE_FEMALE", 2: "FACE_MALE"}
    assert pick_classes(names, ("person", "2"), "m.onnx") == {0: "person", 2: "FACE_MALE"}
    assert model_names({}, 1) == {0: "face"}  # a one-class export without names: a face model
    with pytest.raises(BadInput, match=r"has no face class \(its classes: 0: 0, 1: 1\)"):
        pick_classes(model_names({}, 2), (), "m.onnx")
    with pytest.raises(BadInput, match="has no class 'cat'"):
        pick_classes(names, ("cat",), "m.onnx")


def test_only_face_classes_count(tiny_yolo, tmp_path, magenta_frame):
    frame = magenta_frame((640, 320), TRUTH)
    multi = with_classes(tiny_yolo, tmp_path / "multi.onnx", ["person", "face", "hand"], face_row=1)
    det = load_detector(str(multi))
    assert det.classes == {1: "face"} and "classes face" in det.describe() and det.size == (256, 256)
    assert len(det.detect(frame)) == 2
    other = with_classes(tiny_yolo, tmp_path / "other.onnx", ["person", "face", "hand"], face_row=0)
    assert load_detector(str(other)).detect(frame) == []  # the hits are 'person': not faces
    assert len(load_detector(str(other), classes=["person"]).detect(frame)) == 2
    none = with_classes(tiny_yolo, tmp_path / "none.onnx", ["person", "car"], face_row=0)
    with pytest.raises(BadInput, match=r"none.onnx has no face class \(its classes: 0: person, 1: car\)"):
        load_detector(str(none))


@pytest.fixture(scope="module")
def nudenet_export():
    try:
        return nudenet.yolo_export()
    except nudenet.ExportUnavailable as exc:
        pytest.skip(str(exc))


def test_real_multiclass_export_counts_faces_only(nudenet_export, renpy_sprites, renpy_backgrounds, cascade_path):
    det = load_detector(str(nudenet_export))
    assert set(det.classes.values()) == {"FACE_FEMALE", "FACE_MALE"} and len(det.names) == 18
    everything = load_detector(str(nudenet_export), classes=list(det.names.values()))
    cascade = CascadeDetector(cascade_path, max_side=0, closeups=False)
    faces = face_scenes.sprite_faces(renpy_sprites, lambda img: [f.box for f in cascade.detect(img)],
                                     face_scenes.SPRITES[:4])
    scenes = face_scenes.build_scenes(faces, list(renpy_backgrounds.values()), n=4, bands=((0.15, 0.45),),
                                      two_share=0.0, cut_share=0.0, seed=2)
    found_right, extra = 0, 0
    for s in scenes:  # one person each
        found = det.detect(s.image)
        assert len(found) <= 1
        found_right += bool(match(s.truth, [f.box for f in found], 0.2))
        extra += len(everything.detect(s.image)) - len(found)
    assert found_right >= 3
    assert extra >= 1  # the other classes fire on these pictures: counting them would be wrong
    with pytest.raises(BadInput, match="FACE_FEMALE"):
        load_detector(str(nudenet_export), classes=["face"])
