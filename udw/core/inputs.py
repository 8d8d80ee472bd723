"""Turning user inputs (files, folders, glob patterns) into a sorted list of files."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Iterable, Union

from .errors import BadInput
from .text import natural_sorted

_GLOB_CHARS = set("*?[")


def expand_inputs(inputs: Iterable[Union[str, os.PathLike]], suffixes: set[str],
                  recursive: bool = True) -> list[Path]:
    """Files matching `suffixes` (lower-case, with dot) from files, folders and glob patterns.

    A missing path or a pattern that matches nothing raises BadInput naming it; an unreadable
    folder too. Duplicates are removed; the order is sorted per input, inputs in the given order.
    """
    seen: set[Path] = set()
    out: list[Path] = []
    for raw in inputs:
        for path in _expand_one(str(raw), suffixes, recursive):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                out.append(path)
    return out


def _expand_one(raw: str, suffixes: set[str], recursive: bool) -> list[Path]:
    text = os.path.expanduser(raw)
    if any(c in text for c in _GLOB_CHARS) and not os.path.exists(text):
        hits = natural_sorted(Path(p) for p in glob.glob(text, recursive=True))
        files = [p for p in hits if p.is_file() and p.suffix.lower() in suffixes]
        for folder in (p for p in hits if p.is_dir()):
            files += _walk(folder, suffixes, recursive)
        if not files:
            raise BadInput(f"no matching files for {raw!r}", f"expected files ending in {sorted(suffixes)}")
        return files
    path = Path(text)
    if path.is_dir():
        return _walk(path, suffixes, recursive)
    if path.is_file():
        return [path]
    raise BadInput(f"{raw}: no such file or folder", "check the path (quote paths with spaces)")


def _walk(folder: Path, suffixes: set[str], recursive: bool) -> list[Path]:
    if not os.access(folder, os.R_OK | os.X_OK):
        raise BadInput(f"{folder}: folder is not readable", "check its permissions")
    pattern = "**/*" if recursive else "*"
    return natural_sorted(p for p in folder.glob(pattern)  # EP01_2 before EP01_10
                          if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))
