"""Dedupe end to end: a dataset (or a plain folder), or an in-memory batch of pictures.

dedupe_dataset: signatures (resumable stage) -> similar pairs (index + verification) -> clusters
and survivors -> preview -> the previous run undone and this one applied in the manifest (and
files moved/deleted on request) -> optional scores against ground truth. Nothing is changed
until the last step, so a cancelled or failed run leaves the previous result as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image

from ..core.errors import BadInput, Cancelled
from ..core.manifest import MANIFEST_NAME, Dataset, settings_key
from ..core.ports import Ports
from ..core.stages import StageReport, failure_lines, run_stage
from . import apply as applying
from . import compute
from .cluster import Clusters, cluster, rank_rows
from .embed import Embedder, open_embedder
from .engine import Similarity, find_similar
from .evaluate import evaluate_dataset, load_truth
from .preview import cluster_preview
from .settings import DedupeSettings
from .stage import SignatureStage, failed_items, load_signatures
from .verified import Checker, as_record, short, why_removed
from .verify import PairVerifier, Verdict


@dataclass
class DedupeReport:
    settings: DedupeSettings
    considered: int = 0
    clusters: int = 0
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    signatures: Optional[StageReport] = None
    search: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    applied: Optional[applying.ApplyReport] = None
    undone: Optional[applying.UndoReport] = None
    scores: Optional[dict] = None
    preview: Optional[Image.Image] = None
    largest: list[tuple[str, int]] = field(default_factory=list)   # (kept path, cluster size)
    dry_run: bool = False
    kept_apart: list[tuple[str, str, Verdict]] = field(default_factory=list)   # closest calls kept
    close_merges: list[tuple[str, str, Verdict]] = field(default_factory=list)  # closest calls merged

    @property
    def kept(self) -> int:
        return self.considered - self.removed

    def summary(self) -> str:
        s = self.settings
        verb = "would remove" if self.dry_run else {"mark": "marked", "move": "moved", "delete": "deleted"}[s.action]
        text = (f"dedupe ({s.describe()}): {self.considered} pictures, {self.clusters} clusters, "
                f"{verb} {self.removed} duplicates, kept {self.kept}")
        if self.failed:
            text += f"; {len(self.failed)} unreadable skipped"
        total = sum(self.seconds.values())
        return text + f" in {total:.1f}s"

    def details(self) -> list[str]:
        lines = []
        if self.signatures is not None:
            lines.append("  " + self.signatures.summary())
        if self.search:
            lines.append(f"  search: {self.search.get('search')}, {self.search.get('pairs', 0)} similar pairs, "
                         f"{self.search.get('identical_copies', 0)} identical copies, "
                         f"{self.search.get('aspect_buckets', 0)} aspect buckets")
        if "verified" in self.search:
            v = self.search
            lines.append(f"  verifier: {v['verified']} candidate pairs checked, {v['verified_copies']} copies, "
                         f"{v['kept_apart']} kept apart as different drawings")
        for a, b, why in self.close_merges[:5]:
            lines.append(f"  merged (closest call) {b} into {a}: {why.reason}")
        for a, b, why in self.kept_apart[:5]:
            lines.append(f"  kept apart (closest call) {a} / {b}: {why.reason}")
        if self.applied and self.applied.failed:
            lines += [f"  not applied {p}: {r}" for p, r in self.applied.failed[:20]]
        return lines + failure_lines(self.failed)


def open_dataset(path: Union[str, Path, Dataset], ports: Optional[Ports] = None) -> Dataset:
    """A dataset, or a plain folder of pictures registered in place (its manifest is created in
    it; the pictures stay where they are)."""
    return _open(path, ports)[0]


def _open(path: Union[str, Path, Dataset], ports: Optional[Ports] = None) -> tuple[Dataset, list]:
    """(dataset, files that could not be indexed) — see open_dataset."""
    ds = path if isinstance(path, Dataset) else None
    root = ds.root if ds else Path(path).expanduser()
    if ds is None and (root / MANIFEST_NAME).exists():
        ds = Dataset(root)
    if ds is not None:
        if any(src["kind"] == "folder" and src["path"] == str(ds.root) for src in ds.sources()):
            return _index(ds.root, ports)  # a folder indexed in place: pick up new pictures
        return ds, []
    if not root.is_dir():
        raise BadInput(f"{root}: no such dataset or folder", "give a dataset folder or a folder of pictures")
    return _index(root, ports)


def _index(root: Path, ports: Optional[Ports]) -> tuple[Dataset, list]:
    from ..dataset.ingest import index_in_place

    ds, report = index_in_place(root, ports)  # new pictures only; unreadable ones are reported
    return ds, [(str(Path(p).relative_to(ds.root)) if Path(p).is_relative_to(ds.root) else p, r)
                for p, r in report.failed]


def _signature_kind(settings: DedupeSettings, embedder: Optional[Embedder]) -> str:
    return {"structure": compute.STRUCTURE, "phash": compute.PHASH, "dhash": compute.DHASH}.get(
        settings.method) or compute.embed_kind(embedder.model_id)


def dedupe_dataset(dataset: Union[str, Path, Dataset], settings: DedupeSettings = DedupeSettings(),
                   ports: Optional[Ports] = None, truth: Sequence[Union[str, Path]] = (),
                   preview: bool = True, dry_run: bool = False, preview_clusters: int = 8) -> DedupeReport:
    ports = ports or Ports()
    s = settings.validated()
    truth_data = load_truth(truth) if truth else None      # a bad truth file fails before any work
    ds, unindexed = _open(dataset, ports)
    if not dry_run:
        applying.check_action(ds, s.action)
    report = DedupeReport(s, dry_run=dry_run)
    t0 = time.perf_counter()
    embedder = open_embedder(s.model, ports) if s.method == "embed" else None
    stage = SignatureStage(embedder)
    if stage.select(ds, settings_key(stage.settings()), False):
        report.signatures = run_stage(ds, stage, ports.scaled(0, 85, 100))
    else:  # nothing to compute: leave the manifest untouched (hosts cache on its fingerprint)
        report.signatures = StageReport(stage.name)
    if report.signatures.cancelled:
        raise Cancelled("dedupe cancelled while computing signatures",
                        "signatures computed so far are kept: run again to resume")
    report.failed = unindexed + failed_items(ds)
    t1 = time.perf_counter()
    ids, sigs = load_signatures(ds, [compute.STATS, _signature_kind(s, embedder)])
    if not len(ids):
        raise BadInput(f"dataset {ds.root} has no readable pictures to compare",
                       "import pictures first (udw import), or check the skipped files")
    stats, data = sigs[compute.STATS], sigs[_signature_kind(s, embedder)]
    report.signatures.already_done = len(ids) - report.signatures.done
    found = find_similar(s, data, stats, ports)
    rank = rank_rows(s.keep, stats[:, 0], stats[:, 1] * stats[:, 2], ids)
    with ds.db() as conn:
        checker = _checker(s, lambda row: _stored_features(conn, int(ids[row]))) if s.verify else None
        clusters = cluster(found.rep_of, found.pairs, rank, s.linkage, checker)
    if s.linkage == "chain":  # union-find does not know how far each member is from the survivor
        rem = clusters.removed
        clusters.similarity[rem] = Similarity(s.method, data)(rem, clusters.survivor[rem])
    report.search = {**found.stats, **(checker.stats() if checker else {})}
    report.considered = len(ids)
    t2 = time.perf_counter()
    groups = sorted(clusters.groups().items(), key=lambda kv: (-len(kv[1]), kv[0]))
    report.clusters, report.removed = len(groups), len(clusters.removed)
    paths = _paths(ds, ids)
    report.largest = [(paths[int(ids[k])], len(m)) for k, m in groups[:10]]
    _explain(report, checker, found.rep_of, clusters, lambda r: paths[int(ids[r])])
    if preview and (groups or report.kept_apart):
        report.preview = _preview(ds, ids, paths, groups, clusters, s, preview_clusters, checker, found.rep_of)
    t3 = time.perf_counter()
    survivor_ids = ids[clusters.survivor]
    if not dry_run and applying.same_as_applied(ds, ids, survivor_ids, s.action):
        report.applied = applying.ApplyReport(marked=report.removed, unchanged=True)
    elif not dry_run:
        ports.check()  # last chance to stop before anything changes
        report.undone = applying.undo(ds)
        removed = [(int(ids[r]), int(survivor_ids[r]), float(clusters.similarity[r]), _why(checker, found.rep_of, r))
                   for r in clusters.removed]
        kept = [(int(ids[k]), len(m)) for k, m in groups]
        report.applied = applying.apply(ds, removed, kept, s.action, int(time.time()), ports.scaled(95, 5, 100))
        ds.set_meta("dedupe", {"settings": s.__dict__, "time": time.time(), "removed": report.removed,
                               "clusters": report.clusters, "considered": report.considered})
    ports.progress(100, 100)
    if truth_data is not None:
        survivor = None if not dry_run else dict(zip(ids.tolist(), survivor_ids.tolist()))
        report.scores = evaluate_dataset(ds, truth_data, survivor)
    report.seconds = {"signatures": t1 - t0, "search": t2 - t1, "preview": t3 - t2,
                      "apply": time.perf_counter() - t3}
    return report


def _paths(ds: Dataset, ids: np.ndarray) -> dict[int, str]:
    with ds.db() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT id, path FROM items WHERE status IN ('active', 'duplicate')")}


def _checker(s: DedupeSettings, fetch) -> Checker:
    return Checker(PairVerifier(s.verifier_settings()), fetch)


def _stored_features(conn, item_id: int) -> Optional[bytes]:
    row = conn.execute("SELECT data FROM signatures WHERE item_id=? AND kind=?", (item_id, compute.VERIFY)).fetchone()
    return bytes(row[0]) if row else None


def _why(checker: Optional[Checker], rep_of: np.ndarray, row: int) -> Optional[dict]:
    v = why_removed(checker, rep_of, int(row))
    return as_record(v) if v is not None else None


def _explain(report: DedupeReport, checker: Optional[Checker], rep_of: np.ndarray, clusters: Clusters, path) -> None:
    """The closest calls on both sides: merges nearest their threshold, pairs kept apart nearest it."""
    if checker is None:
        return
    report.kept_apart = [(path(a), path(b), v) for a, b, v in checker.kept_apart()]
    merges = sorted(((v.margin, row, kept, v) for row, (kept, v) in checker.merged.items()), key=lambda t: -t[0])
    report.close_merges = [(path(kept), path(row), v) for _, row, kept, v in merges[:12]]


def _preview(ds: Dataset, ids: np.ndarray, paths: dict[int, str], groups, clusters: Clusters,
             s: DedupeSettings, count: int, checker: Optional[Checker] = None,
             rep_of: Optional[np.ndarray] = None) -> Image.Image:
    def label(r: int):
        v = why_removed(checker, rep_of, int(r)) if checker is not None else None
        return short(v) if v is not None else float(clusters.similarity[r])

    rows = [(k, m[1:], [label(r) for r in m[1:]]) for k, m in groups]
    apart = [(a, b, short(v)) for a, b, v in checker.kept_apart()[:4]] if checker else []
    title = (f"{ds.root.name}: {len(groups)} clusters, {len(clusters.removed)} duplicates "
             f"({s.describe()}); kept on the left, why under each; last rows: closest pairs kept apart")
    return cluster_preview(rows, lambda r: ds.root / paths[int(ids[r])],
                           lambda r: Path(paths[int(ids[r])]).stem, title, clusters=count, apart=apart)


def restore(dataset: Union[str, Path, Dataset], ports: Optional[Ports] = None) -> applying.UndoReport:
    """Undo the last dedupe: every removed item back to active (moved files back in place)."""
    return applying.undo(open_dataset(dataset, ports), ports)


# -- in-memory batches (the ComfyUI IMAGE node) ---------------------------------------------------

@dataclass
class BatchResult:
    kept: list[int]                 # indices of the kept pictures, in input order
    survivor: list[int]             # for each input, the index kept in its place
    similarity: list[float]         # for each input, its similarity to that survivor
    settings: DedupeSettings
    why: list = field(default_factory=list)   # for each removed input, the verifier's Verdict

    def summary(self) -> str:
        n = len(self.survivor)
        return (f"dedupe ({self.settings.describe()}): {n} pictures, kept {len(self.kept)}, "
                f"removed {n - len(self.kept)}")


def dedupe_images(images: Sequence[np.ndarray], settings: DedupeSettings = DedupeSettings(),
                  ports: Optional[Ports] = None, embedder: Optional[Embedder] = None) -> BatchResult:
    """Dedupe HxWx3 uint8 pictures held in memory; `keep` 'earliest' keeps the first of each
    cluster, 'sharpest'/'largest' as for datasets."""
    ports = ports or Ports()
    s = settings.validated()
    n = len(images)
    if n == 0:
        raise BadInput("no pictures to dedupe", "connect a batch of one or more images")
    if s.method == "embed" and embedder is None:
        embedder = open_embedder(s.model, ports)
    base, stats = [], np.zeros((n, 6), np.float32)
    for k, img in enumerate(images):
        img = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
        small = compute.reduce(np.ascontiguousarray(img[..., :3]))
        sig = compute.base_signatures(small, img.shape[1], img.shape[0])
        base.append(sig)
        stats[k] = np.frombuffer(sig[compute.STATS], np.float32)
        ports.step(k + 1, n + (n if embedder else 0))
    if s.method == "embed":
        data = np.concatenate([embedder.embed_images([compute.reduce(im[..., :3]) for im in images[a:a + 16]])
                               for a in range(0, n, 16)])
    else:
        kind = {"structure": compute.STRUCTURE, "phash": compute.PHASH, "dhash": compute.DHASH}[s.method]
        data = compute.unpack(kind, [b[kind] for b in base])
    found = find_similar(s, data, stats, ports)
    rank = rank_rows(s.keep, stats[:, 0], stats[:, 1] * stats[:, 2], np.arange(n))
    checker = _checker(s, lambda row: base[row][compute.VERIFY]) if s.verify else None
    cl = cluster(found.rep_of, found.pairs, rank, s.linkage, checker)
    if s.linkage == "chain":
        rem = cl.removed
        cl.similarity[rem] = Similarity(s.method, data)(rem, cl.survivor[rem])
    kept = [k for k in range(n) if cl.survivor[k] == k]
    why = [why_removed(checker, found.rep_of, k) if cl.survivor[k] != k else None for k in range(n)]
    return BatchResult(kept, cl.survivor.tolist(), [float(x) for x in cl.similarity], s, why)
