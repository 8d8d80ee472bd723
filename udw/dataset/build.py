"""`build_dataset`: the whole pipeline in one call, on this machine or on a Ray cluster.

    videos and images -> frames / import -> dedupe -> tag -> faces -> characters
                      -> export (arranged, balanced, captioned training folder) -> gallery page

Each step is the same function its own verb, node and tab call, run through the same ports (so
the same engine, progress and cancel); each is resumable, so a re-run continues where a killed one
stopped. Tagging goes before faces because the person count can use the tags. A step whose model
is not on this machine is skipped with the message that says what to put where, unless it was asked
for by name; the steps after it run on what there is.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from ..core.errors import BadInput, Cancelled, ModelNotFound, UdwError
from ..core.images import IMAGE_SUFFIXES
from ..core.manifest import Dataset
from ..core.ports import Ports
from ..video.probe import VIDEO_SUFFIXES

STEPS = ("frames", "dedupe", "tag", "faces", "characters", "export", "gallery")
GALLERY_DIR = "previews/gallery"  # default page inside the dataset (previews/ is never imported)


@dataclass
class BuildSettings:
    """Per-step settings; None means the step's own defaults."""

    frames: Any = None       # udw.video.FrameSettings
    dedupe: Any = None       # udw.dedupe.DedupeSettings
    tagger: Optional[str] = None  # model name or path (None: the default WD14 model)
    tags: Any = None         # udw.tagging.postprocess.TagOptions
    faces: Any = None        # udw.faces.FaceSettings
    characters: Any = None   # udw.characters.CharacterSettings
    export: Any = None       # udw.dataset.export.ExportSettings
    export_to: Optional[Union[str, Path]] = None   # training folder; None: no export step
    gallery_to: Optional[Union[str, Path]] = None  # site folder; None: DATASET/previews/gallery
    gallery_title: str = ""                          # default: the dataset folder's name


@dataclass
class StepResult:
    name: str
    status: str          # done | skipped | failed | cancelled
    summary: str = ""
    hint: str = ""

    def line(self) -> str:
        head = f"  {self.name}: " + ("" if self.status == "done" else f"{self.status} ")
        text = self.summary.splitlines()[0] if self.summary else ""
        return head + (f"({text})" if self.status != "done" and text else text) + \
            (f"\n      -> {self.hint}" if self.hint else "")


