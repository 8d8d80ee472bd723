"""Tiny WD14-style taggers built by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
