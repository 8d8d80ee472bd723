"""Caption and tag sidecar files beside an image, edited in their own style.

A caption (`.txt`, `.caption`) is comma-separated and may start with non-tag parts (`2people,
CharA CharB, anishot ...`); a `.tags` file is comma- or line-separated; a `.json` metadata file
holds a `tags` list. Edits touch only the tokens that match (compared without underscores and
backslash escapes), keep the order and append new tags in the file's own spelling.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Optional

from ..core.atomic import write_text

TEXT_SUFFIXES = (".txt", ".caption", ".tags")
SUFFIXES = TEXT_SUFFIXES + (".json",)
MAX_SIDECAR = 4 * 1024 * 1024


def norm(tag: str) -> str:
    """Comparison form of a tag: `long_hair`, `long hair` and `hatsune miku \\(vocaloid\\)` agree."""
    return " ".join(tag.replace("\\(", "(").replace("\\)", ")").replace("_", " ").split()).lower()


class DirIndex:
    """Names in a folder, listed once: finding sidecars of 100k images costs one scandir per folder."""

    def __init__(self) -> None:
        self._names: dict[Path, set[str]] = {}

    def names(self, folder: Path) -> set[str]:
        if folder not in self._names:
            try:
                self._names[folder] = {e.name for e in os.scandir(folder)}
            except OSError:
                self._names[folder] = set()
        return self._names[folder]

    def sidecars(self, image: Path) -> list[Path]:
        names = self.names(image.parent)
        return [image.with_suffix(s) for s in SUFFIXES if image.stem + s in names and image.suffix != s]


def _style(tokens: list[str]) -> tuple[bool, bool]:
    """(underscores, escaped parens) as the file already writes tags."""
    underscores = any("_" in t and " " not in t for t in tokens) and not any(" " in t for t in tokens)
    escaped = any("\\(" in t for t in tokens)
    return underscores, escaped


def _spell(tag: str, underscores: bool, escaped: bool) -> str:
    if underscores:
        tag = tag.replace(" ", "_")
    if escaped:
        tag = tag.replace("\\(", "(").replace("\\)", ")").replace("(", "\\(").replace(")", "\\)")
    return tag


def edit_tokens(tokens: list[str], removed: Iterable[str], added: Iterable[str],
                renamed: Optional[dict[str, str]] = None) -> list[str]:
    """Tokens with renames applied in place, removals dropped, additions appended (no repeats)."""
    renamed = {norm(k): v for k, v in (renamed or {}).items()}
    gone = {norm(t) for t in removed} - set(renamed)
    underscores, escaped = _style(tokens)
    out, seen = [], set()
    for tok in tokens:
        key = norm(tok)
        if key in renamed:
            tok, key = _spell(renamed[key], underscores, escaped), norm(renamed[key])
        if key in gone or (key in seen and key):
            continue
        seen.add(key)
        out.append(tok)
    for tag in added:
        if norm(tag) not in seen:
            seen.add(norm(tag))
            out.append(_spell(tag, underscores, escaped))
    return out


def rewrite(path: Path, removed: Iterable[str], added: Iterable[str],
            renamed: Optional[dict[str, str]] = None) -> bool:
    """Apply a tag change to one sidecar; True if the file changed. Unreadable files are skipped."""
    removed, added = list(removed), list(added)
    try:
        if path.stat().st_size > MAX_SIDECAR:
            return False
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix == ".json":
        new = _rewrite_json(text, removed, added, renamed)
    else:
        new = _rewrite_text(text, removed, added, renamed)
    if new is None or new == text:
        return False
    write_text(path, new)
    return True


def _rewrite_text(text: str, removed, added, renamed) -> Optional[str]:
    body = text.strip()
    lines_mode = "\n" in body and "," not in body
    sep = "\n" if lines_mode else ", "
    tokens = [t.strip() for t in (body.split("\n") if lines_mode else body.replace("\n", ",").split(","))]
    tokens = [t for t in tokens if t]
    new = sep.join(edit_tokens(tokens, removed, added, renamed))
    return new + ("\n" if text.endswith("\n") else "")


def _rewrite_json(text: str, removed, added, renamed) -> Optional[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tags"), list) \
            or not all(isinstance(t, str) for t in data["tags"]):
        return None
    data["tags"] = edit_tokens(data["tags"], removed, added, renamed)
    return json.dumps(data, ensure_ascii=False, indent=1 if "\n" in text.strip() else None)


def read_sidecars(image: Path, limit: int = 20_000) -> dict[str, str]:
    """Sidecar texts of an image (for the detail view), each cut at `limit` characters."""
    out = {}
    for path in DirIndex().sidecars(image):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                out[path.suffix] = fh.read(limit)
        except OSError:
            continue
    return out
