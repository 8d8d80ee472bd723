"""POSE_KEYPOINT JSON: round trips, comfyui_controlnet_aux's layout, files from other tools."""

import json

import numpy as np
import pytest

from udw.core.errors import BadInput
from udw.pose import frames_from_json, frames_to_json, load_pose_json, save_pose_json
from udw.pose.keypoints import L_SHO, NECK, R_SHO, PoseFrame
from udw.testing.poses import figure, hide


def aux_decode(frame: dict):
    """comfyui_controlnet_aux's reading of a frame (decode_json_as_poses), restated: points with
    c < 1 are dropped, parts may be null. Returns body points as (x, y) or None."""
    def points(numbers):
        if not numbers:
            return None
        assert len(numbers) % 3 == 0
        return [None if c < 1.0 else (x, y) for x, y, c in zip(numbers[::3], numbers[1::3], numbers[2::3])]

    return [{"body": points(p.get("pose_keypoints_2d")), "face": points(p.get("face_keypoints_2d")),
             "left": points(p.get("hand_left_keypoints_2d")), "right": points(p.get("hand_right_keypoints_2d"))}
            for p in frame.get("people", [])], frame["canvas_height"], frame["canvas_width"]


def test_output_has_controlnet_aux_layout_and_reads_back_there():
    person = hide(figure(hands=True, face=True), 9)  # r_knee not visible
    person.face = None
    data = frames_to_json([PoseFrame(512, 768, [person])])
    assert isinstance(data, list) and len(data) == 1
    frame = data[0]
    assert list(frame) == ["people", "canvas_height", "canvas_width"]
    assert frame["canvas_width"] == 512 and frame["canvas_height"] == 768
    p = frame["people"][0]
    assert list(p) == ["pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"]
    assert p["face_keypoints_2d"] is None and len(p["pose_keypoints_2d"]) == 54
    assert len(p["hand_left_keypoints_2d"]) == 63
    assert p["pose_keypoints_2d"][9 * 3:9 * 3 + 3] == [0.0, 0.0, 0.0]
    assert set(p["pose_keypoints_2d"][2::3]) == {0.0, 1.0}  # aux's renderer drops c < 1
    people, h, w = aux_decode(json.loads(json.dumps(data))[0])
    assert (h, w) == (768, 512) and people[0]["body"][9] is None and people[0]["face"] is None
    assert np.allclose(people[0]["body"][NECK], person.body[NECK, :2])


def test_round_trip_is_exact():
    frames = [PoseFrame(640, 480, [figure(hands=True, face=True), hide(figure(neck=(100, 90)), 0, 14)]),
              PoseFrame(640, 480, [])]
    again = frames_from_json(json.dumps(frames_to_json(frames)))
    assert frames_to_json(again) == frames_to_json(frames)
    assert again[1].people == [] and again[0].people[1].body[0, 2] == 0


def test_save_and_load_file(tmp_path):
    path = save_pose_json(tmp_path / "poses" / "b.json", [PoseFrame(512, 512, [figure()])])
    assert not list(path.parent.glob("*.udwtmp*"))
    (frame,) = load_pose_json(path)
    assert frame.width == 512 and np.allclose(frame.people[0].body, figure().body)


def test_nulls_missing_keys_single_frame_and_extras():
    raw = {"version": 1.3, "people": [{"pose_keypoints_2d": figure().body.ravel().tolist(),
                                       "hand_left_keypoints_2d": None}],
           "canvas_width": 512, "canvas_height": 512, "animals": []}
    (frame,) = frames_from_json(raw)  # one dict, not a list
    p = frame.people[0]
    assert p.hand_left is None and p.hand_right is None and p.face is None
    assert frames_to_json([frame])[0]["version"] == 1.3  # other tools' keys are kept
    (frame,) = frames_from_json([{"people": [{}], "canvas_width": 64, "canvas_height": 64}])
    assert frame.people[0].n_visible() == 0
    (frame,) = frames_from_json([{"canvas_width": 64, "canvas_height": 64}])
    assert frame.people == []


def test_normalised_coordinates_are_scaled_to_the_canvas():
    body = figure().body.copy()
    norm = body.copy()
    norm[:, 0] /= 512
    norm[:, 1] /= 1024
    (frame,) = frames_from_json([{"people": [{"pose_keypoints_2d": norm.ravel().tolist()}],
                                  "canvas_width": 512, "canvas_height": 1024}])
    assert np.allclose(frame.people[0].body, body)
    with pytest.raises(BadInput, match="canvas size"):
        frames_from_json([{"people": [{"pose_keypoints_2d": norm.ravel().tolist()}]}])
    (frame,) = frames_from_json([{"people": [{"pose_keypoints_2d": norm.ravel().tolist()}]}], canvas=(512, 1024))
    assert np.allclose(frame.people[0].body, body)


def test_cmu_body25_coco17_nested_and_68_point_faces():
    b = figure().body
    body25 = np.zeros((25, 3))
    for dst, src in enumerate((0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)):
        body25[src] = b[dst]
    body25[8] = (256, 300, 0.7)  # mid-hip, dropped
    (frame,) = frames_from_json({"version": 1.3, "people": [{"person_id": [-1],
                                                              "pose_keypoints_2d": body25.ravel().tolist(),
                                                              "face_keypoints_2d": [0.0] * 204}]})
    assert np.allclose(frame.people[0].body, b)
    assert frame.people[0].face.shape == (70, 3)
    assert (frame.width, frame.height) == (int(np.ceil(b[:, 0].max())) + 1, int(np.ceil(b[:, 1].max())) + 1)
    coco = np.zeros((17, 3))
    for dst, src in enumerate((0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)):
        if src >= 0:
            coco[src] = b[dst]
    (frame,) = frames_from_json({"people": [{"pose_keypoints_2d": coco.tolist()}],  # nested rows
                                 "canvas_width": 512, "canvas_height": 512})
    got = frame.people[0].body
    assert np.allclose(got[NECK, :2], (b[L_SHO, :2] + b[R_SHO, :2]) / 2)
    assert np.allclose(np.delete(got, NECK, 0), np.delete(b, NECK, 0))


@pytest.mark.parametrize("bad, message", [
    ("{not json", "not valid JSON"),
    ("[]", "no frames"),
    ('"text"', "not OpenPose JSON"),
    ('[{"people": [{"pose_keypoints_2d": [1, 2]}], "canvas_width": 8, "canvas_height": 8}]', "triples"),
    ('[{"people": [{"pose_keypoints_2d": [1, 2, 1, 4, 5, 1]}], "canvas_width": 8, "canvas_height": 8}]',
     "2 keypoints"),
    ('[{"people": [{"pose_keypoints_2d": "x"}], "canvas_width": 8, "canvas_height": 8}]', "list of numbers"),
    ('[{"people": {"a": 1}}]', "not a list"),
])
def test_bad_files_say_what_is_wrong(bad, message):
    with pytest.raises(BadInput, match=message):
        frames_from_json(bad)


def test_nan_and_missing_confidence_mean_not_visible():
    body = figure().body.ravel().tolist()
    body[0] = float("nan")
    body[5] = None
    (frame,) = frames_from_json([{"people": [{"pose_keypoints_2d": body}], "canvas_width": 512,
                                  "canvas_height": 512}])
    assert frame.people[0].body[0, 2] == 0 and frame.people[0].body[1, 2] == 0
    assert frame.people[0].n_visible() == 16
