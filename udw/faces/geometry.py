"""Face geometry: boxes, the seed's `fvp a b fhp c d`, face height ratio, buckets, person counts.

All functions are pure: boxes are (x0, y0, x1, y1) floats in image pixels, x1/y1 exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

DEFAULT_EDGES = (25, 50, 75)  # percent: buckets 0-25, 25-50, 50-75, 75-100


@dataclass
class Face:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0
    detector: str = ""
    character: Optional[str] = None
    character_score: Optional[float] = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def clipped(self, width: int, height: int) -> "Face":
        """The same face with its box clipped to the image (detectors may overshoot)."""
        return Face(max(0.0, self.x0), max(0.0, self.y0), min(float(width), self.x1),
                    min(float(height), self.y1), self.score, self.detector, self.character,
                    self.character_score)

    def on_border(self, width: int, height: int, margin: float = 1.0) -> bool:
        return (self.x0 <= margin or self.y0 <= margin or self.x1 >= width - margin
                or self.y1 >= height - margin)


def facepos(face: Face, width: int, height: int) -> str:
    """The seed's position text: `fvp top bottom fhp left right` in whole percent (truncated)."""
    top, bottom = int(face.y0 / height * 100), int(face.y1 / height * 100)
    left, right = int(face.x0 / width * 100), int(face.x1 / width * 100)
    return f"fvp {top} {bottom} fhp {left} {right}"


def face_height_ratio(faces: Sequence[Face], height: int) -> float:
    """Tallest face height over image height (0 when there is no face)."""
    if not faces or height <= 0:
        return 0.0
    return min(1.0, max(f.height for f in faces) / height)


@dataclass(frozen=True)
class Buckets:
    """Face-height-ratio buckets from edges in percent, e.g. (25, 50, 75) -> 0-25 ... 75-100.

    `named_as`: edges whose names the buckets carry (a detector's own edges then keep the folder
    names every detector shares: its k-th bucket is named like the k-th default bucket).
    """

    edges: tuple[int, ...] = DEFAULT_EDGES
    prefix: str = "face_height_ratio_"
    named_as: tuple[int, ...] = ()
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        edges = _checked(self.edges)
        object.__setattr__(self, "edges", edges)
        label = _checked(self.named_as) if self.named_as else edges
        if len(label) != len(edges):
            raise ValueError(f"a detector's bucket edges {edges} must be as many as the default ones {label}")
        bounds = (0, *label, 100)
        object.__setattr__(self, "names", tuple(f"{self.prefix}{a}-{b}" for a, b in zip(bounds, bounds[1:])))

    @classmethod
    def parse(cls, text: str) -> "Buckets":
        """'25,50,75' (edges) or a single step '25' (as in the seed's --face_ratio_folder_range)."""
        parts = [p for p in re.split(r"[,\s]+", str(text).strip()) if p]
        nums = [int(p) for p in parts]
        if len(nums) == 1 and nums[0] > 0 and 100 % nums[0] == 0:
            nums = list(range(nums[0], 100, nums[0]))
        return cls(tuple(nums))

    @classmethod
    def for_faces(cls, faces: Sequence[Face], edges: Sequence[int], per_detector: Optional[dict] = None) -> "Buckets":
        """The buckets for these faces' detector: its own edges when set (named like `edges`), else `edges`."""
        own = (per_detector or {}).get(faces[0].detector) if faces else None
        return cls(tuple(own), named_as=tuple(edges)) if own else cls(tuple(edges))

    def bucket(self, ratio: float) -> str:
        """Bucket name of a ratio in 0..1; like the seed, a ratio of 1.0 falls in the last bucket."""
        pct = min(int(ratio * 100), 99)
        for name, edge in zip(self.names, self.edges):
            if pct < edge:
                return name
        return self.names[-1]


def _checked(edges: Sequence[int]) -> tuple[int, ...]:
    edges = tuple(int(e) for e in edges)
    if any(not 0 < e < 100 for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError(f"bucket edges must be increasing whole percents between 0 and 100, got {edges}")
    return edges


def check_edges(edges: Sequence[int], per_detector: Optional[dict] = None) -> None:
    """ValueError unless the default edges and each detector's own ones make valid buckets."""
    Buckets(tuple(edges))
    for own in (per_detector or {}).values():
        Buckets(tuple(own), named_as=tuple(edges))


def parse_detector_edges(entries: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """['lbpcascade_animeface=30,60,90', ...] -> {detector name: bucket edges}."""
    out = {}
    for entry in entries:
        name, sep, edges = str(entry).partition("=")
        if not sep or not name.strip():
            raise ValueError(f"bad per-detector buckets {entry!r}: use NAME=EDGES, e.g. lbpcascade_animeface=30,60,90")
        out[name.strip()] = Buckets.parse(edges).edges
    return out


_COUNT_TAG = re.compile(r"^(\d+)(\+?)\s*[_ ]?(girl|boy|other)s?$")


def count_from_tags(tags: Iterable[str]) -> Optional[int]:
    """People counted from booru tags (1girl, 2boys, 6+girls, 1other): None when no such tag.

    Girls, boys and others are summed; within one kind the largest count wins ('multiple girls'
    alone gives 2, the smallest it can mean).
    """
    best: dict[str, int] = {}
    for tag in tags:
        t = tag.strip().lower().replace("_", " ")
        m = _COUNT_TAG.match(t.replace(" ", ""))
        if m:
            kind = m.group(3)
            best[kind] = max(best.get(kind, 0), int(m.group(1)))
        elif t in ("multiple girls", "multiple boys", "multiple others"):
            kind = t.split()[1].rstrip("s")
            best[kind] = max(best.get(kind, 0), 2)
    return sum(best.values()) if best else None


COUNT_SOURCES = ("auto", "faces", "tags", "max")


def person_count(n_faces: int, tags: Iterable[str], source: str = "auto") -> int:
    """Person count from faces and/or tags.

    auto: the tags' count when the image has count tags (they also see people from behind),
    else the number of faces; faces/tags: only that source; max: the larger of the two.
    """
    if source not in COUNT_SOURCES:
        raise ValueError(f"unknown count source {source!r}; use one of {COUNT_SOURCES}")
    from_tags = count_from_tags(tags)
    if source == "faces" or (source == "auto" and from_tags is None):
        return n_faces
    if source == "tags":
        return from_tags or 0
    if source == "max":
        return max(n_faces, from_tags or 0)
    return from_tags  # auto with tags


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
