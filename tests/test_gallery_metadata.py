"""Generation metadata: A1111 infotext, ComfyUI graphs (API and UI), writers, damaged files."""

import json
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from udw.core.errors import BadInput
from udw.gallery import meta_read
from udw.gallery.comfy_graph import summarize_api, ui_to_api
from udw.gallery.geninfo import GenerationInfo
from udw.gallery.passes import Lora
from udw.gallery.infotext import format_infotext, parse
from udw.gallery.meta_write import save_image
from udw.gallery.metadata import read_metadata

INFOTEXT = (
    "masterpiece, 1girl, <lora:udwStyle:0.7>, saber\n"
    "second line of the prompt\n"
    "Negative prompt: lowres, bad hands\n"
    "more negative\n"
    'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, '
    'Size: 512x768, Model hash: abc123, Model: udw_v1, Clip skip: 2, '
    'Hires prompt: "a, b: c", Version: v1.10.1'
)


def chunk(ctype: bytes, data: bytes, crc=None) -> bytes:
    crc = zlib.crc32(ctype + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def png_with(tmp_path: Path, *extra: bytes, name="x.png", end=True) -> Path:
    """A valid 1x1 PNG with extra chunks inserted before IDAT."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
    data = meta_read.PNG_SIGNATURE + ihdr + b"".join(extra) + idat + (chunk(b"IEND", b"") if end else b"")
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_infotext_parse_matches_a1111_rules():
    prompt, negative, params = parse(INFOTEXT)
    assert prompt == "masterpiece, 1girl, <lora:udwStyle:0.7>, saber\nsecond line of the prompt"
    assert negative == "lowres, bad hands\nmore negative"
    assert params["Hires prompt"] == "a, b: c"          # quoted value with comma and colon
    assert (params["Size-1"], params["Size-2"]) == ("512", "768")
    info = GenerationInfo.from_infotext(INFOTEXT)
    assert (info.seed, info.steps, info.cfg, info.width, info.height) == (1234567890, 28, 6.5, 512, 768)
    assert info.sampler == "DPM++ 2M" and info.scheduler == "Karras" and info.clip_skip == 2
    assert [(lo.name, lo.weight) for lo in info.loras] == [("udwStyle", 0.7)] and info.model == "udw_v1"


def test_infotext_last_line_with_few_pairs_is_prompt():
    prompt, negative, params = parse("a cat\nStyle: watercolor")
    assert prompt == "a cat\nStyle: watercolor" and params == {} and negative == ""


def test_format_round_trip_quotes_values():
    text = format_infotext("p", "n", [("Steps", 20), ("Note", 'x, "y": z'), ("Seed", 5), ("Empty", None)])
    assert "Empty" not in text
    prompt, negative, params = parse(text)
    assert (prompt, negative, params["Note"], params["Seed"]) == ("p", "n", 'x, "y": z', "5")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_writer_and_reader_round_trip(tmp_path, suffix):
    info = GenerationInfo(prompt="1girl, 日本語 <b>", negative="lowres", seed=42, steps=20, cfg=7.0,
                          sampler="euler_ancestral", scheduler="karras", width=64, height=48,
                          model="udw_v1", loras=[Lora("udwStyle", 0.5)], params={"Look": "key visual"})
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 42}}}
    path = save_image(Image.new("RGB", (64, 48), (200, 10, 10)), tmp_path / f"out{suffix}", info,
                      comfy_prompt=graph, workflow={"nodes": []})
    meta = read_metadata(path)
    assert meta.info is not None and not meta.warnings
    # JPEG/WebP carry only A1111's infotext, whose prompt holds the LoRA tag as A1111 writes it
    want = "1girl, 日本語 <b>" + ("" if suffix == ".png" else ", <lora:udwStyle:0.5>")
    assert meta.info.prompt == want and meta.info.seed == 42 and meta.info.steps == 20
    assert meta.info.loras == [Lora("udwStyle", 0.5)]
    assert meta.info.source == "udw" and (meta.width, meta.height) == (64, 48)
    assert meta.comfy_prompt == graph and meta.comfy_workflow == {"nodes": []}
    if suffix == ".png":
        assert meta.info.loras == [Lora("udwStyle", 0.5)] and meta.info.params["Look"] == "key visual"
        # A1111 reads the same file through `parameters`
        assert parse(meta.text["parameters"])[2]["Sampler"] == "Euler a"
    else:
        assert "Sampler: Euler a" in meta.text["exif:UserComment"]
    assert not list(tmp_path.glob("*.udwtmp*"))


def test_a1111_jpeg_user_comment_little_endian_and_ascii(tmp_path):
    for code, payload in ((b"UNICODE\0", "Steps: 1".encode("utf-16-le")),
                          (b"ASCII\0\0\0", b"a cat\nSteps: 3, Seed: 9, Sampler: Euler")):
        exif = Image.Exif()
        exif.get_ifd(meta_read.EXIF_IFD)[meta_read.USER_COMMENT] = code + payload
        path = tmp_path / "a.jpg"
        Image.new("RGB", (8, 8)).save(path, exif=exif.tobytes())
        text = read_metadata(path).text["exif:UserComment"]
        assert text in ("Steps: 1", "a cat\nSteps: 3, Seed: 9, Sampler: Euler")
    assert read_metadata(path).info.seed == 9


def test_comfy_webp_make_model_strings(tmp_path):
    exif = Image.Exif()
    graph = {"1": {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 4, "cfg": 2.0,
                                                        "sampler_name": "euler", "scheduler": "normal",
                                                        "positive": "x", "negative": "y"}}}
    exif[meta_read.MODEL] = "prompt:" + json.dumps(graph)
    exif[meta_read.MAKE] = "workflow:" + json.dumps({"nodes": [], "links": []})
    path = tmp_path / "c.webp"
    Image.new("RGB", (8, 8)).save(path, exif=exif.tobytes())
    meta = read_metadata(path)
    assert meta.comfy_prompt == graph and meta.info.seed == 7 and meta.info.source == "comfyui"


def api_graph():
    """txt2img + hires pass, prompts through a string primitive, concat and a ControlNet, LoRAs."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "udw_v1.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1],
                                                      "lora_name": "saber.safetensors",
                                                      "strength_model": 0.8, "strength_clip": 1.0}},
        "11": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["10", 0], "lora_name": "eye.safetensors",
                                                              "strength_model": 0.3}},
        "12": {"class_type": "CLIPSetLastLayer", "inputs": {"clip": ["10", 1], "stop_at_clip_layer": -2}},
        "20": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "1girl, saber"}},
        "21": {"class_type": "StringConcatenate", "inputs": {"string_a": ["20", 0], "string_b": "ufotable",
                                                            "delimiter": ", "}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": ["21", 0], "clip": ["12", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "lowres", "clip": ["12", 0]}},
        "30": {"class_type": "ControlNetApplyAdvanced", "inputs": {"positive": ["6", 0], "negative": ["7", 0],
                                                                  "control_net": ["31", 0], "image": ["32", 0]}},
        "40": {"class_type": "Seed (rgthree)", "inputs": {"seed": 987654321}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"seed": ["40", 0], "steps": 28, "cfg": 6.5,
                                                   "sampler_name": "dpmpp_2m", "scheduler": "karras",
                                                   "denoise": 1.0, "model": ["11", 0],
                                                   "positive": ["30", 0], "negative": ["30", 1],
                                                   "latent_image": ["5", 0]}},
        "50": {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["3", 0], "scale_by": 1.5}},
        "51": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 12, "cfg": 5, "sampler_name": "euler",
                                                    "scheduler": "normal", "denoise": 0.5, "model": ["11", 0],
                                                    "positive": ["30", 0], "negative": ["30", 1],
                                                    "latent_image": ["50", 0]}},
    }


