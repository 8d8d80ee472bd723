"""The import stage: bring image files (a folder, globs, single files) into a dataset.

Each source file becomes one item keyed by its resolved path, so importing the same folder again
adds only what is new. The image is checked (decoded fully) before it is copied; the copy is
written under a temporary name and renamed, then the row is committed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from PIL import Image

from ..core.atomic import atomic_path, sweep_temp
from ..core.engine import engine_hook
from ..core.errors import BadInput, Cancelled
from ..core.images import IMAGE_SUFFIXES, open_image
from ..core.inputs import expand_inputs
from ..core.manifest import IMAGE_DIR, Dataset
from ..core.paths import rel_posix, safe_name
from ..core.ports import Ports
from ..core.stages import failure_lines

STAGE = "import"
MODES = ("copy", "link")
VIEW_DIRS = {"previews", "duplicates"}  # folders of a dataset that hold views written by UDW, never items


@dataclass
class ImportReport:
    added: int = 0
    already_there: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"import: {self.added} added, {self.already_there} already there"
        if self.failed:
            text += f", {len(self.failed)} failed"
        if self.cancelled:
            text += " (cancelled; run again to resume)"
        return "\n".join([text + f" in {self.seconds:.1f}s", *failure_lines(self.failed)])


def import_images(dataset: Union[Dataset, str, Path], inputs: Iterable[Union[str, Path]],
                  mode: str = "copy", licence: Optional[str] = None,
                  ports: Optional[Ports] = None) -> ImportReport:
    """Import image files into `dataset` (created if needed); resumable and idempotent.

    Inputs may be fsspec URLs (s3://, gs://, file://); with `ports.engine` set to Ray, files
    are read and copied by Ray workers (the engine's `import_images` hook, same manifest).
    """
    inputs = list(inputs)
    engine = ports.engine if ports is not None else None
    if (engine is not None and not engine.local) or any("://" in str(i) for i in inputs):
        scaled = engine_hook(engine, "import_images")  # fsspec URLs and clusters: udw.scale
        if scaled is None:
            raise BadInput("importing from URLs needs udw.scale, which is not loaded",
                           'import udw.scale first (the udw command, the app and the ComfyUI nodes do); '
                           'it needs fsspec: pip install "udw-studio[ray]"')
        return scaled(dataset, inputs, mode, licence, ports)
    if mode not in MODES:
        raise BadInput(f"unknown import mode {mode!r}", f"use one of {', '.join(MODES)}")
    ports = ports or Ports()
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open_or_create(dataset)
    files = expand_inputs(list(inputs), IMAGE_SUFFIXES)
    files = [f for f in files if ds.root not in f.resolve().parents]  # never re-import our own copies
    sweep_temp(ds.root / IMAGE_DIR)
    report = ImportReport()
    start = time.perf_counter()
    with ds.db() as conn:
        known = {r[0] for r in conn.execute("SELECT key FROM items WHERE key LIKE 'file:%'")}
        ports.progress(0, len(files))
        try:
            for n, src in enumerate(files, 1):
                _import_one(ds, conn, src, mode, licence, known, report)
                ports.step(n, len(files))
        except Cancelled:
            report.cancelled = True
    report.seconds = time.perf_counter() - start
    return report


def index_in_place(folder: Union[str, Path], ports: Optional[Ports] = None) -> tuple[Dataset, ImportReport]:
    """Make `folder` itself a dataset: its images stay where they are and become its items.

    For stages that work on a user's folder as it is (tagging writes `.tags` beside the images).
    Only image headers are read here; a stage that decodes an unreadable file reports it then.
    Re-running adds only files that are new.
    """
    ports = ports or Ports()
    ds = Dataset.open_or_create(folder)
    files = [f for f in expand_inputs([ds.root], IMAGE_SUFFIXES)
             if not VIEW_DIRS & set(f.relative_to(ds.root).parts[:-1])]
    report = ImportReport()
    start = time.perf_counter()
    with ds.db() as conn:
        known = {r[0] for r in conn.execute("SELECT key FROM items WHERE key LIKE 'file:%'")}
        new = [f for f in files if f"file:{f.resolve()}" not in known]
        report.already_there = len(files) - len(new)
        with ds.transaction(conn):
            source_id = ds.add_source(conn, str(ds.root), "folder")
            for n, src in enumerate(new, 1):
                try:
                    with Image.open(src) as im:
                        width, height = im.size
                except (OSError, ValueError, Image.DecompressionBombError) as exc:
                    report.failed.append((str(src), _unreadable(src, exc)))
                    continue
                item_id = ds.add_item(conn, rel_posix(src, ds.root), f"file:{src.resolve()}", kind="image",
                                      source_id=source_id, width=width, height=height)
                ds.mark_done(conn, [item_id], STAGE, "")
                report.added += 1
                if n % 256 == 0:
                    ports.progress(n, len(new))
    report.seconds = time.perf_counter() - start
    return ds, report


def _unreadable(src: Path, exc: Exception) -> str:
    """Why a file is not a picture we can take, in words a user can act on."""
    if isinstance(exc, Image.DecompressionBombError):
        return f"too many pixels to open safely (decompression bomb?): {exc}"
    try:
        if src.stat().st_size == 0:
            return "empty file (0 bytes)"
    except OSError:
        pass
    return f"not a readable image ({exc})"


def _import_one(ds: Dataset, conn: sqlite3.Connection, src: Path, mode: str, licence: Optional[str],
                known: set[str], report: ImportReport) -> None:
    key = f"file:{src.resolve()}"
    if key in known:
        report.already_there += 1
        return
    try:
        with open_image(src) as im:
            width, height = im.size
    except BadInput as exc:
        report.failed.append((str(src), str(exc)))
        return
    rel = _target_name(conn, src, key)
    _place(src, ds.root / rel, mode)
    with ds.transaction(conn):
        source_id = ds.add_source(conn, str(src.resolve().parent), "folder", licence=licence)
        item_id = ds.add_item(conn, rel, key, kind="image", source_id=source_id,
                              width=width, height=height)
        ds.mark_done(conn, [item_id], STAGE, "")
    known.add(key)
    report.added += 1


def _target_name(conn: sqlite3.Connection, src: Path, key: str) -> str:
    """`images/<name>`; a name already used by another source gets a short hash of the source."""
    rel = f"{IMAGE_DIR}/{safe_name(src.stem)}{src.suffix.lower()}"
    row = conn.execute("SELECT key FROM items WHERE path=?", (rel,)).fetchone()
    if row is None or row[0] == key:
        return rel
    tag = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{IMAGE_DIR}/{safe_name(src.stem)}-{tag}{src.suffix.lower()}"


def _place(src: Path, target: Path, mode: str) -> None:
    with atomic_path(target) as tmp:
        if mode == "link":
            try:
                os.link(src, tmp)
                return
            except OSError:
                pass  # another filesystem or no hard links: fall back to a copy
        shutil.copyfile(src, tmp)
