"""`udw gallery`: a folder of images or a dataset as a static gallery site (HTML + Markdown).

Sections follow the folders (or a dataset's buckets, characters or episodes, or the `Look`
generation parameter); captions carry the prompt and seed read from each image. Full images
are copied into the site (or linked relatively with `link=True`); thumbnails come from the
shared cache. Every file is written atomically, and a re-export copies only what changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from PIL import Image

from ..core.atomic import write_text, write_with
from ..core.errors import BadInput
from ..core.images import IMAGE_SUFFIXES
from ..core.inputs import expand_inputs
from ..core.manifest import MANIFEST_NAME, Dataset
from ..core.paths import rel_posix, safe_name, within
from ..core.ports import Ports
from ..core.text import natural_key
from .metadata import ImageMeta, read_metadata
from .pages import Card, Section, render_html, render_markdown
from .query import Filter, where
from .thumbs import ThumbCache

GROUPS = ("auto", "folder", "look", "bucket", "character", "episode", "none")


@dataclass
class Entry:
    src: Path
    section: str
    meta: Optional[ImageMeta] = None
    note: str = ""
    item_id: Optional[int] = None


@dataclass
class ExportReport:
    html: Path
    markdown: Path
    images: int = 0
    sections: int = 0
    copied: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"gallery: {self.images} images in {self.sections} sections -> {self.html} and "
                f"{self.markdown.name} ({self.copied} files copied) in {self.seconds:.1f}s")


def export_gallery(source: Union[str, Path], out: Union[str, Path], group_by: str = "auto",
                   title: str = "", link: bool = False, limit: int = 0, tags: str = "",
                   thumb_size: int = 320, name: str = "index", cache: Optional[ThumbCache] = None,
                   ports: Optional[Ports] = None, notes: Optional[list[str]] = None) -> ExportReport:
    """Write `out/<name>.html` and `out/<name>.md` for the images in `source`; `notes` (such as the
    build steps that were skipped) are shown at the top of both."""
    start = time.perf_counter()
    ports = ports or Ports()
    source, out = Path(source).expanduser().resolve(), Path(out).expanduser().resolve()
    if group_by not in GROUPS:
        raise BadInput(f"unknown grouping {group_by!r}", f"use one of {', '.join(GROUPS)}")
    if not source.exists():
        raise BadInput(f"{source} does not exist", "give a folder of images or a dataset folder")
    is_dataset = (source / MANIFEST_NAME).exists()
    if is_dataset:
        entries, more = _dataset_entries(Dataset(source), group_by, tags, limit)
    else:
        if tags:
            raise BadInput("--tags filters work on datasets only", "point at a dataset folder, or drop --tags")
        entries, more = _folder_entries(source, out, group_by, limit, link)
    if not entries:
        raise BadInput(f"no images found in {source}", "check the folder (or the filter)")
    cache = cache or ThumbCache(size=thumb_size)
    report = ExportReport(out / f"{name}.html", out / f"{name}.md")
    sections: dict[str, Section] = {}
    used: set[str] = set()
    for n, entry in enumerate(entries, 1):
        ports.check()
        card = _card(entry, source, out, link, cache, used, report)
        sections.setdefault(entry.section, Section(entry.section)).cards.append(card)
        ports.progress(n, len(entries))
    for key, count in more.items():
        if key in sections:
            sections[key].more = count
    ordered = [sections[k] for k in sorted(sections, key=_section_key)]
    heading = title or source.name
    subtitle = f"{'Dataset' if is_dataset else 'Folder'} {source.name}"
    write_text(report.html, render_html(heading, subtitle, ordered, notes=notes))
    write_text(report.markdown, render_markdown(heading, subtitle, ordered, thumb_px=min(thumb_size, 256),
                                                notes=notes))
    report.images, report.sections = len(entries), len(ordered)
    report.seconds = time.perf_counter() - start
    return report


def _section_key(title: str):
    return (title != "(top)", natural_key(title))


def _folder_entries(source: Path, out: Path, group_by: str, limit: int, link: bool):
    # A site written inside the folder must not show its own thumbnails and copies.
    own = [out / "thumbs"] + ([] if link else [out / "images"])
    files = [f for f in expand_inputs([source], IMAGE_SUFFIXES)
             if not any(o in f.resolve().parents for o in own)]
    per: dict[str, list[Entry]] = defaultdict(list)
    for f in files:
        meta = _meta(f)
        folder = rel_posix(f.parent, source)
        section = "(top)" if folder == "." else folder
        if group_by == "look":
            look = meta.info.params.get("Look") if meta and meta.info else None
            section = str(look) if look else section
        elif group_by == "none":
            section = "(top)"
        per[section].append(Entry(f, section, meta))
    return _limited(per, limit)


def _dataset_entries(ds: Dataset, group_by: str, tags: str, limit: int):
    group_by = "bucket" if group_by == "auto" else group_by
    cond, args = where(Filter(tags=tags))
    with ds.db() as conn:
        rows = conn.execute(f"SELECT i.id, i.path, i.bucket, i.series, i.episode FROM items i WHERE {cond} "
                            "ORDER BY i.id", args).fetchall()
        chars = dict(conn.execute("SELECT item_id, group_concat(DISTINCT character) FROM faces "
                                  "WHERE character IS NOT NULL GROUP BY item_id").fetchall()) \
            if group_by == "character" else {}
    per: dict[str, list[Entry]] = defaultdict(list)
    for item_id, rel, bucket, series, episode in rows:
        if group_by == "bucket":
            section = bucket or "(no bucket)"
        elif group_by == "character":
            section = chars.get(item_id) or "(no character)"
        elif group_by == "episode":
            section = " ".join(x for x in (series, episode) if x) or "(no episode)"
        elif group_by == "folder":
            section = str(Path(rel).parent.as_posix())
        else:
            section = "(top)"
        try:
            path = within(ds.root, rel)  # a crafted manifest must not copy files from elsewhere
        except BadInput:
            continue
        per[section].append(Entry(path, section, item_id=item_id))
    entries, more = _limited(per, limit, read=True)
    with ds.db() as conn:
        for e in entries:
            e.note = ", ".join(r[0] for r in conn.execute(
                "SELECT tag FROM tags WHERE item_id=? ORDER BY category='character' DESC, score DESC LIMIT 10",
                (e.item_id,)))
    return entries, more


def _limited(per: dict[str, list[Entry]], limit: int, read: bool = False):
    entries, more = [], {}
    for section, items in per.items():
        kept = items[:limit] if limit else items
        if read:
            for e in kept:
                e.meta = _meta(e.src)
        entries += kept
        if len(items) > len(kept):
            more[section] = len(items) - len(kept)
    return entries, more


def _meta(path: Path) -> Optional[ImageMeta]:
    try:
        return read_metadata(path)
    except BadInput:
        return None


def _card(entry: Entry, source: Path, out: Path, link: bool, cache: ThumbCache, used: set[str],
          report: ExportReport) -> Card:
    info = entry.meta.info if entry.meta else None
    card = Card(image_url="", thumb_url="", name=entry.src.name, prompt=info.prompt if info else "",
                seed=info.seed if info else None, note=entry.note or (info.summary(seed=False) if info else ""),
                details=info.to_infotext() if info else "")
    if entry.meta and entry.meta.warnings:
        report.warnings.append(f"{entry.src.name}: {entry.meta.warnings[0]}")
    thumb = cache.get(entry.src)
    key = hashlib.sha1(str(thumb.name).encode()).hexdigest()[:16]
    card.thumb_url = f"thumbs/{key}.jpg"
    _copy(thumb, out / card.thumb_url)
    if not entry.src.exists():
        card.image_url, card.note = card.thumb_url, "file missing"
    elif link:
        card.image_url = Path(os.path.relpath(entry.src, out)).as_posix()
    else:
        rel = f"images/{safe_name(entry.section, 'top')}/{entry.src.name}"
        n = 1
        while rel in used:
            rel = f"images/{safe_name(entry.section, 'top')}/{entry.src.stem}-{n}{entry.src.suffix}"
            n += 1
        used.add(rel)
        report.copied += _copy(entry.src, out / rel)
        card.image_url = rel
    try:
        with Image.open(thumb) as im:
            card.width, card.height = im.size
    except OSError:
        pass
    return card


def _copy(src: Path, dst: Path) -> int:
    """Copy unless an identical-looking copy is there (same size, not older); 1 if copied."""
    try:
        s, d = src.stat(), dst.stat()
        if s.st_size == d.st_size and d.st_mtime >= s.st_mtime:
            return 0
    except FileNotFoundError:
        pass
    write_with(dst, lambda tmp: shutil.copyfile(src, tmp))
    return 1
