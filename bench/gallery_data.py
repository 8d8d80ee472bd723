"""A generated dataset of any size for the gallery benchmark and browser tests.

A few hundred distinct 640x360 frames are drawn, then hard-linked under every item's path (real,
distinct files for the thumbnail cache, without writing 100k PNGs). Tags follow a Zipf-like
spread over a booru-style vocabulary; faces, characters, buckets, episodes, clusters and
duplicates are spread the way a real pipeline's output is.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from udw.core.manifest import Dataset

CHARACTERS = [f"char{i:02d}" for i in range(30)]
BUCKETS = ["face_height_ratio_0-25", "face_height_ratio_25-50", "face_height_ratio_50-75",
           "face_height_ratio_75-100"]
BASE_TAGS = ["1girl", "solo", "1boy", "long hair", "short hair", "blonde hair", "black hair", "red eyes",
             "blue eyes", "smile", "open mouth", "school uniform", "armor", "sword", "outdoors", "indoors",
             "sky", "night", "day", "upper body", "cowboy shot", "from side", "looking at viewer", "scenery"]


def draw_frame(seed: int, size=(640, 360)) -> Image.Image:
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", size, tuple(int(c) for c in rng.integers(20, 235, 3)))
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, size[0] - 60)), int(rng.integers(0, size[1] - 60))
        w, h = int(rng.integers(40, 260)), int(rng.integers(40, 200))
        draw.ellipse([x0, y0, x0 + w, y0 + h], fill=tuple(int(c) for c in rng.integers(0, 255, 3)),
                     outline=(0, 0, 0), width=3)
    return im


def build(root: Path, n: int, distinct: int = 300, seed: int = 0, tags_per_item: int = 18) -> Dataset:
    t0 = time.perf_counter()
    rnd = random.Random(seed)
    root = Path(root)
    pool = root / ".pool"
    pool.mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(min(distinct, n)):
        path = pool / f"frame{i:04d}.png"
        if not path.exists():
            draw_frame(seed * 10_000 + i).save(path, compress_level=1)
        frames.append(path)
    vocab = BASE_TAGS + [f"tag{i:04d}" for i in range(2000)]
    weights = [1.0 / (k + 1) ** 0.9 for k in range(len(vocab))]
    ds = Dataset.open_or_create(root)
    with ds.transaction() as conn:
        sources = [ds.add_source(conn, f"/videos/show{s}_ep{e:02d}.mkv", "video", series=f"show{s}",
                                 episode=f"{e:02d}") for s in range(4) for e in range(1, 13)]
        items, tags, faces = [], [], []
        for i in range(1, n + 1):
            char = rnd.choice(CHARACTERS) if rnd.random() < 0.7 else None
            rel = f"images/{char or 'others'}/f{i:06d}.png"
            target = root / rel
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(frames[i % len(frames)], target)
            src = sources[(i * len(sources)) // (n + 1)]
            status = "duplicate" if rnd.random() < 0.1 else "active"
            items.append((i, rel, f"gen:{i}", src, i, f"show{(src - 1) // 12}", f"{(src - 1) % 12 + 1:02d}",
                          640, 360, status, i // 5, rnd.choice(BUCKETS) if char else None, time.time()))
            chosen = set(rnd.choices(vocab, weights, k=tags_per_item))
            tags += [(i, t, "general", round(rnd.uniform(0.35, 1.0), 3)) for t in chosen]
            if char:
                tags.append((i, char, "character", round(rnd.uniform(0.85, 1.0), 3)))
                faces.append((i, 0, 200, 40, 320, 180, 0.9, "bench", char, 0.9))
        conn.executemany("INSERT OR IGNORE INTO items(id, path, key, source_id, frame_index, series, episode, "
                         "width, height, status, cluster, bucket, created) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", items)
        conn.executemany("INSERT OR IGNORE INTO tags VALUES(?,?,?,?)", tags)
        conn.executemany("INSERT OR IGNORE INTO faces VALUES(?,?,?,?,?,?,?,?,?,?)", faces)
    with ds.db() as conn:
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"built {n:,} items, {len(tags):,} tags in {time.perf_counter() - t0:.1f}s at {root}")
    return ds
