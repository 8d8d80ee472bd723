"""A small dataset of extracted-looking frames, for tests of what the browser and pages show."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from ..core.manifest import Dataset


def frames_dataset(root: Path, make_image: Callable, names: Iterable[str], size=(160, 90),
                   tags: Iterable[str] = ()) -> Dataset:
    """Items frames/NAME.png drawn by `make_image(path, seed, size=...)`, each with `tags` (none: untagged)."""
    ds = Dataset.open_or_create(root)
    tags = list(tags)
    with ds.transaction() as conn:
        for i, name in enumerate(names, 1):
            rel = f"frames/{name}.png"
            make_image(root / rel, i, size=size)
            item = ds.add_item(conn, rel, f"k{i}", frame_index=i, width=size[0], height=size[1], status="active")
            conn.executemany("INSERT INTO tags VALUES(?,?,?,?)", [(item, t, "general", 0.9) for t in tags])
    return ds
