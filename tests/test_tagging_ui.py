"""The Tagging section of the shared Blocks, driven over HTTP like a user's browser would."""

import json

import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.paths import Roots  # noqa: E402
from udw.models import onnx as udw_onnx  # noqa: E402
from udw.tagging import TagOptions, select  # noqa: E402
from udw.tagging import model as tagging_model  # noqa: E402
from udw.tagging.preprocess import prepare  # noqa: E402
from udw.ui import UiHost  # noqa: E402
from udw.testing.ui import shown_error

OPTS = [0.35, 0.85, False, False, "", 0, False, True, True]  # general .. drop_overlap


@pytest.fixture
def served(tmp_path, tiny_tagger, monkeypatch, serve_ui):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tagging_model.clear_cache()
    udw_onnx.clear_cache()
    root = tmp_path / "root"
    models = tmp_path / "models" / "taggers"
    tiny = tiny_tagger("v3", folder=models / "wd-swinv2-tagger-v3")
    client = serve_ui(UiHost("standalone", Roots(root), model_dirs={"taggers": [str(models)]}))
    yield root, tiny, client


def test_interrogate_one_image(served, make_image, tmp_path):
    root, tiny, client = served
    path = make_image(tmp_path / "one.png", 5, (90, 60), "RGBA")
    tags, rating, conf, as_json = client.predict(gradio_client.handle_file(str(path)), "wd-swinv2-tagger-v3",
                                                 "auto", False, *OPTS, api_name="/udw_interrogate")
    from PIL import Image
    want = select(tiny.expected(prepare(Image.open(path), 64)), tagging_model.read_labels(tiny.csv), TagOptions())
    assert tags == want.prompt()
    assert rating["label"] == want.rating
    assert json.loads(as_json)["general"] == {k.replace("_", " ") if k not in (">_<", "^_^") else k: round(v, 4)
                                              for k, v in want.general.items()}
    assert {c["label"] for c in conf["confidences"]} == set(want.confidences())


def test_tag_a_plain_folder_and_bad_model(served, image_folder):
    root, tiny, client = served
    import shutil
    shutil.copytree(image_folder, root / "pics")
    status = client.predict("pics", "wd-swinv2-tagger-v3", "CPU", False, True, *OPTS, api_name="/udw_tag_dataset")
    assert "tag: 6 done" in status and "new dataset in place" in status and "most frequent" in status
    assert len(list((root / "pics").glob("*.tags"))) == 6
    result = client.predict("pics", "wd-vit-large-tagger-v3", "auto", False, True, *OPTS, api_name="/udw_tag_dataset")
    assert "wd-vit-large-tagger-v3" in shown_error(result)
