"""DWPose with onnxruntime: a YOLOX person detector, then an RTMPose-style whole-body estimator
decoded from its SimCC outputs.

I/O layouts (those of yzd-v/DWPose's files, which comfyui_controlnet_aux also runs):
- detector `yolox_l.onnx`: input [1, 3, 640, 640] float 0..255 (image letterboxed at the top-left on
  grey 114), output [1, A, 5 + classes] raw YOLOX predictions (grid-relative centres, log sizes,
  objectness, class scores) over strides 8/16/32;
- estimator `dw-ll_ucoco_384.onnx`: input [N, 3, 384, 288] (H x W) of a box crop warped by an affine
  transform, normalised with ImageNet mean/std (RGB); outputs `simcc_x` [N, K, 2W] and `simcc_y`
  [N, K, 2H]: one 1-D classification per keypoint and axis at half-pixel resolution (K = 133:
  COCO-17 body, 6 feet, 68 face, 2 x 21 hands; or K = 17 for body-only RTMPose models).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
BOX_PADDING = 1.25


@dataclass
class Estimate:
    """Keypoints of one box in image pixels: (K, 2) and their scores (K,)."""

    keypoints: np.ndarray
    scores: np.ndarray
    box: tuple[float, float, float, float]


# -- person boxes (YOLOX) --------------------------------------------------------------------------

def detect_boxes(session: Any, image: np.ndarray, score_threshold: float = 0.3,
                 nms_threshold: float = 0.45, person_class: int = 0) -> np.ndarray:
    """(n, 5) boxes x0, y0, x1, y1, score of people in an HxWx3 uint8 image, best first."""
    inp = session.get_inputs()[0]
    size = _static_hw(inp.shape, (640, 640))
    tensor, ratio = _letterbox(image, size)
    raw = session.run(None, {inp.name: tensor[None].astype(np.float32)})[0]
    preds = decode_yolox(raw[0], size)
    boxes, obj, cls = preds[:, :4], preds[:, 4], preds[:, 5:]
    scores = obj * cls[:, person_class] if cls.shape[1] else obj
    best_class = cls.argmax(1) if cls.shape[1] else np.zeros(len(obj), dtype=int)
    keep = (scores > score_threshold) & (best_class == person_class)
    if not keep.any():
        return np.zeros((0, 5))
    xyxy = np.stack([boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2,
                     boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2], 1)[keep] / ratio
    scores = scores[keep]
    order = nms(xyxy, scores, nms_threshold)
    h, w = image.shape[:2]
    out = np.concatenate([xyxy[order], scores[order, None]], 1)
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out


def decode_yolox(raw: np.ndarray, size: tuple[int, int], strides: tuple[int, ...] = (8, 16, 32)) -> np.ndarray:
    """Raw [A, 5 + C] predictions -> centres and sizes in input pixels (a copy)."""
    grids, steps = [], []
    for s in strides:
        gh, gw = size[0] // s, size[1] // s
        xv, yv = np.meshgrid(np.arange(gw), np.arange(gh))
        grids.append(np.stack([xv, yv], -1).reshape(-1, 2))
        steps.append(np.full((gh * gw, 1), s))
    grid, step = np.concatenate(grids), np.concatenate(steps)
    if len(grid) != len(raw):
        raise ValueError(f"detector output has {len(raw)} anchors, a {size[1]}x{size[0]} YOLOX has {len(grid)}")
    out = raw.astype(np.float64).copy()
    out[:, :2] = (out[:, :2] + grid) * step
    out[:, 2:4] = np.exp(out[:, 2:4]) * step
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    order = list(np.argsort(-scores))
    keep = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(i)
        if not order:
            break
        rest = np.array(order)
        x0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = [j for j, o in zip(rest, iou) if o <= threshold]
    return keep


def _letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    ratio = min(size[0] / h, size[1] / w)
    nh, nw = max(1, int(h * ratio)), max(1, int(w * ratio))
    padded = np.full((size[0], size[1], 3), 114, dtype=np.uint8)
    padded[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return padded.transpose(2, 0, 1), ratio


# -- keypoints (RTMPose / DWPose SimCC) -----------------------------------------------------------

def estimate_keypoints(session: Any, image: np.ndarray, boxes: np.ndarray) -> list[Estimate]:
    """Keypoints for each box (x0, y0, x1, y1, ...) of an HxWx3 uint8 RGB image."""
    inp = session.get_inputs()[0]
    in_h, in_w = _static_hw(inp.shape, (384, 288))
    crops, centres, scales = [], [], []
    for box in boxes:
        centre, scale = box_to_centre_scale(box[:4])
        crop, scale = warp_box(image, centre, scale, (in_w, in_h))
        crops.append(((crop - MEAN) / STD).transpose(2, 0, 1))
        centres.append(centre)
        scales.append(scale)
    if not crops:
        return []
    batch = np.stack(crops).astype(np.float32)
    fixed_batch = isinstance(inp.shape[0], int) and inp.shape[0] == 1
    outs = ([session.run(None, {inp.name: batch[i:i + 1]}) for i in range(len(batch))] if fixed_batch
            else [session.run(None, {inp.name: batch})])
    simcc_x, simcc_y = _split_simcc(session, outs, in_w, in_h)
    keypoints, scores = decode_simcc(simcc_x, simcc_y, simcc_x.shape[-1] / in_w)
    result = []
    for i, box in enumerate(boxes):
        pts = keypoints[i] / np.array([in_w, in_h]) * scales[i] + centres[i] - scales[i] / 2
        result.append(Estimate(pts, scores[i], tuple(float(v) for v in box[:4])))
    return result


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """[N, K, Wx] and [N, K, Wy] -> locations (N, K, 2) in input pixels and scores (N, K).

    A keypoint's score is the smaller of its two axis maxima; non-positive scores get location -1.
    """
    n, k, _ = simcc_x.shape
    fx, fy = simcc_x.reshape(n * k, -1), simcc_y.reshape(n * k, -1)
    locs = np.stack([fx.argmax(1), fy.argmax(1)], -1).astype(np.float64)
    vals = np.minimum(fx.max(1), fy.max(1)).astype(np.float64)
    locs[vals <= 0] = -1
    locs = locs.reshape(n, k, 2)
    locs[locs >= 0] /= split_ratio
    return locs, vals.reshape(n, k)


def box_to_centre_scale(box: np.ndarray, padding: float = BOX_PADDING) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2]), np.array([x1 - x0, y1 - y0]) * padding


def warp_box(image: np.ndarray, centre: np.ndarray, scale: np.ndarray,
             out_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Crop the box (widened to the model's aspect ratio) and resize it to out_size (w, h)."""
    w, h = out_size
    sw, sh = scale
    scale = np.array([sw, sw * h / w]) if sw > sh * w / h else np.array([sh * w / h, sh])
    src = np.float32([centre, centre + [0, -scale[0] / 2], centre + [-scale[0] / 2, 0]])
    dst = np.float32([[w / 2, h / 2], [w / 2, h / 2 - w / 2], [0, h / 2]])
    mat = cv2.getAffineTransform(src, dst)
    crop = cv2.warpAffine(image, mat, (int(w), int(h)), flags=cv2.INTER_LINEAR)
    return crop.astype(np.float64), scale


