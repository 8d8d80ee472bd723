"""The Build section over the Gradio HTTP API: a video in, a dataset, a training folder and a page out."""


import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.manifest import Dataset  # noqa: E402
from udw.core.paths import Roots  # noqa: E402
from udw.samples import generate_samples  # noqa: E402
from udw.ui import UiHost  # noqa: E402
from udw.testing.ui import shown_error


@pytest.fixture
def served(tmp_path, cascade_path, monkeypatch, serve_ui):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = tmp_path / "root"
    generate_samples(root / "episodes", episodes=1, duration_s=4.0, width=320, height=180, containers=("mp4",))
    host = UiHost("standalone", Roots(root), model_dirs={"detectors": [str(cascade_path.parent)]})
    client = serve_ui(host)
    yield root, client


def test_build_from_a_video_over_http(served):
    root, client = served
    steps = ["frames", "dedupe", "tag", "faces", "characters", "export", "gallery"]
    # the API answer is the report (the grid is drawn by a second, silent step in the page)
    status = client.predict("episodes", "ds", "", steps, "train", "kohya", api_name="/udw_build")
    assert "frames: " in status and "kept from 1 of 1 video" in status
    assert "tag: skipped" in status and "put model.onnx" in status  # no tagger here: says what to do
    assert "faces: " in status and "export: arranged" in status
    assert 'data-udw="warning"' in status and "<b>tag</b>: skipped" in status  # the amber box names it
    assert (root / "train" / "dataset.toml").is_file()
    assert f"open {root / 'ds' / 'previews' / 'gallery' / 'index.html'}" in status
    assert Dataset(root / "ds").stage_summary()["faces"]["ok"] == Dataset(root / "ds").count()


def test_build_refuses_paths_outside_the_roots(served):
    _, client = served
    status = client.predict("/etc", "ds", "", ["frames"], "", "kohya", api_name="/udw_build")
    assert "outside the allowed folders" in shown_error(status)
