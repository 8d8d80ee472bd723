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


def load_workflow(name: str) -> dict:
    return json.loads((REPO / "workflows" / name).read_text())


@pytest.fixture(name="load_workflow")
def load_workflow_fixture():
    return load_workflow


# -- a local Ray for the scale-out tests -----------------------------------------------------------
@pytest.fixture(scope="session")
def ray_local():
    """One private Ray instance (2 CPUs, no dashboard, bound to 127.0.0.1) for the whole session."""
    ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "udw-studio[ray]")')
    pytest.importorskip("ray.data")
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                     log_to_driver=False, configure_logging=False)
        except Exception as exc:  # e.g. a container without room for Ray's object store
            pytest.skip(f"a local Ray instance could not start on this machine: {exc}")
    yield ray
    if started:
        ray.shutdown()

# -- faces: a tiny YOLOv8-layout detector and real anime sprites ---------------------------------
FACE_COLOUR = (255, 0, 255)  # what the tiny detector sees as a "face"


def build_tiny_yolo(path: Path, side: int = 256, cell: int = 8, max_cells: int = 16) -> Path:
    """An ONNX graph with the YOLOv8 signature (images 1x3xSxS -> output0 1x5xN) that really
    looks at the picture: it scores square candidate boxes on an 8-px grid by how well a
    magenta blob fills the box and leaves its one-cell ring empty, so it finds magenta squares.
    Boxes are cx, cy, w, h in input pixels, scores sigmoid, like an Ultralytics export.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    grid = side // cell
    nodes, inits, scores, boxes = [], [], [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    # magenta mask: clip(2.5 * ((R + B) / 2 - G - 0.4), 0, 1), averaged over 8x8 cells
    nodes.append(helper.make_node("Conv", ["images", const("mw", np.array([1.25, -2.5, 1.25]).reshape(1, 3, 1, 1)),
                                           const("mb", [-1.0])], ["m0"]))
    nodes.append(helper.make_node("Clip", ["m0", const("lo", 0.0), const("hi", 1.0)], ["m1"]))
    nodes.append(helper.make_node("AveragePool", ["m1"], ["cells"], kernel_shape=[cell, cell], strides=[cell, cell]))
    inits.append(helper.make_tensor("pads", TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1]))
    nodes.append(helper.make_node("Pad", ["cells", "pads"], ["padded"], mode="constant"))
    for k in range(2, max_cells + 1):
        w = np.full((k + 2, k + 2), -1.0 / (4 * k + 4))
        w[1:-1, 1:-1] = 1.0 / (k * k)
        nodes.append(helper.make_node("Conv", ["padded", const(f"w{k}", w.reshape(1, 1, k + 2, k + 2))], [f"s{k}"]))
        nodes.append(helper.make_node("Reshape", [f"s{k}", "flat"], [f"f{k}"]))
        scores.append(f"f{k}")
        n = grid - k + 1
        ii, jj = np.mgrid[0:n, 0:n]
        boxes.append(np.stack([cell * (jj + k / 2), cell * (ii + k / 2), np.full(ii.shape, cell * k),
                               np.full(ii.shape, cell * k)]).reshape(4, -1))
    inits.append(helper.make_tensor("flat", TensorProto.INT64, [2], [1, -1]))
    nodes.append(helper.make_node("Concat", scores, ["s_all"], axis=1))
    nodes.append(helper.make_node("Sub", ["s_all", const("thr", 0.75)], ["s_c"]))
    nodes.append(helper.make_node("Mul", ["s_c", const("gain", 20.0)], ["s_g"]))
    nodes.append(helper.make_node("Sigmoid", ["s_g"], ["conf"]))
    nodes.append(helper.make_node("Unsqueeze", ["conf", "ax1"], ["conf3"]))
    inits.append(helper.make_tensor("ax1", TensorProto.INT64, [1], [1]))
    box_arr = np.concatenate(boxes, axis=1)[None]
    nodes.append(helper.make_node("Concat", [const("boxes", box_arr), "conf3"], ["output0"], axis=1))
    graph = helper.make_graph(
        nodes, "tiny_yolo", [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 5, box_arr.shape[2]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="session")
def tiny_yolo(tmp_path_factory) -> Path:
    pytest.importorskip("onnx")
    return build_tiny_yolo(tmp_path_factory.mktemp("models") / "tiny_face" / "model.onnx")


def magenta_frame(size=(640, 320), boxes=(), background=(40, 90, 60)) -> np.ndarray:
    """A frame with magenta squares (the tiny detector's faces) at the given (x0, y0, x1, y1)."""
    img = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    img[:] = background
    for x0, y0, x1, y1 in boxes:
        img[y0:y1, x0:x1] = FACE_COLOUR
    return img


@pytest.fixture(scope="session")
def renpy_sprites() -> dict[str, Path]:
    """Anime-style character sprites from Debian's Ren'Py packages (fetched once, Expat licence)."""
    from udw.testing import real_art
    try:
        found = real_art.sprites()
    except real_art.RealArtUnavailable as exc:
        pytest.skip(f"real art unavailable: {exc}")
    if not found:
        pytest.skip("the Ren'Py packages hold no character sprites")
    return found


@pytest.fixture(scope="session")
def renpy_backgrounds() -> dict[str, Path]:
    """Painted backgrounds from the same packages."""
    from udw.testing import real_art
    try:
        return real_art.backgrounds()
    except real_art.RealArtUnavailable as exc:
        pytest.skip(f"real art unavailable: {exc}")


@pytest.fixture(scope="session")
def cascade_path() -> Path:
    path = SHARED / "models" / "lbpcascade_animeface.xml"
    if not path.is_file():
        pytest.skip(f"{path} is missing (the anime face cascade from ../shared, beside the repository)")
    return path


@pytest.fixture(name="magenta_frame")
def magenta_frame_fixture():
    return magenta_frame


# -- datasets with faces, characters and tags written straight into the manifest ----------------
def make_face_dataset(root, specs, size=(1920, 1080)):
    """A dataset written straight into the manifest: specs = [(name, [(box, character)], tags, series, ep)]."""
    from udw.core.manifest import Dataset
    from udw.faces.geometry import Face
    from udw.faces.store import save_faces

    ds = Dataset.open_or_create(root)
    (root / "images").mkdir(exist_ok=True)
    with ds.transaction() as conn:
        src = ds.add_source(conn, "/videos/yama_s2.mkv", "video", series="yamaS2", licence="own recording")
        for name, faces, tags, series, episode in specs:
            rel = f"images/{name}.png"
            Image.new("RGB", (64, 36), (len(name) * 20 % 255, 80, 120)).save(root / rel)
            item = ds.add_item(conn, rel, f"file:{name}", kind="frame", source_id=src, width=size[0],
                               height=size[1], series=series, episode=episode)
            save_faces(conn, item, [Face(*box, score=0.9, detector="t", character=c) for box, c in faces])
            conn.executemany("INSERT INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)",
                             [(item, t, cat, 1.0 - k / 100) for k, (t, cat) in enumerate(tags)])
    return ds


SCENE = [
    ("a1", [((0, 0, 100, 100), "Aoi")], [], None, None),                          # 1 char, 9 %
    ("a2", [((0, 0, 100, 400), "Aoi")], [], None, None),                          # 1 char, 37 %
    ("ab", [((0, 0, 100, 600), "Aoi"), ((500, 0, 600, 100), "Beni")], [], None, None),   # 55 %
    ("ab2", [((0, 0, 100, 900), "Beni"), ((500, 0, 600, 100), "Aoi")], [], None, None),  # 83 %
    ("abc", [((0, 0, 90, 90), "Aoi"), ((200, 0, 290, 90), "Beni"), ((400, 0, 490, 90), "Kuro")], [], None, None),
    ("noise", [((0, 0, 100, 100), "others")], [], None, None),                   # only an unknown face
    ("noface", [], [], None, None),
    ("six", [((i * 100, 0, i * 100 + 90, 90), f"C{i}") for i in range(7)], [], None, None),
]


@pytest.fixture(name="make_face_dataset")
def make_face_dataset_fixture():
    return make_face_dataset


@pytest.fixture
def scene_dataset(tmp_path):
    return make_face_dataset(tmp_path / "ds", SCENE)


@pytest.fixture
def scene_specs():
    return SCENE


# -- headless Chromium through Playwright (Debian's /usr/bin/chromium; never `playwright install`) ----
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class BrowserPage:
    """A page plus what it reported: page errors, console errors, and dialogs (alert = XSS)."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status} {r.url}"))

        def dialog(d):
            self.dialogs.append(f"{d.type}: {d.message}")
            d.accept() if d.type == "confirm" else d.dismiss()

        page.on("dialog", dialog)


@pytest.fixture
def chromium(tmp_path):
    """new_page(width, height) -> BrowserPage in a fresh headless Chromium profile."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (uses the system chromium)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "chromium-profile"), executable_path=CHROMIUM,
                                                   headless=True, args=CHROMIUM_FLAGS,
                                                   viewport={"width": 1400, "height": 900})
        ctx.set_default_timeout(60_000)  # the shared CI machine can be heavily loaded

        def new_page(width: int = 1400, height: int = 900) -> BrowserPage:
            page = ctx.new_page()
            page.set_viewport_size({"width": width, "height": height})
            return BrowserPage(page)

        yield new_page
        ctx.close()

