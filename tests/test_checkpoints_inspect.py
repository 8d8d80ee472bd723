"""Inspection: architecture, components, hashes, metadata, bad files, safe .ckpt loading."""

import hashlib
import json
import sys
import types

import numpy as np
import pytest

from udw.checkpoints import (check_compatible, file_hashes, find_model, format_report, inspect_file, lora_info,
                             open_checkpoint, require_sd1)
from udw.checkpoints.hashing import cached_hashes
from udw.core.errors import BadInput, ModelNotFound
from udw.testing import tiny_lora, tiny_sd


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_sd.build_checkpoint(tmp_path_factory.mktemp("ck") / "tiny.safetensors", seed=1, ema=True,
                                    metadata={"modelspec.title": "tiny"})


def test_tiny_checkpoint_report(tiny):
    r = inspect_file(tiny)
    a = r.arch
    assert (a.kind, a.family, a.context_dim, a.in_channels, a.variant) == ("checkpoint", "SD1", 64, 4, None)
    assert a.ema and a.ema_tensors > 100 and a.baked_vae and a.prediction == "epsilon"
    comps = {c.name: c for c in r.components}
    assert set(comps) == {"unet", "text_encoder", "vae", "ema", "other"}
    expected_unet = sum(int(np.prod(s)) for _, s, _ in tiny_sd.unet_tensor_specs(tiny_sd.TINY))
    assert comps["unet"].params == expected_unet and comps["unet"].dtype == "F16"
    assert comps["unet"].bytes == 2 * expected_unet
    assert r.metadata == {"modelspec.title": "tiny"}
    text = format_report(r)
    assert "Stable Diffusion 1.x checkpoint" in text and "EMA weights: yes" in text and "modelspec.title: tiny" in text


def test_hashes_follow_a1111_definitions(tiny, tmp_path):
    data = tiny.read_bytes()
    h = file_hashes(tiny, use_cache=False)
    assert h.sha256 == hashlib.sha256(data).hexdigest() and h.autov2 == h.sha256[:10]
    assert h.legacy == hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8]
    lora = tiny_lora.build_lora(tmp_path / "l.safetensors")
    raw = lora.read_bytes()
    start = 8 + int.from_bytes(raw[:8], "little")
    lh = file_hashes(lora, addnet=True, use_cache=False)
    assert lh.addnet == hashlib.sha256(raw[start:]).hexdigest() and lh.lora_short == lh.addnet[:12]


def test_hash_cache_is_used_and_invalidated(tmp_path):
    path = tiny_lora.build_lora(tmp_path / "a.safetensors", seed=1)
    assert cached_hashes(path) is None
    first = file_hashes(path)
    assert cached_hashes(path).sha256 == first.sha256
    tiny_lora.build_lora(path, seed=2)                      # new content, new mtime
    assert cached_hashes(path) is None or cached_hashes(path).sha256 != first.sha256
    assert file_hashes(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_variants_and_dtypes(tmp_path):
    inpaint = inspect_file(tiny_sd.build_inpainting(tmp_path / "i.safetensors"), hashes=False)
    assert inpaint.arch.variant == "inpainting" and inpaint.arch.in_channels == 9
    bf16 = inspect_file(tiny_sd.build_checkpoint(tmp_path / "b.safetensors", dtype="BF16", vae=False), hashes=False)
    unet = next(c for c in bf16.components if c.name == "unet")
    assert unet.dtype == "BF16" and not bf16.arch.baked_vae


def test_other_families_are_named(tmp_path):
    xl = inspect_file(tiny_sd.build_family_like(tmp_path / "xl.safetensors", "sdxl"), hashes=False).arch
    assert (xl.family, xl.context_dim) == ("SDXL", 2048) and "bigG" in xl.text_encoder
    with pytest.raises(BadInput, match="is a SDXL checkpoint .*not Stable Diffusion 1.x"):
        require_sd1(xl, "xl.safetensors")
    v = inspect_file(tiny_sd.build_family_like(tmp_path / "v.safetensors", "sd2-v"), hashes=False).arch
    assert v.family == "SD2" and v.prediction == "v" and "0.5" in v.prediction_hint
    eps = inspect_file(tiny_sd.build_family_like(tmp_path / "e.safetensors", "sd2"), hashes=False).arch
    assert eps.prediction == "epsilon"


def test_v_prediction_hints_from_metadata_and_yaml(tmp_path):
    meta = tiny_sd.build_checkpoint(tmp_path / "m.safetensors", vae=False,
                                    metadata={"modelspec.prediction_type": "v"})
    assert inspect_file(meta, hashes=False).arch.prediction == "v"
    plain = tiny_sd.build_checkpoint(tmp_path / "y.safetensors", vae=False)
    (tmp_path / "y.yaml").write_text("model:\n  params:\n    parameterization: \"v\"\n")
    arch = inspect_file(plain, hashes=False).arch
    assert arch.prediction == "v" and "y.yaml" in arch.prediction_hint


def test_damaged_position_ids_are_noted(tmp_path):
    entries = tiny_sd.checkpoint_entries(vae=False)
    key = "cond_stage_model.transformer.text_model.embeddings.position_ids"
    entries = [(k, s, "w" if k == key else i) for k, s, i in entries]   # stored as float, drifted
    path = tiny_sd.write_checkpoint(tmp_path / "p.safetensors", entries, dtype="F32",
                                    overrides={key: np.arange(77) + np.linspace(0, 0.4, 77)})
    notes = " ".join(inspect_file(path, hashes=False).arch.notes)
    assert "position_ids are damaged" in notes and "0.400" in notes


def test_lora_reports_and_compatibility(tmp_path):
    sd1 = inspect_file(tiny_lora.build_lora(tmp_path / "a.safetensors", rank=3))
    assert sd1.arch.kind == "lora" and sd1.lora.layout == "kohya" and sd1.lora.ranks == {3: 52}
    assert sd1.lora.context_dim == 64 and sd1.lora.text_hidden == 64 and sd1.hashes.addnet
    xl_path = tiny_lora.build_lora(tmp_path / "xl.safetensors", family="sdxl")
    with open_checkpoint(xl_path) as r:
        xl = lora_info(r.tensors, r.metadata)
    assert xl.family == "SDXL"
    with pytest.raises(BadInput, match="LoRA for SDXL, but the model is Stable Diffusion 1.x"):
        check_compatible(xl, "xl.safetensors", "SD1", 768)
    with pytest.raises(BadInput, match="expects a 64-wide text context, the model has 768"):
        check_compatible(sd1.lora, "a.safetensors", "SD1", 768)
    check_compatible(sd1.lora, "a.safetensors", "SD1", 64, 64)


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / "notes.safetensors"
    text.write_text("hello, this is not a model at all " * 10)
    with pytest.raises(BadInput, match="not a valid safetensors file"):
        inspect_file(text)
    lora = tiny_lora.build_lora(tmp_path / "l.safetensors")
    with pytest.raises(BadInput, match="is not a checkpoint: it is a .*LoRA.*\n.*LoRA"):
        require_sd1(inspect_file(lora, hashes=False).arch, "l.safetensors")
    good = tiny_sd.build_checkpoint(tmp_path / "t.safetensors")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[:-1000])
    with pytest.raises(BadInput, match="truncated"):
        inspect_file(cut)


