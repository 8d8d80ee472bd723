"""YOLOv8-layout detection: letterbox, decoding, NMS, and a tiny real ONNX detector end to end."""

import numpy as np
import pytest

from udw.core.errors import BadInput, ModelNotFound
from udw.core.ports import Ports
from udw.faces import load_detector
from udw.faces.geometry import iou
from udw.faces.yolo import decode, letterbox, nms


def test_letterbox_fixed_and_dynamic_inputs():
    img = np.zeros((320, 640, 3), np.uint8)
    canvas, lb = letterbox(img, (256, 256))
    assert canvas.shape == (256, 256, 3) and lb.scale == pytest.approx(0.4)
    assert (lb.pad_x, lb.pad_y) == (0, 64) and canvas[0, 0, 0] == 114 and canvas[100, 100, 0] == 0
    back = lb.to_image(np.array([[0.0, 64.0, 256.0, 192.0]]), 640, 320)
    assert back.tolist() == [[0, 0, 640, 320]]
    canvas, lb = letterbox(np.zeros((300, 500, 3), np.uint8), None, max_size=640)
    assert canvas.shape[1] == 640 and canvas.shape[0] % 32 == 0 and canvas.shape[0] >= 384


def test_decode_filters_by_confidence_and_suppresses_overlaps():
    # columns: two overlapping boxes of class 0, one far box of class 1, one weak box
    out = np.array([[50, 52, 200, 50],      # cx
                    [50, 50, 200, 50],      # cy
                    [20, 20, 30, 20],       # w
                    [20, 20, 30, 20],       # h
                    [0.9, 0.8, 0.1, 0.1],   # class 0
                    [0.0, 0.0, 0.7, 0.2]], np.float32)
    boxes, scores, classes = decode(out, conf=0.25, iou=0.7)
    assert boxes.tolist() == [[40, 40, 60, 60], [185, 185, 215, 215]]
    assert scores.tolist() == pytest.approx([0.9, 0.7]) and classes.tolist() == [0, 1]
    assert len(decode(out, conf=0.25, iou=0.95)[0]) == 3  # a looser IoU keeps the overlap
    assert decode(out, conf=0.25, iou=0.7, classes=[1])[2].tolist() == [1]
    with pytest.raises(BadInput):
        decode(np.zeros((4, 3)), 0.2, 0.7)


def test_nms_keeps_best_first():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.5, 0.9, 0.3]), 0.5) == [1, 2]


def test_tiny_detector_finds_the_faces_end_to_end(tiny_yolo, magenta_frame):
    det = load_detector(str(tiny_yolo))
    truth = [(100, 100, 160, 160), (300, 40, 400, 140), (500, 200, 540, 240)]
    faces = det.detect(magenta_frame((640, 320), truth))
    assert len(faces) == 3
    for t in truth:
        assert max(iou(f.box, t) for f in faces) > 0.95
    assert all(f.score > 0.9 and f.detector == "tiny_face" for f in faces)
    assert det.detect(magenta_frame((640, 320), [])) == []


def test_confidence_is_settable(tiny_yolo, magenta_frame):
    frame = magenta_frame((640, 320), [(103, 97, 171, 165)])  # off the model's grid: a weaker hit
    assert len(load_detector(str(tiny_yolo), conf=0.25).detect(frame)) == 1
    assert load_detector(str(tiny_yolo), conf=0.9).detect(frame) == []


def test_catalogue_detector_found_in_a_host_model_folder(tiny_yolo, tmp_path):
    folder = tmp_path / "detectors" / "face_detect_v1.4_n"
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(tiny_yolo.read_bytes())
    det = load_detector("face_detect_v1.4_n", Ports(model_dirs={"detectors": [str(tmp_path / "detectors")]}))
    assert det.name == "face_detect_v1.4_n" and det.conf == 0.25 and det.iou == 0.7


def test_missing_and_broken_models_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)
    with pytest.raises(ModelNotFound, match="face_detect_v1.4_s"):
        load_detector("face_detect_v1.4_s")
    with pytest.raises(ModelNotFound, match="no face detector is on this machine") as err:
        load_detector("auto")
    assert "lbpcascade_animeface.xml" in str(err.value)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(BadInput, match="not a usable ONNX model"):
        load_detector(str(bad))
    with pytest.raises(BadInput, match="no such detector file"):
        load_detector(str(tmp_path / "missing.onnx"))
