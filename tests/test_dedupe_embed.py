"""Learned embeddings from an ONNX model: a tiny embedder built here (deterministic weights)."""

import shutil

import numpy as np
import pytest

from udw.core.errors import ModelNotFound
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dedupe.compute import embed_kind
from udw.dedupe.embed import Embedder, open_embedder, resolve
from udw.dedupe.run import dedupe_dataset, dedupe_images
from udw.dedupe.settings import DedupeSettings
from udw.dedupe.synthetic import scene, variant, write_set
from udw.models.onnx import clear_cache

onnx = pytest.importorskip("onnx")


def tiny_embedder(path, side=32, channels=24, batch="N", nhwc=False, seed=0):
    """conv 5x5 (stride 2) -> relu -> global average pool: `features` (N, channels); also a
    `logits` output listed first, so the embedder must pick the features by name."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((channels, 3, 5, 5)).astype(np.float32) * 0.2
    b = rng.standard_normal(channels).astype(np.float32) * 0.1
    head = rng.standard_normal((channels, 5)).astype(np.float32)
    nodes, inits = [], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
                        numpy_helper.from_array(head, "head")]
    shape = [batch, side, side, 3] if nhwc else [batch, 3, side, side]
    x = "pixel_values"
    if nhwc:
        nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    nodes += [helper.make_node("Conv", [x, "w", "b"], ["c"], strides=[2, 2], pads=[2, 2, 2, 2]),
              helper.make_node("Relu", ["c"], ["r"]),
              helper.make_node("GlobalAveragePool", ["r"], ["g"]),
              helper.make_node("Flatten", ["g"], ["features"]),
              helper.make_node("MatMul", ["features", "head"], ["logits"])]
    graph = helper.make_graph(nodes, "tiny_embedder",
                              [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 5]),
                               helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, channels])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(autouse=True)
def fresh_sessions():
    clear_cache()
    yield
    clear_cache()


def test_embedder_reads_layout_and_picks_the_feature_output(tmp_path):
    emb = open_embedder(tiny_embedder(tmp_path / "tiny.onnx"))
    assert emb.size == 32 and not emb.nhwc and emb.output == "features" and emb.batch == 16
    base = np.asarray(scene(1, (160, 90)))
    vecs = emb.embed_images([base, np.asarray(variant(scene(1, (160, 90)), "jpeg", 1)), np.asarray(scene(2, (160, 90)))])
    assert vecs.shape == (3, 24) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    assert vecs[0] @ vecs[1] > 0.99 and vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    nhwc = Embedder(resolve(tiny_embedder(tmp_path / "nhwc.onnx", batch=1, nhwc=True)))
    assert nhwc.nhwc and nhwc.batch == 1 and nhwc.embed_images([base] * 3).shape == (3, 24)


def test_models_are_found_by_name_in_model_folders_and_missing_ones_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)
    folder = tmp_path / "models" / "embedders"
    with pytest.raises(ModelNotFound) as err:
        resolve("mobilenetv3-large", Ports(model_dirs={"embedders": [str(folder)]}))
    assert "model.onnx" in str(err.value) and str(folder) in err.value.hint
    tiny_embedder(folder / "mobilenetv3-large" / "model.onnx")
    found = resolve("mobilenetv3-large", Ports(model_dirs={"embedders": [str(folder)]}))
    assert found.spec.repo_id == "mohitsha/mobilenetv3_large_100_onnx" and found.path.is_file()
    # the Hugging Face cache layout works too
    snap = tmp_path / "hf" / "hub" / "models--Qdrant--clip-ViT-B-32-vision" / "snapshots" / "abc"
    tiny_embedder(snap / "model.onnx")
    assert resolve("clip-vit-b32").path == snap / "model.onnx"
    assert open_embedder("clip-vit-b32").mean[0] == pytest.approx(0.48145466 * 255)
    with pytest.raises(ModelNotFound, match="unknown embedding model"):
        resolve("resnet-9000")
    with pytest.raises(ModelNotFound, match="not found"):
        resolve(str(tmp_path / "missing.onnx"))


def test_embed_method_end_to_end(tmp_path):
    model = tiny_embedder(tmp_path / "m" / "tiny.onnx")
    folder = tmp_path / "pics"
    truth = write_set(folder, scenes=6, variants_per_scene=2, negatives=0, seed=3, size=(160, 90))
    settings = DedupeSettings(method="embed", model=str(model), threshold=0.995)
    report = dedupe_dataset(folder, settings, truth=[truth], preview=False)
    ds = Dataset(folder)
    kinds = {k for (k,) in ds.connect().execute("SELECT DISTINCT kind FROM signatures")}
    assert embed_kind(open_embedder(model).model_id) in kinds and report.considered == 18
    assert report.scores["removal"]["precision"] >= 0.9 and report.removed >= 6
    # a later weight-free run reuses the stored signatures: nothing is decoded again
    again = dedupe_dataset(folder, DedupeSettings(), preview=False)
    assert again.signatures.done == 0
    # the IMAGE-batch form with the same model
    images = [np.asarray(scene(9, (160, 90))), np.asarray(variant(scene(9, (160, 90)), "bright", 2)),
              np.asarray(scene(10, (160, 90)))]
    result = dedupe_images(images, DedupeSettings(method="embed", model=str(model), threshold=0.99, keep="earliest"))
    assert result.kept == [0, 2] and result.survivor == [0, 0, 2]


def test_a_damaged_model_file_is_a_clear_error(tmp_path):
    from udw.core.errors import BadInput

    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(BadInput, match="not a usable ONNX model"):
        open_embedder(bad)
    shutil.rmtree(tmp_path)
