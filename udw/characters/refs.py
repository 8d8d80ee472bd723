"""Reference pictures of named characters: `refs/NAME/*.png` (or `refs/NAME.png`), few-shot.

Each picture is decoded, its largest face found with the dataset's detector (a near-square picture
without a detectable face is taken as a head crop; any other is skipped) and embedded. Unreadable files and
folders without pictures are reported, never fatal; names are made safe for folder names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..core.errors import BadInput
from ..core.images import IMAGE_SUFFIXES, open_image
from ..core.paths import safe_name
from ..faces.geometry import Face
from .embed import Embedder

RESERVED = {"others", "character_others", "unknown"}


@dataclass
class References:
    names: list[str] = field(default_factory=list)        # one per embedding row
    embeddings: Optional[np.ndarray] = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)         # pictures used whole (no face found)
    renamed: dict[str, str] = field(default_factory=dict)  # folder name -> safe name

    @property
    def characters(self) -> list[str]:
        return sorted(set(self.names))

    def counts(self) -> dict[str, int]:
        return {n: self.names.count(n) for n in self.characters}

    def notes(self) -> list[str]:
        out = [f"skipped {p}: {r}" for p, r in self.skipped]
        out += [f"{n}: only one reference picture (more, in other poses, help)"
                for n, c in self.counts().items() if c == 1]
        out += [f"{p}: no face found, used the whole picture" for p in self.whole]
        out += [f"character folder {a!r} is named {b!r}" for a, b in self.renamed.items()]
        return out


def character_name(raw: str) -> str:
    """A character name safe as one folder name (`../x`, `a/b`, `c:d` cannot escape or nest)."""
    name = safe_name(raw.replace("+", "_"), fallback="unnamed")
    return f"{name}_" if name.lower() in RESERVED else name


def load_references(folder: Path, embedder: Embedder, detector=None) -> References:
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such reference folder",
                       "make refs/NAME/ folders with a few pictures of each character")
    refs, crops = References(), []
    for name, files in _named_files(folder, refs):
        for path in files:
            crop = _ref_crop(path, embedder, detector, refs)
            if crop is not None:
                crops.append(crop)
                refs.names.append(name)
    if crops:
        refs.embeddings = embedder.embed(crops)
    return refs


def _named_files(folder: Path, refs: References):
    entries = sorted(folder.iterdir())
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files = sorted(p for p in entry.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            raw = entry.name
        elif entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
            files, raw = [entry], entry.stem
        else:
            continue
        name = character_name(raw)
        if name != raw:
            refs.renamed[raw] = name
        if not files:
            refs.skipped.append((str(entry), "no pictures in this folder"))
            continue
        yield name, files


def _ref_crop(path: Path, embedder: Embedder, detector, refs: References) -> Optional[np.ndarray]:
    try:
        img = np.asarray(open_image(path))
    except BadInput as exc:
        refs.skipped.append((str(path), str(exc).splitlines()[0]))
        return None
    h, w = img.shape[:2]
    faces = detector.detect(img) if detector is not None else []
    if faces:
        face = max(faces, key=lambda f: f.height * f.width)
    elif 0.6 <= w / h <= 1.4:  # no face found in a near-square picture: take it as a head crop
        refs.whole.append(str(path))
        face = Face(w * 0.15, h * 0.25, w * 0.85, h * 0.9)  # hair above, face below
    else:
        refs.skipped.append((str(path), "no face found (crop the picture to the head, or use another one)"))
        return None
    x0, y0, x1, y1 = embedder.region(face, w, h)
    return img[y0:y1, x0:x1]
