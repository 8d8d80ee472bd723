"""Faces: a tiny YOLOv8-layout detector, real anime sprites, datasets with faces and tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from . import SHARED

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
