"""The tagger nodes inside a fake ComfyUI: IMAGE batches, masks, model folders, datasets, workflow."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from udw.tagging import TagOptions, open_tagger, select
from udw.tagging import model as tagging_model
from udw.tagging.preprocess import prepare

DEFAULTS = dict(general_threshold=0.35, character_threshold=0.85, general_mcut=False, character_mcut=False,
                exclude_tags="", max_tags=0, replace_underscore=True, escape_brackets=True, drop_overlap=True)


pytestmark = pytest.mark.usefixtures("no_models")




@pytest.fixture
def installed(comfy, tiny_tagger):
    """A tiny v3 tagger where the node looks: models/udw_taggers/wd-swinv2-tagger-v3/."""
    return tiny_tagger("v3", folder=comfy.base / "models" / "udw_taggers" / "wd-swinv2-tagger-v3")


def batch(n=3, size=(96, 64)):
    rng = np.random.default_rng(1)
    return torch.from_numpy(rng.random((n, size[1], size[0], 3), dtype=np.float32))


def test_nodes_are_registered(comfy):
    names = comfy.pack.NODE_DISPLAY_NAME_MAPPINGS
    assert names["UDWWD14Tagger"] == "UDW WD14 Tagger" and names["UDWTagDataset"] == "UDW Tag Dataset"
    spec = comfy.nodes["UDWWD14Tagger"].INPUT_TYPES()
    assert spec["required"]["model"][1]["default"] == "wd-swinv2-tagger-v3"
    assert "wd-vit-tagger-v3" in spec["required"]["model"][0] and "mask" in spec["optional"]
    assert "udw_taggers" in __import__("folder_paths").folder_names_and_paths


def test_image_batch_gives_tags_confidences_and_ratings(comfy, installed):
    images = batch(3)
    (tags, conf, ratings), ui = comfy.run("UDWWD14Tagger", image=images, model="wd-swinv2-tagger-v3", **DEFAULTS)
    assert len(tags) == len(conf) == len(ratings) == 3
    labels = tagging_model.read_labels(installed.csv)
    for i in range(3):
        arr = (images[i].numpy() * 255 + 0.5).astype(np.uint8)
        want = select(installed.expected(prepare(arr, 64)), labels, TagOptions())
        assert tags[i] == want.prompt() and ratings[i] == want.rating
        assert json.loads(conf[i]) == want.confidences()
    assert ui["text"][0] == f"{ratings[0]}: {tags[0]}"
    assert comfy.progress[-1][:2] == (3, 3)


def test_mask_puts_transparent_parts_on_white(comfy, installed, tmp_path):
    rgba = np.zeros((64, 96, 4), np.uint8)
    rgba[16:48, 24:72] = (200, 30, 30, 255)           # opaque red box on a transparent black field
    Image.fromarray(rgba, "RGBA").save(comfy.base / "input" / "sprite.png")
    (image, mask), _ = comfy.run("LoadImage", image="sprite.png")
    (with_mask, _, _), _ = comfy.run("UDWWD14Tagger", image=image, mask=mask, model="wd-swinv2-tagger-v3",
                                     **{**DEFAULTS, "general_threshold": 0.0, "escape_brackets": False})
    (without, _, _), _ = comfy.run("UDWWD14Tagger", image=image, model="wd-swinv2-tagger-v3",
                                   **{**DEFAULTS, "general_threshold": 0.0, "escape_brackets": False})
    tagger = open_tagger(installed.onnx)
    opts = TagOptions(general=0.0, escape=False)
    on_white = select(tagger.predict(prepare(Image.open(comfy.base / "input" / "sprite.png"), 64)[None])[0],
                      tagger.labels, opts)
    assert with_mask == [on_white.prompt(opts)]
    assert without != with_mask  # black background without the mask: other scores


def test_model_folders_of_other_wd14_packs(comfy, tiny_tagger):
    flat = comfy.base / "custom_nodes" / "ComfyUI-WD14-Tagger" / "models"
    tiny_tagger("v2", folder=flat, onnx_name="wd-v1-4-moat-tagger-v2.onnx", csv_name="wd-v1-4-moat-tagger-v2.csv")
    tiny_tagger("v3", folder=comfy.base / "models" / "wd14_tagger" / "z3d", onnx_name="z3d.onnx",
                csv_name="tags-selected.csv")
    choices = comfy.nodes["UDWWD14Tagger"].INPUT_TYPES()["required"]["model"][0]
    assert "z3d/z3d.onnx" in choices and choices.count("wd-v1-4-moat-tagger-v2") == 1
    for model in ("wd-v1-4-moat-tagger-v2", "z3d/z3d.onnx"):
        (tags, _, _), _ = comfy.run("UDWWD14Tagger", image=batch(2), model=model, **DEFAULTS)
        assert len(tags) == 2


def test_missing_model_is_a_validation_error(comfy, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("UDW_MODEL_MIRROR", raising=False)
    assert comfy.validate("UDWWD14Tagger", {"model": "wd-vit-large-tagger-v3"}) is True  # arrives on first use
    monkeypatch.setenv("UDW_AUTO_DOWNLOAD", "0")  # the setting that turns downloads off
    msg = comfy.validate("UDWWD14Tagger", {"model": "wd-vit-large-tagger-v3", "allow_download": True})
    assert "wd-vit-large-tagger-v3 (model.onnx, selected_tags.csv) is not on this machine" in msg
    assert str(comfy.base / "models" / "udw_taggers") in msg and "udw models get wd-vit-large-tagger-v3" in msg
    assert comfy.validate("UDWTagDataset", {"model": None}) is True  # linked: checked when it runs


def test_dataset_node_tags_and_reports(comfy, installed, image_folder):
    shutil.copytree(image_folder, comfy.base / "input" / "pics")
    (ds, _), _ = comfy.run("UDWImportImages", source="pics", dataset="d", mode="copy")
    (ds2, report), ui = comfy.run("UDWTagDataset", dataset=ds, model="wd-swinv2-tagger-v3",
                                  write_sidecars=True, **DEFAULTS)
    assert ds2 is ds and "tag: 6 done" in report and "most frequent:" in report and ui["text"] == [report]
    assert len(list((ds.root / "images").glob("*.tags"))) == 6
    (_, report), _ = comfy.run("UDWTagDataset", dataset=ds, model="wd-swinv2-tagger-v3",
                               write_sidecars=True, **DEFAULTS)
    assert "0 done, 6 already done" in report


def test_shipped_workflow_runs(comfy, installed, load_workflow, make_image):
    make_image(comfy.base / "input" / "udw_tag_example.png", 4, (120, 80), "RGBA")
    out = comfy.run_workflow(load_workflow("tag_images.api.json"))
    tags, conf, ratings = out["2"]
    assert len(tags) == 1 and ratings[0] in ("general", "sensitive", "questionable", "explicit")
    assert comfy.previews == [tags[0], conf[0], ratings[0]]  # PreviewAny ran once per image
    assert set(json.loads(conf[0])) == {t.replace("\\", "") for t in tags[0].split(", ")}
