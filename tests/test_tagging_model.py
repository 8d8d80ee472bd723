"""Opening taggers (v2 and v3 signatures, local files, catalogue names), predicting, bad models."""

import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from udw.core.errors import BadInput, ModelNotFound
from udw.core.ports import Ports
from udw.tagging import open_tagger, resolve, tag_arrays, tag_files
from udw.tagging import model as tagging_model
from udw.tagging.preprocess import prepare


pytestmark = pytest.mark.usefixtures("no_models")


def images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (40 + 10 * i, 70, 3), dtype=np.uint8) for i in range(n)]


@pytest.mark.parametrize("family", ["v3", "v2"])
def test_signatures_and_batched_predictions(tiny_tagger, family):
    tiny = tiny_tagger(family)
    tagger = open_tagger(tiny.onnx)
    assert tagger.input_name == ("input" if family == "v3" else "input_1:0")
    assert tagger.output_name == ("output" if family == "v3" else "predictions_sigmoid")
    assert tagger.side == 64 and tagger.layout == "NHWC"
    assert tagger.fixed_batch == (None if family == "v3" else 1)
    prepared = [prepare(im, 64) for im in images(5)]
    got = tagger.predict(np.stack(prepared))  # the v2 file runs these one by one
    assert got.shape == (5, len(tiny.rows))
    np.testing.assert_allclose(got, np.stack([tiny.expected(p) for p in prepared]), atol=1e-5)
    assert open_tagger(tiny.onnx) is tagger  # cached: one session per model
    results = tag_arrays(tagger, images(5), batch_size=2)
    assert [r.general for r in results] == [r.general for r in (tag_arrays(tagger, [im])[0] for im in images(5))]


def test_real_side_448_is_read_from_the_model(tiny_tagger):
    tagger = open_tagger(tiny_tagger("v3", side=448).onnx)
    assert tagger.side == 448 and "448px" in tagger.describe()
    assert tagger.predict(prepare(images(1)[0], 448)[None]).shape == (1, 23)


def test_onnx_path_finds_its_tag_list(tiny_tagger, tmp_path):
    tiny = tiny_tagger("v3", folder=tmp_path / "z3d")
    files = resolve(tiny.onnx)
    assert files.csv == tiny.csv and files.name == "z3d"
    flat = tiny_tagger("v2", folder=tmp_path / "flat", onnx_name="my-tagger.onnx", csv_name="my-tagger.csv")
    (tmp_path / "flat" / "selected_tags.csv").write_text("tag_id,name,category,count\n")  # another model's
    assert resolve(flat.onnx).csv == flat.csv and resolve(flat.onnx).name == "my-tagger"
    assert resolve(tmp_path / "z3d").onnx == tiny.onnx  # a folder with one model
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(tiny.onnx, lonely / "m.onnx")
    with pytest.raises(ModelNotFound, match="no tag list beside .*m.onnx") as err:
        resolve(lonely / "m.onnx")
    assert "selected_tags.csv" in str(err.value) and str(lonely) in str(err.value)


def test_catalogue_names_in_host_folders(tiny_tagger, tmp_path):
    host = tmp_path / "models" / "udw_taggers"
    tiny = tiny_tagger("v3", folder=host / "wd-vit-tagger-v3")
    ports = Ports(model_dirs={"taggers": [str(host)]})
    files = resolve("wd-vit-tagger-v3", ports)
    assert files.onnx == tiny.onnx and files.spec.repo_id == "SmilingWolf/wd-vit-tagger-v3"
    assert open_tagger("wd-vit-tagger-v3", ports).name == "wd-vit-tagger-v3"
    # the flat layout of the popular WD14 nodes: <name>.onnx + <name>.csv
    wd14 = tmp_path / "models" / "wd14_tagger"
    tiny_tagger("v2", folder=wd14, onnx_name="wd-v1-4-moat-tagger-v2.onnx", csv_name="wd-v1-4-moat-tagger-v2.csv")
    files = resolve("wd-v1-4-moat-tagger-v2", ports, extra_dirs=[wd14])
    assert files.onnx == wd14 / "wd-v1-4-moat-tagger-v2.onnx"
    assert resolve("wd-v1-4-moat-tagger-v2.onnx", ports, extra_dirs=[wd14]).onnx == files.onnx  # dropdown value
    assert tagging_model.list_local([host, wd14])[:2] == ["wd-v1-4-moat-tagger-v2", "wd-v1-4-swinv2-tagger-v2"]


