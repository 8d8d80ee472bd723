"""Importing images on Ray workers (or here), from local paths or fsspec URLs.

The driver lists the inputs, skips those already imported, and names every target file (names
must be unique, which only the manifest knows); workers read each file (a local path or a URL),
check that it decodes, and write it into the dataset folder atomically; the driver commits the
rows in input order, so the manifest is the one the local import writes.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Iterable, Optional, Union

from ..core.atomic import atomic_path, sweep_temp
from ..core.errors import BadInput, Cancelled
from ..core.images import IMAGE_SUFFIXES, open_image
from ..core.manifest import IMAGE_DIR, Dataset
from ..core.paths import safe_name
from ..core.ports import Ports
from ..dataset.ingest import MODES, STAGE, ImportReport, _place
from .jobs import RemoteJob, TaskError, run_tasks
from .runtime import connect
from .storage import expand, is_url, read_bytes, source_folder, source_key
from .view import DatasetView


class ImportJob(RemoteJob):
    name = "import"
    tasks_per_batch = 8

    def run_task(self, view: DatasetView, task: dict) -> tuple[int, int]:
        src, target = task["src"], view.root / task["rel"]
        try:
            if is_url(src):
                return _place_url(src, target)
            with open_image(src) as im:  # check before copying, like the local import
                size = im.size
            _place(Path(src), target, task["mode"])
            return size
        except BadInput as exc:
            raise TaskError(str(exc)) from exc


def _place_url(src: str, target: Path) -> tuple[int, int]:
    data = read_bytes(src)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
        try:  # checked before the rename: a bad file never reaches the target
            with open_image(tmp) as im:
                return im.size
        except BadInput as exc:  # name the source, not our temporary file
            raise BadInput(str(exc.args[0]).replace(str(tmp), src), exc.hint) from None


def import_scaled(dataset: Union[Dataset, str, Path], inputs: Iterable[Union[str, Path]], mode: str = "copy",
                  licence: Optional[str] = None, ports: Optional[Ports] = None) -> ImportReport:
    """`import_images` for URLs and remote engines (`ports.engine`); same manifest, same report."""
    if mode not in MODES:
        raise BadInput(f"unknown import mode {mode!r}", f"use one of {', '.join(MODES)}")
    ports = ports or Ports()
    if ports.engine is not None and not ports.engine.local:
        connect(ports.engine)  # an unreachable cluster stops the import before the dataset is touched
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open_or_create(dataset)
    files = [f for f in expand(list(inputs), IMAGE_SUFFIXES)
             if is_url(f) or ds.root not in Path(f).resolve().parents]
    sweep_temp(ds.root / IMAGE_DIR)
    report = ImportReport()
    start = time.perf_counter()
    tasks = _plan(ds, files, mode, report)
    ports.progress(0, len(files))
    root = ports.engine.worker_root if ports.engine and ports.engine.worker_root else str(ds.root)
    try:
        with ds.db() as conn:
            for n, out in enumerate(run_tasks(ImportJob(), root, tasks, ports, ports.engine), 1):
                if out.ok:
                    _commit(ds, conn, out.task, out.result, licence)
                    report.added += 1
                else:
                    report.failed.append((out.task["src"], out.error))
                ports.step(report.already_there + n, len(files))
    except Cancelled:
        report.cancelled = True
    report.seconds = time.perf_counter() - start
    return report


def _plan(ds: Dataset, files: list[str], mode: str, report: ImportReport) -> list[dict]:
    """Tasks for the files not imported yet, each with a target name no other item uses."""
    with ds.db() as conn:
        known = {r[0] for r in conn.execute("SELECT key FROM items WHERE key LIKE 'file:%'")}
        used = dict(conn.execute("SELECT path, key FROM items"))
    tasks = []
    for src in files:
        key = f"file:{source_key(src)}"
        if key in known:
            report.already_there += 1
            continue
        known.add(key)
        rel = _target_name(src, key, used)
        used[rel] = key
        tasks.append({"src": src, "rel": rel, "mode": mode, "key": key})
    return tasks


def _target_name(src: str, key: str, used: dict[str, str]) -> str:
    """`images/<name>`; a name another source already has gets a short hash (as the local import)."""
    stem, suffix = os.path.splitext(src.rsplit("/", 1)[-1] if is_url(src) else Path(src).name)
    rel = f"{IMAGE_DIR}/{safe_name(stem)}{suffix.lower()}"
    if used.get(rel, key) == key:
        return rel
    tag = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{IMAGE_DIR}/{safe_name(stem)}-{tag}{suffix.lower()}"


def _commit(ds: Dataset, conn, task: dict, size: tuple[int, int], licence: Optional[str]) -> None:
    with ds.transaction(conn):
        source_id = ds.add_source(conn, source_folder(task["src"]), "folder", licence=licence)
        item_id = ds.add_item(conn, task["rel"], task["key"], kind="image", source_id=source_id,
                              width=size[0], height=size[1])
        ds.mark_done(conn, [item_id], STAGE, "")