# -- small generated videos for the frame-extraction tests ----------------------------------------
def clip_frames(shots, size):
    """(RGB frame, (shot, drawing)) for a storyboard of shots (drawings, hold, pan_px[, look]).

    Each shot has its own flat background (shots with the same `look` draw the same pictures) with
    tall outlined blocks (which slide by `pan_px` per frame) and a ball that moves to a new place on
    every drawing; each drawing is held `hold`
    frames, like cel animation on twos or threes.
    """
    from PIL import Image, ImageDraw

    w, h = size
    for s, (drawings, hold, pan, *look) in enumerate(shots):
        rng = np.random.default_rng(1000 + (look[0] if look else s))
        bg = tuple(int(c) for c in rng.integers(30, 220, 3))
        blocks = [tuple(int(c) for c in rng.integers(0, 255, 3)) for _ in range(6)]
        ball = tuple(int(c) for c in rng.integers(0, 255, 3))
        k = 0
        for d in range(drawings):
            for _ in range(hold):
                im = Image.new("RGB", (w * 2, h), bg)
                draw = ImageDraw.Draw(im)
                for j, colour in enumerate(blocks):
                    x = -pan * k + j * w // 3
                    draw.rectangle([x, h // 3, x + w // 8, h], fill=colour, outline=(0, 0, 0))
                cx = w // 5 + d * (w // 2) // max(1, drawings)
                draw.ellipse([cx, h // 6, cx + h // 3, h // 6 + h // 3], fill=ball, outline=(0, 0, 0), width=2)
                yield np.asarray(im.crop((0, 0, w, h))), (s, d)
                k += 1


def make_clip(path, shots=((6, 2, 0), (4, 3, 0), (5, 2, 0)), size=(160, 96), fps=24, codec=None,
              pix_fmt="yuv420p", sar=None, times=None, gop=None) -> list:
    """Encode a storyboard with PyAV (H.264 for .mp4/.mkv, VP9 for .webm, MPEG-4 for .avi).

    `times` gives each frame's timestamp in seconds (variable frame rate, millisecond time base);
    `sar` an anamorphic sample aspect ratio. Returns each frame's (shot, drawing).
    """
    from fractions import Fraction

    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = codec or {".webm": "libvpx-vp9", ".avi": "mpeg4"}.get(path.suffix.lower(), "libx264")
    options = {"libx264": {"crf": "16", "preset": "ultrafast"},
               "libvpx-vp9": {"crf": "20", "b:v": "0", "deadline": "realtime", "cpu-used": "8"}}.get(codec, {})
    labels = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], pix_fmt
        stream.options = options
        if gop:
            stream.codec_context.gop_size = gop
        if sar:
            stream.codec_context.sample_aspect_ratio = Fraction(*sar)
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i, (rgb, label) in enumerate(clip_frames(shots, size)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if times is not None:
                frame.pts, frame.time_base = int(round(times[i] * 1000)), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
            labels.append(label)
        for packet in stream.encode(None):
            out.mux(packet)
    return labels


@pytest.fixture(name="make_clip")
def make_clip_fixture():
    pytest.importorskip("av")
    return make_clip

# -- tiny WD14-style taggers built by the tests ------------------------------------------------
TAG_ROWS = [  # (name, category) in output order, like selected_tags.csv
    ("general", 9), ("sensitive", 9), ("questionable", 9), ("explicit", 9),
    ("1girl", 0), ("solo", 0), ("long_hair", 0), ("hair", 0), ("very_long_hair", 0), ("smile", 0),
    ("white_background", 0), ("red_theme", 0), ("blue_theme", 0), ("hat", 0), ("chat", 0),
    (">_<", 0), ("^_^", 0), ("school_uniform", 0), ("simple_background", 0), ("outdoors", 0),
    ("hatsune_miku", 4), ("kaname_madoka", 4), ("ganyu_(genshin_impact)", 4),
]


class TinyTagger:
    """An ONNX tagger with a WD14 signature: scores = sigmoid(W . mean BGR/255 + b).

    family "v3": input `input` [batch, S, S, 3], output `output` [batch, N];
    family "v2": input `input_1:0` [1, S, S, 3], output `predictions_sigmoid` [1, N].
    """

    def __init__(self, folder: Path, family: str = "v3", side: int = 64, seed: int = 0,
                 onnx_name: str = "model.onnx", csv_name: str = "selected_tags.csv", rows=TAG_ROWS):
        onnx = pytest.importorskip("onnx")
        from onnx import TensorProto, helper, numpy_helper

        rng = np.random.default_rng(seed)
        n = len(rows)
        self.w = rng.normal(0, 6, (3, n)).astype(np.float32)
        self.b = rng.normal(-1, 2, n).astype(np.float32)
        self.side, self.family, self.rows = side, family, rows
        inp, out = ("input_1:0", "predictions_sigmoid") if family == "v2" else ("input", "output")
        batch = 1 if family == "v2" else "batch"
        nodes = [
            helper.make_node("ReduceMean", [inp], ["m"], axes=[1, 2], keepdims=0),
            helper.make_node("Div", ["m", "k255"], ["f"]),
            helper.make_node("MatMul", ["f", "W"], ["z"]),
            helper.make_node("Add", ["z", "B"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], [out]),
        ]
        inits = [numpy_helper.from_array(np.array(255.0, np.float32), "k255"),
                 numpy_helper.from_array(self.w, "W"), numpy_helper.from_array(self.b, "B")]
        graph = helper.make_graph(
            nodes, f"tiny-{family}",
            [helper.make_tensor_value_info(inp, TensorProto.FLOAT, [batch, side, side, 3])],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [batch, n])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        folder.mkdir(parents=True, exist_ok=True)
        self.onnx = folder / onnx_name
        onnx.save(model, str(self.onnx))
        self.csv = folder / csv_name
        lines = ["tag_id,name,category,count"] + [f"{i},{name},{cat},{1000 - i}" for i, (name, cat) in enumerate(rows)]
        self.csv.write_text("\n".join(lines) + "\n")

    def expected(self, prepared: np.ndarray) -> np.ndarray:
        """Scores for one prepared (S, S, 3) BGR image, computed with NumPy."""
        f = prepared.reshape(-1, 3).mean(0) / 255.0
        return 1.0 / (1.0 + np.exp(-(f @ self.w + self.b)))


@pytest.fixture
def tiny_tagger(tmp_path):
    """A factory: tiny_tagger(family="v3", folder=None, **kw) -> TinyTagger."""
    def make(family: str = "v3", folder: Path = None, **kw) -> TinyTagger:
        return TinyTagger(folder or tmp_path / f"tagger-{family}", family, **kw)
    return make


# -- the Gradio app served on a free localhost port, driven through gradio_client ----------------
@pytest.fixture
def serve_ui():
    """serve_ui(host) -> gradio_client.Client of build_blocks(host); every server closes after the test."""
    gradio_client = pytest.importorskip("gradio_client")
    from udw.ui import build_blocks

    opened = []

    def serve(host):
        import socket

        blocks = build_blocks(host)
        blocks.queue()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        opened.append(blocks)
        return gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)

    yield serve
    for blocks in opened:
        blocks.close()


@pytest.fixture
def no_models(monkeypatch, tmp_path):
    """No model folder, Hub cache or download of this machine is seen; model caches start empty."""
    from udw.models import onnx as udw_onnx
    from udw.tagging import model as tagging_model

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)
    tagging_model.clear_cache()
    udw_onnx.clear_cache()
    udw_onnx._WARNED.clear()
