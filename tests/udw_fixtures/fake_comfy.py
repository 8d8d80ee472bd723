"""A fake ComfyUI for adapter tests: its module surface, a few stock nodes, its executor."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from . import REPO


class FakeComfy:
    """ComfyUI's module surface that the nodes use, backed by temporary folders.

    `pack` is the repository imported the way ComfyUI imports it (a package named after its
    folder, with a space and a dash in the name so that only relative imports can work).
    """

    def __init__(self, base: Path, monkeypatch):
        self.base = base
        self.progress: list[tuple] = []
        self.interrupted = False
        for d in ("input", "output", "temp", "models"):
            (base / d).mkdir(parents=True, exist_ok=True)
        monkeypatch.setitem(sys.modules, "folder_paths", self._folder_paths())
        comfy = types.ModuleType("comfy")
        comfy.__path__ = []
        comfy.utils = self._utils()
        comfy.model_management = self._model_management()
        comfy.sd = _fake_comfy_sd(comfy.utils)
        comfy.samplers = _fake_comfy_samplers()
        for name, mod in (("comfy", comfy), ("comfy.utils", comfy.utils),
                          ("comfy.model_management", comfy.model_management), ("comfy.sd", comfy.sd),
                          ("comfy.samplers", comfy.samplers)):
            monkeypatch.setitem(sys.modules, name, mod)
        self.routes = self._server(monkeypatch)
        self.pack = self._import_pack(monkeypatch)
        self.nodes = self.pack.NODE_CLASS_MAPPINGS
        self.core_nodes = _core_nodes(self)  # the few stock nodes that shipped workflows use

    def _folder_paths(self) -> types.ModuleType:
        fp = types.ModuleType("folder_paths")
        fp.models_dir = str(self.base / "models")
        # as in ComfyUI's folder_paths: the model folders every install has
        pt = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
        fp.folder_names_and_paths = {k: ([str(self.base / "models" / k)], pt)
                                     for k in ("checkpoints", "loras", "vae", "embeddings")}
        fp.folder_names_and_paths["custom_nodes"] = ([str(self.base / "custom_nodes")], set())
        fp.get_user_directory = lambda: str(self.base / "user")
        fp.get_annotated_filepath = lambda name: str(self.base / "input" / name)
        fp.get_input_directory = lambda: str(self.base / "input")
        fp.get_output_directory = lambda: str(self.base / "output")
        fp.get_temp_directory = lambda: str(self.base / "temp")
        fp.get_folder_paths = lambda key: list(fp.folder_names_and_paths[key][0])

        def get_filename_list(key):
            out = []
            folders, exts = fp.folder_names_and_paths.get(key, ([], set()))
            for folder in folders:
                if Path(folder).is_dir():
                    out += sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*")
                                  if p.is_file() and (not exts or p.suffix.lower() in exts))
            return out

        def get_full_path(key, name):
            for folder in fp.folder_names_and_paths.get(key, ([], set()))[0]:
                if (Path(folder) / name).is_file():
                    return str(Path(folder) / name)
            return None

        def get_full_path_or_raise(key, name):
            full = get_full_path(key, name)
            if full is None:
                raise FileNotFoundError(f"Model in folder '{key}' with filename '{name}' not found.")
            return full

        fp.get_filename_list, fp.get_full_path = get_filename_list, get_full_path
        fp.get_full_path_or_raise = get_full_path_or_raise
        return fp

    def _utils(self) -> types.ModuleType:
        utils = types.ModuleType("comfy.utils")
        fake = self

        class ProgressBar:
            def __init__(self, total, node_id=None):
                self.total, self.node_id = total, node_id

            def update_absolute(self, value, total=None, preview=None):
                fake.progress.append((value, total or self.total, preview is not None))

        utils.ProgressBar = ProgressBar
        return utils

    def _model_management(self) -> types.ModuleType:
        mm = types.ModuleType("comfy.model_management")
        mm.processing_interrupted = lambda: self.interrupted
        return mm

    def _server(self, monkeypatch):
        """ComfyUI's `server.PromptServer.instance.routes` (an aiohttp RouteTableDef), if aiohttp is here."""
        try:
            from aiohttp import web
        except ImportError:
            return None
        routes = web.RouteTableDef()
        srv = types.ModuleType("server")
        srv.PromptServer = type("PromptServer", (), {"instance": types.SimpleNamespace(routes=routes)})
        monkeypatch.setitem(sys.modules, "server", srv)
        return routes

    def _import_pack(self, monkeypatch) -> types.ModuleType:
        name = "udw-studio main"
        spec = importlib.util.spec_from_file_location(name, REPO / "__init__.py",
                                                      submodule_search_locations=[str(REPO)])
        module = importlib.util.module_from_spec(spec)
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, key)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        return module

    @staticmethod
    def pack_module(name: str) -> types.ModuleType:
        """A (fake) ComfyUI module as the pack sees it, e.g. "comfy.samplers"."""
        return sys.modules[name]

    # -- running nodes and API-format workflows the way ComfyUI's executor does -------------
    def node_class(self, class_type: str):
        return self.nodes.get(class_type) or self.core_nodes[class_type]

    def validate(self, class_type: str, inputs: dict):
        cls = self.node_class(class_type)
        check = getattr(cls, "VALIDATE_INPUTS", None)
        if check is None:
            return True
        params = check.__code__.co_varnames[1:check.__code__.co_argcount]
        return check(**{k: v for k, v in inputs.items() if k in params})

    def run(self, class_type: str, unique_id: str = "1", **inputs):
        """Validate, then call the node; returns (result tuple, ui dict or None)."""
        ok = self.validate(class_type, inputs)
        if ok is not True:
            raise ValueError(f"validation failed: {ok}")
        cls = self.node_class(class_type)
        spec = cls.INPUT_TYPES()
        declared = {**spec.get("required", {}), **spec.get("optional", {}), **spec.get("hidden", {})}
        inputs = {k: v for k, v in inputs.items() if k in declared}  # as ComfyUI: extra inputs are ignored
        if "unique_id" in spec.get("hidden", {}):
            inputs["unique_id"] = unique_id
        out = getattr(cls(), cls.FUNCTION)(**inputs)
        if isinstance(out, dict):
            return tuple(out.get("result", ())), out.get("ui")
        return tuple(out), None

    def run_workflow(self, api: dict) -> dict:
        """Execute an API-format graph (links are [node_id, output_index]); returns outputs by id.

        As ComfyUI's executor does, every value travels as a list: a node whose inputs are lists
        runs once per element (unless INPUT_IS_LIST), and OUTPUT_IS_LIST outputs are lists of
        results. Returned slots are single values, except for list outputs and mapped runs.
        """
        done: dict[str, list[list]] = {}

        def value(v) -> list:
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
                return resolve(v[0])[v[1]]
            return [v]

        def resolve(node_id) -> list[list]:
            if node_id not in done:
                node = api[node_id]
                cls = self.node_class(node["class_type"])
                inputs = {k: value(v) for k, v in node["inputs"].items()}
                if getattr(cls, "INPUT_IS_LIST", False):
                    calls = [inputs]
                else:
                    n = max((len(v) for v in inputs.values()), default=1)
                    calls = [{k: v[min(i, len(v) - 1)] for k, v in inputs.items()} for i in range(n)]
                is_list = getattr(cls, "OUTPUT_IS_LIST", ())
                slots: list[list] = [[] for _ in cls.RETURN_TYPES]
                for call in calls:
                    result, _ = self.run(node["class_type"], unique_id=node_id, **call)
                    for j, r in enumerate(result):
                        slots[j].extend(r) if j < len(is_list) and is_list[j] else slots[j].append(r)
                done[node_id] = slots
            return done[node_id]

        for node_id in api:
            resolve(node_id)
        out = {}
        for node_id, slots in done.items():
            is_list = getattr(self.node_class(api[node_id]["class_type"]), "OUTPUT_IS_LIST", ())
            out[node_id] = tuple(s[0] if len(s) == 1 and not (j < len(is_list) and is_list[j]) else s
                                 for j, s in enumerate(slots))
        return out


