"""Ground truth as item -> (distinct drawing, kind of case), the input of `udw.dedupe.quality`.

- episodes: items are ``(prefix, frame index)``; a drawing already shown by an earlier episode
  (the shared opening and ending keep their distinct ids) is a copy of kind ``"episode_repeat"``;
- image sets (:mod:`.imageset`): items are the files as named in the truth (``images/img_0001.png``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Hashable, Iterable


@dataclass
class Labels:
    items: list[Hashable] = field(default_factory=list)  # in order: a drawing's first item first
    drawing_of: dict[Hashable, str] = field(default_factory=dict)
    kind_of: dict[Hashable, str] = field(default_factory=dict)

    def add(self, item: Hashable, drawing: str, kind: str) -> None:
        self.items.append(item)
        self.drawing_of[item] = drawing
        self.kind_of[item] = kind


def episode_labels(truths: Iterable) -> Labels:
    """Labels of the frames of sample episodes (EpisodeTruth objects, in episode order)."""
    out, earlier = Labels(), set()
    for t in truths:
        if any(not f.distinct for f in t.frames):
            raise ValueError(f"{t.prefix}: this truth file has no distinct-drawing ids (version 1); "
                             "generate the samples again")
        mine = set()
        for f in t.frames:
            out.add((t.prefix, f.i), f.distinct, "episode_repeat" if f.distinct in earlier else f.kind)
            mine.add(f.distinct)
        earlier |= mine
    return out


def imageset_labels(truth_path: str | os.PathLike) -> Labels:
    """Labels of an image set's files, from its ``imageset.truth.json``."""
    with open(truth_path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("format") != "udw.samples.imageset":
        raise ValueError(f"{truth_path}: not an image-set truth file (format {data.get('format')!r})")
    out = Labels()
    for image in data["images"]:
        out.add(image["file"], image["drawing"], image["kind"])
    return out