def test_comfy_api_graph_walk():
    info = summarize_api(api_graph())
    assert info.prompt == "1girl, saber, ufotable" and info.negative == "lowres"
    assert (info.seed, info.steps, info.cfg, info.sampler, info.scheduler) == (987654321, 28, 6.5, "dpmpp_2m", "karras")
    assert (info.width, info.height, info.model) == (512, 768, "udw_v1.safetensors")
    assert info.loras == [Lora("saber", 0.8, 1.0, "saber.safetensors"), Lora("eye", 0.3, None, "eye.safetensors")]
    assert info.clip_skip == 2 and [p.kind for p in info.passes] == ["base", "hires"]
    text = info.to_infotext()
    assert "Sampler: DPM++ 2M" in text and "Schedule type: Karras" in text and "Seed: 987654321" in text


def test_comfy_sampler_custom_advanced():
    graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle", "clip": ["9", 0]}},
        "3": {"class_type": "FluxGuidance", "inputs": {"conditioning": ["2", 0], "guidance": 3.5}},
        "4": {"class_type": "BasicGuider", "inputs": {"model": ["1", 0], "conditioning": ["3", 0]}},
        "5": {"class_type": "RandomNoise", "inputs": {"noise_seed": 55}},
        "6": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "7": {"class_type": "BasicScheduler", "inputs": {"model": ["1", 0], "scheduler": "simple", "steps": 20,
                                                         "denoise": 1.0}},
        "8": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "13": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["5", 0], "guider": ["4", 0],
                                                                 "sampler": ["6", 0], "sigmas": ["7", 0],
                                                                 "latent_image": ["8", 0]}},
    }
    info = summarize_api(graph)
    assert (info.prompt, info.seed, info.sampler, info.scheduler, info.steps) == ("a castle", 55, "euler", "simple", 20)
    assert info.model == "flux.safetensors" and info.width == 1024 and info.negative == ""


