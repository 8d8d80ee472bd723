"""YOLOv8-layout ONNX detectors (deepghs face/head/person models and any Ultralytics export).

Input: `images` float32 NCHW RGB 0..1. The picture is letterboxed: scaled to fit the model's
fixed input (or, for a dynamic input, so that its longer side is `max_size`, padded to a multiple
of the stride), keeping its aspect ratio, padded with grey 114 around it.
Output: (1, 4 + classes, anchors) with rows cx, cy, w, h in input pixels, then per-class scores
(already sigmoid). Decoding keeps scores above `conf`, converts to corners, undoes the letterbox,
and runs class-wise NMS at `iou`.

Classes: Ultralytics writes `names` ({0: 'face', ...}) and `imgsz` into the ONNX metadata. Only
face classes count (names containing 'face' or 'head'), unless `classes` names others; a model with
no face class is refused with its class list; a one-class model without names is a face model.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..core.errors import BadInput
from ..models.onnx import get_session
from .geometry import Face

PAD_VALUE = 114
STRIDE = 32
FACE_WORDS = ("face", "head")  # class names counted as faces (deepghs head detectors box the face too)


@dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: float
    pad_y: float
    width: int            # model input size
    height: int

    def to_image(self, boxes: np.ndarray, img_w: int, img_h: int) -> np.ndarray:
        """Map (n, 4) corner boxes from model input pixels back to image pixels, clipped."""
        out = boxes.astype(np.float64).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, img_w)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, img_h)
        return out


def letterbox(img: np.ndarray, size: Optional[tuple[int, int]], max_size: int = 640,
              stride: int = STRIDE) -> tuple[np.ndarray, Letterbox]:
    """Resize HxWx3 uint8 RGB into the model's input, centred, grey-padded.

    size: (width, height) of a fixed model input, or None for a dynamic one (then the longer
    side becomes max_size and each side is padded up to a multiple of `stride`).
    """
    import cv2

    h, w = img.shape[:2]
    if size is None:
        scale = max_size / max(h, w)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        size = (math.ceil(new_w / stride) * stride, math.ceil(new_h / stride) * stride)
    else:
        scale = min(size[0] / w, size[1] / h)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    pad_x, pad_y = (size[0] - new_w) / 2, (size[1] - new_h) / 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(np.ascontiguousarray(img), (new_w, new_h), interpolation=interp)
    canvas = np.full((size[1], size[0], 3), PAD_VALUE, dtype=np.uint8)
    top, left = int(round(pad_y - 0.1)), int(round(pad_x - 0.1))
    canvas[top:top + new_h, left:left + new_w] = resized
    return canvas, Letterbox(scale, left, top, size[0], size[1])


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    order = np.argsort(-scores, kind="stable")
    x0, y0, x1, y1 = boxes.T
    areas = np.maximum(0, x1 - x0) * np.maximum(0, y1 - y0)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        ih = np.maximum(0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = iw * ih
        union = areas[i] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0)
        order = rest[overlap <= iou_threshold]
    return keep


def decode(output: np.ndarray, conf: float, iou: float, classes: Optional[Sequence[int]] = None,
           max_det: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(4 + nc, anchors) raw output -> (boxes xyxy in input px, scores, class ids) after NMS."""
    if output.ndim != 2 or output.shape[0] < 5:
        raise BadInput(f"unexpected detector output shape {output.shape}",
                       "expected a YOLOv8 export with output (1, 4 + classes, anchors)")
    cls_scores = output[4:]
    cls_ids = cls_scores.argmax(axis=0)
    scores = cls_scores[cls_ids, np.arange(cls_scores.shape[1])]
    mask = scores > conf
    if classes is not None:
        mask &= np.isin(cls_ids, list(classes))
    xywh, scores, cls_ids = output[:4, mask].T, scores[mask], cls_ids[mask]
    boxes = np.empty_like(xywh)
    boxes[:, :2] = xywh[:, :2] - xywh[:, 2:] / 2
    boxes[:, 2:] = xywh[:, :2] + xywh[:, 2:] / 2
    keep: list[int] = []
    for c in np.unique(cls_ids):  # class-wise NMS, as Ultralytics does
        idx = np.flatnonzero(cls_ids == c)
        keep += [int(idx[k]) for k in nms(boxes[idx], scores[idx], iou)]
    keep = sorted(keep, key=lambda k: -scores[k])[:max_det]
    return boxes[keep], scores[keep], cls_ids[keep]