def _core_nodes(fake: "FakeComfy") -> dict:
    """LoadImage and PreviewAny as ComfyUI 0.3.64 has them (nodes.py, comfy_extras/nodes_preview_any.py)."""
    import torch
    from PIL import ImageOps

    class LoadImage:
        RETURN_TYPES = ("IMAGE", "MASK")
        FUNCTION = "load_image"

        @classmethod
        def INPUT_TYPES(cls):
            files = sorted(p.name for p in (fake.base / "input").iterdir() if p.is_file())
            return {"required": {"image": (files, {"image_upload": True})}}

        def load_image(self, image):
            i = ImageOps.exif_transpose(Image.open(fake.base / "input" / image))
            rgb = torch.from_numpy(np.array(i.convert("RGB")).astype(np.float32) / 255.0)[None,]
            if "A" in i.getbands():
                mask = 1.0 - torch.from_numpy(np.array(i.getchannel("A")).astype(np.float32) / 255.0)
            else:
                mask = torch.zeros((64, 64), dtype=torch.float32)
            return (rgb, mask.unsqueeze(0))

    class PreviewAny:
        RETURN_TYPES = ()
        FUNCTION = "main"
        OUTPUT_NODE = True

        @classmethod
        def INPUT_TYPES(cls):
            return {"required": {"source": ("*", {})}}

        def main(self, source=None):
            value = source if isinstance(source, str) else json.dumps(source)
            fake.previews.append(value)
            return {"ui": {"text": (value,)}}

    fake.previews = []
    return {"LoadImage": LoadImage, "PreviewAny": PreviewAny}


def _fake_comfy_samplers() -> types.ModuleType:
    """comfy.samplers.KSampler's name lists (a subset of ComfyUI 0.3.64's, same spelling)."""
    samplers = types.ModuleType("comfy.samplers")

    class KSampler:
        SAMPLERS = ["euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2m",
                    "dpmpp_2m_sde", "ddim", "uni_pc"]
        SCHEDULERS = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal"]

    samplers.KSampler = KSampler
    return samplers


