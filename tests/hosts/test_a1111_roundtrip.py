"""Our metadata through a real A1111's PNG Info API (/sdapi/v1/png-info: read_info_from_image, then
parse_generation_parameters and the extensions' infotext_pasted callbacks, as "Send to txt2img" does):
LoRAs as prompt tags with their hashes, a ComfyUI hires graph as A1111's hires keys (issue 16).

Needs UDW_A1111_DIR and UDW_A1111_PYTHON (the `a1111` fixture of tests/hosts/conftest.py).
"""

import base64
import io

import pytest
from PIL import Image

from udw.gallery.comfy_graph import summarize_api
from udw.gallery.geninfo import GenerationInfo
from udw.gallery.meta_write import png_info
from udw.gallery.passes import Lora

pytestmark = pytest.mark.host

GRAPH = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15/udw_v1.safetensors"}},
    "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "strength_model": 0.8,
                                                  "strength_clip": 0.5, "lora_name": "styles/x.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "1girl,\nsaber", "clip": ["10", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "lowres", "clip": ["10", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 222, "steps": 12, "cfg": 5, "sampler_name": "euler",
                                               "scheduler": "normal", "denoise": 0.5, "model": ["10", 0],
                                               "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["50", 0]}},
    "50": {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["30", 0], "scale_by": 1.5,
                                                      "upscale_method": "nearest-exact"}},
    "30": {"class_type": "KSampler", "inputs": {"seed": 111, "steps": 28, "cfg": 6.5, "sampler_name": "dpmpp_2m",
                                                "scheduler": "karras", "denoise": 1.0, "model": ["10", 0],
                                                "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "ComfyUI"}},
}


def png_info_api(server, info: GenerationInfo) -> dict:
    buf = io.BytesIO()
    Image.new("RGB", (64, 96), (20, 90, 160)).save(buf, format="PNG", pnginfo=png_info(info))
    status, body = server.post("/sdapi/v1/png-info", {"image": base64.b64encode(buf.getvalue()).decode()})
    assert status == 200, body
    return body


def test_udw_lora_and_hashes_read_back_in_a1111(a1111):
    info = GenerationInfo(prompt="1girl,\nsaber", negative="lowres", seed=3, steps=20, cfg=7.0, sampler="Euler a",
                          width=512, height=512, model="udw_v1", model_hash="0123456789",
                          loras=[Lora.from_file("style.safetensors", 0.8, hash="a1b2c3d4e5f6")])
    body = png_info_api(a1111, info)
    params = body["parameters"]
    assert params["Prompt"] == "1girl,\nsaber, <lora:style:0.8>" and params["Negative prompt"] == "lowres"
    assert params["Lora hashes"] == "style: a1b2c3d4e5f6" and str(params["Seed"]) == "3"
    assert GenerationInfo.from_infotext(body["info"]).loras == [Lora("style", 0.8, hash="a1b2c3d4e5f6")]


def test_comfy_hires_graph_reads_as_a1111_hires_fix(a1111):
    body = png_info_api(a1111, summarize_api(GRAPH))
    params = {k: str(v) for k, v in body["parameters"].items()}
    assert params["Prompt"] == "1girl,\nsaber, <lora:x:0.5:0.8>"
    assert (params["Seed"], params["Steps"], params["Size-1"], params["Size-2"]) == ("111", "28", "512", "768")
    assert (params["Hires upscale"], params["Hires steps"], params["Denoising strength"]) == ("1.5", "12", "0.5")
    assert params["Hires upscaler"] == "Latent (nearest-exact)" and params["Hires sampler"] == "Euler"
    assert "Lora" not in params
