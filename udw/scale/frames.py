"""Frame extraction fanned out on Ray: one task per video, or per time segment of a long one.

The driver does what the local extractor does before and after each video (probe, register the
source with its unique episode name, skip finished videos, redo changed ones) and merges each
task's rows into the manifest, in input order, so ids and names come out as locally. Workers run
the local extractor unchanged on one video (`frames_job`).

Long videos (longer than twice `video_segment_s`, in modes whose choices do not count frames
from the start: mpdecimate, scene, keyframes) are cut into segments run in parallel. Overlap
strategy: each segment is decoded from `SEGMENT_WARMUP_S` seconds before its start, so that hold
removal (mpdecimate's reference frame), the near-duplicate window and the scene detector are warm
at the boundary; frames of the warm-up are dropped, the rest are renumbered and scene ids offset
into one sequence. The result equals the sequential one unless a hold or near-duplicate run crosses
the boundary and began more than the warm-up earlier (then one extra frame may be kept there).

Openings and endings shared between episodes (`cross_episode`): the local run checks each kept
frame of an episode against the earlier episodes' kept frames as it goes, and a repeat changes
what follows (it is numbered, stays out of the near-duplicate window, is not kept). So results
are committed in input order, and an episode extracted alone is accepted only when none of its
kept frames repeats an earlier episode's final frames: the run with the index would then have
decided every frame the same way. An episode that has repeats is extracted again on a worker by
the local extractor with the earlier episodes in its scratch manifest, which builds the very
index the local run uses. The first pass stays parallel; episodes sharing an opening cost a
second, ordered pass each.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np

from ..core.atomic import sweep_temp
from ..core.errors import BadInput, Cancelled
from ..core.manifest import Dataset
from ..core.ports import Ports
from .frames_job import WORK_DIR, FramesJob, pack_seed
from .jobs import run_tasks
from .runtime import connect
from .sandbox import export_sources, merge

SEGMENT_WARMUP_S = 10.0
SEGMENT_MODES = ("mpdecimate", "scene", "keyframes")


def extract_frames_scaled(dataset: Union[Dataset, str, Path], inputs: Iterable[Union[str, Path]],
                          settings=None, ports: Optional[Ports] = None, job: Optional[FramesJob] = None):
    """`extract_frames` with the videos (and segments of long ones) on `ports.engine`."""
    from ..video import FrameSettings
    from ..video.extract import open_run

    settings = (settings or FrameSettings()).validated()
    ports = ports or Ports()
    if ports.engine is not None and not ports.engine.local:
        connect(ports.engine)  # an unreachable cluster stops the run before the dataset is touched
    ds, videos, report = open_run(dataset, inputs, settings)
    start = time.perf_counter()
    sweep_temp(ds.root / "frames")
    shutil.rmtree(ds.root / WORK_DIR, ignore_errors=True)  # left by a killed run: never committed
    engine = ports.engine
    segment_s = getattr(engine, "video_segment_s", 0.0) if engine is not None else 0.0
    ordered = settings.cross_episode != "off" and len(videos) > 1  # see the module's docstring
    with ds.db() as conn:
        plans, results = _plan(ds, conn, videos, settings, segment_s)
        for plan in plans:
            plan.ordered = ordered
        tasks = [t for p in plans for t in p.tasks]
        root = engine.worker_root if engine is not None and engine.worker_root else str(ds.root)
        try:
            _run(ds, conn, plans, tasks, root, settings, ports, results, job or FramesJob())
        except Cancelled:
            report.cancelled = True
        except BadInput as exc:
            report.aborted = str(exc)
        if ordered and not report.cancelled and not report.aborted:
            try:
                _commit_in_order(ds, conn, plans, settings, results, root, ports, job or FramesJob())
            except Cancelled:
                report.cancelled = True
    report.videos += [results[i] for i in sorted(results)]
    report.seconds = time.perf_counter() - start
    return report


class _Plan:
    def __init__(self, index: int, path: Path, source_id: int, name, info, segments: list):
        self.index, self.path, self.source_id, self.name, self.info = index, path, source_id, name, info
        self.segments = segments  # [(start, end or None)] or [] for a whole-video task
        self.tasks: list[dict] = []
        self.done: list[dict] = []
        self.ordered = False  # hold a finished extraction until the earlier episodes are final
        self.pending: Optional[tuple[dict, object]] = None  # (rows, VideoResult) awaiting commit


def _plan(ds: Dataset, conn, videos: list[Path], settings, segment_s: float):
    """Driver-side pre-steps of each video, in input order (as the local extractor does them)."""
    from ..video.extract import VideoResult, _episode_name
    from ..video.probe import probe
    from ..video.store import delete_source_frames, register_source, source_row

    plans, results = [], {}
    for i, path in enumerate(videos):
        key = str(path.resolve())
        try:
            info = probe(path)
        except BadInput as exc:
            with ds.transaction(conn):
                sid = ds.add_source(conn, key, "video")
                ds.set_source_state(conn, sid, "failed", {"error": str(exc)})
            results[i] = VideoResult(str(path), "failed", error=str(exc))
            continue
        source_id, name = register_source(ds, conn, key, _episode_name(path, settings))
        known = source_row(conn, key) or {}
        earlier = known.get("info", {}).get("settings_key")
        if earlier and earlier != settings.key() and known.get("state") in ("done", "partial"):
            if not settings.redo:
                results[i] = VideoResult(str(path), "skipped", prefix=name.prefix,
                                         error="extracted before with other settings; use redo to replace its frames")
                plans.append(_Plan(i, path, source_id, name, info, []))
                continue
            delete_source_frames(ds, conn, source_id)
        elif known.get("state") == "done" and earlier == settings.key():
            kept = conn.execute("SELECT COUNT(*) FROM items WHERE source_id=? AND status='active'",
                                (source_id,)).fetchone()[0]
            results[i] = VideoResult(str(path), "skipped", prefix=name.prefix, kept=kept, error="already done")
            plans.append(_Plan(i, path, source_id, name, info, []))
            continue
        fresh = not conn.execute("SELECT 1 FROM items WHERE source_id=? LIMIT 1", (source_id,)).fetchone()
        plan = _Plan(i, path, source_id, name, info, segments(info, settings, segment_s) if fresh else [])
        seed = pack_seed(export_sources(ds, [source_id]))
        for k, (a, b) in enumerate(plan.segments or [(None, None)]):
            part = settings.to_dict()
            if a is not None:
                part.update(start=max(0.0, a - SEGMENT_WARMUP_S), end=b)
            plan.tasks.append({"id": f"v{i}s{k}", "video": str(path.resolve()), "source_id": source_id, "seed": seed,
                               "settings": part, "segment": k if plan.segments else None, "video_index": i})
        plans.append(plan)
    return plans, results


def segments(info, settings, segment_s: float) -> list[tuple[float, Optional[float]]]:
    """Time ranges of a long video ([] when it runs whole)."""
    duration = info.duration or 0.0
    if (segment_s <= 0 or duration < 2 * segment_s or settings.mode not in SEGMENT_MODES
            or settings.start or settings.end is not None or settings.max_frames):
        return []
    n = math.ceil(duration / segment_s)
    edges = [round(k * duration / n, 3) for k in range(n)]
    return [(a, edges[k + 1] if k + 1 < n else None) for k, a in enumerate(edges)]


def _run(ds: Dataset, conn, plans: list[_Plan], tasks: list[dict], root: str, settings, ports: Ports,
         results: dict, job: FramesJob) -> None:
    by_index = {p.index: p for p in plans}
    ports.progress(0, len(tasks))
    for n, out in enumerate(run_tasks(job, root, tasks, ports, ports.engine), 1):
        plan = by_index[out.task["video_index"]]
        if not out.ok:
            from ..video.extract import VideoResult
            results[plan.index] = VideoResult(str(plan.path), "failed", prefix=plan.name.prefix, error=out.error)
        elif out.task["segment"] is None:
            _finished(ds, conn, plan, out.result["rows"], out.result["video"], results)
        else:
            plan.done.append(out.result)
            if len(plan.done) == len(plan.tasks):
                _finish_segments(ds, conn, plan, settings, results)
        ports.step(n, len(tasks))


def _finished(ds: Dataset, conn, plan: _Plan, rows: dict, video, results: dict) -> None:
    rows, video = as_given(plan, rows, video)
    if plan.ordered and video is not None and video.state == "done":
        plan.pending = (rows, video)
    else:
        _commit(ds, conn, plan, rows, video, results)


def as_given(plan: _Plan, rows: dict, video) -> tuple[dict, object]:
    """Workers read the video by its absolute path (their working folder is not ours); the
    manifest and the report name it as it was given, as the local run does."""
    given = str(plan.path)
    sources = []
    for src in rows.get("sources", []):
        info = json.loads(src["info"] or "{}")
        if isinstance(info.get("probe"), dict):
            info["probe"]["path"] = given
        sources.append({**src, "info": json.dumps(info)})
    if video is not None:
        video.path = given
    return {**rows, "sources": sources}, video


def _commit(ds: Dataset, conn, plan: _Plan, rows: dict, video, results: dict) -> None:
    from ..video.store import remove_strays

    merge(ds, conn, rows)
    if video is not None and video.state == "done":
        remove_strays(ds, conn, plan.source_id, ds.root / "frames" / plan.name.prefix)
    results[plan.index] = video


def _finish_segments(ds: Dataset, conn, plan: _Plan, settings, results: dict) -> None:
    """Renumber the segments' frames into one sequence, move their files, merge the rows."""
    from ..video.extract import VideoResult

    parts = sorted(plan.done, key=lambda r: r["segment"])
    videos = [r["video"] for r in parts]
    if any(v is None or v.state != "done" for v in videos):
        bad = next(v for v in videos if v is None or v.state != "done")
        results[plan.index] = VideoResult(str(plan.path), "failed", prefix=plan.name.prefix,
                                          error=f"a segment failed: {bad.error if bad else 'no result'}")
        for r in parts:
            shutil.rmtree(r["work"], ignore_errors=True)
        return
    rows = _assemble(ds, plan, parts, settings)
    kept = sum(1 for it in rows["items"] if it["status"] == "active")
    video = VideoResult(
        str(plan.path), "done", prefix=plan.name.prefix, decoded=sum(v.decoded for v in videos), kept=kept,
        written=len(rows["items"]), holds=sum(v.holds for v in videos),
        near_duplicates=sum(v.near_duplicates for v in videos), scenes=_scene_count(rows),
        seconds=sum(v.seconds for v in videos), warnings=[w for v in videos for w in v.warnings])
    for r in parts:
        shutil.rmtree(r["work"], ignore_errors=True)
    _finished(ds, conn, plan, rows, video, results)