def _fake_comfy_sd(utils: types.ModuleType) -> types.ModuleType:
    """comfy.sd / comfy.utils.load_torch_file with ComfyUI's signatures, over fake model objects.

    Loading reads the real file (safetensors, or torch.load weights_only) and checks the layout the
    way ComfyUI does (UNet prefix, SD1.5 = context 768 with 320 channels); the objects record what
    was done to them (clip layer, LoRA patches) instead of running a network. The real ComfyUI is
    exercised in tests/hosts.
    """
    import torch

    sd_mod = types.ModuleType("comfy.sd")

    def load_torch_file(ckpt, safe_load=False, device=None, return_metadata=False):
        if str(ckpt).lower().endswith((".safetensors", ".sft")):
            from safetensors import safe_open

            with safe_open(str(ckpt), framework="pt", device="cpu") as f:
                sd, meta = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
        else:
            pl = torch.load(str(ckpt), map_location="cpu", weights_only=True)
            sd, meta = pl.get("state_dict", pl), None
        return (sd, meta) if return_metadata else sd

    class Patcher:
        def __init__(self, keys, unet_config, patches=()):
            self.keys, self.patches = keys, list(patches)
            self.model = types.SimpleNamespace(model_config=types.SimpleNamespace(unet_config=unet_config))

        def clone(self):
            return Patcher(self.keys, self.model.model_config.unet_config, self.patches)

    class CLIP:
        def __init__(self, keys, patches=(), layer_idx=None):
            self.keys, self.patches, self.layer_idx = keys, list(patches), layer_idx

        def clone(self):
            return CLIP(self.keys, self.patches, self.layer_idx)

        def clip_layer(self, layer_idx):
            self.layer_idx = layer_idx

    class VAE:
        def __init__(self, sd=None, device=None, config=None, dtype=None, metadata=None):
            self.keys = set(sd or {})

        def throw_exception_if_invalid(self):
            if "decoder.conv_in.weight" not in self.keys:
                raise RuntimeError("ERROR: VAE is invalid: None\n\nThe VAE object could not be loaded.")

    def load_state_dict_guess_config(sd, output_vae=True, output_clip=True, output_clipvision=False,
                                     embedding_directory=None, output_model=True, model_options={},
                                     te_model_options={}, metadata=None):
        unet = [k for k in sd if k.startswith("model.diffusion_model.")]
        if len(unet) <= 5:
            return None
        to_k = next((v for k, v in sd.items() if k in unet and k.endswith("attn2.to_k.weight")), None)
        cfg = {"context_dim": int(to_k.shape[1]) if to_k is not None else None,
               "model_channels": int(sd["model.diffusion_model.input_blocks.0.0.weight"].shape[0])}
        clip_keys = [k for k in sd if k.startswith("cond_stage_model.")]
        vae_sd = {k[len("first_stage_model."):]: v for k, v in sd.items() if k.startswith("first_stage_model.")}
        return (Patcher(unet, cfg), CLIP(clip_keys) if output_clip and clip_keys else None,
                VAE(sd=vae_sd) if output_vae else None, None)

    def load_checkpoint_guess_config(ckpt_path, output_vae=True, output_clip=True, output_clipvision=False,
                                     embedding_directory=None, output_model=True, model_options={},
                                     te_model_options={}):
        sd, metadata = load_torch_file(ckpt_path, return_metadata=True)
        out = load_state_dict_guess_config(sd, output_vae, output_clip, output_clipvision, embedding_directory,
                                           output_model, model_options, te_model_options, metadata)
        if out is None:
            raise RuntimeError(f"ERROR: Could not detect model type of: {ckpt_path}")
        return out

    def load_lora_for_models(model, clip, lora, strength_model, strength_clip):
        new_model, new_clip = model.clone(), clip.clone()
        n = sum(1 for k in lora if k.endswith(".lora_down.weight"))
        new_model.patches.append((n, strength_model))
        new_clip.patches.append((n, strength_clip))
        return new_model, new_clip

    utils.load_torch_file = load_torch_file
    sd_mod.VAE, sd_mod.CLIP = VAE, CLIP
    sd_mod.load_state_dict_guess_config = load_state_dict_guess_config
    sd_mod.load_checkpoint_guess_config = load_checkpoint_guess_config
    sd_mod.load_lora_for_models = load_lora_for_models
    return sd_mod


@pytest.fixture
def comfy(tmp_path, monkeypatch) -> FakeComfy:
    pytest.importorskip("torch")
    return FakeComfy(tmp_path / "comfyui", monkeypatch)


@pytest.fixture
def load_workflow():
    """load_workflow(name, images=False, **paths): a shipped API workflow (example_workflows/api) with
    typed input paths in place of its sample-media nodes."""
    from udw.testing.workflows import load_with_own_inputs

    return load_with_own_inputs
