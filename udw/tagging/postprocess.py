"""From a tagger's scores to tags: thresholds or MCut, rating, blacklist, overlap pruning, format."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional

import numpy as np

from .labels import CHARACTER, GENERAL, KAOMOJI, RATING, Labels, display_name, escape_prompt

CHARACTER_MCUT_FLOOR = 0.15  # MCut on characters never goes below this (as in the reference app)


@dataclass(frozen=True)
class TagOptions:
    """How scores become tags. Every field has the reference default."""

    general: float = 0.35
    character: float = 0.85
    general_mcut: bool = False
    character_mcut: bool = False
    blacklist: tuple[str, ...] = ()
    drop_overlap: bool = True        # drop `hair` when `long_hair` is there
    max_tags: int = 0                # 0: no limit (general tags only; characters always kept)
    underscores: bool = False        # keep underscores (default: spaces, except kaomoji)
    escape: bool = True              # escape ( ) for prompts
    characters_first: bool = True

    def key(self) -> dict:
        """Settings that decide the stored tags (for resumable stages)."""
        data = asdict(self)
        data["blacklist"] = sorted(normalise(t) for t in self.blacklist)
        return data


def normalise(tag: str) -> str:
    """A user-typed tag in the CSV's form: `long hair` / `Long_Hair` -> `long_hair`; unescaped."""
    text = tag.strip().replace("\\(", "(").replace("\\)", ")")
    return text if text in KAOMOJI else text.lower().replace(" ", "_")


def parse_tag_list(text: str) -> tuple[str, ...]:
    """Comma- or newline-separated tags (a blacklist typed by a user)."""
    parts = (p for line in (text or "").splitlines() for p in line.split(","))
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


@dataclass
class TagResult:
    """One image's tags. Score dicts use the raw CSV names, highest score first."""

    rating: Optional[str]
    ratings: dict[str, float] = field(default_factory=dict)
    character: dict[str, float] = field(default_factory=dict)
    general: dict[str, float] = field(default_factory=dict)

    def ordered(self, options: TagOptions = TagOptions()) -> list[tuple[str, float]]:
        chars, gen = list(self.character.items()), list(self.general.items())
        return chars + gen if options.characters_first else gen + chars

    def tag_list(self, options: TagOptions = TagOptions()) -> list[str]:
        return [format_tag(t, options) for t, _ in self.ordered(options)]

    def prompt(self, options: TagOptions = TagOptions()) -> str:
        return ", ".join(self.tag_list(options))

    def confidences(self, options: TagOptions = TagOptions()) -> dict[str, float]:
        """Displayed tag -> score (rounded to 4 digits), in prompt order."""
        return {display_name(t, options.underscores): round(float(s), 4) for t, s in self.ordered(options)}

    def to_json(self, options: TagOptions = TagOptions()) -> dict:
        return {"rating": self.rating, "ratings": {k: round(v, 4) for k, v in self.ratings.items()},
                "character": {display_name(k, options.underscores): round(v, 4) for k, v in self.character.items()},
                "general": {display_name(k, options.underscores): round(v, 4) for k, v in self.general.items()}}


def format_tag(tag: str, options: TagOptions) -> str:
    shown = display_name(tag, options.underscores)
    return escape_prompt(shown) if options.escape and tag not in KAOMOJI else shown


def mcut_threshold(probs: np.ndarray) -> float:
    """Maximum Cut (Largeron et al., 2012): the middle of the largest gap between sorted scores."""
    if probs.size < 2:
        return 0.0
    s = np.sort(probs)[::-1]
    t = int(np.argmax(s[:-1] - s[1:]))
    return float((s[t] + s[t + 1]) / 2)


def select(scores: np.ndarray, labels: Labels, options: TagOptions = TagOptions()) -> TagResult:
    """Scores for one image (one per label) -> a TagResult."""
    scores = np.asarray(scores, dtype=np.float32)
    ridx = labels.indices(RATING)
    ratings = {labels.names[i]: float(scores[i]) for i in ridx}
    rating = max(ratings, key=ratings.get) if ratings else None
    banned = {normalise(t) for t in options.blacklist}
    general = _pick(scores, labels, GENERAL, options.general, options.general_mcut, 0.0, banned)
    character = _pick(scores, labels, CHARACTER, options.character, options.character_mcut,
                      CHARACTER_MCUT_FLOOR, banned)
    if options.drop_overlap:
        general = drop_overlaps(general)
    if options.max_tags > 0:
        general = dict(list(general.items())[:options.max_tags])
    return TagResult(rating, ratings, character, general)


def _pick(scores: np.ndarray, labels: Labels, category: str, threshold: float, mcut: bool,
          floor: float, banned: set) -> dict[str, float]:
    idx = labels.indices(category)
    if idx.size == 0:
        return {}
    probs = scores[idx]
    if mcut:
        threshold = max(floor, mcut_threshold(probs))
    keep = idx[probs > threshold]
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    return {labels.names[i]: float(scores[i]) for i in keep if labels.names[i] not in banned}


def drop_overlaps(tags: dict[str, float]) -> dict[str, float]:
    """Drop a tag whose words all appear, in order and whole, inside another kept tag.

    `hair` goes when `long_hair` is there, `long_hair` when `very_long_hair` is; `hat` stays beside
    `chat` and kaomoji are never touched. The order (by score) is kept.
    """
    inside: set[tuple[str, ...]] = set()
    for tag in tags:
        if tag not in KAOMOJI:
            w = tuple(tag.split("_"))
            inside.update(w[i:j] for i in range(len(w)) for j in range(i + 1, len(w) + 1) if j - i < len(w))
    return {t: s for t, s in tags.items() if t in KAOMOJI or tuple(t.split("_")) not in inside}


def results_json(results: Iterable[tuple[str, TagResult]], options: TagOptions = TagOptions()) -> str:
    return json.dumps({name: r.to_json(options) for name, r in results}, ensure_ascii=False, indent=1)
