"""Choosing a face detector: a catalogue name, a file path, or `auto` (best one on this machine).

`auto` tries deepghs face_detect_v1.4_s, then _n, then the LBP cascade, and says which one runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Protocol, Sequence, Union

import numpy as np

from ..core.errors import BadInput, ModelNotFound
from ..core.ports import Ports
from ..models.registry import get_spec, locate, search_dirs
from .cascade import CascadeDetector
from .geometry import Face
from .yolo import YoloDetector

AUTO_ORDER = ("face_detect_v1.4_s", "face_detect_v1.4_n", "lbpcascade_animeface")
DETECTOR_CHOICES = ("auto", *AUTO_ORDER)


class Detector(Protocol):
    name: str

    def detect(self, img: np.ndarray) -> list[Face]: ...

    def describe(self) -> str: ...


def load_detector(name: Union[str, Path] = "auto", ports: Optional[Ports] = None,
                  conf: Optional[float] = None, iou: Optional[float] = None, max_size: int = 640,
                  min_neighbors: int = 5, classes: Sequence[str] = ()) -> Detector:
    """A ready detector. `name`: 'auto', a catalogue name, or a path to a .onnx / .xml file.
    `classes`: which classes of a YOLO model count as faces (default: the ones named like a face)."""
    ports = ports or Ports()
    text = str(name).strip() or "auto"
    if text == "auto":
        missing = []
        for candidate in AUTO_ORDER:
            try:
                return load_detector(candidate, ports, conf, iou, max_size, min_neighbors, classes)
            except ModelNotFound as exc:
                missing.append(str(exc).splitlines()[0])
        folders = "\n".join(f"    {d}" for d in search_dirs("detectors", ports))
        raise ModelNotFound("no face detector is on this machine: " + "; ".join(missing),
                            "put face_detect_v1.4_s/model.onnx (deepghs/anime_face_detection) or "
                            f"lbpcascade_animeface.xml (nagadomi/lbpcascade_animeface) into one of:\n{folders}\n"
                            "  or run `udw models get face_detect_v1.4_s` (best) or `udw models get "
                            "lbpcascade_animeface` (light), or use the Download button of UDW Models")
    path = Path(text).expanduser()
    if path.suffix.lower() in (".onnx", ".xml"):
        if not path.is_file():
            raise BadInput(f"{path}: no such detector file", "check the path")
        return _build(path, path.stem if path.stem != "model" else path.parent.name, path.suffix.lower(),
                      {}, ports, conf, iou, max_size, min_neighbors, classes)
    spec = get_spec(text)
    if spec.kind != "detectors":
        raise BadInput(f"{text} is a {spec.kind} model, not a detector", f"use one of {', '.join(DETECTOR_CHOICES)}")
    files = locate(spec, ports)
    suffix = ".xml" if spec.options.get("format") == "cascade" else ".onnx"
    return _build(files.first, spec.name, suffix, spec.options, ports, conf, iou, max_size, min_neighbors, classes)


def _build(path: Path, name: str, suffix: str, options: dict, ports: Ports, conf: Optional[float],
           iou: Optional[float], max_size: int, min_neighbors: int, classes: Sequence[str]) -> Detector:
    if suffix == ".xml":
        return CascadeDetector(path, name=name, min_neighbors=min_neighbors, max_side=max_size)
    return YoloDetector(path, name=name, conf=conf if conf is not None else options.get("conf", 0.25),
                        iou=iou if iou is not None else options.get("iou", 0.7), max_size=max_size,
                        providers=ports.providers, classes=classes)
