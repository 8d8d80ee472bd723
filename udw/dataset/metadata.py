"""Per-image metadata in the seed's JSON format, gathered from the manifest.

`{"count": "2", "characters": ["CharA", "CharB"], "general": "anishot yamaS2EP04",
  "facepos": ["fvp 42 70 fhp 22 39", ...], "tags": ["tag", ...]}`

count: people (from faces and/or tags), as a string like the seed; characters: named (and
unknown_k) characters in reading order, without `others` (unrecognised faces); general: a fixed
description plus series and episode; facepos: per face, vertical and horizontal span in percent;
tags: the tagger's general tags, best first (none when no tagger has run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..core.manifest import Dataset, Item
from ..faces.geometry import Face, face_height_ratio, facepos, person_count
from ..faces.store import CHARACTER, GENERAL, load_faces, load_tags

NOT_A_CHARACTER = {None, "", "others", "unknown", "ood"}


@dataclass
class MetaSettings:
    general: str = "anishot"         # the seed's general description
    episode_in_general: bool = True  # append series+episode, e.g. 'anishot yamaS2EP04'
    count_from: str = "auto"         # auto | faces | tags | max
    include_crops: bool = True


@dataclass
class ItemMeta:
    item: Item
    faces: list[Face]
    characters: list[str]
    tags: list[str]
    character_tags: list[str]
    count: int
    general: str
    source: Optional[dict] = None
    extra: dict = field(default_factory=dict)

    def seed_json(self) -> dict:
        w, h = self.item.width or 1, self.item.height or 1
        data = {"count": str(self.count), "characters": list(self.characters), "general": self.general,
                "facepos": [facepos(f, w, h) for f in self.faces], "tags": list(self.tags)}
        if self.faces:  # the ratio's box convention depends on the detector: name it
            data["face_height_ratio"] = round(face_height_ratio(self.faces, h), 4)
            data["face_detector"] = self.faces[0].detector
        return data


def characters_of(faces: list[Face]) -> list[str]:
    """Distinct characters in reading order, without unrecognised faces."""
    out: list[str] = []
    for f in faces:
        if f.character not in NOT_A_CHARACTER and f.character not in out:
            out.append(f.character)
    return out


def general_text(item: Item, s: MetaSettings) -> str:
    parts = [s.general.strip()] if s.general.strip() else []
    if s.episode_in_general and (item.series or item.episode):
        parts.append(f"{item.series or ''}{item.episode or ''}")
    return " ".join(parts)


def collect(ds: Dataset, settings: Optional[MetaSettings] = None) -> list[ItemMeta]:
    """Metadata of every active item (crops too unless excluded), in id order."""
    s = settings or MetaSettings()
    items = ds.items(where="" if s.include_crops else "kind != 'crop'")
    sources = {src["id"]: src for src in ds.sources()}
    with ds.db() as conn:
        faces = load_faces(conn)
        tags = load_tags(conn)
    out = []
    for it in items:
        fs = faces.get(it.id, [])
        own = tags.get(it.id) or (tags.get(it.parent_id, []) if it.parent_id else [])
        general = [t for t, cat, _ in own if cat in GENERAL]
        out.append(ItemMeta(
            item=it, faces=fs, characters=characters_of(fs), tags=general,
            character_tags=[t for t, cat, _ in own if cat in CHARACTER],
            count=person_count(len(fs), general, s.count_from), general=general_text(it, s),
            source=sources.get(it.source_id)))
    return out
