"""Arranging a dataset into the seed's folder levels, written from the manifest:

Level 1 `1_character ... 5_characters, 6+_characters, others` (no recognised character or face),
Level 2 the characters ('A+B', sorted), combinations with fewer than `min_images` images merged
into `character_others`, Level 3 `face_height_ratio_0-25 ... 75-100`. Each image is hard-linked
(or copied, or symlinked) with its seed-format JSON and its caption beside it.

The target folder records what it holds (`.udw-arrangement.json`): a re-run replaces its own
earlier files and removes stale ones; a folder that holds anything else (another dataset, other
files) is refused unless `merge` is set, and then nothing of it is deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Union

from ..core.atomic import atomic_path, write_text
from ..core.errors import BadInput, Cancelled
from ..core.manifest import MANIFEST_NAME, Dataset
from ..core.text import plural
from ..core.paths import safe_name
from ..core.ports import Ports
from ..faces.geometry import Buckets, check_edges, face_height_ratio
from . import balance as bal
from .captions import CaptionSettings, core_tags, render
from .metadata import ItemMeta, MetaSettings, collect

MARKER = ".udw-arrangement.json"
LEVELS = ("count", "character", "bucket")
MODES = ("link", "copy", "symlink")
OTHERS, CHARACTER_OTHERS = "others", "character_others"


@dataclass
class ArrangeSettings:
    levels: tuple[str, ...] = LEVELS
    mode: str = "link"
    min_images: int = 1              # character combinations with fewer images -> character_others
    max_count: int = 6               # 6 or more characters -> 6+_characters
    edges: tuple[int, ...] = (25, 50, 75)
    detector_edges: dict = field(default_factory=dict)  # detector name -> its own bucket edges
    caption_ext: str = ".txt"
    write_json: bool = True
    merge: bool = False
    meta: MetaSettings = field(default_factory=MetaSettings)
    caption: CaptionSettings = field(default_factory=CaptionSettings)
    weights: dict = field(default_factory=dict)
    max_multiply: float = 100.0
    normalise: str = "min1"

    def validate(self) -> None:
        bad = [lv for lv in self.levels if lv not in LEVELS]
        if bad or len(set(self.levels)) != len(self.levels):
            raise BadInput(f"bad levels {list(self.levels)}", f"use some of {', '.join(LEVELS)}, each once")
        if self.mode not in MODES:
            raise BadInput(f"unknown mode {self.mode!r}", f"use one of {', '.join(MODES)}")
        if self.max_count < 2 or self.min_images < 1:
            raise BadInput("max count must be >= 2 and min images >= 1", "e.g. --max-count 6 --min-images 10")
        if not re.fullmatch(r"\.[A-Za-z0-9_-]{1,16}", self.caption_ext):
            raise BadInput(f"bad caption extension {self.caption_ext!r}", "e.g. .txt or .caption")
        try:
            check_edges(self.edges, self.detector_edges)
        except ValueError as exc:
            raise BadInput(str(exc), "e.g. --buckets 25,50,75") from exc
        self.caption.validate()


@dataclass
class Placed:
    meta: ItemMeta
    folder: tuple[str, ...]
    name: str                         # file name inside the folder


@dataclass
class ArrangeReport:
    out: Path
    placed: list[Placed] = field(default_factory=list)
    removed: int = 0
    balance: Optional[bal.Balance] = None
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False

    def folders(self) -> dict[tuple[str, ...], int]:
        return dict(Counter(p.folder for p in self.placed))

    def summary(self) -> str:
        text = f"arranged {plural(len(self.placed), 'image')} into {plural(len(self.folders()), 'folder')} in {self.out}"
        if self.removed:
            text += f" ({self.removed} stale files removed)"
        if self.cancelled:
            text += " (cancelled; run again to finish)"
        return "\n".join([text] + [f"  note: {n}" for n in self.notes])


def count_folder(n: int, max_count: int) -> str:
    if n <= 0:
        return OTHERS
    if n >= max_count:
        return f"{max_count}+_characters"
    return "1_character" if n == 1 else f"{n}_characters"


def plan(metas: list[ItemMeta], s: ArrangeSettings, notes: Optional[list[str]] = None) -> list[Placed]:
    """Where every image goes (no file is touched)."""
    notes = notes if notes is not None else []
    levels = list(s.levels)
    named = any(m.characters for m in metas)
    if "character" in levels and metas and not named:
        notes.append("no face has a character yet (run `udw characters`): the character level is left out")
        levels.remove("character")
    combos = Counter("+".join(sorted(m.characters)) for m in metas if m.characters)
    placed, used = [], set()
    for m in metas:
        folder = _folder(m, levels, s, combos, named)
        name = Path(m.item.path).name
        if (folder, name) in used:
            name = f"{Path(name).stem}-{m.item.id}{Path(name).suffix}"
        used.add((folder, name))
        placed.append(Placed(m, folder, name))
    merged = sorted(c for c, n in combos.items() if n < s.min_images)
    if merged and "character" in levels:
        notes.append(f"{len(merged)} character combinations with fewer than {s.min_images} images "
                     f"went to {CHARACTER_OTHERS}: {', '.join(merged[:8])}{' ...' if len(merged) > 8 else ''}")
    return placed


def _folder(m: ItemMeta, levels: list[str], s: ArrangeSettings, combos: Counter, named: bool) -> tuple[str, ...]:
    n = len(m.characters) if named else len(m.faces)
    if not m.faces or n == 0:
        return (OTHERS,)  # no face, or only unrecognised ones
    parts = []
    for level in levels:
        if level == "count":
            parts.append(count_folder(n, s.max_count))
        elif level == "character":
            combo = "+".join(sorted(m.characters))
            parts.append(combo if combos[combo] >= s.min_images and len(combo) < 100 else CHARACTER_OTHERS)
        else:  # a bucket chosen by hand in the dataset browser wins over the measured one
            manual = (m.item.extra.get("manual") or {}).get("bucket")
            buckets = Buckets.for_faces(m.faces, s.edges, s.detector_edges)  # edges of the detector that ran
            parts.append(safe_name(manual) if manual else buckets.bucket(face_height_ratio(m.faces, m.item.height or 1)))
    return tuple(parts)


def check_target(out: Path, ds: Dataset, merge: bool) -> dict:
    """The target's previous marker (ours) or {}; refuses a folder holding something else."""
    if out.resolve() == ds.root or out.resolve() in ds.root.parents:
        raise BadInput(f"{out} is the dataset's own folder (or holds it)", "arrange into a new folder")
    marker = out / MARKER
    if marker.is_file():
        try:
            old = json.loads(marker.read_text())
        except (OSError, ValueError):
            old = {}
        if old.get("dataset") == str(ds.root):
            return old
        if not merge:
            raise BadInput(f"{out} already holds an arrangement of another dataset ({old.get('dataset', '?')})",
                           "choose an empty folder, or pass --merge to add to it")
        return {}
    foreign = out.is_dir() and any(p.name != MARKER for p in out.iterdir())
    if foreign and not merge:
        what = "a UDW dataset" if (out / MANIFEST_NAME).exists() else "other files"
        raise BadInput(f"{out} already holds {what}", "choose an empty folder, or pass --merge to add to it")
    return {}


