"""Thumbnails on disk, keyed by the source's path, mtime and size (an edited file gets a new one).

Files are JPEG (small, fast to encode, shown by every browser) in a two-level fan-out folder,
written atomically so that concurrent requests for the same thumbnail never see half a file.
Missing or unreadable sources get a drawn placeholder instead of an error.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from PIL import Image, ImageDraw

from ..core.atomic import write_with
from ..core.errors import BadInput
from ..core.images import open_image
from .fonts import ui_font

DEFAULT_SIZE = 256
PathLike = Union[str, os.PathLike]


def default_cache_dir() -> Path:
    """$UDW_CACHE_DIR/thumbs, else $XDG_CACHE_HOME/udw/thumbs, else ~/.cache/udw/thumbs."""
    if os.environ.get("UDW_CACHE_DIR"):
        return Path(os.environ["UDW_CACHE_DIR"]).expanduser() / "thumbs"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "udw" / "thumbs"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    placeholders: int = 0

    @property
    def hit_rate(self) -> float:
        n = self.hits + self.misses
        return self.hits / n if n else 0.0


class ThumbCache:
    """`get(path)` returns the cached thumbnail file of an image, creating it on a miss."""

    def __init__(self, folder: Optional[PathLike] = None, size: int = DEFAULT_SIZE, quality: int = 82):
        if not 16 <= size <= 1024:
            raise BadInput(f"thumbnail size {size} out of range", "use 16 to 1024 pixels")
        self.folder = Path(folder) if folder else default_cache_dir()
        self.size, self.quality = size, quality
        self.stats = CacheStats()
        self._lock = threading.Lock()

    def key(self, path: Path, st: os.stat_result) -> str:
        text = f"{path.resolve()}\0{st.st_mtime_ns}\0{st.st_size}\0{self.size}"
        return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()

    def location(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.jpg"

    def get(self, path: PathLike) -> Path:
        """The thumbnail of `path` (a placeholder if the file is missing or unreadable)."""
        path = Path(path)
        try:
            st = path.stat()
        except OSError:
            return self.placeholder("missing")
        target = self.location(self.key(path, st))
        if target.exists():
            self._count("hits")
            return target
        try:
            thumb = make_thumbnail(path, self.size)
        except BadInput:
            return self.placeholder("unreadable")
        write_with(target, lambda tmp: thumb.save(tmp, format="JPEG", quality=self.quality,
                                                   optimize=False, progressive=False))
        self._count("misses")
        return target

    def cached(self, path: PathLike) -> Optional[Path]:
        """The thumbnail if it is already cached, else None (never decodes)."""
        path = Path(path)
        try:
            target = self.location(self.key(path, path.stat()))
        except OSError:
            return None
        return target if target.exists() else None

    def placeholder(self, reason: str) -> Path:
        self._count("placeholders")
        target = self.folder / "placeholders" / f"{reason}-{self.size}.jpg"
        if not target.exists():
            im = _placeholder_image(reason, self.size)
            write_with(target, lambda tmp: im.save(tmp, format="JPEG", quality=90))
        return target

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)

    def prune(self, max_bytes: int) -> int:
        """Delete the least recently used thumbnails until the cache is under `max_bytes`."""
        files = []
        for p in self.folder.glob("??/*.jpg"):
            try:
                st = p.stat()
            except OSError:
                continue
            files.append((st.st_atime, st.st_size, p))
        total = sum(f[1] for f in files)
        removed = 0
        for _, size, p in sorted(files):
            if total <= max_bytes:
                break
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
        return removed


def make_thumbnail(path: PathLike, size: int) -> Image.Image:
    """Decode and shrink an image to fit `size` x `size` (JPEG decoded at reduced scale)."""
    try:
        with Image.open(path) as probe:
            if probe.format == "JPEG":
                probe.draft("RGB", (size, size))  # decode at 1/2..1/8 scale: much faster
                probe.load()
                im = probe.copy()
            else:
                im = None
    except Exception:
        im = None
    if im is None:
        im = open_image(path)  # raises BadInput with the reason
    else:
        from ..core.images import to_rgb
        im = to_rgb(im)
    # reducing_gap: a cheap box reduction first, then Lanczos over the last 2x (same look, faster)
    im.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return im


def _placeholder_image(reason: str, size: int) -> Image.Image:
    im = Image.new("RGB", (size, size), (58, 58, 64))
    draw = ImageDraw.Draw(im)
    font = ui_font(max(10, size // 12))
    draw.rectangle([4, 4, size - 5, size - 5], outline=(110, 110, 120), width=2)
    draw.line([8, 8, size - 9, size - 9], fill=(90, 90, 98), width=2)
    w = draw.textlength(reason, font=font)
    draw.rectangle([(size - w) / 2 - 6, size / 2 - font.size, (size + w) / 2 + 6, size / 2 + font.size],
                   fill=(58, 58, 64))
    draw.text(((size - w) / 2, size / 2 - font.size * 0.6), reason, fill=(220, 220, 228), font=font)
    return im
