"""Streaming safetensors I/O and the tiny SD1 builders (key layout, determinism)."""

import json
import struct

import numpy as np
import pytest

from udw.checkpoints.safetensors_io import SafetensorsFile, bf16_from_float32, to_float32, write_streaming
from udw.core.errors import BadInput
from udw.testing import tiny_lora, tiny_sd

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def test_streaming_writer_is_read_by_the_reference_library(tmp_path):
    arrays = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones((2,), np.float16),
              "s": np.asarray(3.5, np.float32), "i": np.arange(5, dtype=np.int64)}
    specs = [(k, {"float32": "F32", "float16": "F16", "int64": "I64"}[str(v.dtype)], v.shape)
             for k, v in arrays.items()]
    path = write_streaming(tmp_path / "x.safetensors", specs, lambda k, d, s: arrays[k], {"who": "me"})
    loaded = safetensors_numpy.load_file(str(path))
    for k, v in arrays.items():
        np.testing.assert_array_equal(loaded[k], v)
    with SafetensorsFile(path) as f:
        assert f.metadata == {"who": "me"} and f.keys() == list(arrays)
        np.testing.assert_array_equal(f.read_raw("a"), arrays["a"])
        chunks = list(f.chunks("a", max_elems=5))
        assert [c.size for c in chunks] == [5, 5, 2]
        np.testing.assert_array_equal(np.concatenate(chunks), arrays["a"].ravel())


def test_bf16_and_fp8_widening():
    x = np.array([1.0, -2.5, 3.140625, 0.0], np.float32)
    assert np.array_equal(to_float32(bf16_from_float32(x), "BF16"), x)
    e4m3 = to_float32(np.array([0x38, 0xC0, 0x7E, 0x7F], np.uint8), "F8_E4M3")
    assert e4m3[0] == 1.0 and e4m3[1] == -2.0 and e4m3[2] == 448.0 and np.isnan(e4m3[3])
    assert to_float32(np.array([0x3C, 0x7C], np.uint8), "F8_E5M2").tolist() == [1.0, float("inf")]


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: b[:5], "only 5 bytes"),
    (lambda b: b"PK\x03\x04" + b"\0" * 64, "zip archive"),
    (lambda b: b"\x80\x02}q\x00" + b"\0" * 64, "pickle"),
    (lambda b: b"<!DOCTYPE html><html>" + b" " * 64, "HTML"),
    (lambda b: struct.pack("<Q", 10) + b"not json!!" + b"\0" * 8, "not JSON"),
])
def test_damaged_files_say_what_is_wrong(tmp_path, damage, message):
    good = tiny_lora.build_lora(tmp_path / "good.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(BadInput, match=message):
        SafetensorsFile(bad)


def test_inconsistent_offsets_are_refused(tmp_path):
    header = json.dumps({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(BadInput, match="inconsistent offsets"):
        SafetensorsFile(path)


def test_tiny_checkpoint_has_the_original_layout_and_is_deterministic(tmp_path):
    a = tiny_sd.build_checkpoint(tmp_path / "a.safetensors", seed=3)
    b = tiny_sd.build_checkpoint(tmp_path / "b.safetensors", seed=3)
    assert a.read_bytes() == b.read_bytes()
    sd = safetensors_numpy.load_file(str(a))
    assert "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight" in sd
    assert sd["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"].shape == (32, 64)
    assert "first_stage_model.decoder.up.1.upsample.conv.weight" in sd
    assert "cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc2.weight" in sd
    assert sd["cond_stage_model.transformer.text_model.embeddings.position_ids"].dtype == np.int64
    assert sd["betas"].shape == (1000,) and abs(float(sd["betas"][0]) - 0.00085) < 1e-9
    c = safetensors_numpy.load_file(str(tiny_sd.build_checkpoint(tmp_path / "c.safetensors", seed=4)))
    key = "model.diffusion_model.out.2.weight"
    assert not np.array_equal(sd[key], c[key])


def test_full_profile_matches_sd15_parameter_counts():
    def params(entries):
        return sum(int(np.prod(s)) for _, s, _ in entries)

    assert params(tiny_sd.unet_tensor_specs(tiny_sd.FULL)) == 859_520_964
    assert params(tiny_sd.vae_tensor_specs(tiny_sd.FULL)) == 83_653_863
    # CLIP ViT-L/14 text model (123,060,480) plus the 77 position ids stored in SD1 files
    assert params(tiny_sd.clip_tensor_specs(tiny_sd.FULL)) == 123_060_480 + 77


def test_kohya_lora_layout(tmp_path):
    sd = safetensors_numpy.load_file(str(tiny_lora.build_lora(tmp_path / "l.safetensors", rank=2)))
    name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
    assert sd[name + ".lora_down.weight"].shape == (2, 64) and sd[name + ".lora_up.weight"].shape == (32, 2)
    assert float(sd[name + ".alpha"]) == 2.0
    assert "lora_te_text_model_encoder_layers_1_self_attn_q_proj.lora_down.weight" in sd
    assert "lora_unet_up_blocks_1_attentions_1_transformer_blocks_0_ff_net_2.lora_up.weight" in sd
