"""Scoring kept frames against ground truth (the sample episodes' truth files, `udw.samples`).

The truth partitions each episode's frames into near-duplicate groups; frames of two episodes
that show the same opening/ending drawing are paired (`shared`). Groups joined by such pairs form
one *class*: a distinct picture of the run. A selection keeps some frames and drops the rest:

- coverage: classes with at least one kept frame / all classes (distinct pictures not lost);
- drop precision: dropped frames whose class is still covered / all dropped frames;
- drop recall: those safe drops / (frames - classes), i.e. the share of the redundant frames
  that were removed (1.0 = exactly one frame per class kept);
- redundant: kept frames beyond the first of their class;
- scene boundaries between consecutive kept frames, as precision/recall against the truth scenes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Mapping


@dataclass
class Score:
    frames: int
    classes: int
    kept: int
    covered: int
    coverage: float
    drop_precision: float
    drop_recall: float
    redundant: int
    scene_precision: float
    scene_recall: float

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def line(self) -> str:
        return (f"kept {self.kept}/{self.frames} frames, {self.covered}/{self.classes} distinct pictures "
                f"(coverage {self.coverage:.3f}), drop precision {self.drop_precision:.3f}, drop recall "
                f"{self.drop_recall:.3f}, {self.redundant} redundant; scene cuts P {self.scene_precision:.3f} "
                f"R {self.scene_recall:.3f}")


def score(truths: Iterable, kept: Mapping[str, Mapping[int, int]]) -> Score:
    """`truths`: EpisodeTruth objects; `kept[prefix]`: {kept frame index: our scene id}."""
    truths = list(truths)
    by_prefix = {t.prefix: t for t in truths}
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in truths:
        for f in t.frames:
            find((t.prefix, f.group))
        for shared in t.shared:
            other = by_prefix.get(shared.episode)
            if other is None:
                continue
            for i, j in shared.frames:
                parent[find((t.prefix, t.frames[i].group))] = find((other.prefix, other.frames[j].group))
    classes = {find(x) for x in list(parent)}
    covered, dropped_classes, n_kept, n_frames = set(), [], 0, 0
    cuts_true = cuts_found = cuts_both = 0
    for t in truths:
        mine = kept.get(t.prefix, {})
        for f in t.frames:
            n_frames += 1
            if f.i in mine:
                covered.add(find((t.prefix, f.group)))
                n_kept += 1
            else:
                dropped_classes.append(find((t.prefix, f.group)))
        order = sorted(mine)
        for a, b in zip(order, order[1:]):
            truth_cut = t.frames[a].scene != t.frames[b].scene
            our_cut = mine[a] != mine[b]
            cuts_true += truth_cut
            cuts_found += our_cut
            cuts_both += truth_cut and our_cut
    safe = sum(c in covered for c in dropped_classes)
    redundant_total = n_frames - len(classes)
    return Score(frames=n_frames, classes=len(classes), kept=n_kept, covered=len(covered),
                 coverage=len(covered) / max(1, len(classes)),
                 drop_precision=safe / max(1, len(dropped_classes)),
                 drop_recall=safe / max(1, redundant_total), redundant=n_kept - len(covered),
                 scene_precision=cuts_both / max(1, cuts_found), scene_recall=cuts_both / max(1, cuts_true))


def kept_from_dataset(ds, prefix_of_source: Mapping[str, str]) -> dict[str, dict[int, int]]:
    """{truth prefix: {frame index: scene}} of the active frames in a dataset, by source path."""
    out: dict[str, dict[int, int]] = {}
    with ds.db() as conn:
        rows = conn.execute("SELECT s.path, i.frame_index, i.scene FROM items i JOIN sources s ON s.id=i.source_id "
                            "WHERE i.status='active' AND i.kind='frame'").fetchall()
    for path, index, scene in rows:
        prefix = prefix_of_source.get(path)
        if prefix is not None:
            out.setdefault(prefix, {})[index] = scene
    return out
