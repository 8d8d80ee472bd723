"""Generation metadata round trips with the tools users run (issue 16, findings 1 and 2): LoRAs as A1111
writes and reads them, multi-pass ComfyUI graphs (hires, refiner, guiders, edit encoders), checked with
A1111 v1.10.1's own parser and ComfyUI's shipped workflow templates where they are on this machine."""

import importlib.resources
import importlib.util
import json

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from udw.cli.main import main
from udw.gallery.comfy_graph import summarize_api, ui_to_api
from udw.gallery.geninfo import GenerationInfo
from udw.gallery.meta_write import save_image
from udw.gallery.metadata import read_metadata
from udw.gallery.passes import Lora
from udw.testing.host_code import HostCodeMissing, a1111_loras, a1111_parsers


# -- A1111's own parsers --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def a1111():
    try:
        return a1111_parsers()
    except HostCodeMissing as exc:
        pytest.skip(str(exc))


def comfy_lora_graph(first_hires=False):
    """txt2img + latent hires fix with two LoRAs (one with its own clip strength); with
    `first_hires`, the hires KSampler has the lower node id (the order ComfyUI users often get)."""
    base, hires = ("30", "3") if first_hires else ("3", "30")
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15/udw_v1.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "strength_model": 0.8,
                                                      "strength_clip": 0.5, "lora_name": "styles/x.safetensors"}},
        "11": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["10", 0], "lora_name": "eye.safetensors",
                                                              "strength_model": 0.3}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "1girl,\nsaber", "clip": ["10", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "lowres", "clip": ["10", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
        base: {"class_type": "KSampler", "inputs": {"seed": 111, "steps": 28, "cfg": 6.5, "sampler_name": "dpmpp_2m",
                                                    "scheduler": "karras", "denoise": 1.0, "model": ["11", 0],
                                                    "positive": ["6", 0], "negative": ["7", 0],
                                                    "latent_image": ["5", 0]}},
        "50": {"class_type": "LatentUpscaleBy", "inputs": {"samples": [base, 0], "scale_by": 1.5,
                                                          "upscale_method": "nearest-exact"}},
        hires: {"class_type": "KSampler", "inputs": {"seed": 222, "steps": 12, "cfg": 5, "sampler_name": "euler",
                                                     "scheduler": "normal", "denoise": 0.5, "model": ["11", 0],
                                                     "positive": ["6", 0], "negative": ["7", 0],
                                                     "latent_image": ["50", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": [hires, 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "ComfyUI"}},
    }


# -- finding 1: LoRAs, hashes, denoise, newlines ------------------------------------------------------
def test_comfy_loras_are_written_as_a1111_reads_them(a1111, tmp_path):
    info = summarize_api(comfy_lora_graph())
    # in the order they are applied, from the checkpoint out
    assert info.loras == [Lora("x", 0.8, 0.5, "styles/x.safetensors"), Lora("eye", 0.3, None, "eye.safetensors")]
    text = info.to_infotext()
    assert "Lora:" not in text  # the old key A1111 ignores
    parsed = a1111.parse(text)
    assert parsed["Prompt"].startswith("1girl,\nsaber") and parsed["Negative prompt"] == "lowres"
    assert a1111_loras(a1111, parsed["Prompt"]) == [("x", 0.5, 0.8), ("eye", 0.3, 0.3)]
    assert "Lora hashes" not in parsed  # no hash known for ComfyUI's files: none made up
    assert parsed["Size-1"] == "512" and parsed["Seed"] == "111" and parsed["Denoising strength"] == "0.5"


def test_a1111_lora_hashes_and_denoise_survive_udw_meta(a1111, tmp_path, capsys):
    text = ("1girl, <lora:udwStyle:0.7>\nsecond line\nNegative prompt: lowres\nSteps: 20, Sampler: Euler a, "
            "CFG scale: 7, Seed: 5, Size: 512x512, Model hash: 0123456789, Model: udw_v1, Denoising strength: 1.0, "
            'Lora hashes: "udwStyle: a1b2c3d4e5f6", Version: v1.10.1')
    path = tmp_path / "a1111.png"
    png = PngInfo()
    png.add_text("parameters", text)
    Image.new("RGB", (8, 8)).save(path, pnginfo=png)
    meta = read_metadata(path)
    assert meta.info.loras == [Lora("udwStyle", 0.7, hash="a1b2c3d4e5f6")] and meta.info.denoise == 1.0
    assert main(["meta", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Lora hashes: \"udwStyle: a1b2c3d4e5f6\"" in out and "Denoising strength: 1," in out
    assert "LoRA: udwStyle (0.7) hash a1b2c3d4e5f6" in out and "1girl, <lora:udwStyle:0.7>\nsecond line" in out
    again = a1111.parse(meta.info.to_infotext())
    original = a1111.parse(text)
    assert {k: _same(again[k]) for k in original if k != "Version"} == \
        {k: _same(v) for k, v in original.items() if k != "Version"}


def _same(value):
    """A value as A1111 uses it: `1.0` and `1` are the same number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def test_udw_meta_json_and_the_written_file_keep_loras(tmp_path, capsys):
    info = summarize_api(comfy_lora_graph())
    path = save_image(Image.new("RGB", (768, 1152)), tmp_path / "c.png", info)
    back = read_metadata(path).info
    assert back.loras == info.loras and [p.kind for p in back.passes] == ["base", "hires"]
    assert main(["meta", "--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)[0]["info"]
    assert data["loras"][0] == {"name": "x", "weight": 0.8, "clip_weight": 0.5, "file": "styles/x.safetensors",
                                "hash": None}


# -- finding 2: multi-pass graphs ---------------------------------------------------------------------
@pytest.mark.parametrize("first_hires", [False, True])
def test_hires_pass_is_not_taken_for_the_base(first_hires, a1111):
    info = summarize_api(comfy_lora_graph(first_hires))
    assert (info.seed, info.steps, info.cfg, info.sampler) == (111, 28, 6.5, "dpmpp_2m")
    assert (info.width, info.height) == (512, 768)
    base, hires = info.passes
    assert (base.kind, base.txt2img, hires.kind) == ("base", True, "hires")
    assert (hires.width, hires.height, hires.upscale, hires.seed, hires.steps, hires.denoise) == (768, 1152, 1.5, 222, 12, 0.5)
    assert hires.upscaler == "Latent (nearest-exact)"
    parsed = a1111.parse(info.to_infotext())
    assert (parsed["Size-1"], parsed["Size-2"], parsed["Hires upscale"], parsed["Hires steps"]) == ("512", "768", "1.5", "12")
    assert parsed["Hires upscaler"] == "Latent (nearest-exact)" and parsed["Hires sampler"] == "Euler"


def test_zero_out_negative_dual_cfg_and_cfg_guider():
    graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle", "clip": ["9", 0]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "at dusk", "clip": ["9", 0]}},
        "4": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["2", 0]}},
        "5": {"class_type": "DualCFGGuider", "inputs": {"model": ["1", 0], "cond1": ["2", 0], "cond2": ["3", 0],
                                                        "negative": ["4", 0], "cfg_conds": 5.5,
                                                        "cfg_cond2_negative": 2.0, "style": "regular"}},
        "6": {"class_type": "RandomNoise", "inputs": {"noise_seed": 77}},
        "7": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "8": {"class_type": "BasicScheduler", "inputs": {"model": ["1", 0], "scheduler": "simple", "steps": 20,
                                                         "denoise": 1.0}},
        "10": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
        "11": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["6", 0], "guider": ["5", 0],
                                                                 "sampler": ["7", 0], "sigmas": ["8", 0],
                                                                 "latent_image": ["10", 0]}},
    }
    info = summarize_api(graph)
    assert info.prompt == "a castle\nat dusk" and info.negative == "" and info.cfg == 5.5
    assert (info.seed, info.steps, info.width, info.height) == (77, 20, 1024, 768)
    graph["5"] = {"class_type": "CFGGuider", "inputs": {"model": ["1", 0], "positive": ["3", 0],
                                                        "negative": ["4", 0], "cfg": 3.0}}
    info = summarize_api(graph)
    assert info.prompt == "at dusk" and info.negative == "" and info.cfg == 3.0


def test_values_from_the_workflow_are_marked(tmp_path, capsys):
    """A `prompt` graph whose sampler is a custom node we cannot read; the workflow still shows one."""
    prompt = {"1": {"class_type": "SomePackSampler", "inputs": {"anything": 1}}}
    workflow = {"nodes": [
        {"id": 1, "type": "EmptyLatentImage", "widgets_values": [640, 448, 1], "inputs": []},
        {"id": 2, "type": "CLIPTextEncode", "widgets_values": ["a fox"], "inputs": []},
        {"id": 3, "type": "KSampler", "widgets_values": [5, "fixed", 9, 4.0, "euler", "normal", 1.0],
         "inputs": [{"name": "positive", "link": 1}, {"name": "negative", "link": 1},
                    {"name": "latent_image", "link": 2}]},
        {"id": 4, "type": "SaveImage", "widgets_values": ["x"], "inputs": [{"name": "images", "link": 3}]},
        {"id": 5, "type": "VAEDecode", "widgets_values": [], "inputs": [{"name": "samples", "link": 4}]}],
        "links": [[1, 2, 0, 3, 0, "CONDITIONING"], [2, 1, 0, 3, 3, "LATENT"], [3, 5, 0, 4, 0, "IMAGE"],
                  [4, 3, 0, 5, 0, "LATENT"]]}
    path = save_image(Image.new("RGB", (640, 448)), tmp_path / "w.png", comfy_prompt=prompt, workflow=workflow)
    info = read_metadata(path).info
    assert (info.prompt, info.seed, info.steps, info.width) == ("a fox", 5, 9, 640)
    assert {"prompt", "seed", "steps", "width"} <= set(info.from_workflow)
    main(["meta", str(path)])
    assert "from the workflow (the prompt graph lacks them): prompt" in capsys.readouterr().out


# -- ComfyUI's shipped templates (comfyui_workflow_templates, the package ComfyUI installs) ----------------
@pytest.fixture(scope="module")
def template():
    if importlib.util.find_spec("comfyui_workflow_templates") is None:
        pytest.skip("comfyui_workflow_templates is not installed: pip install comfyui-workflow-templates==0.1.95 "
                    "(the version ComfyUI 0.3.64 pins)")
    root = importlib.resources.files("comfyui_workflow_templates") / "templates"

    def load(name):
        path = root / f"{name}.json"
        if not path.is_file():
            pytest.skip(f"template {name} is not in this comfyui_workflow_templates version")
        return json.loads(path.read_text(encoding="utf-8"))

    return load


def test_template_latent_upscale_different_prompt_model(template, a1111, tmp_path):
    workflow = template("latent_upscale_different_prompt_model")
    info = summarize_api(ui_to_api(workflow))
    assert (info.width, info.height, info.steps, info.cfg, info.seed) == (512, 512, 14, 8.0, 749119555793879)
    base, hires = info.passes
    assert (hires.kind, hires.width, hires.height, hires.upscale, hires.steps, hires.cfg) == ("hires", 768, 768, 1.5, 8, 13.0)
    assert hires.model == "v1-5-pruned-emaonly-fp16.safetensors" and info.model == "DreamShaper_8_pruned.safetensors"
    assert hires.prompt.startswith("(masterpiece) (best quality) beautiful landscape") and hires.prompt != info.prompt
    assert hires.negative.startswith("(hands), (text:1.1)")
    parsed = a1111.parse(info.to_infotext())
    assert parsed["Hires checkpoint"] == "v1-5-pruned-emaonly-fp16" and parsed["Hires prompt"] == hires.prompt
    assert parsed["Hires negative prompt"] == hires.negative and parsed["Hires CFG Scale"] == "13"
    # the graph saves both passes: each file is read as the pass that made it, told apart by its size
    for size, kind in (((512, 512), "base"), ((768, 768), "hires")):
        path = save_image(Image.new("RGB", size), tmp_path / f"{kind}.png", workflow=workflow)
        meta = read_metadata(path)
        assert meta.info.passes[-1].kind == kind and (meta.info.width, meta.info.height) == (512, 512)
        assert "prompt" in meta.info.from_workflow  # only the workflow was saved


def test_template_sdxl_refiner(template, a1111):
    info = summarize_api(ui_to_api(template("sdxl_refiner_prompt_example")))
    assert info.model == "sd_xl_base_1.0.safetensors" and (info.width, info.steps) == (1024, 25)
    base, refiner = info.passes
    assert (base.end_step, refiner.kind, refiner.start_step) == (20, "refiner", 20)
    assert refiner.model == "sd_xl_refiner_1.0.safetensors"
    parsed = a1111.parse(info.to_infotext())
    assert parsed["Refiner"] == "sd_xl_refiner_1.0" and parsed["Refiner switch at"] == "0.8"


def test_template_qwen_edit_prompt_from_the_workflow_alone(template, tmp_path):
    workflow = template("image_qwen_image_edit_2509")
    path = save_image(Image.new("RGB", (64, 64)), tmp_path / "q.png", workflow=workflow)
    info = read_metadata(path).info
    assert info.prompt == "Replace the cat with a dalmatian" and info.seed == 724723345395306
    assert info.loras == [Lora.from_file("Qwen-Image-Edit-2509-Lightning-4steps-V1.0-bf16.safetensors", 1.0)]
    assert "prompt" in info.from_workflow and info.passes[0].txt2img is False


def test_every_shipped_image_template_reads_without_error(template):
    root = importlib.resources.files("comfyui_workflow_templates") / "templates"
    read = 0
    for entry in root.iterdir():
        if entry.name.endswith(".json") and entry.name != "index.json":
            data = json.loads(entry.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("nodes"), list):
                info = summarize_api(ui_to_api(data))
                read += info is not None
                if info is not None:
                    assert info.passes and info.passes[0].kind == "base"
                    GenerationInfo.from_infotext(info.to_infotext())
    assert read > 20


def test_browser_detail_shows_each_lora_and_pass(tmp_path):
    """The dataset browser's detail (ComfyUI sidebar and the app's Gallery tab) lists LoRAs and passes."""
    pytest.importorskip("gradio")
    from udw.core.manifest import Dataset
    from udw.gallery.details import detail
    from udw.ui.sections.gallery_html import detail_html

    ds = Dataset.open_or_create(tmp_path / "ds")
    path = save_image(Image.new("RGB", (768, 1152)), tmp_path / "ds" / "images" / "c.png",
                      comfy_prompt=comfy_lora_graph(first_hires=True))
    with ds.transaction() as conn:
        item = ds.add_item(conn, "images/c.png", "c", width=768, height=1152)
    d = detail(ds, item, path)
    assert d["metadata"]["info"]["loras"][0]["clip_weight"] == 0.5
    html = detail_html(d)
    assert "x (0.8, text encoder 0.5) file styles/x.safetensors" in html
    assert "hires, 768x1152, seed 222" in html and "base, 512x768, seed 111" in html
