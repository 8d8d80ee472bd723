"""`build_dataset`: the whole pipeline in one call, on this machine or on a Ray cluster.

    videos and images -> frames / import -> dedupe -> tag -> faces -> characters

Each step is the stage's own function with its defaults, run through the same ports (so the same
engine, progress and cancel); each is resumable, so a re-run continues where a killed one stopped.
Tagging goes before faces because the person count can use the tags. A step whose model is not
on this machine is skipped with the reason, unless it was asked for by name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

from ..core.errors import BadInput, Cancelled, ModelNotFound
from ..core.images import IMAGE_SUFFIXES
from ..core.manifest import Dataset
from ..core.ports import Ports

STEPS = ("frames", "dedupe", "tag", "faces", "characters")
VIDEO_SUFFIXES = {".mkv", ".mp4", ".webm", ".avi", ".mov", ".m4v", ".ts", ".m2ts", ".wmv", ".flv"}


@dataclass
class BuildReport:
    dataset: str
    steps: list[tuple[str, str]] = field(default_factory=list)   # (step, one-line summary)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (step, why)
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"build -> {self.dataset} in {self.seconds:.1f}s" + (" (cancelled; run again to resume)"
                                                                       if self.cancelled else "")]
        lines += [f"  {name}: {text}" for name, text in self.steps]
        lines += [f"  {name}: skipped ({why})" for name, why in self.skipped]
        return "\n".join(lines)


def split_inputs(inputs: Iterable[Union[str, Path]]) -> tuple[list[str], list[str]]:
    """(videos, image inputs): files by suffix; folders and globs go to both (each side filters)."""
    videos, images = [], []
    for raw in inputs:
        text = str(raw)
        suffix = Path(text.rstrip("/")).suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            videos.append(text)
        elif suffix in IMAGE_SUFFIXES:
            images.append(text)
        else:
            videos.append(text)
            images.append(text)
    return videos, images


def build_dataset(dataset: Union[str, Path, Dataset], inputs: Sequence[Union[str, Path]] = (),
                  steps: Optional[Sequence[str]] = None, ports: Optional[Ports] = None) -> BuildReport:
    """Run the pipeline's steps over `inputs` into `dataset` (created if needed)."""
    asked = list(steps) if steps is not None else None
    unknown = set(asked or ()) - set(STEPS)
    if unknown:
        raise BadInput(f"unknown build step(s): {', '.join(sorted(unknown))}", f"use some of {', '.join(STEPS)}")
    ports = ports or Ports()
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open_or_create(dataset)
    report = BuildReport(str(ds.root))
    start = time.perf_counter()
    todo = [s for s in STEPS if asked is None or s in asked]
    try:
        for n, name in enumerate(todo):
            sub = ports.scaled(100 * n // len(todo), 100 // len(todo), 100)
            ports.logger.info("build: %s", name)
            try:
                text = _STEP[name](ds, list(inputs), sub)
            except (ModelNotFound, _Unavailable) as exc:
                if asked is not None:
                    raise
                report.skipped.append((name, str(exc).splitlines()[0]))
                continue
            if text is not None:
                report.steps.append((name, text))
            ports.check()
    except Cancelled:
        report.cancelled = True
    report.seconds = time.perf_counter() - start
    return report


class _Unavailable(BadInput):
    """A step whose code is not part of this installation."""


def _frames(ds: Dataset, inputs: list, ports: Ports) -> Optional[str]:
    from .ingest import import_images

    videos, images = split_inputs(inputs)
    parts = []
    found = _expandable(videos, "video")
    if found:
        try:
            from ..video import extract_frames
        except ImportError as exc:
            raise _Unavailable(f"frame extraction is not available ({exc})", "update UDW Studio") from exc
        rep = extract_frames(ds, found, ports=ports)
        _raise_if_cancelled(rep)
        parts.append(rep.summary().splitlines()[0])
    images = _expandable(images, "image")
    if images:
        rep = import_images(ds, images, ports=ports)
        _raise_if_cancelled(rep)
        parts.append(rep.summary())
    if not parts and inputs:
        raise BadInput("no videos or images in the inputs", "give video files, image files, folders or globs")
    return "; ".join(parts) if parts else None


def _expandable(inputs: list, kind: str) -> list:
    """The inputs that hold at least one file of this kind (a folder of images has no video)."""
    from ..core.inputs import expand_inputs

    suffixes = VIDEO_SUFFIXES if kind == "video" else IMAGE_SUFFIXES
    out = []
    for raw in inputs:
        if "://" in str(raw):  # URLs: images only (videos are read from a path every worker sees)
            if kind == "image":
                out.append(raw)
            continue
        try:
            if expand_inputs([raw], suffixes):
                out.append(raw)
        except BadInput:
            continue
    return out


def _dedupe(ds: Dataset, inputs: list, ports: Ports) -> str:
    try:
        from ..dedupe import dedupe_dataset
    except ImportError as exc:
        raise _Unavailable(f"dedupe is not available ({exc})", "update UDW Studio") from exc
    rep = dedupe_dataset(ds, ports=ports, preview=False)
    return rep.summary()


def _tag(ds: Dataset, inputs: list, ports: Ports) -> str:
    try:
        from ..tagging.stage import tag_dataset
    except ImportError as exc:
        raise _Unavailable(f"tagging is not available ({exc})", "update UDW Studio") from exc
    rep = tag_dataset(ds, ports=ports)
    _raise_if_cancelled(rep)
    return rep.summary()


def _faces(ds: Dataset, inputs: list, ports: Ports) -> str:
    from ..faces import run_faces

    rep = run_faces(ds, ports=ports)
    _raise_if_cancelled(rep)
    return rep.summary().splitlines()[0]


def _characters(ds: Dataset, inputs: list, ports: Ports) -> str:
    from ..characters import run_characters

    rep = run_characters(ds, ports=ports)
    _raise_if_cancelled(rep)
    return rep.summary().splitlines()[0]


def _raise_if_cancelled(rep) -> None:
    if getattr(rep, "cancelled", False):
        raise Cancelled()


_STEP: dict[str, Callable[[Dataset, list, Ports], Optional[str]]] = {
    "frames": _frames, "dedupe": _dedupe, "tag": _tag, "faces": _faces, "characters": _characters}
