"""How good a dedupe is: precision, recall and F1 against ground-truth near-duplicate groups.

Ground truth files (JSON; several may be given):
- the sample episodes' truth (`"format": "udw.samples.truth"`, udw/samples): its `groups`, with
  the `shared` opening/ending frames of other episodes merged into one group (removing a repeated
  opening across episodes is right). Items are matched by source video + frame index, else by a
  file name `<prefix>_<frame>` (e.g. udwdemo_EP01_000123.png);
- a generic file: {"groups": [["a.png", "b.png"], ...]} (or {"groups": {"name": [...]}}, or
  {"items": {"a.png": "group", ...}}); entries are dataset paths, file names or stems.
Items that no truth file names are left out of the scores (their count is reported).

Scores: pairs (every two items that share a predicted cluster vs a true group), clusters (a
predicted cluster of two or more that equals a true group exactly) and removal (a removed item is
right when the item kept in its place is in its true group; ideal: all but one per true group).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from ..core.errors import BadInput
from ..core.manifest import Dataset, Item


@dataclass
class Truth:
    """Group label per reference key: ('video', name, frame) or ('name', name)."""

    labels: dict[tuple, str]
    sources: list[str]


def load_truth(paths: Iterable[Union[str, Path]]) -> Truth:
    labels: dict[tuple, str] = {}
    sources = []
    samples = []
    for path in paths:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise BadInput(f"{path}: ground-truth file not found", "check the path given to --eval") from exc
        except (OSError, ValueError) as exc:
            raise BadInput(f"{path}: not a readable JSON file ({exc})", "give a ground-truth JSON file") from exc
        if not isinstance(data, dict):
            raise BadInput(f"{path}: ground truth must be a JSON object", "see `udw dedupe --help`")
        sources.append(str(path))
        if data.get("format") == "udw.samples.truth":
            samples.append(data)
        else:
            labels.update(_generic(data, path))
    labels.update(_samples(samples))
    return Truth(labels, sources)


def _generic(data: dict, path: Path) -> dict[tuple, str]:
    out: dict[tuple, str] = {}
    groups = data.get("groups")
    if isinstance(groups, dict):
        groups = [[str(n) for n in v] for v in groups.values()]
    if isinstance(groups, list):
        for g, members in enumerate(groups):
            for name in members:
                out[("name", _norm(name))] = f"{path.name}:{g}"
    items = data.get("items")
    if isinstance(items, dict):
        for name, group in items.items():
            out[("name", _norm(name))] = f"{path.name}:{group}"
    if not out:
        raise BadInput(f"{path}: no 'groups' or 'items' in the ground truth",
                       'use {"groups": [["a.png", "b.png"], ...]} or a udw.samples truth file')
    return out


def _norm(name: str) -> str:
    return str(name).replace("\\", "/").strip().lower()


def _samples(truths: list[dict]) -> dict[tuple, str]:
    """Frame keys of sample episodes; groups joined across episodes through `shared`."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    frame_group: dict[tuple[str, int], str] = {}
    for t in truths:
        for g in t.get("groups", []):
            for i in g["frames"]:
                frame_group[(t["prefix"], int(i))] = f"{t['prefix']}:g{g['id']}"
    for t in truths:
        for shared in t.get("shared", []):
            for i, j in shared.get("frames", []):
                a, b = frame_group.get((t["prefix"], int(i))), frame_group.get((shared["episode"], int(j)))
                if a and b:
                    parent[find(a)] = find(b)
    out = {}
    by_prefix = {t["prefix"]: t for t in truths}
    for (prefix, i), g in frame_group.items():
        label = find(g)
        out[("video", by_prefix[prefix]["video"].lower(), i)] = label
        out[("frame", prefix.lower(), i)] = label
    return out


_FRAME_NAME = re.compile(r"^(?P<prefix>.+?)[_-](?P<n>\d+)$")


def item_label(truth: Truth, item: Item, source_names: dict[int, str]) -> Optional[str]:
    """The true group of an item, or None when no truth file names it."""
    if item.frame_index is not None and item.source_id in source_names:
        label = truth.labels.get(("video", source_names[item.source_id], int(item.frame_index)))
        if label:
            return label
    path = _norm(item.path)
    name = path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    for key in (path, name, stem):
        label = truth.labels.get(("name", key))
        if label:
            return label
    m = _FRAME_NAME.match(stem)
    if m:
        return truth.labels.get(("frame", m["prefix"], int(m["n"])))
    return None


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def score(true_label: Sequence, predicted: Sequence[int], removed_ok: Optional[Sequence[bool]] = None) -> dict:
    """Scores of predicted cluster ids (the survivor of each item) against true labels."""
    t = np.unique(np.asarray(true_label, dtype=object).astype(str), return_inverse=True)[1].ravel()
    p = np.unique(np.asarray(predicted), return_inverse=True)[1].ravel()
    n = len(t)
    joint = np.unique(t.astype(np.int64) * (p.max() + 1 if n else 1) + p, return_counts=True)[1]
    tp = _pairs(joint)
    pred_pairs, true_pairs = _pairs(np.bincount(p)), _pairs(np.bincount(t))
    pair_p = tp / pred_pairs if pred_pairs else 1.0
    pair_r = tp / true_pairs if true_pairs else 1.0
    exact, pred_multi, true_multi = _exact_clusters(t, p)
    cl_p = exact / pred_multi if pred_multi else 1.0
    cl_r = exact / true_multi if true_multi else 1.0
    ideal = n - len(np.unique(t)) if n else 0
    out = {"items": n, "true_groups": int(len(np.unique(t))) if n else 0,
           "pairs": {"precision": pair_p, "recall": pair_r, "f1": _f1(pair_p, pair_r),
                     "true": true_pairs, "predicted": pred_pairs, "correct": tp},
           "clusters": {"precision": cl_p, "recall": cl_r, "f1": _f1(cl_p, cl_r),
                        "true": true_multi, "predicted": pred_multi, "exact": exact}}
    if removed_ok is not None:
        removed_ok = np.asarray(removed_ok, dtype=object)
        removed = int(sum(x is not None for x in removed_ok))
        right = int(sum(bool(x) for x in removed_ok if x is not None))
        rp = right / removed if removed else 1.0
        rr = right / ideal if ideal else 1.0
        out["removal"] = {"precision": rp, "recall": rr, "f1": _f1(rp, rr), "removed": removed,
                          "right": right, "ideal": ideal}
        out["drawings"] = _coverage(t, np.array([x is None for x in removed_ok], bool), removed - right)
    return out