def _assemble(ds: Dataset, plan: _Plan, parts: list[dict], settings) -> dict:
    key = settings.key()
    items, per_item, scene_base, last_scene, n = [], {"signatures": [], "stage_done": []}, 0, -1, 0
    for k, (part, (a, b)) in enumerate(zip(parts, plan.segments)):
        rows = _offset_ids(part["rows"], k)  # segments' scratch ids overlap: make them unique
        mine = sorted((it for it in rows["items"] if it["kind"] == "frame" and it["pts"] is not None
                       and it["pts"] >= a - 1e-6 and (b is None or it["pts"] < b - 1e-6)),
                      key=lambda it: it["frame_index"])
        if mine and k:
            first = mine[0]
            cut = json.loads(first["extra"] or "{}").get("scene_start", False)
            scene_base = last_scene + (1 if cut else 0) - (first["scene"] or 0)
        keep = {it["id"] for it in mine}
        for it in mine:
            n += 1
            extra = {**json.loads(it["extra"] or "{}"), "n": n}
            new_path = f"frames/{plan.name.prefix}/{plan.name.frame_name(n)}{settings.suffix}"
            src = Path(part["work"]) / it["path"]
            if src.is_file():
                target = ds.root / new_path
                target.parent.mkdir(parents=True, exist_ok=True)
                src.replace(target)
            it = {**it, "path": new_path, "extra": json.dumps(extra), "scene": (it["scene"] or 0) + scene_base}
            items.append(it)
        last_scene = items[-1]["scene"] if items else last_scene
        per_item["signatures"] += [r for r in rows["signatures"] if r["item_id"] in keep]
        per_item["stage_done"] += [{**r, "settings": key} for r in rows["stage_done"] if r["item_id"] in keep]
    source = dict(parts[-1]["rows"]["sources"][0])
    info = json.loads(source["info"] or "{}")
    # The last segment measured the end of the video; its stats are replaced by the sums
    # (a segmented run decodes each warm-up twice, so they are facts about the run, not the data).
    info.update(settings_key=key, settings=settings.to_dict(), segments=[[a, b] for a, b in plan.segments],
                stats=_sum_stats([json.loads(p["rows"]["sources"][0]["info"] or "{}").get("stats", {}) for p in parts]))
    source.update(state="done", info=json.dumps(info))
    return {"sources": [source], "items": items, **per_item, "tags": [], "faces": []}


