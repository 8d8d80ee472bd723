"""Hierarchical balancing, computed once and exported to every trainer.

The arranged folders form a tree (count -> character -> bucket). Going down from the root, each
child gets a share of its parent's sampling probability proportional to its weight (1 unless the
user gives one, by folder name or by a glob on the folder path), so every concept is seen about
equally however many images it has. A folder's per-image weight is its probability over its image
count; the multiplier of a folder is that weight relative to the smallest one, so the rarest
images are seen once per epoch (the seed's generate_multiply.py), capped at `max_multiply`.
With `normalise='total'` the multipliers are scaled instead so an epoch keeps the dataset's size.

Trainers differ in how they read a multiplier m for a folder of n images:
- EveryDream2 `multiply.txt` (float): every image floor(m) times, plus fractional picks until the
  epoch holds floor(sum of all images' multipliers) samples (data_loader.py);
- kohya `num_repeats` (integer >= 1): round(m), n * round(m) samples;
- OneTrainer `balancing`: REPEATS -> floor(n * m) samples (mgds DiskCache), SAMPLES -> int(balancing).
Both floors lose a sample to a multiplier written short (3 x 1.6666 = 4.9998 -> 4), so the written
multiplier is the intended count round(n * m) over n, rounded *up* at 6 decimals (`written`).
"""

from __future__ import annotations

import csv
import fnmatch
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

from ..core.errors import BadInput

NORMALISE = ("min1", "total")
DECIMALS = 6  # n * excess stays below one sample for folders under a million images


@dataclass
class Row:
    folder: tuple[str, ...]   # path parts below the arrangement root
    images: int
    probability: float = 0.0
    multiplier: float = 1.0

    @property
    def path(self) -> str:
        return "/".join(self.folder)

    def repeats(self) -> int:
        """kohya num_repeats."""
        return max(1, int(round(self.multiplier)))

    def samples(self) -> int:
        """The intended samples per epoch: n * m to the nearest whole sample."""
        return int(round(self.images * self.multiplier)) if self.multiplier > 0 else 0

    def written(self) -> str:
        """The multiplier as written for ED2 and OneTrainer: floor(n * written) == samples()."""
        if self.images <= 0 or self.multiplier <= 0:
            return "0"
        scale = 10 ** DECIMALS
        units = math.ceil(Fraction(self.samples() * scale, self.images))
        whole, frac = divmod(units, scale)
        return str(whole) if not frac else f"{whole}.{frac:0{DECIMALS}d}".rstrip("0")

    def ed2_samples(self) -> float:
        """The ideal n * m (what the balance asks for, before any trainer rounds it)."""
        return self.images * self.multiplier

    def kohya_samples(self) -> int:
        return self.images * self.repeats()

    def onetrainer_samples(self, strategy: str = "REPEATS") -> int:
        """mgds: REPEATS -> floor(n * balancing); SAMPLES -> int(balancing)."""
        return int(math.floor(self.images * float(self.written()))) if strategy == "REPEATS" else self.samples()


@dataclass
class Balance:
    rows: list[Row] = field(default_factory=list)
    normalise: str = "min1"

    @property
    def images(self) -> int:
        return sum(r.images for r in self.rows)

    def epoch(self, trainer: str, strategy: str = "REPEATS") -> int:
        """Samples per epoch as `trainer` will count them from the files written."""
        if trainer == "kohya":
            return sum(r.kohya_samples() for r in self.rows if r.multiplier > 0)
        if trainer == "onetrainer":
            return sum(r.onetrainer_samples(strategy) for r in self.rows if r.multiplier > 0)
        # EveryDream2: floor of the sum of every image's multiplier, over the whole dataset
        return math.floor(sum(Fraction(r.written()) * r.images for r in self.rows))


def read_weights(path: Optional[Path]) -> dict[str, float]:
    """A CSV of `pattern, weight` rows (folder name or glob on the folder path), like the seed's."""
    if not path:
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
        return {r[0].strip(): float(r[1]) for r in rows}
    except (OSError, IndexError, ValueError) as exc:
        raise BadInput(f"{path}: cannot read weights ({exc})", "write one 'folder or pattern, weight' per line") from exc


