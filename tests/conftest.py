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
        for name, mod in (("comfy", comfy), ("comfy.utils", comfy.utils),
                          ("comfy.model_management", comfy.model_management)):
            monkeypatch.setitem(sys.modules, name, mod)
        self.pack = self._import_pack(monkeypatch)
        self.nodes = self.pack.NODE_CLASS_MAPPINGS
        self.core_nodes = _core_nodes(self)  # the few stock nodes that shipped workflows use

    def _folder_paths(self) -> types.ModuleType:
        fp = types.ModuleType("folder_paths")
        fp.models_dir = str(self.base / "models")
        fp.folder_names_and_paths = {"custom_nodes": ([str(self.base / "custom_nodes")], set())}
        fp.get_annotated_filepath = lambda name: str(self.base / "input" / name)
        fp.get_input_directory = lambda: str(self.base / "input")
        fp.get_output_directory = lambda: str(self.base / "output")
        fp.get_temp_directory = lambda: str(self.base / "temp")
        fp.get_folder_paths = lambda key: list(fp.folder_names_and_paths[key][0])

        def get_filename_list(key):
            out = []
            for folder in fp.folder_names_and_paths.get(key, ([], set()))[0]:
                if Path(folder).is_dir():
                    out += sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())
            return out

        def get_full_path(key, name):
            for folder in fp.folder_names_and_paths.get(key, ([], set()))[0]:
                if (Path(folder) / name).is_file():
                    return str(Path(folder) / name)
            return None

        fp.get_filename_list, fp.get_full_path = get_filename_list, get_full_path
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
        hidden = cls.INPUT_TYPES().get("hidden", {})
        if "unique_id" in hidden:
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


@pytest.fixture
def comfy(tmp_path, monkeypatch) -> FakeComfy:
    pytest.importorskip("torch")
    return FakeComfy(tmp_path / "comfyui", monkeypatch)


def load_workflow(name: str) -> dict:
    return json.loads((REPO / "workflows" / name).read_text())


@pytest.fixture(name="load_workflow")
def load_workflow_fixture():
    return load_workflow


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
