"""The characters stage: embed every face, name it from the reference pictures, group the rest.

1. Embedding (resumable per item): the head region of each face is embedded and stored in the
   manifest (`signatures`, kind `face_emb:<embedder>`); redone for items whose faces changed.
2. Assignment (cheap, every run, over the whole dataset): each face takes the nearest reference
   character within the threshold (a name at most once per image); faces left over are clustered
   into unknown_1, unknown_2, ... that the user can rename (`rename_characters`); noise -> others.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from ..core.errors import BadInput
from ..core.images import open_image
from ..core.manifest import Dataset, Item
from ..core.ports import Ports
from ..core.stages import ItemError, Stage, StageReport, run_stage
from ..faces.store import load_faces
from .cluster import METHODS, NOISE, assign, cluster_unknowns
from .embed import Embedder, difference, load_embedder
from .refs import References, character_name, load_references

STAGE = "character_embed"


@dataclass
class CharacterSettings:
    embedder: str = "auto"            # auto | ccip | colour | path to .onnx
    threshold: Optional[float] = None  # None: the embedder's own (CCIP 0.178)
    refs: Optional[str] = None         # folder of refs/NAME/*.png; default DATASET/refs when present
    cluster: str = "dbscan"            # dbscan | optics | none
    min_cluster: int = 3
    detector: str = "auto"             # finds the face in reference pictures

    def validate(self) -> None:
        if self.cluster not in METHODS:
            raise BadInput(f"unknown clustering {self.cluster!r}", f"use one of {', '.join(METHODS)}")
        if self.min_cluster < 2:
            raise BadInput("min cluster size must be at least 2", "e.g. --min-cluster 3")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise BadInput(f"threshold must be between 0 and 1, got {self.threshold}", "e.g. 0.178 for CCIP")


@dataclass
class CharactersReport:
    embedder: str = ""
    stage: Optional[StageReport] = None
    counts: dict[str, int] = field(default_factory=dict)   # faces per character
    refs: dict[str, int] = field(default_factory=dict)     # reference pictures per character
    notes: list[str] = field(default_factory=list)

    @property
    def cancelled(self) -> bool:
        return bool(self.stage and self.stage.cancelled)

    def summary(self) -> str:
        lines = [self.stage.summary() if self.stage else "characters: nothing to embed",
                 f"  embedder: {self.embedder}"]
        if self.refs:
            lines.append("  references: " + ", ".join(f"{k} ({v})" for k, v in self.refs.items()))
        if self.counts:
            lines.append("  faces: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items(),
                                                                                key=lambda kv: -kv[1])))
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def emb_kind(embedder: Embedder) -> str:
    return f"face_emb:{embedder.name}"


def pack(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def unpack(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


class EmbedStage(Stage):
    name = STAGE
    not_applicable_label = "without faces"
    batch_size = 16

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def settings(self) -> dict:
        return {"embedder": self.embedder.name}

    def select(self, ds: Dataset, key: str, retry_failed: bool) -> list[int]:
        sql = ("SELECT i.id FROM items i JOIN stage_done f ON f.item_id=i.id AND f.stage='faces' AND f.ok=1 "
               "LEFT JOIN stage_done e ON e.item_id=i.id AND e.stage=? "
               "WHERE i.status='active' AND EXISTS (SELECT 1 FROM faces WHERE item_id=i.id) "
               "AND (e.item_id IS NULL OR e.settings != ? OR e.finished < f.finished"
               + (" OR e.ok = 0" if retry_failed else "") + ") ORDER BY i.id")
        with ds.db() as conn:
            return [r[0] for r in conn.execute(sql, (self.name, key))]

    def attach(self, ds: Dataset, conn: sqlite3.Connection, items: Sequence[Item]) -> None:
        faces = load_faces(conn, [it.id for it in items])  # one query per batch, in the driver
        for it in items:
            it.context = faces.get(it.id, [])

    def load(self, ds: Dataset, item: Item) -> Any:
        try:
            img = np.asarray(open_image(ds.abspath(item)))
        except BadInput as exc:
            raise ItemError(str(exc).splitlines()[0]) from exc
        faces = item.context or []
        h, w = img.shape[:2]
        return [img[y0:y1, x0:x1] for x0, y0, x1, y1 in (self.embedder.region(f, w, h) for f in faces)]

    def process(self, ds: Dataset, items: Sequence[Item], loaded: Sequence[Any]) -> list[Any]:
        flat = [c for crops in loaded for c in crops]
        emb = self.embedder.embed(flat)
        out, start = [], 0
        for crops in loaded:
            out.append(emb[start:start + len(crops)])
            start += len(crops)
        return out

    def commit(self, ds: Dataset, conn: sqlite3.Connection, item: Item, result: Any) -> None:
        conn.execute("INSERT INTO signatures(item_id, kind, data) VALUES(?,?,?) "
                     "ON CONFLICT(item_id, kind) DO UPDATE SET data=excluded.data",
                     (item.id, emb_kind(self.embedder), pack(result)))


def run_characters(dataset: Union[Dataset, str, Path], settings: Optional[CharacterSettings] = None,
                   ports: Optional[Ports] = None, embedder: Optional[Embedder] = None,
                   detector=None, retry_failed: bool = False) -> CharactersReport:
    """Embed new faces, then name every face of the dataset (see the module doc)."""
    settings = settings or CharacterSettings()
    settings.validate()
    ports = ports or Ports()
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    embedder = embedder or load_embedder(settings.embedder, ports, settings.threshold)
    report = CharactersReport(embedder=embedder.describe())
    if embedder.kind == "colour":
        report.notes.append("using the weight-free colour embedder: put the CCIP model "
                            "(deepghs/ccip_onnx) in the embedders folder for real recognition")
    report.stage = run_stage(ds, EmbedStage(embedder), ports, retry_failed=retry_failed)
    if report.cancelled:
        return report
    refs = _references(ds, settings, embedder, detector, ports, report)
    report.counts = assign_characters(ds, embedder, refs, settings, report)
    return report


def _references(ds: Dataset, settings: CharacterSettings, embedder: Embedder, detector, ports: Ports,
                report: CharactersReport) -> References:
    folder = Path(settings.refs).expanduser() if settings.refs else ds.root / "refs"
    if not settings.refs and not folder.is_dir():
        report.notes.append(f"no reference folder ({folder}): every face is clustered as unknown_k")
        return References()
    if detector is None:
        from ..faces.detect import load_detector

        try:
            detector = load_detector(settings.detector, ports)
        except BadInput:
            raise
        except Exception as exc:  # noqa: BLE001 - no detector: reference pictures are used whole
            report.notes.append(f"no face detector for the reference pictures ({str(exc).splitlines()[0]})")
    refs = load_references(folder, embedder, detector)
    report.refs = refs.counts()
    report.notes += refs.notes()
    if not refs.names:
        report.notes.append(f"{folder} holds no readable reference pictures")
    return refs


def assign_characters(ds: Dataset, embedder: Embedder, refs: References, settings: CharacterSettings,
                      report: Optional[CharactersReport] = None) -> dict[str, int]:
    """Name every embedded face of the dataset; returns faces per character."""
    faces_at, emb = _all_embeddings(ds, embedder, report)
    if not faces_at:
        return {}
    threshold = embedder.threshold
    per_image = [item_id for item_id, _ in faces_at]
    if refs.embeddings is not None and len(refs.names):
        names, scores = assign(difference(emb, refs.embeddings), refs.names, threshold, per_image)
    else:
        names, scores = [None] * len(faces_at), [1.0] * len(faces_at)
    rest = [i for i, n in enumerate(names) if n is None]
    for i, label in zip(rest, cluster_unknowns(emb[rest], settings.cluster, threshold, settings.min_cluster)):
        names[i] = label
    with ds.transaction() as conn:
        conn.executemany("UPDATE faces SET character=?, character_score=? WHERE item_id=? AND idx=?",
                         [(n, round(1.0 - s, 4) if n != NOISE else None, item_id, idx)
                          for (item_id, idx), n, s in zip(faces_at, names, scores)])
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return counts


def _all_embeddings(ds: Dataset, embedder: Embedder, report: Optional[CharactersReport]):
    faces_at, rows, stale = [], [], 0
    with ds.db() as conn:
        n_faces = dict(conn.execute("SELECT item_id, COUNT(*) FROM faces GROUP BY item_id").fetchall())
        cur = conn.execute("SELECT s.item_id, s.data FROM signatures s JOIN items i ON i.id=s.item_id "
                           "WHERE s.kind=? AND i.status='active' ORDER BY s.item_id", (emb_kind(embedder),))
        for item_id, blob in cur:
            arr = unpack(blob)
            if len(arr) != n_faces.get(item_id, 0):
                stale += 1
                continue
            faces_at += [(item_id, k) for k in range(len(arr))]
            rows.append(arr)
    if stale and report is not None:
        report.notes.append(f"{stale} images have embeddings of older faces: run again to refresh them")
    emb = np.concatenate(rows) if rows else np.zeros((0, 1), np.float32)
    return faces_at, emb


def rename_characters(dataset: Union[Dataset, str, Path], mapping: dict[str, str],
                      refs: Optional[Union[str, Path]] = None, keep: int = 4) -> dict[str, int]:
    """Rename characters (e.g. unknown_1 -> Aoi) in every face; returns faces renamed per name.

    So that the name survives the next run (which groups unknown faces afresh), up to `keep` of
    the renamed faces are saved as reference pictures in `refs/NEW/` (default DATASET/refs).
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    folder = Path(refs).expanduser() if refs else ds.root / "refs"
    done = {}
    for old, new in mapping.items():
        name = character_name(new)
        with ds.transaction() as conn:
            rows = conn.execute("SELECT f.item_id, f.x0, f.y0, f.x1, f.y1 FROM faces f JOIN items i ON i.id=f.item_id "
                                "WHERE f.character=? AND i.status='active' ORDER BY f.character_score DESC, "
                                "(f.y1 - f.y0) DESC", (old,)).fetchall()
            done[f"{old} -> {name}"] = conn.execute("UPDATE faces SET character=? WHERE character=?",
                                                    (name, old)).rowcount
        if name != "others":
            _save_refs(ds, rows[:keep], folder / name, old)
    return done


def _save_refs(ds: Dataset, rows, folder: Path, old: str) -> None:
    """Head crops framed like a tight reference picture (see refs._ref_crop's whole-picture box)."""
    from ..core.atomic import write_with

    for n, (item_id, x0, y0, x1, y1) in enumerate(rows):
        try:
            img = open_image(ds.abspath(ds.item(item_id)))
        except BadInput:
            continue
        w, h = (x1 - x0) / 0.7, (y1 - y0) / 0.65
        box = (int(x0 - 0.15 * w), int(y0 - 0.25 * h), int(x0 - 0.15 * w + w), int(y0 - 0.25 * h + h))
        crop = img.crop(box)  # PIL pads outside the picture with black
        write_with(folder / f"from_{character_name(old)}_{n}.png", lambda tmp, c=crop: c.save(tmp, format="PNG"))


def parse_renames(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise BadInput(f"bad rename {pair!r}", "write OLD=NEW, e.g. unknown_1=Aoi")
        out[old.strip()] = new.strip()
    return out
