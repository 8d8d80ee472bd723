"""The dedupe nodes inside the fake ComfyUI, and the shipped dedupe workflow."""

import numpy as np
import pytest
import torch

from udw.dedupe.synthetic import scene, variant, write_set




@pytest.fixture
def pics(comfy):
    folder = comfy.base / "input" / "udw_sample_images"
    write_set(folder, scenes=5, variants_per_scene=3, negatives=1, seed=2, size=(160, 90))
    (folder / "truth.json").unlink()
    return folder


def test_nodes_are_registered_with_titles_and_tooltips(comfy):
    names = comfy.pack.NODE_DISPLAY_NAME_MAPPINGS
    assert names["UDWRemoveDuplicates"] == "UDW Remove Duplicates"
    assert {"UDWDedupeImages", "UDWRestoreDuplicates"} <= set(comfy.nodes)
    spec = comfy.nodes["UDWRemoveDuplicates"].INPUT_TYPES()
    assert spec["required"]["dataset"][0] == "UDW_DATASET" and "tooltip" in spec["required"]["threshold"][1]
    assert comfy.nodes["UDWRemoveDuplicates"].RETURN_TYPES == ("UDW_DATASET", "IMAGE", "STRING")


def test_remove_then_restore(comfy, pics):
    (ds, _), _ = comfy.run("UDWImportImages", source="udw_sample_images", dataset="d", mode="copy")
    (out, grid, report), ui = comfy.run("UDWRemoveDuplicates", dataset=ds, method="structure", threshold=0.96,
                                        keep="sharpest", linkage="direct", action="move", preview_clusters=4)
    assert out is ds and grid.shape[0] == 1 and grid.shape[3] == 3 and "clusters" in report
    assert ui["text"] == [report] and (comfy.base / "temp" / ui["images"][0]["filename"]).is_file()
    assert ds.count("duplicate") >= 10 and (ds.root / "duplicates").is_dir()
    assert comfy.progress[-1][0] == comfy.progress[-1][1]
    fp = comfy.nodes["UDWRemoveDuplicates"].IS_CHANGED(dataset=ds)
    comfy.run("UDWRemoveDuplicates", dataset=ds, method="structure", threshold=0.96, keep="sharpest",
              linkage="direct", action="move", preview_clusters=4)
    assert comfy.nodes["UDWRemoveDuplicates"].IS_CHANGED(dataset=ds) == fp   # same result: manifest untouched
    (_, text), _ = comfy.run("UDWRestoreDuplicates", dataset=ds)
    assert "restored" in text and ds.count("duplicate") == 0 and not (ds.root / "duplicates").exists()


def test_no_duplicates_still_gives_a_preview(comfy):
    folder = comfy.base / "input" / "distinct"
    folder.mkdir()
    for k in range(3):
        scene(40 + k, (160, 90)).save(folder / f"{k}.png")
    (ds, _), _ = comfy.run("UDWImportImages", source="distinct", dataset="d3", mode="copy")
    (_, grid, report), _ = comfy.run("UDWRemoveDuplicates", dataset=ds, method="phash", threshold=0.9,
                                     keep="largest", linkage="chain", action="mark", preview_clusters=8)
    assert "marked 0 duplicates" in report and grid.shape[0] == 1 and ds.count() == 3


def test_threshold_and_choices_are_validated(comfy):
    check = lambda **kw: comfy.validate("UDWRemoveDuplicates", {"dataset": None, **kw})
    assert check(method="structure", threshold=0.96, keep="sharpest", linkage="direct", action="mark") is True
    msg = check(method="structure", threshold=0.2, keep="sharpest", linkage="direct", action="mark")
    assert "out of range" in msg and "0.5 to 1.0" in msg
    assert "unknown dedupe method" in check(method="sift", threshold=0.9)
    assert check(method=None, threshold=None) is True                     # linked inputs: checked at run time
    assert "out of range" in comfy.validate("UDWDedupeImages", {"images": None, "method": "phash", "threshold": 1.5})
    with pytest.raises(ValueError, match="out of range"):
        comfy.run("UDWDedupeImages", images=torch.zeros(1, 8, 8, 3), method="dhash", threshold=0.1,
                  keep="earliest", linkage="direct")


def test_image_batch_node(comfy):
    a, b = scene(7, (160, 96)), scene(8, (160, 96))
    frames = [a, variant(a, "jpeg", 1), b, variant(a, "bright", 2), variant(b, "patch", 3)]
    batch = torch.from_numpy(np.stack([np.asarray(f.convert("RGB").resize((160, 96))) for f in frames]).astype(np.float32) / 255)
    (kept, indices, report), _ = comfy.run("UDWDedupeImages", images=batch, method="structure", threshold=0.96,
                                           keep="earliest", linkage="direct")
    # the copies of a go; the patch on b is another drawing (the verifier keeps it)
    assert indices == "0,2,4" and kept.shape == (3, 96, 160, 3) and torch.equal(kept[1], batch[2])
    assert "kept 3" in report


def test_shipped_workflow_runs(comfy, pics, load_workflow):
    outputs = comfy.run_workflow(load_workflow("dedupe.api.json"))
    ds = outputs["2"][0]
    assert ds.count("duplicate") >= 10 and outputs["2"][1].shape[0] == 1
    assert outputs["3"][0].shape[0] == 1 and ds.count() == len(list(pics.iterdir())) - ds.count("duplicate")
