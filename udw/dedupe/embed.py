"""Learned embeddings for dedupe from any ONNX image model (mobilenetv3, CLIP ViT-B/32, ...).

A model is named by its catalogue name (`mobilenetv3-large`), a path to an `.onnx` file, or a
file name inside one of the embedder folders (host model folders, UDW_MODELS_DIR, the HF cache).
Nothing is downloaded unless the host allows it. The input layout and size are read from the
ONNX graph; the output used is the first whose name says embedding/pooled/features, else the
first output (class logits also work as an embedding); 4-D feature maps are average-pooled.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..core.errors import BadInput, ModelNotFound
from ..core.paths import safe_name
from ..core.ports import Ports
from ..models.onnx import get_session
from ..models.registry import ModelSpec, get_spec, known_specs, locate, search_dirs
from . import signatures as sg

KIND = "embedders"
DEFAULT_MODEL = "mobilenetv3-large"
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_PREFERRED_OUTPUTS = ("image_embeds", "embeds", "embedding", "pooler", "pooled", "features", "feat")


@dataclass(frozen=True)
class EmbedderFiles:
    name: str
    path: Path
    spec: Optional[ModelSpec] = None


def resolve(model: Optional[Union[str, Path]] = None, ports: Optional[Ports] = None) -> EmbedderFiles:
    """The .onnx file of `model` (see the module doc); ModelNotFound says where to put it."""
    ports = ports or Ports()
    text = str(model or DEFAULT_MODEL).strip()
    path = Path(text).expanduser()
    if path.suffix.lower() == ".onnx" or path.is_absolute() or path.exists():
        if not path.is_absolute() and not path.exists():
            path = next((d / text for d in search_dirs(KIND, ports) if (d / text).is_file()), path)
        if not path.is_file():
            raise ModelNotFound(f"embedding model {text} not found",
                                "give the path of an .onnx image model, or one of: "
                                + ", ".join(s.name for s in known_specs(KIND)))
        return EmbedderFiles(safe_name(path.stem), path)
    names = {s.name for s in known_specs(KIND)}
    if text not in names:
        raise ModelNotFound(f"unknown embedding model {text!r}",
                            f"use one of {', '.join(sorted(names))}, or a path to an .onnx file")
    spec = get_spec(text)
    return EmbedderFiles(text, locate(spec, ports).first, spec)


class Embedder:
    """One ONNX image model: `prepare` (thread-safe, per image) then `__call__` on a batch."""

    def __init__(self, files: EmbedderFiles, ports: Optional[Ports] = None, threads: int = 0):
        ports = ports or Ports()
        self.files = files
        self.session = get_session(files.path, ports.providers, threads)
        sess = self.session.session
        inp = sess.get_inputs()[0]
        self.input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4:
            raise BadInput(f"{files.path.name}: input {inp.name} has shape {shape}",
                           "use an image model with one NCHW or NHWC input")
        self.nhwc = shape[3] == 3 and shape[1] != 3
        options = files.spec.options if files.spec else {}
        side = shape[1] if self.nhwc else shape[2]
        self.size = int(side) if isinstance(side, int) and side > 0 else int(options.get("size", 224))
        self.batch = 1 if shape[0] == 1 else 16
        mean, std = options.get("mean", IMAGENET[0]), options.get("std", IMAGENET[1])
        self.mean = np.asarray(mean, np.float32) * 255.0
        self.std = np.asarray(std, np.float32) * 255.0
        self.output = self._pick_output(options.get("output"))
        self._lock = threading.Lock()
        st = files.path.stat()
        self.model_id = f"{files.name}-{st.st_size}"

    def _pick_output(self, wanted: Optional[str]) -> str:
        names = [o.name for o in self.session.session.get_outputs()]
        if wanted in names:
            return wanted
        for hint in _PREFERRED_OUTPUTS:
            for name in names:
                if hint in name.lower():
                    return name
        return names[0]

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 -> the model's input for one image (the whole picture, squashed)."""
        if sg.cv2 is not None:
            small = sg.cv2.resize(rgb, (self.size, self.size), interpolation=sg.cv2.INTER_AREA)
        else:
            from PIL import Image
            small = np.asarray(Image.fromarray(rgb).resize((self.size, self.size), Image.Resampling.BICUBIC))
        x = (small.astype(np.float32) - self.mean) / self.std
        return x if self.nhwc else x.transpose(2, 0, 1)

    def __call__(self, prepared: Sequence[np.ndarray]) -> np.ndarray:
        """(n, d) float32 unit rows."""
        outs = []
        for start in range(0, len(prepared), self.batch):
            x = np.ascontiguousarray(np.stack(prepared[start:start + self.batch]), dtype=np.float32)
            with self._lock:  # one run at a time per session keeps memory flat
                y = self.session.session.run([self.output], {self.input_name: x})[0]
            outs.append(self._flatten(np.asarray(y, dtype=np.float32)))
        emb = np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)
        norm = np.linalg.norm(emb, axis=1, keepdims=True)
        return emb / np.maximum(norm, 1e-12)

    def _flatten(self, y: np.ndarray) -> np.ndarray:
        if y.ndim == 4:  # a feature map: global average pool
            return y.mean(axis=(1, 2)) if self.nhwc else y.mean(axis=(2, 3))
        if y.ndim == 3:  # tokens: the first (class) token
            return y[:, 0]
        return y.reshape(len(y), -1)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self([self.prepare(im) for im in images])


def open_embedder(model: Optional[Union[str, Path]] = None, ports: Optional[Ports] = None,
                  threads: Optional[int] = None) -> Embedder:
    """threads=None: leave two cores to the decoding threads of the signature stage (on 2 cores,
    one inference thread: the same speed for ~20% less CPU than onnxruntime's default)."""
    if threads is None:
        threads = max(1, (os.cpu_count() or 2) - 2)
    return Embedder(resolve(model, ports), ports, threads)
