"""Shared fixtures: small real images, the shared folder, a repo path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def make_image(path: Path, seed: int, size=(96, 64), mode="RGB") -> Path:
    """A small deterministic picture with flat shapes (not noise), in the given mode."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(im)
    for _ in range(4):
        x0, y0 = rng.integers(0, size[0] // 2), rng.integers(0, size[1] // 2)
        x1, y1 = x0 + rng.integers(8, size[0] // 2), y0 + rng.integers(8, size[1] // 2)
        draw.ellipse([x0, y0, x1, y1], fill=tuple(int(c) for c in rng.integers(0, 255, 3)), outline=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.convert(mode).save(path)
    return path


@pytest.fixture(name="make_image")
def make_image_fixture():
    return make_image


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    for i in range(6):
        make_image(folder / f"frame {i:02d}.png", i)
    return folder


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is not beside the repository ({SHARED}); it holds test models")
    return SHARED


# -- a fake ComfyUI for adapter tests ------------------------------------------------------------
import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402


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
        self.pack = self._import_pack(monkeypatch)
        self.nodes = self.pack.NODE_CLASS_MAPPINGS

    def _folder_paths(self) -> types.ModuleType:
        fp = types.ModuleType("folder_paths")
        fp.models_dir = str(self.base / "models")
        # as in ComfyUI's folder_paths: the model folders every install has
        pt = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
        fp.folder_names_and_paths = {k: ([str(self.base / "models" / k)], pt)
                                     for k in ("checkpoints", "loras", "vae", "embeddings")}
        fp.get_user_directory = lambda: str(self.base / "user")
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
    def validate(self, class_type: str, inputs: dict):
        cls = self.nodes[class_type]
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
        cls = self.nodes[class_type]
        hidden = cls.INPUT_TYPES().get("hidden", {})
        if "unique_id" in hidden:
            inputs["unique_id"] = unique_id
        out = getattr(cls(), cls.FUNCTION)(**inputs)
        if isinstance(out, dict):
            return tuple(out.get("result", ())), out.get("ui")
        return tuple(out), None

    def run_workflow(self, api: dict) -> dict:
        """Execute an API-format graph (links are [node_id, output_index]); returns outputs by id."""
        done: dict[str, tuple] = {}

        def value(v):
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
                return resolve(v[0])[v[1]]
            return v

        def resolve(node_id):
            if node_id not in done:
                node = api[node_id]
                inputs = {k: value(v) for k, v in node["inputs"].items()}
                done[node_id], _ = self.run(node["class_type"], unique_id=node_id, **inputs)
            return done[node_id]

        for node_id in api:
            resolve(node_id)
        return done


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


def load_workflow(name: str) -> dict:
    return json.loads((REPO / "workflows" / name).read_text())


@pytest.fixture(name="load_workflow")
def load_workflow_fixture():
    return load_workflow
