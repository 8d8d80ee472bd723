"""The dataset card (Markdown): what is in the dataset, where it came from under which licence,
how it is arranged and balanced, and the settings of every stage that produced it.

Following Mitsua Diffusion One's card, every source is listed with its licence or permission
note (set per source: `udw sources DATASET --licence TEXT`); a source without one is flagged.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Optional

from ..core.manifest import Dataset
from .arrange import ArrangeReport
from .balance import Balance

_MD = re.compile(r"([\\`*_{}\[\]<>|#!])")


def md(text: object) -> str:
    """Text from files or users, safe inside Markdown (and the HTML it becomes)."""
    return _MD.sub(r"\\\1", str(text)).replace("\n", " ")


def _table(head: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(md(v) for v in r) + " |" for r in rows]
    return out


def stage_settings(ds: Dataset) -> dict[str, dict]:
    """The settings of the last finished run of each stage."""
    with ds.db() as conn:
        rows = conn.execute("SELECT stage, settings FROM stage_runs WHERE status='finished' ORDER BY id").fetchall()
    out = {}
    for stage, settings in rows:
        try:
            out[stage] = json.loads(settings)
        except ValueError:
            out[stage] = {"raw": settings}
    return out


def source_rows(ds: Dataset) -> list[list[object]]:
    with ds.db() as conn:
        counts = dict(conn.execute("SELECT source_id, COUNT(*) FROM items WHERE status='active' "
                                   "GROUP BY source_id").fetchall())
    return [[s["path"], s["kind"], s.get("series") or "", s.get("episode") or "",
             s.get("licence") or "**not set**", counts.get(s["id"], 0)] for s in ds.sources()]


def epoch_line(balance: Balance, trainer: str, strategy: str = "REPEATS") -> str:
    """Samples per epoch as each trainer will count them, the exported trainer's first."""
    names = {"everydream": "EveryDream2", "kohya": "kohya (whole repeats per folder)",
             "onetrainer": f"OneTrainer ({strategy})"}
    order = [trainer] + [t for t in names if t != trainer]
    return "; ".join(f"{names[t]} {balance.epoch(t, strategy)}" for t in order if t in names)


def render_card(ds: Dataset, arranged: ArrangeReport, balance: Balance, trainer: str,
                trainer_notes: list[str], export_settings: Optional[dict] = None,
                strategy: str = "REPEATS") -> str:
    placed = arranged.placed
    chars = Counter(c for p in placed for c in p.meta.characters)
    buckets = Counter(p.folder[-1] for p in placed if p.folder[-1].startswith("face_height_ratio_"))
    faces = sum(len(p.meta.faces) for p in placed)
    lines = [f"# Dataset card: {md(ds.root.name)}", "",
             f"Written by UDW Studio on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"for **{md(trainer)}**.", "",
             f"- images: {len(placed)} ({sum(1 for p in placed if p.meta.item.kind == 'crop')} of them crops)",
             f"- faces: {faces}; characters: {len(chars)}",
             f"- folders: {len(balance.rows)}; samples per epoch: {epoch_line(balance, trainer, strategy)}", ""]
    rows = source_rows(ds)
    lines += ["## Sources and licences", ""] + _table(
        ["source", "kind", "series", "episode", "licence / permission", "images"], rows) + [""]
    missing = sum(1 for r in rows if r[4] == "**not set**")
    if missing:
        lines += [f"> {missing} source(s) have no licence or permission note: set one with "
                  "`udw sources DATASET --source PATH --licence TEXT` before sharing.", ""]
    lines += ["## Characters", ""] + _table(["character", "images"], sorted(chars.items(), key=lambda kv: -kv[1]))
    lines += ["", "## Face height ratio buckets", ""] + _table(["bucket", "images"], sorted(buckets.items()))
    lines += ["", "## Folders and balance", "",
              "Each folder's weight comes from the hierarchy count -> character -> bucket "
              "(each child an equal share of its parent unless weighted).", ""]
    lines += _table(["folder", "images", "share", "weight", "multiplier written", "samples (ED2, OneTrainer)",
                     "kohya repeats", "samples (kohya)"],
                    [[r.path, r.images, f"{r.probability * 100:.1f}%", f"{r.multiplier:.3f}", r.written(),
                      r.samples(), r.repeats(), r.kohya_samples()] for r in balance.rows])
    lines += ["", "## How to train", ""] + [f"- {n}" for n in trainer_notes]
    settings = stage_settings(ds)
    if export_settings:
        settings["export"] = export_settings
    lines += ["", "## Pipeline settings", "", "```json", json.dumps(settings, indent=1, default=str)
              .replace("```", "'''"), "```", ""]
    if arranged.notes:
        lines += ["## Notes", ""] + [f"- {md(n)}" for n in arranged.notes] + [""]
    return "\n".join(lines)
