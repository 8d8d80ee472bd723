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

    def _folder_paths(self) -> types.ModuleType:
        fp = types.ModuleType("folder_paths")
        fp.models_dir = str(self.base / "models")
        fp.folder_names_and_paths = {}
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
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()
