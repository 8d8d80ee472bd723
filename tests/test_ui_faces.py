"""The Faces & characters and Arrange & export sections, driven over the Gradio HTTP API."""

import shutil

import pytest
from PIL import Image

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.paths import Roots  # noqa: E402
from udw.ui import UiHost  # noqa: E402
from udw.testing.ui import shown_error


@pytest.fixture
def served(tmp_path, tiny_yolo, magenta_frame, serve_ui):
    root = tmp_path / "root"
    frames = root / "frames"
    frames.mkdir(parents=True)
    for name, boxes in {"a": [(100, 100, 160, 160)], "b": [(300, 40, 400, 140), (500, 200, 540, 240)], "c": []}.items():
        Image.fromarray(magenta_frame((640, 320), boxes)).save(frames / f"{name}.png")
    shutil.copy(tiny_yolo, root / "tiny.onnx")
    client = serve_ui(UiHost("standalone", Roots(root)))
    yield root, client


def test_faces_characters_arrange_export_over_http(served):
    root, client = served
    client.predict("ds", "frames", "copy", api_name="/udw_import")
    status, grid = client.predict("ds", "tiny.onnx", 0.25, 0.7, "25,50,75", "faces", False, 768,
                                  "tiny=60,70,80", "", api_name="/udw_faces")
    assert "3 faces in 2 images" in status and grid
    # the report: a bar per bucket, and the picture without a face; the tiny detector's own edges
    # (60,70,80) put both pictures (faces 19 % and 31 % of the height) in the first bucket
    assert "face_height_ratio_0-25 " in status and "25-50" not in status and "no face in: " in status and "c.png" in status
    result = client.predict("ds", "tiny.onnx", 0.25, 0.7, "25,50,75", "auto", False, 768, "", "person",
                            api_name="/udw_faces")
    assert "has no class 'person'" in shown_error(result)
    status, _ = client.predict("ds", "", "colour", "dbscan", 3, api_name="/udw_characters")
    assert "colour-v1" in status and "unknown_1 3" in status
    status, _ = client.predict("ds", "", "unknown_1=Mage", api_name="/udw_rename")
    assert "renamed unknown_1 -> Mage: 3 faces" in status and list((root / "ds/refs/Mage").glob("*.png"))
    args = ["ds", "train", "link", 1, "count,character,bucket", "{count}, {characters}, {facepos}", "anishot", "", False]
    status = client.predict(*args, api_name="/udw_arrange")
    assert "arranged 3 images" in status and "total" in status
    status = client.predict(*args, "kohya", "toml", "REPEATS", api_name="/udw_export")
    assert "dataset.toml" in status and (root / "train" / "dataset.toml").is_file()
    assert (root / "train" / "README.md").is_file()


def test_errors_are_readable(served):
    root, client = served
    result = client.predict("nothing", "auto", 0.25, 0.7, "25,50,75", "auto", False, 768, "", "",
                            api_name="/udw_faces")
    assert "not a UDW dataset" in shown_error(result)
    result = client.predict("ds", "/etc", "link", 1, "count", "{count}", "anishot", "", False, api_name="/udw_arrange")
    assert "outside the allowed folders" in shown_error(result)
