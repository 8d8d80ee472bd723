"""Dataset-grade quality of a duplicate judgement: was every distinct drawing kept, and only once?

Input: the items in a fixed order (frames in decoding order, images in file order), each item's
*distinct-drawing* id and *kind of case* (the ground truth of `udw.samples` records both), and the
set of items a method kept. Every drawing has a kind too: the kind of its first item (how it
differs from the drawing before it: "expression", "arm", "pan_reveal", ...); the other items of a
drawing carry the kind of copy they are ("hold", "blink", "jpeg", ...).

- coverage: kept drawings / drawings (a drawing is kept when at least one of its items is);
- redundancy: kept items / kept drawings (1.0 is ideal);
- duplicate decisions: dropping an item says "this is a duplicate". Per drawing with n items of
  which k are kept: with k >= 1 every drop is right (a true positive, counted in the dropped
  item's kind) and each kept item after the first is a missed duplicate (a false negative, in its
  own kind); with k == 0 the n - 1 later drops are right and one drop lost the drawing (a false
  positive, counted in the drawing's kind). precision = TP / (TP + FP), recall = TP / (TP + FN).

Every figure is given overall and per kind; `None` where a ratio has nothing to count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Hashable, Iterable, Mapping, Optional, Sequence


@dataclass
class KindQuality:
    """Counts and ratios of one kind of case (or of everything: kind "all")."""

    kind: str
    items: int = 0          # items of this kind
    drawings: int = 0       # drawings whose first item has this kind
    covered: int = 0        # of those, drawings with a kept item
    kept_in_covered: int = 0  # kept items of those drawings
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def coverage(self) -> Optional[float]:
        return self.covered / self.drawings if self.drawings else None

    @property
    def redundancy(self) -> Optional[float]:
        return self.kept_in_covered / self.covered if self.covered else None

    @property
    def precision(self) -> Optional[float]:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> Optional[float]:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> Optional[float]:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        for name in ("coverage", "redundancy", "precision", "recall", "f1"):
            value = getattr(self, name)
            out[name] = None if value is None else round(value, 4)
        return out


@dataclass
class Quality:
    overall: KindQuality
    by_kind: dict[str, KindQuality] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"overall": self.overall.to_dict(), "by_kind": {k: v.to_dict() for k, v in self.by_kind.items()}}

    def table(self, title: str = "") -> str:
        """A fixed-width table: one line per kind, then the overall line."""
        def fmt(v: Optional[float]) -> str:
            return "   -  " if v is None else f"{v:6.3f}"

        head = f"{'kind':<14}{'items':>6}{'draw':>6}{'cover':>7}{'redund':>7}{'prec':>7}{'recall':>7}{'F1':>7}"
        lines = [title] if title else []
        lines.append(head)
        for q in [*sorted(self.by_kind.values(), key=lambda q: q.kind), self.overall]:
            lines.append(f"{q.kind:<14}{q.items:>6}{q.drawings:>6} {fmt(q.coverage)} {fmt(q.redundancy)} "
                         f"{fmt(q.precision)} {fmt(q.recall)} {fmt(q.f1)}")
        return "\n".join(lines)


def quality(items: Sequence[Hashable], drawing_of: Mapping[Hashable, str], kind_of: Mapping[Hashable, str],
            kept: Iterable[Hashable]) -> Quality:
    """Coverage, redundancy and duplicate-decision precision/recall/F1, overall and per kind.

    ``items`` fixes the order (a drawing's first item gives the drawing's kind); every item needs
    an entry in ``drawing_of`` and ``kind_of``. Kept items that are not in ``items`` are an error.
    """
    kept_set = set(kept)
    order = {item: n for n, item in enumerate(items)}
    if len(order) != len(items):
        raise ValueError("items must not repeat")
    stray = kept_set - order.keys()
    if stray:
        raise ValueError(f"{len(stray)} kept item(s) are not in the truth, e.g. {next(iter(stray))!r}")
    members: dict[str, list[Hashable]] = {}
    for item in items:
        try:
            members.setdefault(drawing_of[item], []).append(item)
            kind_of[item]
        except KeyError:
            raise ValueError(f"item {item!r} has no drawing id or kind in the truth") from None
    overall = KindQuality("all")
    by_kind: dict[str, KindQuality] = {}

    def at(kind: str) -> KindQuality:
        return by_kind.setdefault(kind, KindQuality(kind))

    for item in items:
        at(kind_of[item]).items += 1
        overall.items += 1
    for group in members.values():
        _score_drawing(group, kept_set, kind_of, at, overall)
    return Quality(overall, by_kind)


def _score_drawing(group: list, kept: set, kind_of: Mapping, at, overall: KindQuality) -> None:
    """Add one drawing's coverage and decisions to its kinds and to the overall counts."""
    drawing_kind = kind_of[group[0]]
    kept_items = [i for i in group if i in kept]
    for q in (at(drawing_kind), overall):
        q.drawings += 1
        if kept_items:
            q.covered += 1
            q.kept_in_covered += len(kept_items)
    if not kept_items:
        at(drawing_kind).fp += 1
        overall.fp += 1
        dropped_right = group[1:]
    else:
        dropped_right = [i for i in group if i not in kept]
        for item in kept_items[1:]:
            at(kind_of[item]).fn += 1
            overall.fn += 1
    for item in dropped_right:
        at(kind_of[item]).tp += 1
        overall.tp += 1
