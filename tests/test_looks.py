"""Looks as data: shipped presets, user additions, composition, A1111 infotext."""

import json

import pytest

from udw.core.errors import BadInput
from udw.looks import load_looks, sampler_id, size_for_aspect
from udw.looks.infotext import GenParams, format_infotext, quote


@pytest.fixture(autouse=True)
def no_user_looks(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("UDW_LOOKS_DIR", raising=False)


def test_three_shipped_looks_in_order():
    book = load_looks()
    assert list(book.looks) == ["tv", "key_visual", "concept_art"] and book.problems == []
    for look in book.looks.values():
        assert look.width % 64 == 0 and look.height % 64 == 0 and look.clip_skip == 2
        assert "{prompt}" in look.prompt and look.hires and look.negative
        w, h = look.size(hires=True)
        assert w % 8 == 0 and h % 8 == 0 and w > look.width
    tv = book.get("TV/movie 16:9")
    assert (tv.width, tv.height) == size_for_aspect(16 / 9) == (704, 384)
    assert tv.size(True) == (1408, 768)
    assert book.get("key").id == "key_visual"


def test_prompt_goes_into_the_slot():
    tv = load_looks().get("tv")
    assert tv.positive(" 1girl, saber, ") .startswith("anime screencap, 1girl, saber, cinematic lighting")
    assert tv.positive("") .startswith("anime screencap, cinematic lighting")


def test_user_looks_add_and_override(tmp_path, monkeypatch):
    folder = tmp_path / "looks"
    folder.mkdir()
    (folder / "mine.json").write_text(json.dumps({"id": "night", "name": "night scene", "prompt": "{prompt}, night",
                                                  "width": 640, "height": 384, "sampler": "Euler a"}))
    (folder / "tv.json").write_text(json.dumps({"id": "tv", "name": "TV mine", "prompt": "x", "width": 512,
                                                "height": 512}))
    (folder / "broken.json").write_text("{ not json")
    (folder / "bad_size.json").write_text(json.dumps({"id": "b", "name": "b", "prompt": "x", "width": 500,
                                                      "height": 512}))
    monkeypatch.setenv("UDW_LOOKS_DIR", str(folder))
    book = load_looks()
    assert book.get("night").sampler == "euler_ancestral" and book.get("tv").name == "TV mine"
    assert len(book.problems) == 2
    assert any("broken.json is not valid JSON" in p for p in book.problems)
    assert any("bad_size.json" in p and "multiples of 8" in p for p in book.problems)
    with pytest.raises(BadInput, match="unknown look"):
        book.get("nope")


def test_sampler_names_both_ways():
    assert sampler_id("DPM++ 2M") == "dpmpp_2m" and sampler_id("euler_ancestral") == "euler_ancestral"
    with pytest.raises(BadInput, match="unknown sampler"):
        sampler_id("warp drive")


def test_infotext_matches_a1111_layout():
    tv = load_looks().get("tv")
    p = GenParams.from_look(tv, "1girl, saber", seed=123, model_name="UDW", model_hash="0123456789")
    text = format_infotext(p)
    prompt, negative, line = text.split("\n")
    assert prompt == tv.positive("1girl, saber") and negative == "Negative prompt: " + tv.negative
    assert line.startswith("Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123, "
                           "Size: 704x384, Model hash: 0123456789, Model: UDW, Clip skip: 2, ")
    assert line.endswith("Version: udw 0.1.0")
    hires = format_infotext(GenParams.from_look(tv, "a", seed=1, hires=True))
    assert "Denoising strength: 0.45, Clip skip: 2, Hires upscale: 2, Hires steps: 14, Hires upscaler: Lanczos" in hires
    assert quote("a: b") == '"a: b"' and quote("plain") == "plain"
    assert "Negative prompt" not in format_infotext(GenParams.from_look(tv, "a", seed=1, negative=""))