def _sum_stats(stats: list[dict]) -> dict:
    out: dict = {}
    for st in stats:
        for k, v in st.items():
            out[k] = out.get(k, 0) + v if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    return out


def _offset_ids(rows: dict, k: int) -> dict:
    off = k * 1_000_000_000
    return {"items": [{**it, "id": it["id"] + off} for it in rows["items"]],
            "signatures": [{**r, "item_id": r["item_id"] + off} for r in rows["signatures"]],
            "stage_done": [{**r, "item_id": r["item_id"] + off} for r in rows["stage_done"]],
            "sources": rows["sources"]}


def _scene_count(rows: dict) -> int:
    scenes = [it["scene"] for it in rows["items"] if it["scene"] is not None]
    return max(scenes) + 1 if scenes else 0


def _commit_in_order(ds: Dataset, conn, plans: list[_Plan], settings, results: dict, root: str,
                     ports: Ports, job: FramesJob) -> None:
    """Commit held episodes in input order; one that repeats earlier episodes is extracted again."""
    from ..video.crossep import CrossEpisodeIndex

    index = CrossEpisodeIndex(settings.cross_threshold)
    final: list[_Plan] = []  # earlier episodes in the index, as the local run's index holds them
    for plan in sorted(plans, key=lambda p: p.index):
        if plan.pending is not None:
            rows, video = plan.pending
            plan.pending = None
            if len(index) and has_repeats(rows, plan.info.duration, index):
                ports.logger.info("%s repeats earlier episodes: extracting it again with them", plan.path.name)
                rows, video = _again_with(ds, plan, rows, final, settings, root, ports, job)
            _commit(ds, conn, plan, rows, video, results)
        row = conn.execute("SELECT state, info FROM sources WHERE id=?", (plan.source_id,)).fetchone()
        if row and row[0] == "done" and json.loads(row[1] or "{}").get("settings_key") == settings.key():
            index.add_source(conn, plan.source_id)  # what the local run adds after each episode
            final.append(plan)


