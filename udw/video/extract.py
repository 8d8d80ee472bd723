"""`extract_frames`: videos (files, folders, globs) -> distinct frames in a dataset, resumably.

Each video is handled on its own: a bad one (missing, empty, not a video, damaged) is reported
and the others still run; a damaged one keeps what could be decoded. Problems that concern the
whole output (folder not writable, disk full) stop the run with the manifest consistent: every
row names a complete file, and a re-run resumes each video after its last committed frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

from ..core.atomic import sweep_temp
from ..core.engine import engine_hook
from ..core.errors import BadInput, Cancelled
from ..core.inputs import expand_inputs
from ..core.manifest import Dataset
from ..core.ports import Ports
from .crossep import CrossEpisodeIndex
from .naming import EpisodeName, parse_filename, parse_prefix
from .output import Encoding, FrameWriter
from .pipeline import VideoJob
from .probe import VIDEO_SUFFIXES, probe
from .settings import FrameSettings
from .store import (FRAME_DIR, committed_frames, delete_source_frames, register_source, remove_strays,
                    set_state, source_row)


@dataclass
class VideoResult:
    path: str
    state: str                      # done | skipped | failed | partial
    prefix: str = ""
    decoded: int = 0
    kept: int = 0
    written: int = 0
    resumed: int = 0
    holds: int = 0
    near_duplicates: int = 0
    cross_episode: int = 0
    scenes: int = 0
    seconds: float = 0.0
    hwaccel: Optional[str] = None
    warnings: list[str] = field(default_factory=list)
    error: str = ""

    def line(self) -> str:
        name = Path(self.path).name
        if self.state == "failed":
            return f"{name}: failed: {self.error}"
        if self.state == "skipped":
            return f"{name}: skipped ({self.error or 'already done'})"
        text = (f"{name}: {self.kept} frames kept of {self.decoded} decoded ({self.holds} holds, "
                f"{self.near_duplicates} near-duplicates, {self.cross_episode} opening/ending repeats dropped), "
                f"{self.scenes} scenes, {self.seconds:.1f}s")
        if self.resumed:
            text += f"; resumed after {self.resumed} frames"
        if self.state == "partial":
            text += " (stopped; run again to resume)"
        return text


@dataclass
class ExtractReport:
    dataset: str
    videos: list[VideoResult] = field(default_factory=list)
    cancelled: bool = False
    aborted: str = ""               # a problem that stopped the whole run (disk full, ...)
    seconds: float = 0.0

    @property
    def kept(self) -> int:
        return sum(v.kept for v in self.videos)

    @property
    def failed(self) -> list[VideoResult]:
        return [v for v in self.videos if v.state == "failed"]

    def summary(self) -> str:
        done = sum(v.state in ("done", "skipped") for v in self.videos)
        text = (f"frames: {self.kept} kept from {done} of {len(self.videos)} video(s) in {self.seconds:.1f}s"
                f" -> {self.dataset}")
        if self.failed:
            text += f"; {len(self.failed)} failed"
        if self.cancelled:
            text += " (cancelled; run again to resume)"
        if self.aborted:
            text += f"\nstopped: {self.aborted}"
        return text

    def details(self) -> str:
        lines = [self.summary()]
        for v in self.videos:
            lines.append("  " + v.line())
            lines += [f"    warning: {w}" for w in v.warnings]
        return "\n".join(lines)


def expand_videos(inputs: Iterable[Union[str, Path]], exclude: Optional[Path] = None) -> tuple[list[Path], list[VideoResult]]:
    """Videos from files/folders/globs; inputs that cannot be used become failed results."""
    found: list[Path] = []
    bad: list[VideoResult] = []
    seen: set[Path] = set()
    for raw in inputs:
        try:
            paths = expand_inputs([raw], VIDEO_SUFFIXES)
        except BadInput as exc:
            bad.append(VideoResult(str(raw), "failed", error=str(exc)))
            continue
        for p in paths:
            real = p.resolve()
            if real in seen or (exclude is not None and exclude in real.parents):
                continue
            seen.add(real)
            found.append(p)
    return found, bad


def open_run(dataset: Union[Dataset, str, Path], inputs: Iterable[Union[str, Path]],
             settings: FrameSettings) -> tuple[Dataset, list[Path], "ExtractReport"]:
    """The dataset, the videos the inputs name, and a report that lists the inputs that are no video."""
    inputs = list(inputs)
    if not inputs:
        raise BadInput("no videos given", "give video files, folders or glob patterns")
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open_or_create(dataset)
    videos, bad = expand_videos(inputs, exclude=ds.root)
    if settings.prefix and len(videos) > 1:
        raise BadInput(f"the prefix {settings.prefix!r} names one episode but {len(videos)} videos were given",
                       "give --series instead (episodes are read from the file names), or one video")
    return ds, videos, ExtractReport(str(ds.root), videos=list(bad))


def extract_frames(dataset: Union[Dataset, str, Path], inputs: Iterable[Union[str, Path]],
                   settings: Optional[FrameSettings] = None, ports: Optional[Ports] = None) -> ExtractReport:
    settings = (settings or FrameSettings()).validated()
    ports = ports or Ports()
    scaled = engine_hook(ports.engine, "extract_frames")  # videos fanned out on a cluster
    if scaled is not None:
        return scaled(dataset, inputs, settings, ports)
    ds, videos, report = open_run(dataset, inputs, settings)
    start = time.perf_counter()
    sweep_temp(ds.root / FRAME_DIR)
    cross = CrossEpisodeIndex(settings.cross_threshold) if settings.cross_episode != "off" and len(videos) > 1 else None
    encoding = Encoding(settings.format, settings.quality, settings.png_compression)
    with FrameWriter(encoding, settings.workers) as writer, ds.db() as conn:
        for i, path in enumerate(videos):
            ports.logger.info("video %d/%d: %s", i + 1, len(videos), path.name)
            try:
                result = _one_video(ds, conn, path, settings, writer, cross, ports.part(i, len(videos)))
            except Cancelled:
                report.cancelled = True
                report.videos.append(VideoResult(str(path), "partial", error="cancelled"))
                break
            except BadInput as exc:  # the output failed (disk full, permissions): stop everything
                report.aborted = str(exc)
                report.videos.append(VideoResult(str(path), "partial", error=str(exc)))
                break
            report.videos.append(result)
    report.seconds = time.perf_counter() - start
    return report


def _episode_name(path: Path, settings: FrameSettings) -> EpisodeName:
    if settings.prefix:
        return parse_prefix(settings.prefix)
    return parse_filename(path.name, settings.series or None)


def _one_video(ds: Dataset, conn, path: Path, settings: FrameSettings, writer: FrameWriter,
               cross: Optional[CrossEpisodeIndex], ports: Ports) -> VideoResult:
    start = time.perf_counter()
    key = str(path.resolve())
    try:
        info = probe(path)
    except BadInput as exc:
        _record_failure(ds, conn, key, str(exc))
        return VideoResult(str(path), "failed", error=str(exc))
    source_id, name = register_source(ds, conn, key, _episode_name(path, settings))
    known = source_row(conn, key) or {}
    earlier = known.get("info", {}).get("settings_key")
    if earlier and earlier != settings.key() and known.get("state") in ("done", "partial"):
        if not settings.redo:
            return VideoResult(str(path), "skipped", prefix=name.prefix,
                               error="extracted before with other settings; use redo to replace its frames")
        delete_source_frames(ds, conn, source_id)
    elif known.get("state") == "done" and earlier == settings.key():
        if cross is not None:
            cross.add_source(conn, source_id)
        kept = conn.execute("SELECT COUNT(*) FROM items WHERE source_id=? AND status='active'", (source_id,)).fetchone()[0]
        return VideoResult(str(path), "skipped", prefix=name.prefix, kept=kept, error="already done")
    base_info = {"settings_key": settings.key(), "settings": settings.to_dict(), "probe": info.to_dict()}
    set_state(ds, conn, source_id, "partial", base_info)
    job = VideoJob(ds, conn, source_id, name, info, settings, writer, committed_frames(conn, source_id), cross, ports)
    result = VideoResult(str(path), "partial", prefix=name.prefix)
    try:
        stats = job.run()
    except (Cancelled, BadInput):
        _fill(result, job, start)
        set_state(ds, conn, source_id, "partial", {**base_info, "stats": _stats_dict(result)})
        raise
    _fill(result, job, start)
    if stats.decoded == 0:
        result.state, result.error = "failed", "no frame could be decoded" + (
            f" ({stats.warnings[0]})" if stats.warnings else "")
        set_state(ds, conn, source_id, "failed", {**base_info, "error": result.error})
        return result
    result.state = "done"
    remove_strays(ds, conn, source_id, ds.root / job.folder)
    set_state(ds, conn, source_id, "done", {**base_info, "duration": stats.duration or info.duration,
                                            "stats": _stats_dict(result), "warnings": stats.warnings})
    if cross is not None:
        cross.add_source(conn, source_id)
    return result


def _fill(result: VideoResult, job: VideoJob, start: float) -> None:
    s = job.stats
    result.decoded, result.kept, result.written, result.resumed = s.decoded, s.kept, s.written, s.resumed
    result.holds, result.near_duplicates, result.cross_episode = s.mode_dropped, s.near_duplicates, s.cross_episode
    result.scenes, result.warnings = s.scenes, list(s.warnings)
    result.hwaccel = getattr(job, "hwaccel", None)
    result.seconds = time.perf_counter() - start


def _stats_dict(r: VideoResult) -> dict:
    return {k: getattr(r, k) for k in ("decoded", "kept", "written", "holds", "near_duplicates",
                                       "cross_episode", "scenes", "hwaccel")} | {"seconds": round(r.seconds, 2)}


def _record_failure(ds: Dataset, conn, key: str, error: str) -> None:
    """Remember a file that could not be used (the manifest says what happened to each input)."""
    with ds.transaction(conn):
        source_id = ds.add_source(conn, key, "video")
        ds.set_source_state(conn, source_id, "failed", {"error": error})
