"""Pose transfer in the standalone (diffusers) path with a tiny SD1 checkpoint and a tiny ControlNet."""

import socket

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from udw.core.errors import BadInput  # noqa: E402
from udw.generate import load_pipeline, unload  # noqa: E402
from udw.pose import PoseFrame, render_pose  # noqa: E402
from udw.pose.refattn import ReferenceSettings, read_attention, uncond_mask  # noqa: E402
from udw.pose.transfer_diffusers import TransferParams, generate_plain, load_controlnet, transfer  # noqa: E402
from udw.testing import tiny_sd  # noqa: E402
from udw.testing.poses import figure  # noqa: E402
from udw.testing.tiny_controlnet import build_controlnet, build_sdxl_like_controlnet  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("transfer")
    ckpt = tiny_sd.build_checkpoint(d / "tiny.safetensors", seed=5)
    loaded = load_pipeline(ckpt, hashes=False)
    cn = load_controlnet(build_controlnet(d / "cn.safetensors", seed=3), loaded.pipe.unet)
    yield {"pipe": loaded.pipe, "cn": cn, "dir": d, "ckpt": ckpt}
    unload()


def character(seed):
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (64, 64), tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(im)
    for _ in range(5):
        x, y = rng.integers(0, 48, 2)
        draw.ellipse([int(x), int(y), int(x) + 16, int(y) + 24], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    return im


def pose(arm=60.0):
    person = figure(neck=(32, 14), torso=22, shoulder=7, upper_arm=10, forearm=9, hip=4, thigh=12, shin=11,
                    head=6, arm_angle=arm)
    return Image.fromarray(render_pose(PoseFrame(64, 64, [person]), stick_scale=0.5))


def params(**kw):
    base = dict(prompt="1girl, standing", negative="lowres", width=64, height=64, steps=3, cfg=5.0, seed=11,
                sampler="euler", scheduler="normal")
    base.update(kw)
    return TransferParams(**base)


def arr(image):
    return np.asarray(image, dtype=np.int16)


@pytest.fixture(scope="module")
def runs(setup):
    """Every generation the tests compare, made once (each takes seconds on a busy CPU). Final latents are
    compared (8-bit pixels from a random tiny VAE hide small differences)."""
    pipe, cn = setup["pipe"], setup["cn"]
    torch.set_num_threads(1)
    lat = dict(output_type="latent")
    ref_only = dict(control_strength=0.0, **lat)
    out = {"plain": generate_plain(pipe, params(**lat)),
           "plain_image": generate_plain(pipe, params()),
           "off": transfer(pipe, cn, [character(1)], pose(), params(enabled=False)),
           "zero": transfer(pipe, cn, [character(1)], pose(),
                            params(control_strength=0.0, reference=ReferenceSettings(strength=0.0))),
           "a": transfer(pipe, cn, [character(1)], pose(), params(**lat)),
           "a2": transfer(pipe, cn, [character(1)], pose(), params(**lat)),
           "b": transfer(pipe, cn, [character(2)], pose(), params(**lat)),
           "other_pose": transfer(pipe, cn, [character(1)], pose(arm=150), params(**lat)),
           "control_only": transfer(pipe, cn, [character(1)], pose(),
                                    params(reference=ReferenceSettings(strength=0.0), **lat)),
           "ref_a": transfer(pipe, None, [character(1)], None, params(**ref_only)),
           "ref_b": transfer(pipe, None, [character(3)], None, params(**ref_only)),
           "ref_weak": transfer(pipe, None, [character(1)], None,
                                params(reference=ReferenceSettings(strength=0.3), **ref_only)),
           "plain_after": generate_plain(pipe, params(**lat))}
    return {k: (v.float() if isinstance(v, torch.Tensor) else torch.from_numpy(np.asarray(v, dtype=np.float32)))
            for k, v in out.items()}


def diff(a, b):
    """Mean absolute difference relative to the plain result's spread."""
    return float((a - b).abs().mean())


def test_disabled_is_bit_identical_to_plain_sampling(setup, runs):
    assert torch.equal(runs["plain_image"], runs["off"]) and torch.equal(runs["plain_image"], runs["zero"])
    # "plain" is the stock pipeline call: the same as calling diffusers directly
    from udw.generate.prompts import encode_pair
    from udw.pose.transfer_diffusers import _initial_latents

    pipe = setup["pipe"]
    with torch.inference_mode():
        e, n = encode_pair(pipe.text_encoder, pipe.tokenizer, "1girl, standing", "lowres", 2)
        direct = pipe(prompt_embeds=e, negative_prompt_embeds=n, width=64, height=64, num_inference_steps=3,
                      guidance_scale=5.0, latents=_initial_latents(pipe, 11, 64, 64)).images[0]
    assert torch.equal(runs["plain_image"], torch.from_numpy(np.asarray(direct, dtype=np.float32)))


def test_reference_and_pose_change_the_sampling(setup, runs):
    scale = float(runs["plain"].abs().mean())
    print({k: diff(runs["a"], runs[k]) / scale for k in ("plain", "control_only", "b", "other_pose")})
    assert torch.equal(runs["a"], runs["a2"])                 # deterministic: every difference below is caused
    assert diff(runs["a"], runs["plain"]) > 0.05 * scale
    assert diff(runs["a"], runs["control_only"]) > 1e-3 * scale   # the reference acts on top of the pose
    assert diff(runs["a"], runs["b"]) > 1e-4 * scale           # another reference, another picture
    assert diff(runs["a"], runs["other_pose"]) > 1e-2 * scale  # the ControlNet follows the pose
    assert torch.equal(runs["plain_after"], runs["plain"])      # nothing left patched
    assert all(type(p).__name__ != "ReferenceAttnProcessor" for p in setup["pipe"].unet.attn_processors.values())


def test_reference_only_and_strength(runs):
    scale = float(runs["plain"].abs().mean())
    full = diff(runs["ref_a"], runs["plain"])
    print("reference only vs plain", full / scale, "reference A vs B", diff(runs["ref_a"], runs["ref_b"]) / scale)
    assert full > 1e-3 * scale and diff(runs["ref_a"], runs["ref_b"]) > 1e-5 * scale
    assert 0 < diff(runs["ref_weak"], runs["plain"]) < full


def test_bad_controlnets_are_refused(setup):
    d, unet = setup["dir"], setup["pipe"].unet
    with pytest.raises(BadInput, match="ControlNet for SDXL but the model is text width 64") as err:
        load_controlnet(build_sdxl_like_controlnet(d / "xl_cn.safetensors"), unet)
    assert "control_v11p_sd15_openpose" in str(err.value)
    with pytest.raises(BadInput, match="not a ControlNet"):
        load_controlnet(setup["ckpt"], unet)
    with pytest.raises(BadInput, match="needs an OpenPose ControlNet and a pose image"):
        transfer(setup["pipe"], None, [character(1)], pose(), params())
    with pytest.raises(BadInput, match="style fidelity"):
        transfer(setup["pipe"], setup["cn"], [], pose(), params(reference=ReferenceSettings(style_fidelity=2.0)))


# -- the attention maths (shared with the ComfyUI node) --------------------------------------------
def sdpa(heads):
    def attention(q, k, v):
        b = q.shape[0]
        split = [t.view(b, -1, heads, t.shape[-1] // heads).transpose(1, 2) for t in (q, k, v)]
        out = torch.nn.functional.scaled_dot_product_attention(*split)
        return out.transpose(1, 2).reshape(b, -1, q.shape[-1])

    return attention


def test_read_attention_properties():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(4, 10, 16, generator=g) for _ in range(3))
    rk, rv = torch.randn(4, 7, 16, generator=g), torch.randn(4, 7, 16, generator=g)
    att = sdpa(2)
    plain = att(q, k, v)
    full = ReferenceSettings(strength=1.0, style_fidelity=0.0)
    # attending to a copy of one's own keys/values changes nothing (softmax over duplicates)
    assert torch.allclose(read_attention(q, k, v, k, v, att, None, full), plain, atol=1e-5)
    with_ref = read_attention(q, k, v, rk, rv, att, None, full)
    assert not torch.allclose(with_ref, plain, atol=1e-3)
    off = read_attention(q, k, v, rk, rv, att, None, ReferenceSettings(strength=0.0, style_fidelity=0.0))
    assert torch.allclose(off, plain, atol=1e-6)
    half = read_attention(q, k, v, rk, rv, att, None, ReferenceSettings(strength=0.5, style_fidelity=0.0))
    assert torch.allclose(half, (plain + with_ref) / 2, atol=1e-6)
    # style fidelity 1: unconditional rows see no reference, conditional rows the full reference
    rows = uncond_mask([1, 0], 4)
    assert rows.tolist() == [True, True, False, False]
    sf = read_attention(q, k, v, rk, rv, att, rows, ReferenceSettings(strength=1.0, style_fidelity=1.0))
    assert torch.allclose(sf[:2], plain[:2], atol=1e-6) and torch.allclose(sf[2:], with_ref[2:], atol=1e-6)
    # a reference recorded with batch 1 is shared by every row
    one = read_attention(q, k, v, rk[:1], rv[:1], att, None, full)
    assert torch.allclose(one[0], with_ref[0], atol=1e-6)
    assert uncond_mask(None, 4) is None and uncond_mask([0, 1], 3) is None
