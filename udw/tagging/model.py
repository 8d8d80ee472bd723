"""Finding a tagger's files and opening it: one cached Tagger per model file, provider and mode.

A model is named by its catalogue name (`wd-vit-tagger-v3`), by a path to an `.onnx` file (its tag
list beside it: `<stem>.csv`, `selected_tags.csv` or `tags-selected.csv`), by a folder holding
both, or by a file name inside one of the tagger folders (what a ComfyUI dropdown gives).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..core.errors import BadInput, ModelNotFound
from ..core.ports import Ports
from ..models.onnx import Session, choose_providers, get_session
from ..models.registry import ModelSpec, get_spec, known_specs, locate, search_dirs
from .labels import Labels, read_labels

log = logging.getLogger("udw.tagging")

DEFAULT_MODEL = "wd-swinv2-tagger-v3"
KIND = "taggers"
# What UIs offer as "device": onnxruntime providers to try first (auto: the best one installed).
DEVICES = {"auto": None, "CPU": ["CPUExecutionProvider"], "CUDA": ["CUDAExecutionProvider"],
           "DirectML": ["DmlExecutionProvider"], "CoreML": ["CoreMLExecutionProvider"],
           "ROCm": ["ROCMExecutionProvider"]}


def csv_candidates(onnx: Path) -> list[Path]:
    return [onnx.with_suffix(".csv"), onnx.parent / "selected_tags.csv", onnx.parent / "tags-selected.csv"]


@dataclass(frozen=True)
class TaggerFiles:
    name: str
    onnx: Path
    csv: Path
    spec: Optional[ModelSpec] = None


def resolve(model: Optional[Union[str, Path]] = None, ports: Optional[Ports] = None,
            extra_dirs: Sequence[Union[str, Path]] = ()) -> TaggerFiles:
    """The files of `model` (see the module doc); ModelNotFound names what is missing and where."""
    ports = ports or Ports()
    text = str(model or DEFAULT_MODEL).strip()
    lookup = Ports(model_dirs={KIND: [*map(str, ports.model_dirs.get(KIND, [])), *map(str, extra_dirs)]},
                   allow_download=ports.allow_download)
    dirs = search_dirs(KIND, lookup)
    path = Path(text).expanduser()
    if path.is_absolute() or path.suffix.lower() == ".onnx" or path.exists():
        if not path.is_absolute() and not path.exists():
            path = next((d / text for d in dirs if (d / text).exists()), path)
        return _from_path(path)
    if text not in {s.name for s in known_specs(KIND)}:
        known = ", ".join(s.name for s in known_specs(KIND))
        raise ModelNotFound(f"unknown tagger {text!r}", f"use one of {known}, or a path to an .onnx file")
    spec = get_spec(text)
    for d in dirs:  # the flat layout of the popular WD14 nodes: <name>.onnx + <name>.csv
        if (d / f"{text}.onnx").is_file() and (d / f"{text}.csv").is_file():
            return TaggerFiles(text, d / f"{text}.onnx", d / f"{text}.csv", spec)
    try:
        files = locate(spec, lookup)
    except ModelNotFound as exc:
        raise ModelNotFound(str(exc).split("\n")[0], exc.hint + f"; {text}.onnx + {text}.csv side by side "
                            "(the layout of other WD14 nodes) works too") from None
    return TaggerFiles(text, files["model.onnx"], files["selected_tags.csv"], spec)


def _from_path(path: Path) -> TaggerFiles:
    if path.is_dir():
        onnx = sorted(path.glob("*.onnx"))
        if len(onnx) != 1:
            raise ModelNotFound(f"{path} holds {len(onnx)} .onnx files", "give the path of one .onnx file")
        path = onnx[0]
    if not path.is_file():
        raise ModelNotFound(f"tagger model {path} not found", "check the path")
    for csv in csv_candidates(path):
        if csv.is_file():
            return TaggerFiles(path.stem if path.stem != "model" else path.parent.name, path, csv)
    names = ", ".join(c.name for c in csv_candidates(path))
    raise ModelNotFound(f"no tag list beside {path} (looked for {names} in {path.parent})",
                        "put the model's selected_tags.csv beside the .onnx file")


def list_local(dirs: Sequence[Union[str, Path]]) -> list[str]:
    """Tagger choices for a dropdown: known names first, then other .onnx files found in `dirs`."""
    names = [s.name for s in known_specs(KIND)]
    seen = set(names)
    out = list(names)
    for d in map(Path, dirs):
        if not d.is_dir():
            continue
        for onnx in sorted(d.rglob("*.onnx")):
            rel = onnx.relative_to(d).as_posix()
            if onnx.stem in seen or onnx.parent.name in seen or rel in out:
                continue  # a known model in one of the catalogue layouts
            if any(c.is_file() for c in csv_candidates(onnx)):
                out.append(rel)
    return out


class Tagger:
    """An opened tagger: its session, tag list and input facts. Thread-safe `predict`."""

    def __init__(self, files: TaggerFiles, session: Session, labels: Labels, quantized: bool = False,
                 lanes: int = 1):
        self.files, self.session, self.labels, self.quantized = files, session, labels, quantized
        self.lanes = lanes  # how many predict() calls may run side by side usefully
        self.name = files.name + (" (int8)" if quantized else "")
        inp = session.inputs[0]
        self.input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4 or 3 not in (shape[1], shape[3]):
            raise BadInput(f"{files.onnx.name}: input {inp.name} has shape {shape}, not an image batch",
                           "this is not a WD14-style tagger (expected [batch, side, side, 3])")
        self.layout = "NHWC" if shape[3] == 3 else "NCHW"
        side = shape[1] if self.layout == "NHWC" else shape[2]
        self.side = side if isinstance(side, int) and side > 0 else 448
        self.fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        self.output_name = self._pick_output()

    def _pick_output(self) -> str:
        outputs = self.session.outputs
        for out in outputs:
            last = out.shape[-1] if out.shape else None
            if last == len(self.labels) or (not isinstance(last, int) and len(outputs) == 1):
                return out.name
        sizes = ", ".join(f"{o.name}: {o.shape[-1] if o.shape else '?'}" for o in outputs)
        raise BadInput(f"tag list {self.labels.path} has {len(self.labels)} rows but model "
                       f"{self.files.onnx.name} outputs {sizes} scores",
                       "use the selected_tags.csv that belongs to this model")

    def describe(self) -> str:
        batch = "batch 1" if self.fixed_batch == 1 else "any batch"
        lanes = f", {self.lanes} parallel runs" if self.lanes > 1 else ""
        return f"{self.name}: {self.side}px {self.layout}, {batch}, {len(self.labels)} tags, " \
               f"{self.session.describe()}{lanes}"

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(n, side, side, 3) float32 BGR 0-255 -> (n, tags) scores in 0..1."""
        x = np.ascontiguousarray(batch if self.layout == "NHWC" else batch.transpose(0, 3, 1, 2))
        step = self.fixed_batch or len(x)
        parts = []
        for start in range(0, len(x), step):
            chunk = x[start:start + step]
            real = len(chunk)
            if real < step:  # a fixed batch > 1: pad the last chunk, drop the padding after
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], step - real, 0)])
            out = self.session.session.run([self.output_name], {self.input_name: chunk})[0]
            parts.append(np.asarray(out)[:real].reshape(real, -1))
        probs = np.concatenate(parts).astype(np.float32, copy=False)
        if probs.shape[1] != len(self.labels):
            raise BadInput(f"model {self.files.onnx.name} gave {probs.shape[1]} scores but "
                           f"{self.labels.path.name} lists {len(self.labels)} tags",
                           "use the selected_tags.csv that belongs to this model")
        if probs.size and (probs.min() < 0 or probs.max() > 1):  # logits, not probabilities
            probs = 1.0 / (1.0 + np.exp(-probs))
        return probs


