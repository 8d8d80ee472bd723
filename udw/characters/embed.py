"""Character embeddings of a face's surroundings: deepghs CCIP (ONNX) or a weight-free colour one.

Both return L2-normalised vectors and compare with the CCIP "difference" 0.5 * (1 - cosine)
(0 = same picture, 1 = opposite): two faces show the same character when it is <= threshold.

- `CcipEmbedder`: the real model (deepghs/ccip_onnx, caformer, 384 px, CLIP normalisation),
  trained on whole character pictures, so it sees the head and upper body around the face.
- `ColourEmbedder`: no weights. Flat-colour cel characters differ mostly by hair and eye colours:
  it histograms hue x saturation of the coloured pixels and brightness of the grey ones in the
  upper 70 % of the face box (bangs and eyes; regions reaching above the head let the background
  in and lose). On the sample episodes (4 characters, 3 references each from episode 1, the
  faces of episode 2 found by the cascade) it names 98/98 faces (41/41 in bench/bench_faces.py);
  same-character differences were <= 0.06, others >= 0.11, hence the 0.08 threshold. Good enough for a cast with distinct palettes; not a
  substitute for CCIP on characters that share colours.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Protocol, Sequence

import numpy as np

from ..core.errors import BadInput, ModelNotFound
from ..core.ports import Ports
from ..faces.geometry import Face
from ..models.onnx import get_session
from ..models.registry import get_spec, locate

CCIP_NAME = "ccip-caformer-24-randaug-pruned"
COLOUR_NAME = "colour-v1"
EMBEDDER_CHOICES = ("auto", "ccip", "colour")
_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


class Embedder(Protocol):
    name: str
    kind: str           # 'ccip' | 'colour'
    threshold: float

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray: ...

    def region(self, face: Face, width: int, height: int) -> tuple[int, int, int, int]: ...

    def describe(self) -> str: ...


def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CCIP-style difference between L2-normalised rows: 0.5 * (1 - cosine), in 0..1."""
    return np.clip(0.5 * (1.0 - np.asarray(a) @ np.asarray(b).T), 0.0, 1.0)


def _normalise(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


def _box(face: Face, width: int, height: int, left: float, top: float, right: float,
         bottom: float) -> tuple[int, int, int, int]:
    w, h = face.width, face.height
    x0, y0 = max(0, int(face.x0 - left * w)), max(0, int(face.y0 - top * h))
    x1, y1 = min(width, int(round(face.x1 + right * w))), min(height, int(round(face.y1 + bottom * h)))
    return (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


class ColourEmbedder:
    name, kind = COLOUR_NAME, "colour"

    def __init__(self, threshold: float = 0.08, hue_bins: int = 24, sat_bins: int = 3, grey_bins: int = 8):
        self.threshold = threshold
        self.hue_bins, self.sat_bins, self.grey_bins = hue_bins, sat_bins, grey_bins

    def describe(self) -> str:
        return (f"{self.name} (weight-free colour histogram of the head region, threshold {self.threshold}; "
                "install the CCIP model for real character recognition)")

    def region(self, face: Face, width: int, height: int) -> tuple[int, int, int, int]:
        return _box(face, width, height, 0.0, 0.0, 0.0, -0.3)  # bangs and eyes: no background, little skin

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack([self._one(c) for c in crops]) if crops else np.zeros((0, self.dim), np.float32)

    @property
    def dim(self) -> int:
        return self.hue_bins * self.sat_bins + self.grey_bins

    def _one(self, crop: np.ndarray) -> np.ndarray:
        import cv2

        hsv = cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.int32)
        h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
        coloured = (s >= 60) & (v >= 50)
        hue = np.bincount((h[coloured] * self.hue_bins // 180) * self.sat_bins
                          + np.minimum((s[coloured] - 60) * self.sat_bins // 196, self.sat_bins - 1),
                          minlength=self.hue_bins * self.sat_bins)
        grey = np.bincount(v[~coloured] * self.grey_bins // 256, minlength=self.grey_bins)
        hist = np.concatenate([hue, grey]).astype(np.float64)
        return _normalise(np.sqrt(hist / max(hist.sum(), 1.0)))  # Hellinger: rare colours still count


class CcipEmbedder:
    kind = "ccip"

    def __init__(self, path: Path, name: str = CCIP_NAME, threshold: Optional[float] = None,
                 size: int = 384, providers: Optional[Sequence[str]] = None):
        self.path, self.name, self.size = Path(path), name, size
        self.session = get_session(self.path, providers)
        self.input_name = self.session.session.get_inputs()[0].name
        self.threshold = threshold if threshold is not None else _threshold_beside(self.path, 0.178)

    def __reduce__(self):
        # Sent to a Ray worker as its recipe: the session is opened there.
        return (type(self), (self.path, self.name, self.threshold, self.size, None))

    def describe(self) -> str:
        return f"{self.name} (CCIP ONNX, {self.session.describe()}, threshold {self.threshold:.3f})"

    def region(self, face: Face, width: int, height: int) -> tuple[int, int, int, int]:
        return _box(face, width, height, 0.75, 0.5, 0.75, 1.5)  # head and shoulders

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        import cv2

        if not crops:
            return np.zeros((0, 0), np.float32)
        batch = np.stack([(cv2.resize(np.ascontiguousarray(c[..., :3]), (self.size, self.size),
                                      interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0 - _MEAN) / _STD
                          for c in crops]).transpose(0, 3, 1, 2)
        out = self.session.session.run(None, {self.input_name: batch.astype(np.float32)})[0]
        return _normalise(np.asarray(out, dtype=np.float32).reshape(len(crops), -1))


def _threshold_beside(path: Path, default: float) -> float:
    """deepghs ships metrics.json (with the calibrated threshold) beside model_feat.onnx."""
    try:
        data = json.loads((path.parent / "metrics.json").read_text())
        return float(data.get("threshold", default))
    except (OSError, ValueError, TypeError):
        return default


def load_embedder(name: str = "auto", ports: Optional[Ports] = None,
                  threshold: Optional[float] = None) -> Embedder:
    """'auto' (CCIP if its file is here, else colour), 'ccip', 'colour', or a path to an .onnx."""
    ports = ports or Ports()
    text = (name or "auto").strip()
    if text == "colour":
        return ColourEmbedder(threshold) if threshold is not None else ColourEmbedder()
    if text.lower().endswith(".onnx"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise BadInput(f"{path}: no such embedding model", "check the path")
        return CcipEmbedder(path, name=path.parent.name or path.stem, threshold=threshold,
                            providers=ports.providers)
    spec = get_spec(CCIP_NAME if text in ("auto", "ccip") else text)
    try:
        files = locate(spec, ports)
    except ModelNotFound:
        if text != "auto":
            raise
        return ColourEmbedder(threshold) if threshold is not None else ColourEmbedder()
    return CcipEmbedder(files.first, name=spec.name, threshold=threshold,
                        size=spec.options.get("size", 384), providers=ports.providers)
