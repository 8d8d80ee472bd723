"""The pose section of the shared Gradio UI, driven over HTTP (standalone app and A1111 bridge)."""

import base64
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from PIL import Image

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
pytest.importorskip("onnx")

from udw.core.paths import Roots  # noqa: E402
from udw.pose import PoseFrame, frames_from_json, frames_to_json, render_pose  # noqa: E402
from udw.pose.keypoints import NECK, R_ELB  # noqa: E402
from udw.testing.poses import figure  # noqa: E402
from udw.testing.tiny_pose import build_embedder, build_rtmpose  # noqa: E402
from udw.ui import UiHost, build_blocks  # noqa: E402
from udw.testing.ui import shown_error


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    build_rtmpose(folder / "pose" / "dw-ll_ucoco_384.onnx", mode="skeleton", n_keypoints=17)
    build_embedder(folder / "embedders" / "ccip_caformer_24" / "model_feat.onnx", size=64)
    monkeypatch.setenv("UDW_MODELS_DIR", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return folder


def serve(host: UiHost):
    blocks = build_blocks(host)
    blocks.queue()
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return blocks, gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)


@pytest.fixture
def standalone(tmp_path, models):
    root = tmp_path / "root"
    root.mkdir()
    blocks, client = serve(UiHost("standalone", Roots(root)))
    yield root, client
    blocks.close()


def save(root, name, array):
    path = root / name
    Image.fromarray(array).save(path)
    return gradio_client.handle_file(str(path))


def skeleton_of(person, size=(256, 320)):
    return render_pose(PoseFrame(size[0], size[1], [person]), stick_scale=0.5)


def test_prepare_from_json_picture_and_with_retargeting(standalone):
    root, client = standalone
    b = figure(neck=(128, 80), torso=100, shoulder=30, upper_arm=45, forearm=40, hip=18, thigh=55, shin=50,
               head=25, arm_angle=110)
    text = json.dumps(frames_to_json([PoseFrame(256, 320, [b])]))
    none = None
    skel, js, status = client.predict(none, none, False, text, "anime (whole image)", True, True, 0.0, 0, 0,
                                      api_name="/udw_pose_prepare")
    assert "pose ready" in status and "(448x576)" in status  # the canvas aspect at ~512x512 px, 64-aligned
    assert frames_from_json(js)[0].people[0].n_visible() == 18
    # from a picture (the tiny DWPose-layout model reads skeleton colours)
    src = save(root, "b.png", skeleton_of(b))
    skel, js, status = client.predict(none, src, False, "", "anime (whole image)", False, False, 0.0, 256, 320,
                                      api_name="/udw_pose_prepare")
    got = frames_from_json(js)[0].people[0].body
    assert np.abs(got[R_ELB, :2] - b.body[R_ELB, :2]).max() < 2.5
    assert Image.open(skel).size == (256, 320)
    # retargeted to a chibi reference's proportions
    chibi = figure(neck=(128, 90), torso=60, shoulder=25, upper_arm=25, forearm=22, hip=14, thigh=28, shin=25,
                   head=40)
    ref = save(root, "a.png", skeleton_of(chibi))
    _, js_rt, status = client.predict(ref, src, False, "", "anime (whole image)", False, False, 1.0, 256, 320,
                                      api_name="/udw_pose_prepare")
    new = frames_from_json(js_rt)[0].people[0].body
    assert "torso" in status and np.allclose(new[NECK, :2], got[NECK, :2], atol=0.01)
    assert np.linalg.norm(new[0, :2] - new[NECK, :2]) > 1.5 * np.linalg.norm(got[0, :2] - got[NECK, :2])
    result = client.predict(none, none, False, "", "anime (whole image)", True, True, 0.0, 0, 0,
                            api_name="/udw_pose_prepare")
    assert "no pose given" in shown_error(result, 2)