_CACHE: dict[tuple, Tagger] = {}
_LOCK = threading.Lock()
MAX_LANES = 8


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def plan_threads(cpu: bool, threads: int, for_batches: bool) -> tuple[int, int]:
    """(onnxruntime threads per run, concurrent runs) for a session.

    Many images on a CPU: one single-threaded run per core side by side ("lanes"). They need no
    synchronisation between operators and leave no threads spinning while images are decoded,
    so the cores stay busy with useful work; the result of each run is bit-identical. One image
    (or a GPU): one run at a time with onnxruntime's own threads.
    """
    cores = cpu_count()
    if not cpu or not for_batches:
        return threads, 1
    if threads:
        return threads, max(1, cores // threads)
    lanes = min(cores, MAX_LANES)
    return max(1, cores // lanes), lanes


def open_tagger(model: Optional[Union[str, Path, TaggerFiles]] = None, ports: Optional[Ports] = None,
                int8: bool = False, threads: int = 0, extra_dirs: Sequence[Union[str, Path]] = (),
                for_batches: bool = True) -> Tagger:
    """A cached Tagger for `model` on `ports.providers` (int8: the quantized twin, made once).

    for_batches: set up for throughput over many images (see plan_threads), else for the
    latency of a single image.
    """
    ports = ports or Ports()
    files = model if isinstance(model, TaggerFiles) else resolve(model, ports, extra_dirs)
    cpu = choose_providers(ports.providers)[0] == "CPUExecutionProvider"
    threads, lanes = plan_threads(cpu, threads, for_batches)
    key = (_stamp(files.onnx), _stamp(files.csv), tuple(ports.providers or ()), int8, threads, lanes)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    labels = read_labels(files.csv)
    path = files.onnx
    if int8:
        from ..models.quantize import int8_model
        path = int8_model(files.onnx)
    tagger = Tagger(files, get_session(path, ports.providers, threads, spin=False), labels, int8, lanes)
    log.info("tagger %s", tagger.describe())
    with _LOCK:
        return _CACHE.setdefault(key, tagger)


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