def _coverage(t: np.ndarray, kept: np.ndarray, wrong_merges: int) -> dict:
    """Both error sides per true group (drawing): coverage = share of drawings with a kept
    picture, redundancy = kept pictures per covered drawing; wrong merges = removals whose kept
    picture is another drawing; missed copies = kept pictures beyond one per drawing."""
    groups = len(np.unique(t)) if len(t) else 0
    covered = len(np.unique(t[kept])) if kept.any() else 0
    n_kept = int(kept.sum())
    return {"coverage": covered / groups if groups else 1.0,
            "redundancy": n_kept / covered if covered else 0.0,
            "drawings": groups, "covered": covered, "kept": n_kept,
            "wrong_merges": int(wrong_merges), "missed_copies": n_kept - covered,
            "lost_drawings": groups - covered}


def _exact_clusters(t: np.ndarray, p: np.ndarray) -> tuple[int, int, int]:
    """(predicted clusters equal to a true group, predicted clusters of 2+, true groups of 2+)."""
    true_sets = {}
    for i, g in enumerate(t.tolist()):
        true_sets.setdefault(g, []).append(i)
    pred_sets = {}
    for i, g in enumerate(p.tolist()):
        pred_sets.setdefault(g, []).append(i)
    true_multi = {tuple(v) for v in true_sets.values() if len(v) > 1}
    pred_multi = [tuple(v) for v in pred_sets.values() if len(v) > 1]
    return sum(v in true_multi for v in pred_multi), len(pred_multi), len(true_multi)


def evaluate_dataset(ds: Dataset, truth: Truth, survivor: Optional[dict[int, int]] = None) -> dict:
    """Score a dedupe result against `truth`: `survivor` (item id -> id kept in its place) or,
    by default, the manifest's current marks (status / duplicate_of)."""
    with ds.db() as conn:
        names = {r[0]: Path(r[1]).name.lower() for r in conn.execute("SELECT id, path FROM sources")}
    items = ds.items(status=None, where="status IN ('active', 'duplicate')")
    if survivor is None:
        survivor = {it.id: (it.duplicate_of if it.status == "duplicate" and it.duplicate_of else it.id)
                    for it in items}
    labelled = [(it, item_label(truth, it, names)) for it in items if it.id in survivor]
    known = [(it, lab) for it, lab in labelled if lab is not None]
    if not known:
        raise BadInput("no item of the dataset is named in the ground truth",
                       "check that the truth file matches these images (paths, names or frame indices)")
    label_of = {it.id: lab for it, lab in known}
    predicted = [survivor[it.id] for it, _ in known]
    removed_ok = [None if survivor[it.id] == it.id else label_of.get(survivor[it.id]) == lab for it, lab in known]
    out = score([lab for _, lab in known], predicted, removed_ok)
    out["unlabelled_items"] = len(labelled) - len(known)
    return out


def format_scores(scores: dict) -> str:
    lines = [f"evaluation on {scores['items']} items in {scores['true_groups']} true groups"
             + (f" ({scores['unlabelled_items']} items not in the truth, skipped)" if scores.get("unlabelled_items") else "")]
    d = scores.get("drawings")
    if d:
        lines.append(f"  drawings coverage {d['coverage']:.3f} ({d['covered']} of {d['drawings']} distinct drawings kept), "
                     f"redundancy {d['redundancy']:.2f} kept per drawing")
        lines.append(f"  errors   {d['wrong_merges']} wrong merges (a different drawing removed; "
                     f"{d['lost_drawings']} drawings lost), {d['missed_copies']} missed copies (kept twice)")
    for key in ("pairs", "clusters", "removal"):
        if key in scores:
            s = scores[key]
            extra = {"pairs": f"{s.get('correct', 0)}/{s.get('predicted', 0)} predicted, {s.get('true', 0)} true",
                     "clusters": f"{s.get('exact', 0)} exact of {s.get('predicted', 0)} predicted, {s.get('true', 0)} true",
                     "removal": f"{s.get('right', 0)} right of {s.get('removed', 0)} removed, ideal {s.get('ideal', 0)}"}[key]
            lines.append(f"  {key:<8} precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
                         f"F1 {s['f1']:.3f}  ({extra})")
    return "\n".join(lines)
