"""Captions from metadata through a template; the default reproduces the seed's caption:

`2people, CharA CharB, anishot yamaS2EP04, fvp 42 70 fhp 22 39 fvp 15 37 fhp 62 75, tag, tag, ...`

Template fields: {count} ('2people', '1person'), {characters} (space separated), {general},
{facepos} (space separated), {tags} (comma separated), {character_tags}, {series}, {episode}.
Parts (between commas) that come out empty are dropped. Options: a keep-tokens separator after
the first N parts (kohya's `keep_tokens_separator`, e.g. `|||`), at most N tags, and dropping the
core tags of the named characters (hair/eye colours etc. that the name should carry).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional

from ..core.errors import BadInput
from .metadata import ItemMeta

DEFAULT_TEMPLATE = "{count}, {characters}, {general}, {facepos}, {tags}"
FIELDS = {"count", "characters", "general", "facepos", "tags", "character_tags", "series", "episode"}
_CORE = re.compile(r"(hair|eyes|bangs|ahoge|twintails|ponytail|braids?|sidelocks|hair \w+|pupils|"
                   r"eyebrows|skin|ears|horns|tail|wings|mole\b.*|freckles|hairband|hair ornament)$")


@dataclass
class CaptionSettings:
    template: str = DEFAULT_TEMPLATE
    singular: str = "person"
    plural: str = "people"
    max_tags: Optional[int] = None
    keep_parts: int = 0               # >0: put `separator` after this many leading parts
    separator: str = "|||"
    drop_core_tags: bool = False
    core_threshold: float = 0.5       # share of a character's solo images that carry the tag
    underscores: bool = False         # write tags with underscores (as raw WD14 names)

    def validate(self) -> None:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}
        except ValueError as exc:
            raise BadInput(f"bad caption template {self.template!r}: {exc}", f"fields: {sorted(FIELDS)}") from exc
        unknown = names - FIELDS
        if unknown:
            raise BadInput(f"unknown caption fields {sorted(unknown)}", f"use {sorted(FIELDS)}")
        if self.max_tags is not None and self.max_tags < 0:
            raise BadInput("max tags must be >= 0", "e.g. --max-tags 30")


def core_tags(metas: Iterable[ItemMeta], threshold: float = 0.5, min_images: int = 2) -> dict[str, set[str]]:
    """Per character, the appearance tags present in at least `threshold` of its solo images."""
    seen: dict[str, Counter] = {}
    solo: Counter = Counter()
    for m in metas:
        if len(m.characters) == 1:
            c = m.characters[0]
            solo[c] += 1
            seen.setdefault(c, Counter()).update(t for t in set(m.tags) if _CORE.search(t.replace("_", " ")))
    return {c: {t for t, n in seen[c].items() if n / solo[c] >= threshold}
            for c in seen if solo[c] >= min_images}


def render(meta: ItemMeta, s: CaptionSettings, core: Optional[dict[str, set[str]]] = None) -> str:
    tags = list(meta.tags)
    if s.drop_core_tags and core:
        drop = set().union(*(core.get(c, set()) for c in meta.characters))
        tags = [t for t in tags if t not in drop]
    if s.max_tags is not None:
        tags = tags[:s.max_tags]
    if not s.underscores:
        tags = [t if _kaomoji(t) else t.replace("_", " ") for t in tags]
    seed = meta.seed_json()
    values = {
        "count": f"{meta.count}{s.singular if meta.count == 1 else s.plural}" if meta.count else "",
        "characters": " ".join(meta.characters),
        "general": meta.general,
        "facepos": " ".join(seed["facepos"]),
        "tags": ", ".join(tags),
        "character_tags": ", ".join(meta.character_tags),
        "series": meta.item.series or "",
        "episode": meta.item.episode or "",
    }
    parts = [p.strip() for p in s.template.format(**values).split(",")]
    parts = [p for p in parts if p]
    if s.keep_parts and len(parts) > s.keep_parts:
        return ", ".join(parts[:s.keep_parts]) + f" {s.separator} " + ", ".join(parts[s.keep_parts:])
    return ", ".join(parts)


def _kaomoji(tag: str) -> bool:
    """Tags like ^_^ or >_< keep their underscores."""
    return len(tag) <= 4 and not tag.replace("_", "").isalnum()
