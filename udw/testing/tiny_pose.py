"""Tiny ONNX models with the real I/O layouts of the pose and identity models, for tests and demos.

- `build_rtmpose`: input [B, 3, 384, 288], outputs `simcc_x` [B, K, 576] and `simcc_y` [B, K, 768]
  like DWPose's `dw-ll_ucoco_384.onnx`. Mode "points": fixed keypoints given in crop pixels.
  Mode "dot": every keypoint follows the reddest spot of the crop (column and row maxima of the
  normalised red channel), so that the crop warp and its inverse are tested on real pixels.
  Mode "skeleton" (K = 17): reads rendered OpenPose skeletons by their joint colours, a real if
  narrow pose estimator for end-to-end tests of extraction and `pose-eval`.
- `build_yolox`: input [1, 3, 640, 640], raw output [1, 8400, 85] like `yolox_l.onnx`, holding the
  given boxes (in network-input pixels) as grid-relative predictions.
- `build_embedder`: input `input` [B, 3, S, S], output `output` [B, D] like CCIP's `model_feat.onnx`:
  a fixed random projection of 4x4 average-pooled colours (same picture -> same embedding).

Needs the `onnx` package (a dev dependency), imported only when a builder runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

OPSET = 18


def _onnx():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    return onnx, TensorProto, helper, numpy_helper


def _save(graph, path: Union[str, Path]) -> Path:
    onnx, _, helper, _ = _onnx()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def build_rtmpose(path: Union[str, Path], mode: str = "points", points: Optional[np.ndarray] = None,
                  scores: Optional[np.ndarray] = None, n_keypoints: int = 133, input_hw: tuple[int, int] = (384, 288),
                  split_ratio: int = 2, batch: Union[int, str] = 1) -> Path:
    """A SimCC pose model. `points` (K, 2) in crop pixels for mode "points"; `scores` (K,) their peaks."""
    _, TensorProto, helper, numpy_helper = _onnx()
    h, w = input_hw
    wx, wy = w * split_ratio, h * split_ratio
    k = n_keypoints
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, h, w])
    outs = [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [batch, k, wx]),
            helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [batch, k, wy])]
    inits, nodes = [], []

    def const(name, array, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), name))
        return name

    if mode == "points":
        pts = np.asarray(points, dtype=np.float64)
        sc = np.ones(k) if scores is None else np.asarray(scores, dtype=np.float64)
        cx, cy = np.full((1, k, wx), -1.0), np.full((1, k, wy), -1.0)
        for i, (x, y) in enumerate(pts):
            if sc[i] > 0:
                cx[0, i, int(np.clip(round(x * split_ratio), 0, wx - 1))] = sc[i]
                cy[0, i, int(np.clip(round(y * split_ratio), 0, wy - 1))] = sc[i]
        # zero = 0 * mean(input): ties the output batch to the input batch.
        nodes += [helper.make_node("ReduceMean", ["input"], ["m"], keepdims=1),
                  helper.make_node("Reshape", ["m", const("shape3", [-1, 1, 1], np.int64)], ["m3"]),
                  helper.make_node("Mul", ["m3", const("zero", [0.0])], ["z"]),
                  helper.make_node("Add", ["z", const("cx", cx)], ["simcc_x"]),
                  helper.make_node("Add", ["z", const("cy", cy)], ["simcc_y"])]
    elif mode == "dot":
        up_x = np.kron(np.eye(w), np.ones((1, split_ratio)))   # [W, W*r]: each column copied r times
        up_y = np.kron(np.eye(h), np.ones((1, split_ratio)))
        nodes += [helper.make_node("Slice", ["input", "s0", "s1", "s_ax"], ["red"]),
                  helper.make_node("ReduceMax", ["red", "ax_h"], ["colmax"], keepdims=0),   # [B, 1, W]
                  helper.make_node("ReduceMax", ["red", "ax_w"], ["rowmax"], keepdims=0),   # [B, 1, H]
                  helper.make_node("MatMul", ["colmax", const("up_x", up_x)], ["px"]),
                  helper.make_node("MatMul", ["rowmax", const("up_y", up_y)], ["py"]),
                  helper.make_node("Mul", ["px", const("ones_k", np.ones((1, k, 1)))], ["simcc_x"]),
                  helper.make_node("Mul", ["py", "ones_k"], ["simcc_y"])]
        for name, value in (("s0", [0]), ("s1", [1]), ("s_ax", [1]), ("ax_h", [2]), ("ax_w", [3])):
            const(name, value, np.int64)
    elif mode == "skeleton":
        # Reads rendered OpenPose skeletons: keypoint k (COCO-17 order) is where the pixel colour is
        # closest to OpenPose's joint colour for it. heat = 1 - |x - colour|^2 in normalised space,
        # as a 1x1 convolution (2 x.colour + 1 - |colour|^2) minus |x|^2.
        from ..pose.keypoints import COCO17_TO_OPENPOSE, COLOURS
        from ..pose.dwpose import MEAN, STD

        if k != 17:
            raise ValueError("skeleton mode reads the 17 COCO body joints")
        openpose_of = {coco: op for op, coco in enumerate(COCO17_TO_OPENPOSE) if coco >= 0}
        cols = np.array([(np.array(COLOURS[openpose_of[c]]) - MEAN) / STD for c in range(17)])
        weight = (2 * cols)[:, :, None, None]
        bias = 1.0 - (cols ** 2).sum(1)
        up_x = np.kron(np.eye(w), np.ones((1, split_ratio)))
        up_y = np.kron(np.eye(h), np.ones((1, split_ratio)))
        nodes += [helper.make_node("Conv", ["input", const("wk", weight), const("bk", bias)], ["dot"]),
                  helper.make_node("ReduceSumSquare", ["input", const("ax_c", [1], np.int64)], ["ssq"], keepdims=1),
                  helper.make_node("Sub", ["dot", "ssq"], ["heat"]),
                  helper.make_node("ReduceMax", ["heat", const("ax_h", [2], np.int64)], ["colmax"], keepdims=0),
                  helper.make_node("ReduceMax", ["heat", const("ax_w", [3], np.int64)], ["rowmax"], keepdims=0),
                  helper.make_node("MatMul", ["colmax", const("up_x", up_x)], ["simcc_x"]),
                  helper.make_node("MatMul", ["rowmax", const("up_y", up_y)], ["simcc_y"])]
    else:
        raise ValueError(f"unknown mode {mode!r}")
    graph = helper.make_graph(nodes, "tiny_rtmpose", [inp], outs, inits)
    return _save(graph, path)


def yolox_anchors(size: int = 640, strides: Sequence[int] = (8, 16, 32)) -> list[tuple[int, int, int]]:
    """(grid x, grid y, stride) of every anchor, in YOLOX's output order."""
    return [(x, y, s) for s in strides for y in range(size // s) for x in range(size // s)]


def build_yolox(path: Union[str, Path], boxes: Sequence[Sequence[float]], size: int = 640,
                n_classes: int = 80, classes: Optional[Sequence[int]] = None) -> Path:
    """A detector whose raw output holds `boxes` ((x0, y0, x1, y1, score) in network pixels)."""
    _, TensorProto, helper, numpy_helper = _onnx()
    anchors = yolox_anchors(size)
    raw = np.zeros((1, len(anchors), 5 + n_classes))
    index = {a: i for i, a in enumerate(anchors)}
    for j, (x0, y0, x1, y1, score) in enumerate(boxes):
        cx, cy, bw, bh = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
        stride = 32
        gx, gy = int(cx // stride), int(cy // stride)
        i = index[(gx, gy, stride)]
        raw[0, i, :4] = [cx / stride - gx, cy / stride - gy, np.log(bw / stride), np.log(bh / stride)]
        raw[0, i, 4] = score
        raw[0, i, 5 + (classes[j] if classes else 0)] = 1.0
    inp = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, len(anchors), 5 + n_classes])
    inits = [numpy_helper.from_array(raw.astype(np.float32), "raw"),
             numpy_helper.from_array(np.array([0.0], dtype=np.float32), "zero")]
    nodes = [helper.make_node("ReduceMean", ["images"], ["m"], keepdims=1),
             helper.make_node("Mul", ["m", "zero"], ["z"]),
             helper.make_node("Squeeze", ["z", "sq_axes"], ["z1"]),
             helper.make_node("Add", ["z1", "raw"], ["output"])]
    inits.append(numpy_helper.from_array(np.array([3], dtype=np.int64), "sq_axes"))
    graph = helper.make_graph(nodes, "tiny_yolox", [inp], [out], inits)
    return _save(graph, path)


def build_embedder(path: Union[str, Path], size: int = 384, dim: int = 64, seed: int = 0) -> Path:
    """A CCIP-layout embedder: 4x4 average-pooled colours through a fixed random projection."""
    _, TensorProto, helper, numpy_helper = _onnx()
    rng = np.random.default_rng(seed)
    proj = rng.standard_normal((48, dim)) / np.sqrt(48)
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, size, size])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", dim])
    k = size // 4
    nodes = [helper.make_node("AveragePool", ["input"], ["pooled"], kernel_shape=[k, k], strides=[k, k]),
             helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "proj"], ["output"])]
    inits = [numpy_helper.from_array(proj.astype(np.float32), "proj")]
    graph = helper.make_graph(nodes, "tiny_embedder", [inp], [out], inits)
    return _save(graph, path)
