import logging

import numpy as np
import pytest

from udw.core.errors import BadInput, ModelNotFound
from udw.core.ports import Ports
from udw.models import onnx as udw_onnx
from udw.models.registry import ModelSpec, locate

SPEC = ModelSpec("tiny-tagger", "taggers", "Org/tiny-tagger", ("model.onnx", "selected_tags.csv"))


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)


def test_explicit_file_finds_siblings(tmp_path):
    onnx = touch(tmp_path / "m" / "my.onnx")
    touch(tmp_path / "m" / "selected_tags.csv")
    files = locate(SPEC, explicit=onnx)
    assert files.origin == "explicit" and files.first == onnx
    with pytest.raises(ModelNotFound, match="selected_tags.csv"):
        locate(SPEC, explicit=touch(tmp_path / "n" / "x.onnx"))


def test_host_folder_then_env_then_hf_cache(tmp_path, monkeypatch):
    host = tmp_path / "comfy" / "models" / "udw_taggers"
    snap = tmp_path / "hf" / "hub" / "models--Org--tiny-tagger" / "snapshots" / "abc"
    for f in SPEC.files:
        touch(snap / f)
    touch(tmp_path / "hf" / "hub" / "models--Org--tiny-tagger" / "refs" / "main", b"abc")
    assert locate(SPEC).origin == "hf-cache"
    monkeypatch.setenv("UDW_MODELS_DIR", str(tmp_path / "env"))
    for f in SPEC.files:
        touch(tmp_path / "env" / "taggers" / f)
    assert locate(SPEC).paths["model.onnx"] == tmp_path / "env" / "taggers" / "model.onnx"
    for f in SPEC.files:
        touch(host / "tiny-tagger" / f)
    found = locate(SPEC, Ports(model_dirs={"taggers": [str(host)]}))
    assert found.origin == "folder" and found.first == host / "tiny-tagger" / "model.onnx"


def test_missing_model_names_files_and_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound) as err:
        locate(SPEC, Ports(model_dirs={"taggers": [str(tmp_path / "here")]}, allow_download=True))
    text = str(err.value)
    assert "model.onnx, selected_tags.csv" in text and str(tmp_path / "here") in text
    assert "huggingface.co/Org/tiny-tagger" in text


def tiny_onnx(path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    node = helper.make_node("Sigmoid", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_sessions_are_cached_and_run(tmp_path):
    path = tiny_onnx(tmp_path / "s.onnx")
    a = udw_onnx.get_session(path)
    b = udw_onnx.get_session(path)
    assert a is b and a.provider == "CPUExecutionProvider"
    out = a.session.run(None, {"x": np.zeros((2, 3), np.float32)})[0]
    assert np.allclose(out, 0.5)


def test_unavailable_provider_falls_back_with_one_warning(tmp_path, caplog):
    path = tiny_onnx(tmp_path / "s.onnx")
    udw_onnx._WARNED.clear()
    with caplog.at_level(logging.WARNING, logger="udw.models"):
        s = udw_onnx.get_session(path, providers=["CUDAExecutionProvider"])
        udw_onnx.get_session(path, providers=["CUDAExecutionProvider"])
    assert s.provider == "CPUExecutionProvider"
    assert sum("CUDAExecutionProvider" in r.message for r in caplog.records) == 1


def test_corrupt_model_is_a_clear_error(tmp_path):
    bad = touch(tmp_path / "bad.onnx", b"this is not protobuf")
    with pytest.raises(BadInput, match="not a usable ONNX model"):
        udw_onnx.get_session(bad)
