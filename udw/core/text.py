"""Small text helpers every front end shares: counts in words, and the natural sort order."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Optional, Union

_DIGITS = re.compile(r"(\d+)")


def plural(n: int, word: str, words: Optional[str] = None) -> str:
    """`1 folder`, `2 folders`, `0 folders` (irregular plurals through `words`)."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def natural_key(text: Union[str, PurePath]) -> tuple:
    """Sort key that orders numbers by value: EP01_2 before EP01_10 (case-insensitive, then exact)."""
    text = str(text)
    parts = _DIGITS.split(text.casefold())
    return tuple((0, int(p), p) if i % 2 else (1, 0, p) for i, p in enumerate(parts) if p), text


def natural_sorted(values, key=None) -> list:
    """`sorted` in natural order; `key` picks the text of each value."""
    return sorted(values, key=lambda v: natural_key(key(v) if key else v))