def test_ui_workflow_with_reroutes_and_primitives():
    workflow = {
        "nodes": [
            {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["udw.safetensors"], "inputs": []},
            {"id": 6, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "link": 1},
                                                          {"name": "text", "link": 9, "widget": {"name": "text"}}],
             "widgets_values": ["ignored: linked"]},
            {"id": 7, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "link": 2}], "widgets_values": ["bad"]},
            {"id": 20, "type": "Reroute", "inputs": [{"name": "", "link": 3}]},
            {"id": 21, "type": "PrimitiveNode", "widgets_values": ["a rerouted prompt"]},
            {"id": 5, "type": "EmptyLatentImage", "widgets_values": [640, 360, 1]},
            {"id": 3, "type": "KSampler", "inputs": [{"name": "model", "link": 4}, {"name": "positive", "link": 5},
                                                     {"name": "negative", "link": 6},
                                                     {"name": "latent_image", "link": 7}],
             "widgets_values": [31337, "randomize", 24, 7, "euler_ancestral", "normal", 1]},
            {"id": 99, "type": "Note", "widgets_values": ["hello"]},
        ],
        "links": [[1, 4, 1, 6, 0, "CLIP"], [2, 4, 1, 7, 0, "CLIP"], [3, 6, 0, 20, 0, "*"],
                  [4, 4, 0, 3, 0, "MODEL"], [5, 20, 0, 3, 1, "CONDITIONING"], [6, 7, 0, 3, 2, "CONDITIONING"],
                  [7, 5, 0, 3, 3, "LATENT"], [9, 21, 0, 6, 1, "STRING"]],
    }
    api = ui_to_api(workflow)
    assert "20" not in api and "21" not in api and api["3"]["inputs"]["positive"] == ["6", 0]
    info = summarize_api(api)
    assert (info.prompt, info.negative, info.seed, info.steps) == ("a rerouted prompt", "bad", 31337, 24)
    assert (info.width, info.height, info.model) == (640, 360, "udw.safetensors")


