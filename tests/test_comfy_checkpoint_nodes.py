"""UDW model nodes inside the fake ComfyUI (the real one runs in tests/hosts)."""

import pytest

from udw.testing import tiny_lora, tiny_sd




@pytest.fixture
def models(comfy, monkeypatch, tmp_path):
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    m = comfy.base / "models"
    return {"ckpt": tiny_sd.build_checkpoint(m / "checkpoints" / "udw.safetensors", seed=1),
            "base": tiny_sd.build_checkpoint(m / "checkpoints" / "base.safetensors", seed=1, perturb=0.1),
            "xl": tiny_sd.build_family_like(m / "checkpoints" / "sdxl_model.safetensors", "sdxl"),
            "lora_in_ckpts": tiny_lora.build_lora(m / "checkpoints" / "oops_lora.safetensors"),
            "lora": tiny_lora.build_lora(m / "loras" / "style.safetensors"),
            "lora_xl": tiny_lora.build_lora(m / "loras" / "xl_style.safetensors", family="sdxl"),
            "vae": tiny_sd.write_checkpoint(m / "vae" / "anime.vae.safetensors",
                                            [(k[len("first_stage_model."):], s, i)
                                             for k, s, i in tiny_sd.vae_tensor_specs(tiny_sd.TINY)])}


def test_nodes_are_registered(comfy):
    names = comfy.pack.NODE_DISPLAY_NAME_MAPPINGS
    for key, title in (("UDWCheckpointLoader", "UDW Checkpoint Loader"), ("UDWLook", "UDW Look"),
                       ("UDWLoraStack", "UDW LoRA Stack"), ("UDWInspectCheckpoint", "UDW Inspect Checkpoint")):
        assert names[key] == title and comfy.nodes[key].DESCRIPTION


def test_loader_applies_clip_skip_and_reports(comfy, models):
    (model, clip, vae, info), _ = comfy.run("UDWCheckpointLoader", ckpt_name="udw.safetensors")
    assert clip.layer_idx == -2 and model.model.model_config.unet_config["context_dim"] == 64
    assert "Stable Diffusion 1.x checkpoint" in info and "clip skip: 2 (CLIPSetLastLayer -2)" in info
    assert "VAE: baked" in info and "not computed" in info
    (_, clip1, vae2, info2), _ = comfy.run("UDWCheckpointLoader", ckpt_name="udw.safetensors", clip_skip=-1,
                                            vae_name="anime.vae.safetensors", hash=True)
    assert clip1.layer_idx == -1 and "VAE: anime.vae.safetensors" in info2 and "AutoV2" in info2
    vae2.throw_exception_if_invalid()


def test_loader_refuses_other_kinds_at_validation(comfy, models):
    msg = comfy.validate("UDWCheckpointLoader", {"ckpt_name": "sdxl_model.safetensors"})
    assert "is a SDXL checkpoint" in msg and "not Stable Diffusion 1.x" in msg
    msg = comfy.validate("UDWCheckpointLoader", {"ckpt_name": "oops_lora.safetensors"})
    assert "is not a checkpoint" in msg and "LoRA" in msg
    assert "not in the checkpoints folder" in comfy.validate("UDWCheckpointLoader", {"ckpt_name": "nope.ckpt"})
    assert comfy.validate("UDWCheckpointLoader", {"ckpt_name": "sdxl_model.safetensors", "expect": "any"}) is True
    assert comfy.validate("UDWCheckpointLoader", {"ckpt_name": None}) is True


def test_loader_reads_ckpt_safely(comfy, models, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    sd = load_file(str(models["ckpt"]))
    torch.save({"state_dict": sd}, comfy.base / "models" / "checkpoints" / "old.ckpt")
    (model, clip, vae, info), _ = comfy.run("UDWCheckpointLoader", ckpt_name="old.ckpt")
    assert clip.layer_idx == -2

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"state_dict": sd, "x": Evil()}, comfy.base / "models" / "checkpoints" / "evil.ckpt")
    with pytest.raises(RuntimeError, match="contains pickled code"):
        comfy.run("UDWCheckpointLoader", ckpt_name="evil.ckpt")


def test_lora_stack_applies_and_refuses_other_architectures(comfy, models):
    (model, clip, _, _), _ = comfy.run("UDWCheckpointLoader", ckpt_name="udw.safetensors")
    (m2, c2, text), _ = comfy.run("UDWLoraStack", model=model, clip=clip, lora_1="style.safetensors",
                                  strength_model_1=0.8, strength_clip_1=0.5, lora_2="None")
    assert m2.patches == [(52, 0.8)] and c2.patches == [(52, 0.5)] and c2.layer_idx == -2
    assert text.startswith("style: ") and len(text.split(": ")[1]) == 12
    (m3, _, text3), _ = comfy.run("UDWLoraStack", model=model, clip=clip)
    assert m3 is model and text3 == ""
    with pytest.raises(RuntimeError, match="LoRA for SDXL"):
        comfy.run("UDWLoraStack", model=model, clip=clip, lora_1="xl_style.safetensors")


