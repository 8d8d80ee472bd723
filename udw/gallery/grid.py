"""Contact-sheet grids: thumbnails in rows and columns, a label under each cell, a title."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence, Union

from PIL import Image, ImageDraw

from ..core.errors import BadInput
from ..core.images import open_image
from ..core.manifest import Dataset
from .fonts import ui_font

ImageLike = Union[Image.Image, str, Path]
BACKGROUND = (24, 24, 28)
TEXT = (230, 230, 235)


def make_grid(images: Sequence[ImageLike], labels: Optional[Sequence[str]] = None, cols: int = 0,
              cell: int = 256, title: str = "", pad: int = 6) -> Image.Image:
    """Lay out images as a grid of `cell`-pixel boxes (aspect kept), labels under each cell.

    cols=0 picks a near-square layout. Unreadable images become a grey cell labelled as such.
    """
    if not images:
        raise BadInput("no images to put in a grid", "check the filter or the dataset")
    if cell < 16 or cell > 2048:
        raise BadInput(f"cell size {cell} out of range", "use 16 to 2048 pixels")
    n = len(images)
    cols = cols if cols > 0 else math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    font = ui_font(max(10, cell // 18))
    label_h = (font.size + 6) if labels else 0
    title_h = (font.size * 2 + 8) if title else 0
    width = cols * (cell + pad) + pad
    height = title_h + rows * (cell + label_h + pad) + pad
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((pad, pad), _fit(draw, title, width - 2 * pad, font), fill=TEXT, font=font)
    for i, src in enumerate(images):
        x = pad + (i % cols) * (cell + pad)
        y = title_h + pad + (i // cols) * (cell + label_h + pad)
        thumb, note = _thumb(src, cell)
        sheet.paste(thumb, (x + (cell - thumb.width) // 2, y + (cell - thumb.height) // 2))
        text = labels[i] if labels and i < len(labels) else note
        if text and label_h:
            draw.text((x, y + cell + 2), _fit(draw, text, cell, font), fill=TEXT, font=font)
    return sheet


def _thumb(src: ImageLike, cell: int) -> tuple[Image.Image, str]:
    try:
        im = src if isinstance(src, Image.Image) else open_image(src)
    except BadInput:
        return Image.new("RGB", (cell, cell), (90, 90, 90)), "unreadable"
    im = im.convert("RGB")
    im.thumbnail((cell, cell), Image.Resampling.LANCZOS)
    return im, ""


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> str:
    """Shorten text with an ellipsis so that it fits `width` pixels."""
    text = " ".join(str(text).split())
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def dataset_grid(ds: Dataset, limit: int = 64, cols: int = 0, cell: int = 192,
                 status: Optional[str] = "active", label: str = "name") -> Image.Image:
    """A preview grid of a dataset's first `limit` items (label: name, tags or none)."""
    items = ds.items(status=status, limit=max(1, limit))
    if not items:
        raise BadInput(f"dataset {ds.root} has no {status or ''} items".replace("  ", " "),
                       "import images or extract frames first")
    labels = [Path(it.path).stem if label == "name" else "" for it in items]
    title = f"{ds.root.name}: {len(items)} of {ds.count(status)} items"
    return make_grid([ds.abspath(it) for it in items], labels if label != "none" else None,
                     cols=cols, cell=cell, title=title)