def test_real_comfyui_template_workflow():
    root = os.environ.get("UDW_COMFYUI_DIR", "/work/hosts/ComfyUI")
    found = list(Path(root).glob(".venv/lib/python3*/site-packages/comfyui_workflow_templates/templates/default.json"))
    if not found:
        pytest.skip("ComfyUI's workflow templates package is not installed beside a ComfyUI checkout")
    info = summarize_api(ui_to_api(json.loads(found[0].read_text())))
    assert info.prompt.startswith("beautiful scenery") and info.negative == "text, watermark"
    assert info.steps == 20 and info.sampler == "euler" and info.model.endswith(".safetensors")


# -- damaged and hostile files ----------------------------------------------------------------
def text_chunk(key: str, value: bytes) -> bytes:
    return chunk(b"tEXt", key.encode("latin-1") + b"\0" + value)


def test_bad_crc_non_utf8_and_bad_json_are_warnings(tmp_path):
    good = text_chunk("parameters", b"caf\xe9 girl\nSteps: 3, Seed: 4, Sampler: Euler")  # Latin-1
    bad_crc = chunk(b"tEXt", b"note\0hello", crc=1)
    itxt = chunk(b"iTXt", b"comment\0\0\0\0\0\xff\xfe broken utf8")
    broken_json = text_chunk("workflow", b"{not json")
    meta = read_metadata(png_with(tmp_path, good, bad_crc, itxt, broken_json))
    assert meta.info.prompt == "café girl" and meta.info.seed == 4
    assert meta.text["note"] == "hello" and "\ufffd" in meta.text["comment"]
    assert any("checksum" in w for w in meta.warnings) and any("not valid JSON" in w for w in meta.warnings)
    assert "{not json" in meta.raw_json()


def test_huge_and_bomb_chunks_are_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(meta_read, "MAX_CHUNK", 4096)
    huge = text_chunk("parameters", b"x" * 10_000)
    bomb = chunk(b"zTXt", b"workflow\0\0" + zlib.compress(b"{" + b" " * 100_000 + b"}"))
    ok = text_chunk("udw", json.dumps({"prompt": "small", "seed": 3}).encode())
    meta = read_metadata(png_with(tmp_path, huge, bomb, ok))
    assert "parameters" not in meta.text and meta.info.prompt == "small" and meta.info.seed == 3
    assert any("size limit" in w for w in meta.warnings) and any("unreadable" in w for w in meta.warnings)


def test_truncated_and_garbage_files(tmp_path):
    path = png_with(tmp_path, text_chunk("parameters", b"p\nSteps: 1, Seed: 2, Sampler: x"), end=False)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    meta = read_metadata(path)
    assert meta.info.seed == 2 and any("truncated" in w for w in meta.warnings)
    garbage = tmp_path / "g.jpg"
    garbage.write_bytes(b"\xff\xd8\xff\xe1\x00\x10Exif\0\0garbage-garbage")
    meta = read_metadata(garbage)
    assert meta.info is None and meta.warnings
    (tmp_path / "empty.png").write_bytes(b"")
    assert read_metadata(tmp_path / "empty.png").info is None
    with pytest.raises(BadInput, match="not found"):
        read_metadata(tmp_path / "gone.png")


def test_hostile_graphs_do_not_crash(tmp_path):
    cyclic = {"1": {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["2", 0],
                                                         "negative": ["2", 0], "model": ["3", 0]}},
              "2": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["2", 0]}},
              "3": {"class_type": "LoraLoader", "inputs": {"model": ["3", 0], "clip": ["3", 1],
                                                           "lora_name": ["3", 0]}}}
    info = summarize_api(cyclic)
    assert info is not None and info.prompt == ""
    weird = {"prompt": json.dumps({"1": "not a node", "2": {"inputs": [1, 2]},
                                   "3": {"class_type": "KSampler", "inputs": {"positive": 5, "negative": None,
                                                                              "seed": "x"}}})}
    path = png_with(tmp_path, *(text_chunk(k, v.encode()) for k, v in weird.items()))
    meta = read_metadata(path)
    assert meta.info is not None and meta.info.seed is None