def parse_weights(pairs: Sequence[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.rpartition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise BadInput(f"bad weight {pair!r}", "write FOLDER=WEIGHT, e.g. Aoi=2 or '*/face_height_ratio_0-25=0.5'") from None
        if not sep or not key.strip() or out[key.strip()] < 0:
            raise BadInput(f"bad weight {pair!r}", "write FOLDER=WEIGHT with a weight >= 0")
    return out


def _weight(parts: tuple[str, ...], weights: dict[str, float]) -> float:
    name, path = parts[-1], "/".join(parts)
    if name in weights:
        return weights[name]
    for pattern, w in weights.items():
        if fnmatch.fnmatchcase(path, pattern):
            return w
    return 1.0


def compute(counts: dict[tuple[str, ...], int], weights: Optional[dict[str, float]] = None,
            max_multiply: float = 100.0, normalise: str = "min1") -> Balance:
    """Balance leaf folders (path parts -> image count); empty folders are ignored."""
    if normalise not in NORMALISE:
        raise BadInput(f"unknown normalisation {normalise!r}", f"use one of {', '.join(NORMALISE)}")
    weights = weights or {}
    leaves = {k: n for k, n in counts.items() if n > 0}
    rows = [Row(k, n) for k, n in sorted(leaves.items())]
    for r in rows:
        r.probability = _probability(r.folder, leaves, weights)
    live = [r for r in rows if r.probability > 0]
    if not live:
        return Balance(rows, normalise)
    per_image = {r.folder: r.probability / r.images for r in live}
    if normalise == "min1":
        low = min(per_image.values())
        for r in live:
            r.multiplier = min(per_image[r.folder] / low, max_multiply)
    else:
        total = sum(r.images for r in rows)
        for r in live:
            r.multiplier = min(per_image[r.folder] * total, max_multiply)
    for r in rows:
        if r.probability == 0:
            r.multiplier = 0.0
    return Balance(rows, normalise)


def _probability(leaf: tuple[str, ...], leaves: dict, weights: dict[str, float]) -> float:
    """Product over levels of weight(child) / sum(weights of the siblings that hold images)."""
    p = 1.0
    for depth in range(len(leaf)):
        prefix = leaf[:depth]
        siblings = {k[:depth + 1] for k in leaves if k[:depth] == prefix}
        total = sum(_weight(s, weights) for s in siblings)
        if total <= 0:
            return 0.0
        p *= _weight(leaf[:depth + 1], weights) / total
    return p


def table(balance: Balance, trainer: str = "all", strategy: str = "REPEATS") -> str:
    """The printed table: per folder, images, weight and effective samples per epoch."""
    cols = ["folder", "images", "share", "weight"]
    if trainer in ("all", "everydream"):
        cols.append("ED2/epoch")
    if trainer in ("all", "kohya"):
        cols += ["repeats", "kohya/epoch"]
    if trainer in ("all", "onetrainer"):
        cols.append(f"OT {strategy.lower()}/epoch")
    lines = []
    for r in balance.rows:
        vals = {"folder": r.path or ".", "images": str(r.images), "share": f"{r.probability * 100:.1f}%",
                "weight": f"{r.multiplier:.3f}", "ED2/epoch": f"{r.ed2_samples():.1f}",
                "repeats": str(r.repeats()), "kohya/epoch": str(r.kohya_samples()),
                f"OT {strategy.lower()}/epoch": str(r.onetrainer_samples(strategy))}
        lines.append([vals[c] for c in cols])
    tot = {"folder": "total", "images": str(balance.images), "share": "100%", "weight": "",
           "ED2/epoch": str(balance.epoch("everydream")), "repeats": "",
           "kohya/epoch": str(balance.epoch("kohya")),
           f"OT {strategy.lower()}/epoch": str(balance.epoch("onetrainer", strategy))}
    lines.append([tot[c] for c in cols])
    widths = [max(len(c), *(len(l[i]) for l in lines)) for i, c in enumerate(cols)]
    fmt = lambda vals: "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(vals, widths)))
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(cols), rule, *map(fmt, lines[:-1]), rule, fmt(lines[-1])])
