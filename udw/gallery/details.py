"""What the browser shows besides the grid: facets, tag suggestions, one item's full detail
(tags with confidences, faces, provenance, stages, generation metadata), faces drawn."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw

from ..core.errors import NotFound
from ..core.images import open_image
from ..core.manifest import Dataset
from ..core.ports import Ports
from .fonts import ui_font
from .metadata import read_metadata
from .query import NONE, Filter, episode_key, where
from .sidecars import read_sidecars

CATEGORY_ORDER = {"rating": 0, "character": 1, "general": 2}
PALETTE = [(255, 99, 132), (54, 162, 235), (255, 206, 86), (75, 192, 192), (153, 102, 255), (255, 159, 64)]


def facets(ds: Dataset) -> dict:
    with ds.db() as conn:
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall())
        buckets = [{"value": b if b is not None else NONE, "count": n} for b, n in conn.execute(
            "SELECT bucket, COUNT(*) FROM items WHERE status='active' GROUP BY bucket ORDER BY bucket")]
        characters = [{"value": c, "count": n} for c, n in conn.execute(
            "SELECT character, COUNT(DISTINCT item_id) FROM faces WHERE character IS NOT NULL "
            "GROUP BY character ORDER BY 2 DESC LIMIT 500")]
        episodes = [{"value": episode_key(s, e), "count": n} for s, e, n in conn.execute(
            "SELECT series, episode, COUNT(*) FROM items WHERE series IS NOT NULL OR episode IS NOT NULL "
            "GROUP BY series, episode ORDER BY series, episode LIMIT 1000")]
        sources = [{"value": i, "label": Path(p).name, "count": n} for i, p, n in conn.execute(
            "SELECT s.id, s.path, COUNT(i.id) FROM sources s LEFT JOIN items i ON i.source_id = s.id "
            "GROUP BY s.id ORDER BY s.id LIMIT 1000")]
        clusters = conn.execute("SELECT COUNT(DISTINCT cluster) FROM items WHERE cluster IS NOT NULL").fetchone()[0]
        # items with any tag: a tag filter on an untagged dataset can then say why nothing matches
        tagged = conn.execute("SELECT COUNT(DISTINCT item_id) FROM tags").fetchone()[0]
    return {"statuses": statuses, "buckets": buckets, "characters": characters, "episodes": episodes,
            "sources": sources, "clusters": clusters, "tagged": tagged}


def suggest_tags(ds: Dataset, prefix: str, limit: int) -> list[dict]:
    """Tags starting with `prefix`, most used first (an index range, not a scan)."""
    with ds.db() as conn:
        if prefix:
            rows = conn.execute(
                "SELECT tag, COUNT(*) FROM tags WHERE tag >= ? AND tag < ? GROUP BY tag ORDER BY 2 DESC LIMIT ?",
                (prefix, prefix + "\U0010ffff", limit))
        else:
            rows = conn.execute("SELECT tag, COUNT(*) FROM tags WHERE item_id IN "
                                "(SELECT id FROM items ORDER BY id LIMIT 2000) GROUP BY tag ORDER BY 2 DESC LIMIT ?",
                                (limit,))
        return [{"tag": t, "count": n} for t, n in rows]


def _iso(ts: Optional[float]) -> Optional[str]:
    return dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds") if ts else None


def _timecode(pts: Optional[float]) -> Optional[str]:
    if pts is None:
        return None
    h, rem = divmod(float(pts), 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def detail(ds: Dataset, item_id: int, path: Path) -> dict:
    with ds.db() as conn:
        row = conn.execute("SELECT * FROM items WHERE id=?", (item_id,)).fetchone()
        if row is None:
            raise NotFound(f"no item {item_id} in {ds.root}")
        item = dict(row)
        tags = [dict(r) for r in conn.execute("SELECT tag, category, score FROM tags WHERE item_id=?", (item_id,))]
        faces = [dict(r) for r in conn.execute("SELECT * FROM faces WHERE item_id=? ORDER BY idx", (item_id,))]
        source = conn.execute("SELECT * FROM sources WHERE id=?", (item["source_id"],)).fetchone() \
            if item["source_id"] is not None else None
        stages = [dict(r) for r in conn.execute(
            "SELECT stage, ok, error, finished FROM stage_done WHERE item_id=? ORDER BY finished", (item_id,))]
        edits = [dict(r) for r in conn.execute(
            "SELECT tag, action, at FROM tag_edits WHERE item_id=? ORDER BY at DESC LIMIT 50", (item_id,))]
        related = {k: conn.execute("SELECT id, path FROM items WHERE id=?", (item[k],)).fetchone()
                   for k in ("parent_id", "duplicate_of") if item[k] is not None}
        duplicates = conn.execute("SELECT COUNT(*) FROM items WHERE duplicate_of=?", (item_id,)).fetchone()[0]
    tags.sort(key=lambda t: (CATEGORY_ORDER.get(t["category"], 3), -t["score"], t["tag"]))
    exists = path.is_file()
    try:
        item["extra"] = json.loads(item.get("extra") or "{}")
    except ValueError:
        pass
    width, height = item["width"], item["height"]
    meta = None
    if exists:
        meta = read_metadata(path)
        width, height = width or meta.width, height or meta.height
    out = {
        "item": item, "exists": exists, "name": path.name, "width": width, "height": height,
        "tags": tags, "faces": [_face(f, width, height) for f in faces],
        "provenance": {
            "source": dict(source) if source else None, "series": item["series"], "episode": item["episode"],
            "frame_index": item["frame_index"], "timecode": _timecode(item["pts"]), "scene": item["scene"],
            "parent": dict(related["parent_id"]) if "parent_id" in related and related["parent_id"] else None,
            "duplicate_of": dict(related["duplicate_of"]) if related.get("duplicate_of") else None,
            "duplicates": duplicates, "cluster": item["cluster"], "created": _iso(item["created"]),
        },
        "stages": [{**s, "finished": _iso(s["finished"])} for s in stages],
        "edits": [{**e, "at": _iso(e["at"])} for e in edits],
        "sidecars": read_sidecars(path) if exists else {},
        "metadata": None,
    }
    if meta is not None:
        out["metadata"] = {**meta.to_dict(), "infotext": meta.info.to_infotext() if meta.info else "",
                           "notes": meta.info.detail_lines() if meta.info else [],  # LoRA files, passes
                           "raw": meta.raw_json(60_000)}
    return out


def _face(f: dict, width: Optional[int], height: Optional[int]) -> dict:
    """Face boxes as fractions of the image (stored in pixels, or already relative)."""
    box = [f["x0"], f["y0"], f["x1"], f["y1"]]
    if max(box) > 1.5 and width and height:
        box = [box[0] / width, box[1] / height, box[2] / width, box[3] / height]
    has_box = box[2] > box[0] and box[3] > box[1]
    return {"idx": f["idx"], "box": [round(v, 4) for v in box] if has_box else None, "score": f["score"],
            "detector": f["detector"], "character": f["character"], "character_score": f["character_score"]}


def faces_image(ds: Dataset, item_id: int, path: Path, max_side: int = 1024) -> Image.Image:
    """The image with its faces outlined and labelled (character and score)."""
    im = open_image(path)
    with ds.db() as conn:
        faces = [dict(r) for r in conn.execute("SELECT * FROM faces WHERE item_id=? ORDER BY idx", (item_id,))]
    w0, h0 = im.size
    scale = max_side / max(w0, h0)
    if scale < 1 or max(w0, h0) < 512:  # shrink big frames; enlarge tiny ones so labels stay readable
        scale = min(scale, 512 / max(w0, h0))
        im = im.resize((max(1, round(w0 * scale)), max(1, round(h0 * scale))), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(im)
    font = ui_font(max(12, im.width // 50))
    for f in faces:
        face = _face(f, w0, h0)
        if not face["box"]:
            continue
        x0, y0, x1, y1 = (face["box"][0] * im.width, face["box"][1] * im.height,
                          face["box"][2] * im.width, face["box"][3] * im.height)
        colour = PALETTE[f["idx"] % len(PALETTE)]
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=max(2, im.width // 300))
        label = f"{face['character'] or 'face'} {face['score']:.2f}"
        ty = max(0, y0 - font.size - 4)
        draw.rectangle([x0, ty, x0 + draw.textlength(label, font=font) + 6, ty + font.size + 4], fill=colour)
        draw.text((x0 + 3, ty + 1), label, fill=(0, 0, 0), font=font)
    return im


def check_files(ds: Dataset, f: Filter, ports: Ports) -> dict:
    """Mark filtered items whose file is gone `missing`; missing ones found again become active."""
    probe = Filter(**{**f.__dict__, "status": "any"})
    cond, args = where(probe)
    with ds.db() as conn:
        rows = conn.execute(f"SELECT i.id, i.path, i.status FROM items i WHERE {cond}", args).fetchall()
    gone, back = [], []
    for n, (item_id, rel, status) in enumerate(rows, 1):
        exists = (ds.root / rel).is_file()
        if not exists and status != "missing":
            gone.append(item_id)
        elif exists and status == "missing":
            back.append(item_id)
        if n % 2000 == 0:
            ports.step(n, len(rows))
    with ds.transaction() as conn:
        conn.executemany("UPDATE items SET status='missing' WHERE id=?", [(i,) for i in gone])
        conn.executemany("UPDATE items SET status='active' WHERE id=?", [(i,) for i in back])
    ports.progress(len(rows), len(rows))
    return {"checked": len(rows), "missing": len(gone), "found_again": len(back)}