def has_repeats(rows: dict, duration, index) -> bool:
    """Whether a kept frame in the first or last third matches the index (could be a repeat)."""
    from ..video.crossep import THUMB_KIND, in_thirds
    from ..video.neardup import Signature

    thumbs = {r["item_id"]: r["data"] for r in rows["signatures"] if r["kind"] == THUMB_KIND}
    for it in rows["items"]:
        pts = it["pts"]
        if it["status"] != "active" or it["id"] not in thumbs or pts is None or not (
                in_thirds(pts - 1e-5, duration) or in_thirds(pts + 1e-5, duration)):  # pts are stored rounded
            continue
        thumb = np.frombuffer(thumbs[it["id"]], np.float32)
        luma = float(json.loads(it["extra"] or "{}").get("luma", 0.0))
        for mean in (luma - 0.005, luma + 0.005):  # stored rounded; the local run compared the exact mean
            if index.match(Signature(thumb, mean, np.uint64(0))) is not None:
                return True
    return False


def _again_with(ds: Dataset, plan: _Plan, rows: dict, earlier: list[_Plan], settings, root: str,
                ports: Ports, job: FramesJob) -> tuple[dict, object]:
    """Extract `plan`'s video again with the earlier episodes: the local extractor's own index."""
    from ..video.extract import VideoResult

    for it in rows["items"]:  # the first pass's files (the new run writes its own)
        (ds.root / it["path"]).unlink(missing_ok=True)
    seed = pack_seed(export_sources(ds, [p.source_id for p in earlier] + [plan.source_id]))
    task = {"id": f"v{plan.index}x", "video": str(plan.path.resolve()),
            "videos": [str(p.path.resolve()) for p in earlier + [plan]],
            "source_id": plan.source_id, "seed": seed, "settings": settings.to_dict(), "segment": None,
            "video_index": plan.index}
    for out in run_tasks(job, root, [task], ports, ports.engine):
        if out.ok:
            return as_given(plan, out.result["rows"], out.result["video"])
        return {"sources": [], "items": []}, VideoResult(str(plan.path), "failed", prefix=plan.name.prefix,
                                                         error=out.error)
    raise Cancelled()