def arrange(dataset: Union[Dataset, str, Path], out: Union[str, Path],
            settings: Optional[ArrangeSettings] = None, ports: Optional[Ports] = None) -> ArrangeReport:
    """Write the Level 1-3 tree of `dataset` into `out` (resumable: files already right are kept)."""
    s = settings or ArrangeSettings()
    s.validate()
    ports = ports or Ports()
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    out = Path(out).expanduser().resolve()
    old = check_target(out, ds, s.merge)
    report = ArrangeReport(out)
    metas = _on_disk(ds, collect(ds, s.meta), report.notes)
    if not metas:
        report.notes.append("the dataset has no active images: nothing to arrange")
    report.placed = plan(metas, s, report.notes)
    core = core_tags(metas, s.caption.core_threshold) if s.caption.drop_core_tags else None
    written: list[str] = []
    try:
        for n, p in enumerate(report.placed, 1):
            written += _write(ds, out, p, s, core)
            ports.step(n, len(report.placed))
    except Cancelled:
        report.cancelled = True
    keep = set(written) if not report.cancelled else set(written) | set(old.get("files", []))
    report.removed = _remove_stale(out, old.get("files", []), keep)
    _write_marker(out, ds, s, sorted(keep))
    report.balance = bal.compute(report.folders(), s.weights, s.max_multiply, s.normalise)
    return report


