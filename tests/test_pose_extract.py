"""DWPose extraction end to end on tiny ONNX graphs with the real I/O layouts."""

import cv2
import numpy as np
import pytest

from udw.core.errors import BadInput, ModelNotFound
from udw.core.ports import Ports
from udw.pose import PoseFrame, render_pose
from udw.pose.extract import ExtractOptions, PoseExtractor, select_person
from udw.pose.keypoints import L_SHO, NECK, R_EYE, R_SHO
from udw.testing.poses import figure
from udw.testing.tiny_pose import build_rtmpose, build_yolox

onnx = pytest.importorskip("onnx")

IN_H, IN_W = 384, 288


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("pose_models")
    # A skeleton in crop pixels on the half-pixel grid (decodes exactly); COCO-WholeBody order.
    pts = np.zeros((133, 2))
    pts[:, 0] = 40 + (np.arange(133) * 7) % 200 + 0.5
    pts[:, 1] = 30 + (np.arange(133) * 11) % 320
    scores = np.ones(133)
    scores[16] = 0.2          # r_ankle below DWPose's 0.3 threshold
    scores[100] = 0.0         # one left-hand point missing
    return {
        "dot": build_rtmpose(d / "dot.onnx", mode="dot"),
        "points": build_rtmpose(d / "points.onnx", mode="points", points=pts, scores=scores),
        "points_pts": pts,
        "no_right_hand": build_rtmpose(d / "nohand.onnx", mode="points", points=pts,
                                       scores=np.where(np.arange(133) >= 112, 0.0, 1.0)),
        "body17": build_rtmpose(d / "body17.onnx", mode="points", points=pts[:17], n_keypoints=17),
        "skeleton": build_rtmpose(d / "skeleton.onnx", mode="skeleton", n_keypoints=17),
        "bad": build_rtmpose(d / "bad.onnx", mode="points", points=pts[:10], n_keypoints=10),
        # two people in network pixels (640 x 640) and an empty detector
        "det": build_yolox(d / "det.onnx", [(40, 40, 200, 400, 0.9), (300, 100, 620, 620, 0.8)]),
        "det_empty": build_yolox(d / "det0.onnx", []),
        "dir": d,
    }


def red_dot(h, w, x, y):
    img = np.zeros((h, w, 3), np.uint8)
    cv2.circle(img, (x, y), 3, (255, 0, 0), -1)
    return img


@pytest.mark.parametrize("size, dot", [((300, 400), (250, 120)), ((500, 260), (60, 410))])
def test_crop_warp_and_inverse_on_real_pixels(models, size, dot):
    """Every keypoint follows the red dot; decoding must land on it in image pixels (both aspect branches)."""
    img = red_dot(*size, *dot)
    frame = PoseExtractor(models["dot"]).extract(img, ExtractOptions(boxes="whole")).frame
    (person,) = frame.people
    crop_px = max(size[1] / IN_W, size[0] / IN_H)  # image pixels per crop pixel
    assert np.abs(person.body[0, :2] - dot).max() <= 1.5 * crop_px + 0.5
    assert (frame.width, frame.height) == (size[1], size[0])


def test_simcc_decoding_reorders_coco_wholebody_into_openpose(models):
    pts = models["points_pts"]
    img = np.zeros((768, 576, 3), np.uint8)  # exactly 2x the crop: crop (x, y) -> image (2x, 2y)
    person = PoseExtractor(models["points"]).extract(img, ExtractOptions(boxes="whole", outside="keep")).frame.people[0]
    assert np.allclose(person.body[R_SHO, :2], 2 * pts[6]) and np.allclose(person.body[L_SHO, :2], 2 * pts[5])
    assert np.allclose(person.body[R_EYE, :2], 2 * pts[2])
    assert np.allclose(person.body[NECK, :2], (2 * pts[5] + 2 * pts[6]) / 2)
    assert person.body[10, 2] == 0  # r_ankle (COCO 16) under the threshold
    assert np.allclose(person.face[:68, :2], 2 * pts[23:91]) and np.allclose(person.face[68, :2], 2 * pts[2])
    assert np.allclose(person.hand_left[:, :2][person.hand_left[:, 2] > 0], 2 * np.delete(pts[91:112], 9, 0))
    assert person.hand_left[9, 2] == 0 and np.allclose(person.hand_right[:, :2], 2 * pts[112:133])
    plain = PoseExtractor(models["points"]).extract(img, ExtractOptions(boxes="whole", hands=False, face=False))
    assert plain.frame.people[0].hand_left is None and plain.frame.people[0].face is None
    no_hand = PoseExtractor(models["no_right_hand"]).extract(img, ExtractOptions(boxes="whole")).frame.people[0]
    assert no_hand.hand_right is None and no_hand.hand_left is not None  # null, as controlnet_aux writes it
    body_only = PoseExtractor(models["body17"]).extract(img, ExtractOptions(boxes="whole")).frame.people[0]
    assert body_only.hand_left is None and np.allclose(body_only.body[R_SHO, :2], 2 * pts[6])


