"""The pose section inside a real AUTOMATIC1111 WebUI (UDW_A1111_DIR), without the ControlNet extension."""

import json

import pytest

pytestmark = pytest.mark.host


def dependency(config, api_name):
    return next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api_name)


def test_pose_section_prepares_and_says_controlnet_is_needed(a1111):
    from udw.pose import PoseFrame, frames_to_json
    from udw.testing.poses import figure

    config = a1111.get("/config")
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"udw_pose_prepare_btn", "udw_pose_generate_btn", "udw_pose_skeleton"} <= ids
    text = json.dumps(frames_to_json([PoseFrame(256, 384, [figure(neck=(128, 80), torso=100)])]))
    data = [None, None, False, text, "anime (whole image)", True, True, 0.0, 0, 0]
    status, body = a1111.post("/run/predict", {"fn_index": dependency(config, "udw_pose_prepare"), "data": data},
                              timeout=120)
    assert status == 200, body
    image, pose_json, message = body["data"]
    assert "pose ready" in message and json.loads(pose_json)[0]["canvas_width"] == 256
    assert str(image).startswith("data:image/png;base64,") or (isinstance(image, dict) and image.get("name"))
    data = [None, image, "1girl", "lowres", 20, 7.0, 1, 1.0, 1.0, 0.5, 0.0, 1.0]
    status, body = a1111.post("/run/predict", {"fn_index": dependency(config, "udw_pose_controlnet"), "data": data},
                              timeout=120)
    assert "sd-webui-controlnet" in json.dumps(body) and "is not installed" in json.dumps(body)
