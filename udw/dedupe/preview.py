"""A preview of the largest clusters, one row each: the kept picture, then what it replaces (with
why: the verifier's signal and value against its threshold); then the closest pairs that were kept
apart, so that both sides of the judgement can be seen."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence, Union

from PIL import Image

from ..gallery.grid import BACKGROUND, make_grid

Picture = Union[Image.Image, str, Path]


def cluster_preview(groups: Sequence[tuple[int, Sequence[int], Sequence[Union[float, str]]]],
                    picture: Callable[[int], Picture], name: Callable[[int], str],
                    title: str, clusters: int = 8, per_row: int = 8, cell: int = 160,
                    apart: Sequence[tuple[int, int, str]] = ()) -> Image.Image:
    """`groups`: (kept row, removed rows, their similarities or why-labels), largest first;
    `apart`: (row, row, why) of the closest pairs kept apart; `picture(row)` gives a PIL image or
    a path, `name(row)` a short label. Returns one grid image."""
    shown = list(groups)[:max(1, clusters)] if groups else []
    cols = max(2, min(per_row, max((1 + len(r) for _, r, _ in shown), default=2)))
    pad = Image.new("RGB", (8, 8), BACKGROUND)
    images: list[Picture] = []
    labels: list[str] = []
    for kept, removed, sims in shown:
        row = [(kept, f"kept {name(kept)}")]
        more = len(removed) - (cols - 1)
        for k, (r, s) in enumerate(zip(removed, sims)):
            why = s if isinstance(s, str) else f"{s:.3f}"
            if k == cols - 2 and more > 0:
                row.append((r, f"{why} (+{more} more)"))
                break
            row.append((r, f"{why} {name(r)}"))
        for r, label in row:
            images.append(picture(r))
            labels.append(label)
        images += [pad] * (cols - len(row))
        labels += [""] * (cols - len(row))
    for a, b, why in apart:  # the other error side: the closest calls that were kept apart
        images += [picture(a), picture(b)] + [pad] * (cols - 2)
        labels += [f"KEPT APART {name(a)}", f"{why} {name(b)}"] + [""] * (cols - 2)
    if not images:
        images, labels = [pad], ["nothing to show"]
    return make_grid(images, labels, cols=cols, cell=cell, title=title)
