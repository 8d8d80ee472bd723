"""Standalone generation from a tiny single-file SD1 checkpoint, offline, on the CPU."""

import socket

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from udw.core.errors import BadInput  # noqa: E402
from udw.generate import LoraSpec, generate, load_pipeline, save_png, unload  # noqa: E402
from udw.looks import load_looks  # noqa: E402
from udw.looks.infotext import GenParams  # noqa: E402
from udw.testing import tiny_lora, tiny_sd  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network: any connection attempt fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)       # the shared CPU is oversubscribed; one thread is faster here
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("gen")
    out = {"ckpt": tiny_sd.build_checkpoint(d / "tiny.safetensors", seed=5),
           "lora": tiny_lora.build_lora(d / "style.safetensors", seed=6),
           "lora_xl": tiny_lora.build_lora(d / "xl_style.safetensors", family="sdxl"),
           "xl": tiny_sd.build_family_like(d / "xl.safetensors", "sdxl")}
    yield out
    unload()


def params(**kw):
    look = load_looks().get("tv")
    kw = {"seed": 7, "steps": 2, "width": 64, "height": 64, **kw}
    prompt = kw.pop("prompt", "1girl, saber")
    return GenParams.from_look(look, prompt, **kw)


def test_tiny_checkpoint_generates_64px_in_two_steps(models, tmp_path):
    loaded = load_pipeline(models["ckpt"])
    (image, used), = generate(loaded, params())
    arr = np.asarray(image)
    assert image.size == (64, 64) and np.isfinite(arr).all() and arr.std() > 1
    path = save_png(image, used, tmp_path / "out")
    assert path.name == "00000-7.png"
    text = Image.open(path).text["parameters"]
    assert text.startswith("anime screencap, 1girl, saber, ")
    assert "\nNegative prompt: lowres" in text
    assert f"Steps: 2, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 7, Size: 64x64, " \
           f"Model hash: {loaded.hashes.autov2}, Model: tiny, Clip skip: 2" in text
    assert save_png(image, used, tmp_path / "out").name == "00001-7.png"


def test_seeds_are_reproducible_and_settings_matter(models):
    loaded = load_pipeline(models["ckpt"])
    a = np.asarray(generate(loaded, params())[0][0], dtype=np.int16)
    b = np.asarray(generate(loaded, params())[0][0], dtype=np.int16)
    c = np.asarray(generate(loaded, params(seed=8))[0][0], dtype=np.int16)
    skip1 = np.asarray(generate(loaded, params(clip_skip=1))[0][0], dtype=np.int16)
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 5 and np.abs(a - skip1).mean() > 0.5
    batch = generate(loaded, params(), count=2)
    assert [p.seed for _, p in batch] == [7, 8]
    assert np.array_equal(np.asarray(batch[1][0], dtype=np.int16), c)


def test_lora_changes_the_image_and_is_recorded(models):
    base = np.asarray(generate(load_pipeline(models["ckpt"]), params())[0][0], dtype=np.int16)
    loaded = load_pipeline(models["ckpt"], loras=[LoraSpec.parse(f"{models['lora']}:1.0")])
    (image, used), = generate(loaded, params())
    assert np.abs(np.asarray(image, dtype=np.int16) - base).mean() > 0.5
    (lora,) = used.loras
    assert (lora.name, lora.weight, lora.file) == ("style", 1.0, "style.safetensors") and len(lora.hash) == 12


def test_hires_pass_doubles_the_size(models):
    (image, used), = generate(load_pipeline(models["ckpt"]), params(hires=True, hires_steps=1))
    assert image.size == (128, 128) and used.hires_scale == 2.0


def test_wrong_inputs_say_what_they_are(models, tmp_path):
    with pytest.raises(BadInput, match="is a SDXL checkpoint"):
        load_pipeline(models["xl"])
    with pytest.raises(BadInput, match="LoRA for SDXL"):
        load_pipeline(models["ckpt"], loras=[LoraSpec(models["lora_xl"])])
    with pytest.raises(BadInput, match="is not a checkpoint: it is a .*LoRA"):
        load_pipeline(models["lora"])
    with pytest.raises(BadInput, match="multiples of"):
        generate(load_pipeline(models["ckpt"]), params(width=60))


def test_cli_generate(models, tmp_path, capsys):
    from udw.cli.main import main

    rc = main(["-q", "generate", "-c", str(models["ckpt"]), "--look", "concept_art", "--prompt", "1girl",
               "--seed", "3", "--steps", "1", "--width", "64", "--height", "64", "-o", str(tmp_path / "o")])
    assert rc == 0 and "wrote" in capsys.readouterr().out
    text = Image.open(tmp_path / "o" / "00000-3.png").text["parameters"]
    assert text.startswith("concept art, character sheet, 1girl") and "Steps: 1," in text


def test_cli_generate_with_a_lora_round_trips_through_a1111(models, tmp_path, capsys):
    """Issue 16, finding 1: `--lora style.safetensors:0.8` is in the prompt as A1111 writes it, the weight
    and hash are kept, prompt newlines survive, and `udw meta` shows the LoRA."""
    from udw.cli.main import main
    from udw.gallery.metadata import read_metadata
    from udw.testing.host_code import HostCodeMissing, a1111_loras, a1111_parsers

    rc = main(["-q", "generate", "-c", str(models["ckpt"]), "--look", "concept_art", "--prompt", "1girl,\nsaber",
               "--lora", f"{models['lora']}:0.8", "--seed", "3", "--steps", "1", "--width", "64", "--height", "64",
               "-o", str(tmp_path / "o")])
    assert rc == 0
    path = tmp_path / "o" / "00000-3.png"
    text = Image.open(path).text["parameters"]
    prompt = text.split("\nNegative prompt:")[0]
    assert "1girl,\nsaber" in prompt and prompt.endswith(", <lora:style:0.8>")
    info = read_metadata(path).info
    (lora,) = info.loras
    assert (lora.name, lora.weight, lora.file) == ("style", 0.8, "style.safetensors") and len(lora.hash) == 12
    assert f'Lora hashes: "style: {lora.hash}"' in text
    capsys.readouterr()
    main(["meta", str(path)])
    out = capsys.readouterr().out
    assert f"LoRA: style (0.8) file style.safetensors hash {lora.hash}" in out and "<lora:style:0.8>" in out
    try:
        a1111 = a1111_parsers()
    except HostCodeMissing as exc:
        pytest.skip(str(exc))
    parsed = a1111.parse(text)
    assert a1111_loras(a1111, parsed["Prompt"]) == [("style", 0.8, 0.8)] and "1girl,\nsaber" in parsed["Prompt"]
    assert parsed["Lora hashes"] == f"style: {lora.hash}" and parsed["Seed"] == "3"
