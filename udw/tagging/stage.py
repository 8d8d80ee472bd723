"""The tag stage over a dataset: scores into the manifest, `.tags` sidecars beside the images.

Resumable like every stage: a re-run tags only items without a result for the same model and
options. The manifest's `tags` table gets every selected tag with its score (category general or
character) and all rating scores (tag `rating:<name>`, category rating); `items.rating` the top
rating. The sidecar `<image>.tags` holds the tag line (written atomically); captions are written
later by the export stage from the manifest.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Optional, Sequence, Union


from ..core.atomic import write_text
from ..core.errors import BadInput
from ..core.manifest import Dataset, Item
from ..core.ports import Ports
from ..core.stages import ItemError, Stage, StageReport, run_stage
from .labels import CHARACTER, GENERAL, RATING, display_name
from .model import Tagger, TaggerFiles, open_tagger, resolve
from .postprocess import TagOptions, TagResult, select
from .preprocess import load_prepared
from .run import default_batch, default_workers, predict_many

SIDECAR = ".tags"


class TagStage(Stage):
    name = "tag"
    load_threads = 2

    def __init__(self, model: Optional[Union[str, Path]] = None, options: TagOptions = TagOptions(),
                 ports: Optional[Ports] = None, int8: bool = False, threads: int = 0, batch_size: int = 0,
                 sidecars: bool = True, extra_dirs: Sequence[Union[str, Path]] = ()):
        self.files: TaggerFiles = resolve(model, ports, extra_dirs)  # fails early when missing
        self.model, self.options, self.int8, self.threads = model, options, int8, threads
        self.sidecars, self.extra_dirs, self.wanted_batch = sidecars, extra_dirs, batch_size
        self.tagger: Optional[Tagger] = None

    def settings(self) -> dict:
        st = self.files.onnx.stat()
        return {"model": self.files.name, "file": self.files.onnx.name, "size": st.st_size,
                "int8": self.int8, **self.options.key()}

    def prepare(self, ds: Dataset, ports: Ports) -> None:
        self.tagger = open_tagger(self.files, ports, self.int8, self.threads, self.extra_dirs)
        # batches are the unit of commit; lanes share each batch, so give every lane several images
        self.batch_size = self.wanted_batch or max(8 * self.tagger.lanes, default_batch(self.tagger))
        self.load_threads = default_workers(self.tagger)

    def load(self, ds: Dataset, item: Item) -> Any:
        try:
            return load_prepared(ds.abspath(item), self.tagger.side)
        except BadInput as exc:
            raise ItemError(str(exc).split("\n")[0]) from exc

    def process(self, ds: Dataset, items: Sequence[Item], loaded: Sequence[Any]) -> list[Any]:
        scores = predict_many(self.tagger, list(loaded))
        return [select(s, self.tagger.labels, self.options) for s in scores]

    def commit(self, ds: Dataset, conn: sqlite3.Connection, item: Item, result: TagResult) -> None:
        conn.execute("DELETE FROM tags WHERE item_id=? AND category IN (?,?,?)",
                     (item.id, RATING, GENERAL, CHARACTER))
        rows = [(item.id, f"rating:{k}", RATING, v) for k, v in result.ratings.items()]
        rows += [(item.id, k, CHARACTER, v) for k, v in result.character.items()]
        rows += [(item.id, k, GENERAL, v) for k, v in result.general.items()]
        conn.executemany("INSERT OR REPLACE INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)", rows)
        ds.update_item(conn, item.id, rating=result.rating)
        if self.sidecars:
            write_text(sidecar_path(ds, item), result.prompt(self.options) + "\n")

    def finish(self, ds: Dataset, report: StageReport, ports: Ports) -> None:
        report.stats["model"] = self.tagger.describe() if self.tagger else self.files.name
        if self.tagger and self.tagger.session.fell_back:
            report.stats["fallback"] = self.tagger.session.reason


def sidecar_path(ds: Dataset, item: Item) -> Path:
    return ds.abspath(item).with_suffix(SIDECAR)


def tag_dataset(dataset: Union[Dataset, str, Path], model: Optional[Union[str, Path]] = None,
                options: TagOptions = TagOptions(), ports: Optional[Ports] = None, int8: bool = False,
                threads: int = 0, batch_size: int = 0, sidecars: bool = True, retry_failed: bool = False,
                extra_dirs: Sequence[Union[str, Path]] = ()) -> StageReport:
    """Tag every active item of a dataset that has no result for this model and these options."""
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    stage = TagStage(model, options, ports, int8, threads, batch_size, sidecars, extra_dirs)
    return run_stage(ds, stage, ports, retry_failed=retry_failed)


def stored_results(ds: Dataset, item_ids: Optional[Sequence[int]] = None) -> dict[str, TagResult]:
    """item path -> TagResult rebuilt from the manifest (highest scores first)."""
    sql = ("SELECT i.path, i.rating, t.tag, t.category, t.score FROM tags t JOIN items i ON i.id=t.item_id "
           "WHERE i.status='active'")
    args: list = []
    if item_ids is not None:
        sql += f" AND i.id IN ({','.join('?' * len(item_ids))})"
        args = list(item_ids)
    out: dict[str, TagResult] = {}
    with ds.db() as conn:
        for path, rating, tag, category, score in conn.execute(sql + " ORDER BY i.id, t.score DESC", args):
            res = out.setdefault(path, TagResult(rating))
            if category == RATING:
                res.ratings[tag.split(":", 1)[-1]] = score
            elif category == CHARACTER:
                res.character[tag] = score
            elif category == GENERAL:
                res.general[tag] = score
    return out


def write_json(ds: Dataset, target: Union[str, Path], options: TagOptions = TagOptions()) -> Path:
    """One JSON file: item path -> rating and tag -> confidence, from the manifest (atomic)."""
    data = {path: r.to_json(options) for path, r in stored_results(ds).items()}
    return write_text(target, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def top_tags(ds: Dataset, limit: int = 15) -> list[tuple[str, int]]:
    """The most frequent tags of active items (for summaries)."""
    with ds.db() as conn:
        rows = conn.execute("SELECT t.tag, COUNT(*) n FROM tags t JOIN items i ON i.id=t.item_id "
                            "WHERE i.status='active' AND t.category IN (?,?) GROUP BY t.tag "
                            "ORDER BY n DESC, t.tag LIMIT ?", (GENERAL, CHARACTER, limit)).fetchall()
    return [(display_name(t), n) for t, n in rows]


def run_lines(ds: Dataset, report: StageReport, top: int = 15) -> list[str]:
    """What every front end shows after tagging: summary (naming skipped files), model, provider note, top tags."""
    lines = [report.summary()]
    if "model" in report.stats:
        lines.append(f"model: {report.stats['model']}")
    if "fallback" in report.stats:
        lines.append(f"note: {report.stats['fallback']}")
    common = top_tags(ds, top)
    if common:
        lines.append("most frequent: " + ", ".join(f"{t} ({n})" for t, n in common))
    return lines
