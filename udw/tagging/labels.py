"""A tagger's label file (`selected_tags.csv`): names and categories, one row per model output.

WD14 files have the header `tag_id,name,category,count`; category 9 is rating (four rows), 0 general,
4 character. Other local taggers (e621-style, Z3D) may use more categories or none: anything that
is not rating or character counts as general.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import BadInput

RATING, GENERAL, CHARACTER = "rating", "general", "character"
_CATEGORY = {"9": RATING, "4": CHARACTER}

# Tags that are pictures made of characters: their underscores are part of the face.
KAOMOJI = frozenset({
    "0_0", "(o)_(o)", "+_+", "+_-", "._.", "<o>_<o>", "<|>_<|>", "=_=", ">_<", "3_3", "6_9", ">_o",
    "@_@", "^_^", "o_o", "u_u", "x_x", "|_|", "||_||",
})


@dataclass(frozen=True)
class Labels:
    names: tuple[str, ...]           # raw names as in the file (underscores kept)
    categories: tuple[str, ...]      # rating | general | character, per output
    path: Path

    def __len__(self) -> int:
        return len(self.names)

    def indices(self, category: str) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.categories) if c == category], dtype=np.int64)


def read_labels(path: Path) -> Labels:
    """Read a label CSV; a missing `name` column or an empty file is a BadInput naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BadInput(f"cannot read tag list {path}: {exc.strerror or exc}",
                       "put the model's selected_tags.csv beside the .onnx file") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not a text CSV file", "use the selected_tags.csv that came with the model") from exc
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        raise BadInput(f"tag list {path} is empty", "use the selected_tags.csv that came with the model")
    header = [h.strip().lower() for h in rows[0]]
    if "name" not in header:
        raise BadInput(f"tag list {path} has no 'name' column (header: {','.join(rows[0])[:80]})",
                       "expected a header like tag_id,name,category,count")
    name_col = header.index("name")
    cat_col = header.index("category") if "category" in header else None
    names, cats = [], []
    for n, row in enumerate(rows[1:], 2):
        if len(row) <= max(name_col, cat_col or 0):
            raise BadInput(f"{path}, line {n}: too few columns", "the file is damaged; get it again")
        names.append(row[name_col].strip())
        cats.append(_CATEGORY.get(row[cat_col].strip(), GENERAL) if cat_col is not None else GENERAL)
    return Labels(tuple(names), tuple(cats), path)


def display_name(tag: str, underscores: bool = False) -> str:
    """The tag as people write it: spaces for underscores, except in kaomoji."""
    if underscores or tag in KAOMOJI:
        return tag
    return tag.replace("_", " ")


def escape_prompt(tag: str) -> str:
    """Escape parentheses so prompt parsers (A1111, ComfyUI) read them as text, not emphasis.

    Only ( and ) are escaped: both hosts understand those escapes, ComfyUI no others.
    """
    return tag.replace("(", "\\(").replace(")", "\\)")
