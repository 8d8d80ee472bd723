"""The Tagging section inside a real A1111 WebUI (UDW_A1111_DIR), with a tiny tagger in models/udw/taggers."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.host
OPTS = [0.35, 0.85, False, False, "", 0, False, True, True]  # general .. drop_overlap


def fn_index(a1111, name):
    config = a1111.get("/config")
    return next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == name)


@pytest.fixture
def tiny(a1111, tiny_tagger):
    return tiny_tagger("v3", folder=a1111.base / "models" / "udw" / "taggers" / "wd-swinv2-tagger-v3")


def test_interrogate_through_the_tab_api(a1111, tiny):
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[8:40, 16:48] = (30, 200, 30, 255)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    status, body = a1111.post("/run/predict", {"fn_index": fn_index(a1111, "udw_interrogate"),
                                               "data": [data_url, "wd-swinv2-tagger-v3", "auto", False, *OPTS]},
                              timeout=120)
    assert status == 200, body
    tags, rating, _, as_json = body["data"]
    from udw.tagging import TagOptions, select
    from udw.tagging.labels import read_labels
    from udw.tagging.preprocess import prepare
    want = select(tiny.expected(prepare(Image.fromarray(rgba, "RGBA"), 64)), read_labels(tiny.csv), TagOptions())
    assert tags == want.prompt() and rating["label"] == want.rating and '"rating"' in as_json


def test_tag_a_folder_through_the_tab_api(a1111, tiny):
    src = a1111.base / "outputs" / "udw" / "to_tag"
    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(src / f"p{i}.png")
    status, body = a1111.post("/run/predict", {"fn_index": fn_index(a1111, "udw_tag_dataset"),
                                               "data": ["to_tag", "wd-swinv2-tagger-v3", "CPU", False, True, *OPTS]},
                              timeout=120)
    assert status == 200, body
    assert "tag: 3 done" in body["data"][0]
    assert len(list(src.glob("*.tags"))) == 3
