"""Ground truth of issue 14: distinct drawings and kinds of case in the sample episodes and image sets."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
from PIL import Image

from udw.dedupe.quality import quality
from udw.samples import (COPY_KINDS, DISTINCT_KINDS, build_truth, episode_labels, generate_image_set,
                         imageset_labels, plan_episode, render_frame)


@pytest.fixture(scope="module")
def default_set():
    plans = [plan_episode(episode=e) for e in (1, 2)]
    return plans, [build_truth(p, "v.mp4", "mp4", "h264", [q for q in plans if q is not p]) for p in plans]


def _changed_box(a: np.ndarray, b: np.ndarray):
    ys, xs = np.nonzero(np.any(a != b, axis=-1))
    return (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if len(xs) else None


def test_every_kind_of_case_occurs_and_groups_are_the_distinct_drawings(default_set):
    _, truths = default_set
    kinds = collections.Counter(f.kind for t in truths for f in t.frames)
    assert set(kinds) <= set(DISTINCT_KINDS) | set(COPY_KINDS)
    for kind in ("expression", "outfit", "head_tilt", "hand", "arm", "pan_reveal", "hold", "blink", "lip_flap",
                 "slow_pan"):
        assert kinds[kind] >= 2, (kind, kinds)
    for t in truths:
        by_group = collections.defaultdict(set)
        for f in t.frames:
            by_group[f.group].add(f.distinct)
            assert (f.kind in DISTINCT_KINDS) == (t.groups[f.group].anchor == f.i), f
        assert all(len(v) == 1 for v in by_group.values())
        assert len({f.distinct for f in t.frames}) == len(t.groups)
    # the shared opening is the same drawings in both episodes: same ids, counted once
    labels = episode_labels(truths)
    opening = [k for k in labels.items if k[0].endswith("EP02") and labels.drawing_of[k].startswith("op")]
    assert opening and all(labels.kind_of[k] == "episode_repeat" for k in opening)


def _pairs(truth, kind):
    """(frame, anchor frame) of every copy of `kind` and (frame, previous frame) of every distinct one."""
    out = []
    for f in truth.frames:
        if f.kind == kind:
            other = truth.groups[f.group].anchor if kind in COPY_KINDS else f.i - 1
            out.append((f, truth.frames[other]))
    return out


def _only(s1, s2, feature: str) -> bool:
    """Do two frame states differ in `feature` of their characters and in nothing else?"""
    other = {"eyes": "mouth", "mouth": "eyes"}[feature]
    return (all(getattr(p, other) == getattr(q, other) for p, q in zip(s1.actors, s2.actors))
            and any(getattr(p, feature) != getattr(q, feature) for p, q in zip(s1.actors, s2.actors)))


def test_a_blink_or_lip_flap_changes_only_the_eyes_or_mouth(default_set):
    plans, truths = default_set
    for kind, band in (("blink", (0.35, 0.8)), ("lip_flap", (0.7, 1.02))):
        pairs = [(p, f, a) for p, t in zip(plans, truths) for f, a in _pairs(t, kind)
                 if f.cam == a.cam and _only(p.state(f.i), p.state(a.i), "eyes" if kind == "blink" else "mouth")][:12]
        assert pairs, kind
        for plan, f, a in pairs:
            box = _changed_box(render_frame(plan, f.i), render_frame(plan, a.i))
            assert box is not None, (kind, f.i)
            faces = [x.full_box for x in f.faces]
            inside = [fb for fb in faces if fb[0] <= box[0] and box[2] <= fb[2] + 1
                      and fb[1] + band[0] * (fb[3] - fb[1]) <= box[1] and box[3] <= fb[1] + band[1] * (fb[3] - fb[1]) + 1]
            if len(faces) == 1:  # one face: the change lies in its eye (mouth) band
                assert inside, (kind, f.i, box, faces)


def test_distinct_acting_kinds_change_the_picture_where_expected(default_set):
    plans, truths = default_set
    seen = set()
    for plan, t in zip(plans, truths):
        for kind in ("expression", "head_tilt", "hand", "outfit", "arm"):
            for f, prev in _pairs(t, kind):
                if f.cam != prev.cam or len(f.faces) != 1:
                    continue
                a, b = render_frame(plan, f.i), render_frame(plan, prev.i)
                box = _changed_box(a, b)
                face = f.faces[0].full_box
                fh = face[3] - face[1]
                assert box is not None, (kind, f.i)
                if kind == "expression":  # brows, eyes and mouth: the face only, not just one band
                    assert face[1] <= box[1] and box[3] <= face[3] + 2 and box[3] - box[1] > 0.35 * fh
                elif kind in ("outfit", "hand", "arm"):  # below the face (a raised hand may pass it)
                    assert box[3] > face[3] + 0.5 * fh
                seen.add(kind)
    assert seen == {"expression", "head_tilt", "hand", "outfit", "arm"}, seen


def test_outfit_variants_can_keep_the_brightness():
    from udw.samples.cast import OUTFITS

    luma = [0.299 * r + 0.587 * g + 0.114 * b for (r, g, b), _ in OUTFITS[1:]]
    assert min(abs(x - y) for i, x in enumerate(luma) for y in luma[i + 1:]) < 15  # hue-only differences exist


@pytest.fixture(scope="module")
def image_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("imgset")
    return out, generate_image_set(out, bases=6, seed=3, width=240, height=180, copies=3)


def test_image_set_truth_names_every_file_and_its_kind(image_set):
    out, path = image_set
    data = json.loads(path.read_text())
    files = sorted(p.relative_to(out).as_posix() for p in (out / "images").iterdir())
    assert files == sorted(i["file"] for i in data["images"]) and not any("udwtmp" in f for f in files)
    assert sorted(f for g in data["groups"] for f in g) == files
    kinds = {i["kind"] for i in data["images"]}
    assert {"new", "jpeg", "webp", "h264", "rescale", "crop", "shift", "gamma"} & kinds and "new" in kinds
    labels = imageset_labels(path)
    first = {}
    for item in labels.items:
        first.setdefault(labels.drawing_of[item], labels.kind_of[item])
    assert set(first.values()) <= set(data["kinds"]["distinct"])  # each drawing starts with its clean picture
    ideal = [next(i for i in labels.items if labels.drawing_of[i] == d) for d in first]
    q = quality(labels.items, labels.drawing_of, labels.kind_of, ideal)
    assert q.overall.coverage == 1.0 and q.overall.f1 == 1.0


def test_image_set_copies_are_close_and_variants_differ(image_set):
    out, path = image_set
    data = json.loads(path.read_text())

    def load(f, size=(48, 36)):
        return np.asarray(Image.open(out / f).convert("RGB").resize(size, Image.Resampling.BOX), np.float32)

    clean = {}
    for i in data["images"]:
        clean.setdefault(i["drawing"], i["file"])
    for i in data["images"]:
        if i["kind"] in ("jpeg", "webp", "h264", "rescale", "gamma"):
            assert np.abs(load(i["file"]) - load(clean[i["drawing"]])).mean() < 6.0, i
    for d in data["drawings"]:
        if d["kind"] not in ("new", "pan_reveal"):  # a variant differs from its base, somewhere
            diff = np.abs(load(clean[d["id"]]) - load(clean[f"{d['of']}.v0"])).max()
            assert diff > 40, d


def test_image_set_is_deterministic(image_set, tmp_path):
    out, path = image_set
    again = generate_image_set(tmp_path, bases=6, seed=3, width=240, height=180, copies=3)
    assert again.read_bytes() == path.read_bytes()
    with pytest.raises(ValueError):
        generate_image_set(tmp_path, bases=0)


def test_cli_writes_an_image_set(tmp_path):
    from udw.samples.__main__ import main

    assert main([str(tmp_path), "--episodes", "1", "--duration", "2", "--width", "96", "--height", "54",
                 "--fps", "8", "--quiet", "--image-set", "1"]) == 0
    labels = imageset_labels(tmp_path / "imageset" / "imageset.truth.json")
    assert labels.items and all((tmp_path / "imageset" / f).is_file() for f in labels.items)
