"""The faces stage: detect faces in every image, store boxes, face-height ratio, bucket, person count,
and optionally save per-face crops as new items linked to their source image.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from ..core.atomic import sweep_temp, write_with
from ..core.errors import BadInput
from ..core.images import open_image
from ..core.manifest import Dataset, Item, settings_key
from ..core.ports import Ports
from ..core.stages import ItemError, Stage, StageReport, run_stage
from .crops import CropSettings, crop_box, cut, faces_in_crop
from .detect import Detector, load_detector
from .geometry import COUNT_SOURCES, Buckets, Face, check_edges, face_height_ratio, person_count
from .store import load_tags, reading_order, save_faces

STAGE = "faces"
CROP_DIR = "crops"
NO_FACE, NO_FACE_LISTED = "no face", 20


@dataclass
class FaceSettings:
    detector: str = "auto"
    conf: Optional[float] = None          # None: the model's own default (0.25 for deepghs faces)
    iou: Optional[float] = None
    max_size: int = 640
    min_neighbors: int = 5                # LBP cascade only
    edges: tuple[int, ...] = (25, 50, 75)
    detector_edges: dict = field(default_factory=dict)   # detector name -> its own bucket edges
    classes: tuple[str, ...] = ()         # YOLO classes counted as faces (default: those named like a face)
    count_from: str = "auto"              # auto | faces | tags | max
    crop: bool = False
    crop_settings: CropSettings = field(default_factory=CropSettings)

    def validate(self) -> None:
        if self.count_from not in COUNT_SOURCES:
            raise BadInput(f"unknown count source {self.count_from!r}", f"use one of {', '.join(COUNT_SOURCES)}")
        for name, v in (("conf", self.conf), ("iou", self.iou)):
            if v is not None and not 0 <= v <= 1:
                raise BadInput(f"{name} must be between 0 and 1, got {v}", "e.g. --conf 0.25 --iou 0.7")
        try:
            check_edges(self.edges, self.detector_edges)
        except ValueError as exc:
            raise BadInput(str(exc), "e.g. --buckets 25,50,75") from exc


@dataclass
class FacesReport:
    detector: str = ""
    stage: Optional[StageReport] = None
    images_with_faces: int = 0
    faces: int = 0
    crops: int = 0
    buckets: dict[str, int] = field(default_factory=dict)   # bucket (or NO_FACE) -> pictures
    no_face: list[str] = field(default_factory=list)         # pictures without a face (first NO_FACE_LISTED)

    @property
    def cancelled(self) -> bool:
        return bool(self.stage and self.stage.cancelled)

    def summary(self) -> str:
        head = self.stage.summary() if self.stage else "faces: nothing to do"
        text = (f"{head}\n  detector: {self.detector or 'not needed'}\n"
                f"  {self.faces} faces in {self.images_with_faces} images"
                + (f", {self.crops} crops" if self.crops else ""))
        return text + "".join("\n  " + line for line in histogram(self.buckets, self.no_face))


class FaceStage(Stage):
    name = STAGE
    batch_size = 8

    def __init__(self, settings: FaceSettings, detector: Optional[Detector] = None):
        self.s = settings
        self.detector = detector

    def settings(self) -> dict:
        data = asdict(self.s)  # the detector as asked for ('auto'): a re-run resumes, whatever it found
        data["edges"] = list(self.s.edges)
        data["detector_edges"] = {k: list(v) for k, v in sorted(self.s.detector_edges.items())}
        data["classes"] = list(self.s.classes)
        if not self.s.crop:
            data.pop("crop_settings")
        return data

    def select(self, ds: Dataset, key: str, retry_failed: bool) -> list[int]:
        ids = set(ds.pending(self.name, key, retry_failed=retry_failed))
        return [it.id for it in ds.items(where="kind != 'crop'") if it.id in ids]

    def prepare(self, ds: Dataset, ports: Ports) -> None:
        sweep_temp(ds.root / CROP_DIR)

    def prepare_driver(self, ds: Dataset, ports: Ports) -> None:
        sweep_temp(ds.root / CROP_DIR)  # once, before workers write crops

    def prepare_worker(self, ds: Dataset, ports: Ports) -> None:
        """The detector arrives as its recipe and opened its session on unpickling."""

    def load(self, ds: Dataset, item: Item) -> np.ndarray:
        try:
            return np.asarray(open_image(ds.abspath(item)))
        except BadInput as exc:
            raise ItemError(str(exc).splitlines()[0]) from exc

    def process(self, ds: Dataset, items: Sequence[Item], loaded: Sequence[Any]) -> list[Any]:
        out = []
        for item, img in zip(items, loaded):
            faces = reading_order(self.detector.detect(img))
            crops = self._crops(ds, item, img, faces) if self.s.crop else []
            out.append((img.shape[1], img.shape[0], faces, crops))
        return out

    def _crops(self, ds: Dataset, item: Item, img: np.ndarray, faces: list[Face]) -> list[tuple]:
        crops = []
        for n, face in enumerate(faces):
            box = crop_box(face, img.shape[1], img.shape[0], self.s.crop_settings)
            if box is None:
                continue
            part = cut(img, box, self.s.crop_settings.size)
            rel = f"{CROP_DIR}/{Path(item.path).stem}_c{n}.png"
            write_with(ds.root / rel, lambda tmp, a=part: _save_png(a, tmp))
            crops.append((n, rel, box, part.shape[1], faces_in_crop(faces, box, part.shape[1])))
        return crops

    def commit(self, ds: Dataset, conn: sqlite3.Connection, item: Item, result: Any) -> None:
        width, height, faces, crops = result
        tags = [t for t, _, _ in load_tags(conn, [item.id]).get(item.id, [])]
        self._store(ds, conn, item.id, width, height, faces, tags)
        _drop_old_crops(ds, conn, item.id, keep={rel for _, rel, *_ in crops})
        for n, rel, box, side, inside in crops:
            crop_id = ds.add_item(conn, rel, f"crop:{item.key}:{n}", kind="crop", parent_id=item.id,
                                  source_id=item.source_id, frame_index=item.frame_index, pts=item.pts,
                                  scene=item.scene, series=item.series, episode=item.episode,
                                  width=side, height=side, status="active", extra={"crop_box": list(box)})
            self._store(ds, conn, crop_id, side, side, inside, tags)
            ds.mark_done(conn, [crop_id], self.name, settings_key(self.settings()))

    def _store(self, ds: Dataset, conn: sqlite3.Connection, item_id: int, width: int, height: int,
               faces: list[Face], tags: list[str]) -> None:
        save_faces(conn, item_id, faces)
        ratio = face_height_ratio(faces, height)
        buckets = Buckets.for_faces(faces, self.s.edges, self.s.detector_edges)
        ds.update_item(conn, item_id, width=width, height=height, face_ratio=ratio,
                       bucket=buckets.bucket(ratio) if faces else None,
                       person_count=person_count(len(faces), tags, self.s.count_from))


def _save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(arr).save(path, format="PNG", compress_level=4)


def _drop_old_crops(ds: Dataset, conn: sqlite3.Connection, parent_id: int, keep: set[str]) -> None:
    """Crops of an earlier run that this run did not make again (other settings): rows and files."""
    rows = conn.execute("SELECT id, path FROM items WHERE parent_id=? AND kind='crop'", (parent_id,)).fetchall()
    for crop_id, rel in rows:
        if rel not in keep:
            conn.execute("DELETE FROM items WHERE id=?", (crop_id,))
            (ds.root / rel).unlink(missing_ok=True)


def run_faces(dataset: Union[Dataset, str, Path], settings: Optional[FaceSettings] = None,
              ports: Optional[Ports] = None, detector: Optional[Detector] = None,
              retry_failed: bool = False) -> FacesReport:
    """Detect faces in every image of `dataset` not yet done with these settings (resumable)."""
    settings = settings or FaceSettings()
    settings.validate()
    ports = ports or Ports()
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    report = FacesReport()
    stage = FaceStage(settings, detector)
    if stage.detector is None and not _all_done(ds, stage, retry_failed):
        stage.detector = load_detector(settings.detector, ports, settings.conf, settings.iou,
                                       settings.max_size, settings.min_neighbors, settings.classes)
    report.detector = stage.detector.describe() if stage.detector is not None else ""
    report.stage = run_stage(ds, stage, ports, retry_failed=retry_failed)
    _totals(ds, report)
    return report


def _all_done(ds: Dataset, stage: FaceStage, retry_failed: bool) -> bool:
    """True when nothing is pending for the configured detector name (no model needed then)."""
    return not stage.select(ds, settings_key(stage.settings()), retry_failed)


def _totals(ds: Dataset, report: FacesReport) -> None:
    with ds.db() as conn:
        report.faces = conn.execute("SELECT COUNT(*) FROM faces f JOIN items i ON i.id=f.item_id "
                                    "WHERE i.status='active' AND i.kind!='crop'").fetchone()[0]
        report.images_with_faces = conn.execute(
            "SELECT COUNT(DISTINCT f.item_id) FROM faces f JOIN items i ON i.id=f.item_id "
            "WHERE i.status='active' AND i.kind!='crop'").fetchone()[0]
        report.crops = conn.execute("SELECT COUNT(*) FROM items WHERE kind='crop' AND status='active'").fetchone()[0]
        report.buckets = dict(conn.execute("SELECT COALESCE(bucket, ?), COUNT(*) FROM items "
                                           "WHERE status='active' AND kind!='crop' GROUP BY 1", (NO_FACE,)).fetchall())
        report.no_face = [r[0] for r in conn.execute(
            "SELECT path FROM items WHERE status='active' AND kind!='crop' AND bucket IS NULL ORDER BY path LIMIT ?",
            (NO_FACE_LISTED,))]


def histogram(buckets: dict[str, int], no_face: Sequence[str], width: int = 30) -> list[str]:
    """Text lines: one bar per face-height bucket (then 'no face'), and the pictures without a face,
    so that close-ups falling out of the buckets show at once."""
    if not buckets:
        return []
    def natural(name: str) -> list:  # face_height_ratio_5-10 before face_height_ratio_10-20
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]

    names = sorted((k for k in buckets if k != NO_FACE), key=natural) + ([NO_FACE] if NO_FACE in buckets else [])
    top, total = max(buckets.values()), sum(buckets.values())
    pad = max(len(n) for n in names)
    lines = ["face-height buckets:"]
    for name in names:
        n = buckets[name]
        lines.append(f"  {name:<{pad}} {'#' * max(1, round(width * n / top)):<{width}} {n} ({100 * n / total:.0f}%)")
    if no_face:
        more = buckets.get(NO_FACE, 0) - len(no_face)
        lines.append(f"no face in: {', '.join(no_face)}" + (f" and {more} more" if more > 0 else ""))
    return lines
