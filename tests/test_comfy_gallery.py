"""The gallery nodes and the /udw routes inside a fake ComfyUI (aiohttp test server)."""

import asyncio
import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from udw.gallery.meta_write import save_image
from udw.gallery.metadata import read_metadata

web = pytest.importorskip("aiohttp.web")
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402




@pytest.fixture
def comfy_env(comfy, monkeypatch, tmp_path):
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    return comfy


def batch(n=3, h=40, w=64):
    arr = np.zeros((n, h, w, 3), dtype=np.float32)
    for i in range(n):
        arr[i, :, : (i + 1) * 10] = [0.9, 0.2 * i, 0.1]
    return torch.from_numpy(arr)


API_GRAPH = {"3": {"class_type": "KSampler", "inputs": {"seed": 77, "steps": 9, "cfg": 5.0, "sampler_name": "euler",
                                                       "scheduler": "normal", "positive": ["6", 0], "negative": ["7", 0],
                                                       "model": ["4", 0], "latent_image": ["5", 0]}},
             "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "udw.safetensors"}},
             "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 40, "batch_size": 3}},
             "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "1girl <script>", "clip": ["4", 1]}},
             "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "lowres", "clip": ["4", 1]}}}


def test_gallery_node_saves_a_gallery_folder(comfy_env):
    comfy = comfy_env
    assert {"UDWGallery", "UDWDatasetImages"} <= set(comfy.nodes)
    (grid,), ui = comfy.run("UDWGallery", images=batch(), columns=3, cell=64, title="t", save=True,
                            filename_prefix="gal", labels="first\nsecond", prompt=API_GRAPH,
                            extra_pnginfo={"workflow": {"nodes": []}})
    assert grid.shape[0] == 1 and grid.shape[3] == 3
    folder = comfy.base / "output" / "gal_00001"
    assert [e["label"] for e in ui["udw_gallery"]] == ["first", "second", "#3"]
    assert all((folder / "images" / e["filename"]).is_file() for e in ui["udw_gallery"])
    assert (folder / "grid.png").is_file() and (folder / "index.html").is_file() and (folder / "index.md").is_file()
    meta = read_metadata(folder / "images" / "0001.png")
    assert meta.comfy_prompt == API_GRAPH and meta.comfy_workflow == {"nodes": []}
    assert meta.info.seed == 77 and meta.info.params["Label"] == "first"
    page = (folder / "index.html").read_text()
    assert page.count("<figure>") == 3 and page.count("<script>") == 1 and "1girl &lt;script&gt;" in page
    comfy.run("UDWGallery", images=batch(1), columns=0, cell=64, title="", save=False, filename_prefix="gal")
    assert (comfy.base / "temp" / "gal_00001" / "images" / "0001.png").is_file()
    _, ui = comfy.run("UDWGallery", images=batch(1), columns=0, cell=64, title="", save=True, filename_prefix="gal")
    assert ui["udw_gallery"][0]["subfolder"] == "gal_00002/images"
    assert "may not contain" in comfy.validate("UDWGallery", {"filename_prefix": "../evil"})


def test_dataset_gallery_workflow(comfy_env, image_folder, load_workflow):
    comfy = comfy_env
    shutil.copytree(image_folder, comfy.base / "input" / "udw_sample_images")
    out = comfy.run_workflow(load_workflow("dataset_gallery.api.json"))
    images, labels, matched = out["2"]
    assert images.shape == (6, 256, 256, 3) and matched == 6 and labels.split("\n")[0] == "frame 00"
    assert out["3"][0].shape[0] == 1
    assert len(list((comfy.base / "output" / "udw_gallery_00001" / "images").glob("*.png"))) == 6


# -- routes ----------------------------------------------------------------------------------------
def make_dataset(comfy, make_image):
    from udw.core.manifest import Dataset

    root = comfy.base / "output" / "udw" / "ds"
    ds = Dataset.open_or_create(root)
    with ds.transaction() as conn:
        for i in range(5):
            rel = f"images/f{i}.png"
            make_image(root / rel, i)
            item = ds.add_item(conn, rel, f"k{i}", bucket="b1" if i < 3 else "b2")
            conn.execute("INSERT INTO tags VALUES(?,?,?,?)", (item, "1girl" if i % 2 else "scenery", "general", .8))
            conn.execute("INSERT INTO tags VALUES(?,?,?,?)",
                         (item, '"><img src=x onerror=alert(1)>', "general", .5))
    os.remove(root / "images/f4.png")  # deleted, still in the manifest
    return ds


def run_client(comfy, coro_fn):
    async def main():
        app = web.Application()
        app.add_routes(comfy.routes)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            return await coro_fn(client)
        finally:
            await client.close()
    return asyncio.run(main())


def test_routes_browse_filter_edit(comfy_env, make_image):
    comfy = comfy_env
    make_dataset(comfy, make_image)

    async def flow(c):
        r = await c.get("/udw/browser/datasets")
        found = (await r.json())["datasets"]
        assert [d["label"] for d in found] == ["udw/ds"]
        ds = found[0]["path"]
        page = await (await c.get("/udw/browser/page", params={"dataset": ds})).json()
        assert page["total"] == 5 and len(page["items"]) == 5
        page = await (await c.get("/udw/browser/page", params={"dataset": ds, "tags": "1girl"})).json()
        assert page["total"] == 2
        page = await (await c.get("/udw/browser/page", params={"dataset": "ds", "bucket": "b2", "limit": 1})).json()
        assert page["total"] == 2 and len(page["items"]) == 1
        facets = await (await c.get("/udw/browser/facets", params={"dataset": ds})).json()
        assert [b["value"] for b in facets["buckets"]] == ["b1", "b2"]
        r = await c.get("/udw/browser/thumb", params={"dataset": ds, "id": 1})
        assert r.status == 200 and r.content_type == "image/jpeg" and (await r.read())[:2] == b"\xff\xd8"
        r = await c.get("/udw/browser/thumb", params={"dataset": ds, "id": 5})  # deleted file: placeholder
        assert r.status == 200
        r = await c.get("/udw/browser/image", params={"dataset": ds, "id": 5})
        assert r.status == 404 and "missing" in (await r.json())["error"]
        item = await (await c.get("/udw/browser/item", params={"dataset": ds, "id": 2})).json()
        assert {t["tag"] for t in item["tags"]} == {"1girl", '"><img src=x onerror=alert(1)>'}
        r = await c.post("/udw/browser/tags", json={"dataset": ds, "id": 2, "tags": ["1girl", "armor"]})
        assert r.status == 200 and (await r.json())["added"] == 1
        r = await c.post("/udw/browser/tags", data="dataset=x&id=2", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 415
        r = await c.post("/udw/browser/batch", json={"dataset": ds, "filter": {"tags": "scenery"}, "op": "add",
                                                     "arg1": "sky", "dry_run": True})
        assert (await r.json())["items"] == 3
        r = await c.post("/udw/browser/move", json={"dataset": ds, "id": 1, "bucket": "b9"})
        assert r.status == 200 and "updated" in (await r.json())["summary"]
        r = await c.post("/udw/browser/check", json={"dataset": ds, "filter": {}})
        assert (await r.json())["missing"] == 1
        sugg = await (await c.get("/udw/browser/suggest", params={"dataset": ds, "prefix": "ar"})).json()
        assert sugg["tags"] == [{"tag": "armor", "count": 1}]
        r = await c.get("/udw/browser/page", params={"dataset": ds, "cluster": "x"})
        assert r.status == 400
        r = await c.get("/udw/browser/item", params={"dataset": ds, "id": 999})
        assert r.status == 404
    run_client(comfy, flow)


def test_routes_refuse_traversal(comfy_env, make_image, tmp_path):
    comfy = comfy_env
    make_dataset(comfy, make_image)
    secret = tmp_path / "secret"
    secret.mkdir()
    make_image(secret / "s.png", 1)
    os.symlink(secret, comfy.base / "output" / "link")
    (comfy.base / "output" / "g").mkdir()
    make_image(comfy.base / "output" / "g" / "ok.png", 2)
    lora = {"1": {"class_type": "LoraLoader", "inputs": {"model": ["2", 0], "clip": ["2", 1], "lora_name": "x.safetensors",
                                                     "strength_model": 0.8, "strength_clip": 0.5}},
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "model": ["1", 0], "positive": "a", "negative": "b"}}}
    save_image(Image.new("RGB", (8, 8)), comfy.base / "output" / "g" / "lora.png", comfy_prompt=lora)

    async def flow(c):
        for params in ({"dataset": "../../.."}, {"dataset": "/etc"}, {"dataset": str(tmp_path)},
                       {"dataset": "../link"}, {"dataset": str(comfy.base / "output" / "link")}):
            r = await c.get("/udw/browser/page", params=params)
            assert r.status == 403, params
        for params in ({"type": "output", "subfolder": "../..", "filename": "s.png"},
                       {"type": "output", "subfolder": "link", "filename": "s.png"},
                       {"path": str(secret / "s.png")}, {"type": "output", "filename": "/etc/passwd"}):
            r = await c.get("/udw/file/thumb", params=params)
            assert r.status == 403, params
        r = await c.get("/udw/file/thumb", params={"type": "bogus", "filename": "x.png"})
        assert r.status == 400
        r = await c.get("/udw/file/thumb", params={"type": "output", "subfolder": "g", "filename": "ok.png"})
        assert r.status == 200
        meta = await (await c.get("/udw/file/meta", params={"type": "output", "subfolder": "g", "filename": "ok.png"})).json()
        assert meta["format"] == "PNG" and meta["info"] is None
        meta = await (await c.get("/udw/file/meta", params={"type": "output", "subfolder": "g", "filename": "lora.png"})).json()
        assert "<lora:x:0.5:0.8>" in meta["infotext"] and "LoRA: x (0.8, text encoder 0.5) file x.safetensors" in meta["notes"]
        r = await c.get("/udw/file/thumb", params={"type": "output", "subfolder": "udw/ds", "filename": "udw-manifest.sqlite"})
        assert r.status == 400
    run_client(comfy, flow)
