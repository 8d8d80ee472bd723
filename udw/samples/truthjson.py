"""Ground truth to and from JSON (schema in :mod:`.truth`): deterministic bytes, atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .truth import (COPY_KINDS, DISTINCT_KINDS, FORMAT, ND_DEFINITION, READS, VERSION, EpisodeTruth, FaceTruth, FrameTruth, GroupTruth,
                    SceneTruth, SharedTruth)


def _face(f: FaceTruth) -> dict:
    d = {"char": f.char, "box": list(f.box), "clipped": f.clipped}
    if f.clipped:
        d["full_box"] = list(f.full_box)
    return d


def truth_to_dict(t: EpisodeTruth) -> dict:
    return {
        "format": FORMAT, "version": VERSION,
        "series": t.series, "episode": t.episode, "prefix": t.prefix, "video": t.video,
        "container": t.container, "codec": t.codec, "pix_fmt": "yuv420p",
        "width": t.width, "height": t.height, "fps": t.fps, "frame_count": t.frame_count, "seed": t.seed,
        "box_format": "xyxy-px-exclusive",
        "near_duplicate": {"shift_px": t.shift_px, "definition": ND_DEFINITION},
        "characters": list(t.characters),
        "kinds": {"distinct": DISTINCT_KINDS, "copy": COPY_KINDS},
        "segments": [{"kind": k, "start": a, "end": b} for k, a, b in t.segments],
        "scenes": [{"id": s.id, "key": s.key, "segment": s.segment, "start": s.start, "end": s.end,
                    "kind": s.kind, "shot": s.shot, "background": s.background, "timing": s.timing,
                    "camera": s.camera, "characters": list(s.characters)} for s in t.scenes],
        "groups": [{"id": g.id, "scene": g.scene, "anchor": g.anchor, "frames": list(g.frames)} for g in t.groups],
        "frames": [{"i": f.i, "pts": f.pts, "scene": f.scene, "drawing": f.drawing, "hold_of": f.hold_of,
                    "group": f.group, "distinct": f.distinct, "kind": f.kind, "cam": list(f.cam), "faces": [_face(x) for x in f.faces]} for f in t.frames],
        "shared": [{"episode": s.episode, "segment": s.segment, "frames": [list(p) for p in s.frames]}
                   for s in t.shared],
    }


def dumps_truth(t: EpisodeTruth) -> str:
    """Pretty enough to read (one record per line), byte-stable for equal input."""
    d = truth_to_dict(t)
    parts = []
    for key, value in d.items():
        if key in ("characters", "segments", "scenes", "groups", "frames", "shared") and value:
            items = ",\n".join("    " + json.dumps(v, separators=(", ", ": ")) for v in value)
            parts.append(f'  "{key}": [\n{items}\n  ]')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, separators=(', ', ': '))}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``path``, then rename it over ``path``."""
    path = Path(path)
    tmp = path.with_name(f"{path.stem}.udwtmp{path.suffix}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_truth(t: EpisodeTruth, path: Path) -> None:
    write_atomic(Path(path), dumps_truth(t).encode("utf-8"))


def _box(v) -> tuple[int, int, int, int]:
    return (int(v[0]), int(v[1]), int(v[2]), int(v[3]))


def truth_from_dict(d: dict) -> EpisodeTruth:
    if d.get("format") != FORMAT:
        raise ValueError(f"not a UDW sample truth file (format {d.get('format')!r})")
    if d.get("version") not in READS:
        raise ValueError(f"unsupported truth version {d.get('version')!r}; this code reads {READS}")
    frames = tuple(
        FrameTruth(f["i"], f["pts"], f["scene"], f["drawing"], f["hold_of"], f["group"],
                   tuple(FaceTruth(x["char"], _box(x["box"]), bool(x["clipped"]),
                                   _box(x.get("full_box", x["box"]))) for x in f["faces"]),
                   (int(f["cam"][0]), int(f["cam"][1])), f.get("distinct", ""), f.get("kind", ""))
        for f in d["frames"])
    return EpisodeTruth(
        d["series"], d["episode"], d["prefix"], d["video"], d["container"], d["codec"], d["width"],
        d["height"], d["fps"], d["frame_count"], d["seed"], d["near_duplicate"]["shift_px"],
        tuple(d["characters"]), tuple((s["kind"], s["start"], s["end"]) for s in d["segments"]),
        tuple(SceneTruth(s["id"], s["key"], s["segment"], s["start"], s["end"], s["kind"], s["shot"],
                         s["background"], s["timing"], s["camera"], tuple(s["characters"]))
              for s in d["scenes"]),
        tuple(GroupTruth(g["id"], g["scene"], g["anchor"], tuple(g["frames"])) for g in d["groups"]),
        frames,
        tuple(SharedTruth(s["episode"], s["segment"], tuple((int(a), int(b)) for a, b in s["frames"]))
              for s in d["shared"]),
    )


def load_truth(path: str | os.PathLike) -> EpisodeTruth:
    """Read a ``*.truth.json`` file into typed records."""
    with open(path, "r", encoding="utf-8") as fh:
        return truth_from_dict(json.load(fh))