def _split_simcc(session: Any, outs: list[list[np.ndarray]], in_w: int, in_h: int) -> tuple[np.ndarray, np.ndarray]:
    """(simcc_x, simcc_y) by output name, else in DWPose's order (x first)."""
    names = [o.name for o in session.get_outputs()]
    ix, iy = (names.index("simcc_x"), names.index("simcc_y")) if {"simcc_x", "simcc_y"} <= set(names) else (0, 1)
    simcc_x = np.concatenate([o[ix] for o in outs])
    simcc_y = np.concatenate([o[iy] for o in outs])
    if simcc_x.ndim != 3 or simcc_y.ndim != 3 or simcc_x.shape[:2] != simcc_y.shape[:2]:
        raise ValueError(f"pose model outputs have shapes {simcc_x.shape} and {simcc_y.shape}; expected SimCC "
                         f"[N, K, {in_w}*r] and [N, K, {in_h}*r]")
    return simcc_x, simcc_y


def _static_hw(shape: list, default: tuple[int, int]) -> tuple[int, int]:
    """(H, W) from an NCHW input shape, or the default where the model leaves them dynamic."""
    h, w = (shape[2], shape[3]) if len(shape) == 4 else (None, None)
    return (h if isinstance(h, int) and h > 0 else default[0], w if isinstance(w, int) and w > 0 else default[1])