def model_names(metadata: dict, n_classes: Optional[int]) -> dict[int, str]:
    """Class names from Ultralytics' `names` metadata; a one-class model without them is a face model."""
    text = metadata.get("names")
    if text:
        try:
            names = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            names = None
        if isinstance(names, dict):
            return {int(k): str(v) for k, v in names.items()}
        if isinstance(names, (list, tuple)):
            return {k: str(v) for k, v in enumerate(names)}
    if n_classes == 1:
        return {0: "face"}
    return {k: str(k) for k in range(n_classes or 0)}


def pick_classes(names: dict[int, str], wanted: Sequence[str], model: str) -> dict[int, str]:
    """The classes to count: `wanted` (names or numbers) or else every class named like a face."""
    listing = ", ".join(f"{k}: {v}" for k, v in sorted(names.items())) or "none named"
    if not wanted:
        faces = {k: v for k, v in names.items() if any(w in v.lower() for w in FACE_WORDS)}
        if not faces:
            raise BadInput(f"{model} has no face class (its classes: {listing})",
                           "use a face detector, or name the classes to count with --classes")
        return faces
    picked, by_name = {}, {v.lower(): k for k, v in names.items()}
    for w in wanted:
        key = w.strip()
        k = int(key) if key.isdigit() else by_name.get(key.lower())
        if k is None or k not in names:
            raise BadInput(f"{model} has no class {key!r} (its classes: {listing})", "pick --classes from that list")
        picked[k] = names[k]
    return picked


class YoloDetector:
    """A YOLOv8-layout ONNX detector; `detect(img)` returns faces (or heads, persons) as `Face`s."""

    def __init__(self, path: Path, name: str = "", conf: float = 0.25, iou: float = 0.7,
                 max_size: int = 640, providers: Optional[Sequence[str]] = None,
                 classes: Sequence[str] = ()):
        self.path = Path(path)
        self.name = name or self.path.parent.name or self.path.stem
        self.conf, self.iou, self.max_size, self.wanted = conf, iou, max_size, tuple(classes)
        self.session = get_session(self.path, providers)
        inp = self.session.session.get_inputs()[0]
        self.input_name = inp.name
        out = self.session.session.get_outputs()[0]
        self.output_name = out.name
        shape = inp.shape
        if len(shape) != 4 or shape[1] not in (3, "3"):
            raise BadInput(f"{self.path.name}: input shape {shape} is not NCHW RGB",
                           "use a YOLOv8 ONNX export (input 'images' 1x3xHxW)")
        meta = self.session.session.get_modelmeta().custom_metadata_map
        n_classes = out.shape[1] - 4 if len(out.shape) == 3 and isinstance(out.shape[1], int) else None
        self.names = model_names(meta, n_classes)
        self.classes = pick_classes(self.names, self.wanted, self.path.name)
        fixed = all(isinstance(d, int) for d in shape[2:])
        self.size = (int(shape[3]), int(shape[2])) if fixed else _trained_size(meta)

    def __reduce__(self):
        # Sent to a Ray worker as its recipe: the session is opened there (providers chosen there).
        return (type(self), (self.path, self.name, self.conf, self.iou, self.max_size, None, self.wanted))

    def describe(self) -> str:
        counted = ", ".join(self.classes.values())
        return (f"{self.name} (YOLOv8 ONNX, {self.session.describe()}, conf {self.conf}, IoU {self.iou}, "
                f"classes {counted})")

    def detect(self, img: np.ndarray) -> list[Face]:
        h, w = img.shape[:2]
        canvas, lb = letterbox(img, self.size, self.max_size)
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        out = self.session.session.run([self.output_name], {self.input_name: blob})[0]
        boxes, scores, _ = decode(np.asarray(out)[0], self.conf, self.iou, list(self.classes))
        boxes = lb.to_image(boxes, w, h)
        return [Face(*map(float, b), score=float(s), detector=self.name)
                for b, s in zip(boxes, scores) if b[2] - b[0] >= 1 and b[3] - b[1] >= 1]


def _trained_size(metadata: dict) -> Optional[tuple[int, int]]:
    """A dynamic-input export runs at the size it was trained for (`imgsz` [h, w]), when it says."""
    try:
        h, w = ast.literal_eval(metadata.get("imgsz", ""))
        return (int(w), int(h))
    except (ValueError, SyntaxError, TypeError):
        return None