torch = pytest.importorskip("torch")


def _torch_ckpt(tmp_path, name="m.ckpt", extra=None):
    from safetensors.torch import load_file

    sd = load_file(str(tiny_sd.build_checkpoint(tmp_path / "src.safetensors", vae=False)))
    obj = {"state_dict": sd, "global_step": 7, **(extra or {})}
    torch.save(obj, tmp_path / name)
    return tmp_path / name


def test_ckpt_loads_weights_only(tmp_path):
    r = inspect_file(_torch_ckpt(tmp_path), hashes=False)
    assert r.format == "ckpt" and r.arch.family == "SD1"


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from pathlib import Path

        return (Path.touch, (Path(self.marker),))


def test_pickled_code_is_refused_without_running(tmp_path):
    marker = tmp_path / "PWNED"
    path = _torch_ckpt(tmp_path, "evil.ckpt", {"callbacks": _Payload(str(marker))})
    with pytest.raises(BadInput, match=r"contains pickled code.*(getattr|pathlib)"):
        inspect_file(path)
    assert not marker.exists()


def test_old_lightning_ckpt_leftovers_are_inert(tmp_path, monkeypatch):
    """SD1 .ckpt files from the original training hold a Lightning callback class as a dict key."""
    mod = types.ModuleType("pytorch_lightning.callbacks.model_checkpoint")

    class ModelCheckpoint:
        pass

    ModelCheckpoint.__module__ = mod.__name__
    ModelCheckpoint.__qualname__ = "ModelCheckpoint"
    mod.ModelCheckpoint = ModelCheckpoint
    for name in ("pytorch_lightning", "pytorch_lightning.callbacks", mod.__name__):
        monkeypatch.setitem(sys.modules, name, mod if name == mod.__name__ else types.ModuleType(name))
    path = _torch_ckpt(tmp_path, "old.ckpt", {"callbacks": {ModelCheckpoint: {"best": 1}}})
    for name in ("pytorch_lightning", "pytorch_lightning.callbacks", mod.__name__):
        monkeypatch.delitem(sys.modules, name)
    if not hasattr(torch.serialization, "safe_globals"):
        pytest.skip("torch < 2.5 cannot map renamed globals")
    assert inspect_file(path, hashes=False).arch.family == "SD1"


def test_find_model_by_name(tmp_path, monkeypatch):
    folder = tmp_path / "models" / "checkpoints" / "anime"
    tiny_lora.build_lora(folder / "UDW_v1.safetensors")
    monkeypatch.setenv("UDW_MODELS_DIR", str(tmp_path / "models"))
    assert find_model("udw_v1").name == "UDW_v1.safetensors"
    assert find_model("UDW_v1.safetensors").parent == folder
    with pytest.raises(ModelNotFound, match="did you mean UDW_v1"):
        find_model("UDW_v2")


def test_cli_inspect_json(tiny, capsys):
    from udw.cli.main import main

    assert main(["-q", "inspect", str(tiny), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arch"]["family"] == "SD1" and out["hashes"]["autov2"] == out["hashes"]["sha256"][:10]
    assert main(["inspect", str(tiny.with_name("missing.safetensors"))]) == 2