def test_reads_a_rendered_skeleton(models):
    target = figure(arm_angle=100, knee_bend=30)
    img = render_pose(PoseFrame(512, 640, [target]), stick_scale=0.5)
    person = PoseExtractor(models["skeleton"]).extract(img, ExtractOptions(boxes="whole")).frame.people[0]
    others = [k for k in range(18) if k != NECK]
    assert np.abs(person.body[others, :2] - target.body[others, :2]).max() < 2.0


def test_detector_boxes_give_several_people_largest_first(models):
    img = np.zeros((300, 400, 3), np.uint8)  # 640 / 400 = 1.6: network boxes / 1.6 = image boxes
    result = PoseExtractor(models["points"], models["det"]).extract(img, ExtractOptions(boxes="detector", outside="clip"))
    a, b = result.frame.people
    assert a.area() > b.area()
    assert any("clipped" in n for n in result.notes)
    assert result.frame.outside() == []
    one = select_person(result.frame, "largest")
    assert len(one.people) == 1 and np.allclose(one.people[0].body, a.body)
    assert np.allclose(select_person(result.frame, 1).people[0].body, b.body)
    assert len(select_person(result.frame, "all").people) == 2
    with pytest.raises(BadInput, match="has 2 people"):
        select_person(result.frame, 5)


def test_dot_outside_every_box_means_nobody(models):
    img = red_dot(300, 400, 390, 10)
    result = PoseExtractor(models["dot"], models["det"]).extract(img, ExtractOptions(boxes="detector"))
    assert result.frame.people == []
    with pytest.raises(BadInput, match="no person found") as err:
        select_person(result.frame)
    assert "anime mode" in str(err.value)
    assert select_person(result.frame, blank_if_none=True).people == []
    # auto mode: nobody in the boxes -> the whole image is tried
    auto = PoseExtractor(models["dot"], models["det"]).extract(img, ExtractOptions(boxes="auto"))
    assert len(auto.frame.people) == 1 and "whole image" in auto.notes[0]


def test_auto_falls_back_to_the_whole_image_when_the_detector_finds_nobody(models):
    img = red_dot(300, 400, 200, 150)
    result = PoseExtractor(models["dot"], models["det_empty"]).extract(img)
    assert len(result.frame.people) == 1 and "found nobody" in result.notes[0]
    strict = PoseExtractor(models["dot"], models["det_empty"]).extract(img, ExtractOptions(boxes="detector"))
    assert strict.frame.people == []


def test_black_image_in_anime_mode_has_no_person(models):
    result = PoseExtractor(models["dot"]).extract(np.zeros((64, 64, 3), np.uint8), ExtractOptions(boxes="whole"))
    assert result.frame.people == []


@pytest.mark.parametrize("mode", ["drop", "clip", "keep"])
def test_points_off_the_canvas(models, mode):
    img = np.zeros((200, 576, 3), np.uint8)  # wide: the crop reaches far above and below the image
    result = PoseExtractor(models["points"]).extract(img, ExtractOptions(boxes="whole", outside=mode))
    assert result.notes and ("dropped" if mode == "drop" else "clipped" if mode == "clip" else "kept") in result.notes[0]
    assert bool(result.frame.outside()) == (mode == "keep")


def test_bad_and_missing_models(models, tmp_path, monkeypatch):
    with pytest.raises(BadInput, match="expected 17"):
        PoseExtractor(models["bad"]).extract(np.zeros((64, 64, 3), np.uint8), ExtractOptions(boxes="whole"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)
    with pytest.raises(ModelNotFound, match="dw-ll_ucoco_384.onnx") as err:
        PoseExtractor(ports=Ports(model_dirs={"pose": [str(tmp_path / "models")]})).extract(
            np.zeros((64, 64, 3), np.uint8), ExtractOptions(boxes="whole"))
    assert "yzd-v/DWPose" in str(err.value) and str(tmp_path / "models") in str(err.value)
    with pytest.raises(BadInput, match="unknown box mode"):
        ExtractOptions(boxes="nope")


def test_models_are_found_in_host_folders_by_name(models, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / "comfy" / "udw_pose"
    folder.mkdir(parents=True)
    (folder / "dw-ll_ucoco_384.onnx").write_bytes(models["dot"].read_bytes())
    ports = Ports(model_dirs={"pose": [str(folder)]})
    result = PoseExtractor(ports=ports).extract(red_dot(100, 100, 50, 50), ExtractOptions(boxes="whole"))
    assert len(result.frame.people) == 1