def test_missing_model_names_the_files_and_folders(tmp_path):
    host = tmp_path / "models" / "udw_taggers"
    with pytest.raises(ModelNotFound) as err:
        open_tagger("wd-eva02-large-tagger-v3", Ports(model_dirs={"taggers": [str(host)]}))
    text = str(err.value)
    assert "model.onnx, selected_tags.csv" in text and str(host) in text
    assert "huggingface.co/SmilingWolf/wd-eva02-large-tagger-v3" in text
    assert "wd-eva02-large-tagger-v3.onnx + wd-eva02-large-tagger-v3.csv" in text
    with pytest.raises(ModelNotFound, match="(?s)unknown tagger .nope.*wd-vit-tagger-v3"):
        resolve("nope")
    with pytest.raises(ModelNotFound, match="not found"):
        resolve(tmp_path / "gone.onnx")


def test_corrupt_model_and_wrong_tag_list(tiny_tagger, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.onnx").write_bytes(b"\x08\x07garbage" * 50)
    (bad / "selected_tags.csv").write_text("tag_id,name,category,count\n0,a,0,1\n")
    with pytest.raises(BadInput, match="not a usable ONNX model"):
        open_tagger(bad / "model.onnx")
    tiny = tiny_tagger("v3")
    tiny.csv.write_text(tiny.csv.read_text() + "99,extra_tag,0,1\n")
    with pytest.raises(BadInput, match=r"has 24 rows but model model.onnx outputs output: 23 scores"):
        open_tagger(tiny.onnx)


class FakeGpuSession:
    """Wraps a real CPU session but claims CUDA; `mode` says how the fake GPU fails."""

    real = None
    mode = "run"

    def __init__(self, path, sess_options=None, providers=()):
        if providers and providers[0] == "CUDAExecutionProvider":
            if self.mode == "create":
                raise RuntimeError("Failed to load library libonnxruntime_providers_cuda.so: libcudnn.so.9")
            self.cuda = True
        else:
            self.cuda = False
        self.inner = self.real(path, sess_options=sess_options, providers=["CPUExecutionProvider"])

    def get_providers(self):
        return ["CUDAExecutionProvider", "CPUExecutionProvider"] if self.cuda else ["CPUExecutionProvider"]

    def run(self, *args, **kwargs):
        if self.cuda:
            raise RuntimeError("CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version")
        return self.inner.run(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("mode", ["create", "run"])
def test_failing_gpu_provider_falls_back_to_cpu_once(tiny_tagger, monkeypatch, caplog, mode):
    import onnxruntime

    FakeGpuSession.real, FakeGpuSession.mode = onnxruntime.InferenceSession, mode
    monkeypatch.setattr(onnxruntime, "InferenceSession", FakeGpuSession)
    monkeypatch.setattr(onnxruntime, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    tiny = tiny_tagger("v3")
    ports = Ports(providers=["CUDAExecutionProvider"])
    with caplog.at_level(logging.WARNING, logger="udw.models"):
        tagger = open_tagger(tiny.onnx, ports)
        open_tagger(tiny.onnx, ports)
    assert tagger.session.provider == "CPUExecutionProvider" and tagger.session.fell_back
    assert ("libcudnn" if mode == "create" else "self-check") in tagger.session.reason
    assert "fell back" in tagger.describe()
    assert sum("CUDAExecutionProvider" in r.message for r in caplog.records) == 1
    prepared = prepare(images(1)[0], 64)
    np.testing.assert_allclose(tagger.predict(prepared[None])[0], tiny.expected(prepared), atol=1e-5)


def test_provider_missing_from_this_onnxruntime_is_stated(tiny_tagger):
    tagger = open_tagger(tiny_tagger("v3").onnx, Ports(providers=["DmlExecutionProvider"]))
    assert tagger.session.provider == "CPUExecutionProvider"
    assert tagger.session.fell_back and "DmlExecutionProvider is not available" in tagger.session.reason


def test_unreadable_image_in_a_batch_is_skipped_and_reported(tiny_tagger, tmp_path, make_image):
    tiny = tiny_tagger("v3")
    paths = [make_image(tmp_path / f"i{i}.png", i, (80, 50)) for i in range(5)]
    (tmp_path / "i2.png").write_bytes(b"truncated")
    tagger = open_tagger(tiny.onnx)
    out = list(tag_files(tagger, paths, batch_size=4))
    assert [p for p, _ in out] == paths
    assert isinstance(out[2][1], BadInput) and "i2.png" in str(out[2][1])
    for (path, result), i in zip(out, range(5)):
        if i != 2:
            want = tiny.expected(prepare(Image.open(path), 64))
            assert result.ratings["general"] == pytest.approx(float(want[0]), abs=1e-5)


def test_int8_twin_is_cached_and_close(tiny_tagger, tmp_path):
    tiny = tiny_tagger("v3")
    fp32 = open_tagger(tiny.onnx)
    int8 = open_tagger(tiny.onnx, int8=True)
    assert int8.quantized and int8.session.path.parent == tmp_path / "cache" / "int8"
    assert int8.session.path.name.endswith((".int8u8.onnx", ".int8s8.onnx")) and "(int8)" in int8.name
    x = np.stack([prepare(im, 64) for im in images(4)])
    assert np.abs(int8.predict(x) - fp32.predict(x)).max() < 0.05
    stamp = int8.session.path.stat().st_mtime_ns
    tagging_model.clear_cache()
    assert open_tagger(tiny.onnx, int8=True).session.path.stat().st_mtime_ns == stamp  # reused


def test_cpu_lanes_plan_and_identical_results(tiny_tagger, tmp_path, make_image, monkeypatch):
    monkeypatch.setattr(tagging_model, "cpu_count", lambda: 4)
    assert tagging_model.plan_threads(True, 0, True) == (1, 4)
    assert tagging_model.plan_threads(True, 2, True) == (2, 2)
    assert tagging_model.plan_threads(True, 0, False) == (0, 1)
    assert tagging_model.plan_threads(False, 0, True) == (0, 1)      # a GPU: one run at a time
    monkeypatch.setattr(tagging_model, "cpu_count", lambda: 32)
    assert tagging_model.plan_threads(True, 0, True) == (4, 8)
    monkeypatch.setattr(tagging_model, "cpu_count", lambda: 4)
    tiny = tiny_tagger("v2")
    many = open_tagger(tiny.onnx)
    one = open_tagger(tiny.onnx, for_batches=False)
    assert many.lanes == 4 and one.lanes == 1 and many is not one and "4 parallel runs" in many.describe()
    paths = [make_image(tmp_path / f"i{i}.png", i, (50 + i, 40)) for i in range(9)]
    (tmp_path / "i4.png").write_bytes(b"nope")
    a, b = list(tag_files(many, paths)), list(tag_files(one, paths))
    assert [p for p, _ in a] == paths == [p for p, _ in b]
    for (_, ra), (_, rb) in zip(a, b):
        assert type(ra) is type(rb)
        if not isinstance(ra, Exception):
            assert ra.ratings == rb.ratings and ra.general == rb.general  # bit-identical scores


def test_int8_weight_kind_follows_the_cpu(monkeypatch):
    from udw.models import quantize

    monkeypatch.setattr(quantize.platform, "machine", lambda: "x86_64")
    assert quantize.saturating_u8s8("flags : fpu avx2 fma") is True           # AVX2 only: u8 weights
    assert quantize.saturating_u8s8("flags : avx2 avx512_vnni") is False      # VNNI: exact s8
    assert quantize.saturating_u8s8("flags : avx2 avx_vnni") is False
    monkeypatch.setattr(quantize.platform, "machine", lambda: "arm64")
    assert quantize.saturating_u8s8("") is False