def test_look_outputs_feed_a_ksampler(comfy, models):
    (pos, neg, w, h, steps, cfg, sampler, scheduler, scale, denoise), _ = comfy.run(
        "UDWLook", look="tv", prompt="1girl, saber", hires=False, extra_negative="nsfw")
    assert pos.startswith("anime screencap, 1girl, saber") and neg.endswith(", nsfw")
    assert (w, h, steps, cfg, sampler, scheduler, scale) == (704, 384, 28, 7.0, "dpmpp_2m", "karras", 2.0)
    (_, _, w2, h2, *_rest), _ = comfy.run("UDWLook", look="tv", prompt="", hires=True)
    assert (w2, h2) == (1408, 768) and _rest[-2] == 1.0
    cls = comfy.nodes["UDWLook"]
    assert cls.RETURN_TYPES[6] is comfy.pack_module("comfy.samplers").KSampler.SAMPLERS
    assert "unknown look" in comfy.validate("UDWLook", {"look": "nope"})


def test_user_looks_from_comfy_user_folder(comfy, models):
    import json

    folder = comfy.base / "user" / "udw" / "looks"
    folder.mkdir(parents=True)
    (folder / "rain.json").write_text(json.dumps({"id": "rain", "name": "rain", "prompt": "{prompt}, rain",
                                                  "width": 640, "height": 384, "sampler": "euler"}))
    assert "rain" in comfy.nodes["UDWLook"].INPUT_TYPES()["required"]["look"][0]
    (pos, *_), _ = comfy.run("UDWLook", look="rain", prompt="1girl", hires=False)
    assert pos == "1girl, rain"


def test_inspect_node_with_lineage(comfy, models):
    (text,), ui = comfy.run("UDWInspectCheckpoint", ckpt_name="udw.safetensors", base_name="base.safetensors",
                            hashes=True)
    assert ui["text"] == [text] and "Stable Diffusion 1.x checkpoint" in text and "AutoV2" in text
    assert "lineage of udw.safetensors against base.safetensors: derived from the base" in text
    assert comfy.progress and comfy.progress[-1][0] == comfy.progress[-1][1]


def test_shipped_workflow_wires_types_that_comfyui_accepts(comfy, models, load_workflow):
    """Run the UDW part of the workflow; check every link into ComfyUI's core nodes by type."""
    api = load_workflow("udw_generate.api.json")
    core_inputs = {  # ComfyUI 0.3.64 nodes.py input types of the core nodes used
        "CLIPTextEncode": {"text": "STRING", "clip": "CLIP"},
        "EmptyLatentImage": {"width": "INT", "height": "INT", "batch_size": "INT"},
        "KSampler": {"model": "MODEL", "seed": "INT", "steps": "INT", "cfg": "FLOAT", "positive": "CONDITIONING",
                     "negative": "CONDITIONING", "latent_image": "LATENT", "denoise": "FLOAT",
                     "sampler_name": comfy.pack_module("comfy.samplers").KSampler.SAMPLERS,
                     "scheduler": comfy.pack_module("comfy.samplers").KSampler.SCHEDULERS},
        "VAEDecode": {"samples": "LATENT", "vae": "VAE"}, "SaveImage": {"images": "IMAGE", "filename_prefix": "STRING"}}
    core_outputs = {"CLIPTextEncode": ("CONDITIONING",), "EmptyLatentImage": ("LATENT",), "KSampler": ("LATENT",),
                    "VAEDecode": ("IMAGE",), "SaveImage": ()}
    udw = {k: v for k, v in api.items() if v["class_type"].startswith("UDW")}
    outputs = comfy.run_workflow(udw)
    assert outputs["1"][1].layer_idx == -2 and outputs["3"][2] == 704
    for node in api.values():
        if node["class_type"].startswith("UDW"):
            continue
        wanted = core_inputs[node["class_type"]]
        assert set(node["inputs"]) == set(wanted), node["class_type"]
        for name, value in node["inputs"].items():
            if isinstance(value, list):
                src = api[value[0]]["class_type"]
                types = comfy.nodes[src].RETURN_TYPES if src in comfy.nodes else core_outputs[src]
                assert types[value[1]] == wanted[name], (node["class_type"], name)