@dataclass
class BuildReport:
    dataset: str
    steps: list[StepResult] = field(default_factory=list)
    gallery: Optional[Path] = None  # the page to open, when the gallery step ran
    seconds: float = 0.0

    @property
    def cancelled(self) -> bool:
        return any(s.status == "cancelled" for s in self.steps)

    @property
    def ok(self) -> bool:
        return all(s.status in ("done", "skipped") for s in self.steps)

    def status(self, name: str) -> Optional[StepResult]:
        return next((s for s in self.steps if s.name == name), None)

    def summary(self) -> str:
        tail = " (cancelled; run again to resume)" if self.cancelled else ""
        lines = [f"build -> {self.dataset} in {self.seconds:.1f}s{tail}"] + [s.line() for s in self.steps]
        if self.gallery:
            lines.append(f"open {self.gallery}")
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
                  steps: Optional[Sequence[str]] = None, ports: Optional[Ports] = None,
                  settings: Optional[BuildSettings] = None,
                  on_step: Callable[[StepResult], None] = lambda result: None,
                  strict: Optional[bool] = None) -> BuildReport:
    """Run the pipeline's steps over `inputs` into `dataset` (created if needed).

    `steps`: the ones to run (default: all; export only when `settings.export_to` is set).
    `strict`: a step whose model is missing fails instead of being skipped with the hint (default:
    when `steps` names a subset of the steps, as `udw build --steps tag` does).
    `on_step` sees each step's result as soon as it is known (the CLI prints it).
    """
    asked = list(steps) if steps is not None else None
    unknown = set(asked or ()) - set(STEPS)
    if unknown:
        raise BadInput(f"unknown build step(s): {', '.join(sorted(unknown))}", f"use some of {', '.join(STEPS)}")
    s = settings or BuildSettings()
    if strict is None:
        strict = asked is not None and not set(STEPS) - {"export"} <= set(asked)
    if strict and "export" in asked and not s.export_to:
        raise BadInput("the export step needs a target folder", "give --export FOLDER (the training folder)")
    ports = ports or Ports()
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open_or_create(dataset)
    report = BuildReport(str(ds.root))
    start = time.perf_counter()
    todo = [n for n in STEPS if (asked is None or n in asked) and (n != "export" or s.export_to)]
    for n, name in enumerate(todo):
        ports.logger.info("build: %s", name)
        start_pct = 100 * n // len(todo)
        sub = ports.scaled(start_pct, 100 * (n + 1) // len(todo) - start_pct, 100)
        result = _run_step(name, lambda: _STEP[name](ds, list(inputs), s, sub, report), strict)
        report.steps.append(result)
        on_step(result)
        if result.status == "cancelled" or (name == "frames" and result.status == "failed"):
            break
    report.seconds = time.perf_counter() - start
    return report


class StepSkipped(UdwError):
    """A step that has nothing to work on because an earlier step did not run."""


def _run_step(name: str, run: Callable[[], Optional[str]], strict: bool) -> StepResult:
    try:
        text = run()
    except StepSkipped as exc:
        return StepResult(name, "skipped", exc.args[0], exc.hint)
    except ModelNotFound as exc:
        return StepResult(name, "failed" if strict else "skipped", f"model not on this machine: {exc.args[0]}",
                          exc.hint)
    except Cancelled:
        return StepResult(name, "cancelled", "stopped on request", "run the same command again to resume")
    except UdwError as exc:
        return StepResult(name, "failed", exc.args[0], exc.hint)
    return StepResult(name, "done", text or "")


def _checked(report: Any, detail: str = "") -> str:
    """A stage report's first line (plus its line containing `detail`); a cancelled stage stops the build."""
    if getattr(report, "cancelled", False):
        raise Cancelled()
    lines = report.summary().splitlines() if hasattr(report, "summary") else [str(report)]
    head = re.sub(r"^[\w-]+: ", "", lines[0])  # the step's name is already on the line
    more = next((line.strip() for line in lines[1:] if detail and detail in line), "")
    skipped = [line for line in lines[1:] if line.lstrip().startswith(("skipped ", "... and "))]
    return "\n".join([f"{head}; {more}" if more else head, *skipped])  # name every file not taken


def _frames(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, _: BuildReport) -> Optional[str]:
    from ..video import extract_frames
    from .ingest import import_images

    videos, images = split_inputs(inputs)
    parts = []
    videos = _expandable(videos, VIDEO_SUFFIXES)
    if videos:
        parts.append(_checked(extract_frames(ds, videos, s.frames, ports=ports)))
    images = _expandable(images, IMAGE_SUFFIXES)
    if images:
        parts.append(_checked(import_images(ds, images, ports=ports)))
    if not parts and inputs:
        raise BadInput("no videos or images in the inputs", "give video files, image files, folders or globs")
    return "; ".join(parts) if parts else "no inputs: working on the dataset as it is"


def _expandable(inputs: list, suffixes: set) -> list:
    """The inputs that hold at least one file of this kind (a folder of images has no video)."""
    from ..core.inputs import expand_inputs

    out = []
    for raw in inputs:
        if "://" in str(raw):  # URLs: images only (videos are read from a path every worker sees)
            if suffixes is IMAGE_SUFFIXES:
                out.append(raw)
            continue
        try:
            if expand_inputs([raw], suffixes):
                out.append(raw)
        except BadInput:
            continue
    return out


def _dedupe(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, _: BuildReport) -> str:
    from ..dedupe import DedupeSettings, dedupe_dataset

    return _checked(dedupe_dataset(ds, s.dedupe or DedupeSettings(), ports=ports, preview=False))


def _tag(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, _: BuildReport) -> str:
    from ..tagging.postprocess import TagOptions
    from ..tagging.stage import tag_dataset

    return _checked(tag_dataset(ds, s.tagger, s.tags or TagOptions(), ports=ports))


def _faces(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, _: BuildReport) -> str:
    from ..faces import run_faces

    return _checked(run_faces(ds, s.faces, ports=ports), " faces in ")


def _characters(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, report: BuildReport) -> str:
    from ..characters import run_characters

    faces = report.status("faces")
    if faces and faces.status != "done" and not _has_faces(ds):  # nothing to name: say why, not "0 done"
        raise StepSkipped("no faces to name: the faces step was " + faces.status, faces.hint)

    return _checked(run_characters(ds, s.characters, ports=ports), "faces: ")


def _has_faces(ds: Dataset) -> bool:
    with ds.db() as conn:
        return conn.execute("SELECT 1 FROM faces LIMIT 1").fetchone() is not None


def _export(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, _: BuildReport) -> str:
    from .export import run_export

    return _checked(run_export(ds, s.export_to, s.export, ports=ports))


def _gallery(ds: Dataset, inputs: list, s: BuildSettings, ports: Ports, report: BuildReport) -> str:
    """The page of the training folder when there is one (arranged, captioned), else of the dataset."""
    from ..gallery.export import export_gallery

    exported = report.status("export")
    source = s.export_to if exported and exported.status == "done" else ds.root
    target = Path(s.gallery_to) if s.gallery_to else ds.root / GALLERY_DIR
    # the page says what it lacks: a skipped tag or faces step leaves no tags or character sections
    skipped = [f"{step.name} step skipped: {step.summary.splitlines()[0] if step.summary else ''}".rstrip(": ")
               + (f" ({step.hint})" if step.hint else "") for step in report.steps if step.status == "skipped"]
    page = export_gallery(source, target, title=s.gallery_title or ds.root.name, link=True, ports=ports,
                          notes=skipped)
    report.gallery = target.expanduser().resolve() / "index.html"
    return _checked(page)


_STEP: dict[str, Callable[[Dataset, list, BuildSettings, Ports, BuildReport], Optional[str]]] = {
    "frames": _frames, "dedupe": _dedupe, "tag": _tag, "faces": _faces, "characters": _characters,
    "export": _export, "gallery": _gallery}