def _on_disk(ds: Dataset, metas: list, notes: list[str]) -> list:
    """The images whose files exist; ones deleted by hand since they were added are left out, and said."""
    kept = [m for m in metas if ds.abspath(m.item).is_file()]
    if len(kept) < len(metas):
        gone = [m.item.path for m in metas if not ds.abspath(m.item).is_file()]
        notes.append(f"{len(gone)} image(s) are in the manifest but not on disk and were left out "
                     f"(e.g. {gone[0]}); put them back, or mark them missing with 'Check files' in the "
                     "dataset browser")
    return kept


def _write(ds: Dataset, out: Path, p: Placed, s: ArrangeSettings, core) -> list[str]:
    folder = out.joinpath(*p.folder)
    target = folder / p.name
    _place(ds.abspath(p.meta.item), target, s.mode)
    files = [target]
    stem = target.with_suffix("")
    if s.write_json:
        files.append(_write_if_changed(Path(f"{stem}.json"), json.dumps(p.meta.seed_json(), ensure_ascii=False)))
    files.append(_write_if_changed(Path(f"{stem}{s.caption_ext}"), render(p.meta, s.caption, core)))
    return [f.relative_to(out).as_posix() for f in files]


def _write_if_changed(path: Path, text: str) -> Path:
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        write_text(path, text)
    return path


def _place(src: Path, target: Path, mode: str) -> None:
    if target.exists() or target.is_symlink():
        if mode == "symlink" and target.is_symlink() and Path(os.path.realpath(target)) == src.resolve():
            return
        if mode != "symlink" and not target.is_symlink() and _same_file(src, target, mode):
            return
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "symlink":
        target.symlink_to(os.path.relpath(src, target.parent))
        return
    with atomic_path(target) as tmp:
        if mode == "link":
            try:
                os.link(src, tmp)
                return
            except OSError:
                pass  # another drive or no hard links here: copy
        shutil.copyfile(src, tmp)


def _same_file(src: Path, target: Path, mode: str) -> bool:
    a, b = src.stat(), target.stat()
    if mode == "link" and (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev):
        return True
    return a.st_size == b.st_size and b.st_mtime_ns >= a.st_mtime_ns


def _remove_stale(out: Path, old: list[str], keep: set[str]) -> int:
    n = 0
    for rel in old:
        if rel not in keep:
            path = out / rel
            if path.is_file() or path.is_symlink():
                path.unlink()
                n += 1
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    return n


def record_files(out: Path, files: list[Path]) -> None:
    """Add files written beside the arrangement (trainer files, card) to its marker, so that a
    later run removes them when they are no longer written."""
    marker = out / MARKER
    data = json.loads(marker.read_text())
    known = set(data["files"])
    for f in files:
        for path in ([f] if Path(f).is_file() else sorted(p for p in Path(f).rglob("*") if p.is_file())):
            known.add(Path(path).resolve().relative_to(out).as_posix())
    data["files"] = sorted(known)
    write_text(marker, json.dumps(data, indent=1, default=str))


def _write_marker(out: Path, ds: Dataset, s: ArrangeSettings, files: list[str]) -> None:
    settings = asdict(s)
    data = {"dataset": str(ds.root), "settings": settings, "files": files}
    write_text(out / MARKER, json.dumps(data, indent=1, default=str))