@pytest.mark.slow
def test_generate_and_score_in_the_standalone_app(standalone):
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from udw.testing import tiny_sd
    from udw.testing.tiny_controlnet import build_controlnet

    root, client = standalone
    tiny_sd.build_checkpoint(root / "models" / "tiny.safetensors", seed=5)
    build_controlnet(root / "models" / "cn.safetensors", seed=3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        person = figure(neck=(32, 14), torso=22, shoulder=7, upper_arm=10, forearm=9, hip=4, thigh=12, shin=11, head=6)
        skel = save(root, "skel.png", render_pose(PoseFrame(64, 64, [person]), stick_scale=0.5))
        ref = save(root, "ref.png", np.full((64, 64, 3), 200, np.uint8))
        image, status = client.predict(ref, skel, "", "1girl", "lowres", 2, 5.0, 3, 1.0, 1.0, 0.5, 0.0, 1.0,
                                       "models/tiny.safetensors", "models/cn.safetensors", api_name="/udw_pose_transfer")
        assert "seed 3, 64x64" in status and Image.open(image).size == (64, 64)
        result = client.predict(ref, skel, "", "1girl", "", 2, 5.0, 3, 1.0, 1.0, 0.5, 0.0, 1.0, "/etc/passwd",
                                "models/cn.safetensors", api_name="/udw_pose_transfer")
        assert "outside the allowed folder" in shown_error(result, 1)
    finally:
        torch.set_num_threads(threads)
    pose = json.dumps(frames_to_json([PoseFrame(64, 64, [person])]))
    text = client.predict(skel, skel, pose, "anime (whole image)", api_name="/udw_pose_eval")
    assert "pose error 0.0" in text and "identity similarity 1.0000" in text


# -- A1111: the section hands the pose to the ControlNet extension's API ----------------------------
class FakeA1111(BaseHTTPRequestHandler):
    received: list = []

    def log_message(self, *args):
        pass

    def _send(self, data):
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send({"model_list": ["control_v11p_sd15_canny [d14c016b]", "control_v11p_sd15_openpose [cab727d4]"]})

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeA1111.received.append(payload)
        buf = io.BytesIO()
        Image.new("RGB", (payload["width"], payload["height"]), (10, 20, 30)).save(buf, format="PNG")
        self._send({"images": [base64.b64encode(buf.getvalue()).decode()], "info": json.dumps({"seed": 42})})


def test_a1111_hands_pose_and_reference_to_controlnet(tmp_path, models):
    root = tmp_path / "root"
    root.mkdir()
    server = HTTPServer(("127.0.0.1", 0), FakeA1111)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    missing, c1 = serve(UiHost("a1111", Roots(root)))
    ready, c2 = serve(UiHost("a1111", Roots(root), a1111_api=api, controlnet_extension="sd-webui-controlnet"))
    try:
        skel = save(root, "s.png", skeleton_of(figure(neck=(128, 80), torso=100), size=(256, 384)))
        ref = save(root, "r.png", np.full((64, 64, 3), 90, np.uint8))
        args = (ref, skel, "1girl", "lowres", 20, 7.0, 5, 0.8, 0.9, 0.4, 0.0, 0.9)
        assert "sd-webui-controlnet" in shown_error(c1.predict(*args, api_name="/udw_pose_controlnet"), 1)
        image, status = c2.predict(*args, api_name="/udw_pose_controlnet")
        assert "seed 42" in status and "control_v11p_sd15_openpose [cab727d4]" in status
        payload = FakeA1111.received[-1]
        assert (payload["width"], payload["height"], payload["seed"]) == (256, 384, 5)
        assert payload["override_settings"] == {"CLIP_stop_at_last_layers": 2}
        pose_unit, ref_unit = payload["alwayson_scripts"]["controlnet"]["args"]
        assert pose_unit["module"] == "none" and pose_unit["weight"] == 0.8 and pose_unit["guidance_end"] == 0.9
        assert ref_unit["module"] == "reference_only" and ref_unit["threshold_a"] == 0.4 and ref_unit["weight"] == 0.9
        sent = Image.open(io.BytesIO(base64.b64decode(pose_unit["image"])))
        assert sent.size == (256, 384)
        assert Image.open(image).size == (256, 384)
    finally:
        missing.close()
        ready.close()
        server.shutdown()
