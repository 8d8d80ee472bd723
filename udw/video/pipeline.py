"""One video, streamed: decode -> select -> near-duplicate check -> encode in workers -> commit.

Only the frames in flight are in memory (the encoder pool's bound), plus mpdecimate's reference
frame and the near-duplicate window. Rows are committed in frame order once their files exist;
on resume, frames up to the last committed one follow the committed decisions (so nothing is
lost or written twice even if decoding differs slightly), and selection continues after it.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import time
from dataclasses import dataclass, field
from typing import Optional

from ..core.errors import Cancelled
from ..core.manifest import Dataset
from ..core.ports import Ports
from .crossep import CrossEpisodeIndex, in_thirds
from .decode import VideoDecoder
from .frames import luma_of, planes8, thumb_source
from .naming import EpisodeName
from .neardup import RecentKept, signature
from .output import FrameWriter
from .probe import VideoInfo
from .select import Candidate, Selector, colour_fn
from .settings import FrameSettings
from .store import FRAME_DIR, Committed, FrameRow, commit_rows

COMMIT_EVERY = 32        # rows per transaction
COMMIT_SECONDS = 1.0
PROGRESS_SECONDS = 0.25
PREVIEW_SECONDS = 0.5


@dataclass
class VideoStats:
    decoded: int = 0
    kept: int = 0              # active frames of this video (written now or before)
    written: int = 0           # files written by this run
    resumed: int = 0           # frames committed by an earlier run
    mode_dropped: int = 0      # holds (mpdecimate) or frames the mode skips
    near_duplicates: int = 0
    cross_episode: int = 0
    scenes: int = 0
    duration: Optional[float] = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    row: FrameRow
    future: Optional[cf.Future]


class VideoJob:
    def __init__(self, ds: Dataset, conn, source_id: int, name: EpisodeName, info: VideoInfo,
                 settings: FrameSettings, writer: FrameWriter, committed: dict[int, Committed],
                 cross: Optional[CrossEpisodeIndex], ports: Ports):
        self.ds, self.conn, self.source_id, self.name = ds, conn, source_id, name
        self.info, self.settings, self.writer, self.ports = info, settings, writer, ports
        self.committed = committed
        self.last_committed = max(committed) if committed else -1
        self.cross = cross if cross is not None and len(cross) else None
        self.key = settings.key()
        self.folder = f"{FRAME_DIR}/{name.prefix}"
        self.size = info.display_size
        self.stats = VideoStats()
        self.pending: collections.deque[_Pending] = collections.deque()
        self.batch: list[FrameRow] = []
        self.n = 0
        self._last_commit = self._last_progress = self._last_preview_ask = time.monotonic()
        self._preview = None

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> VideoStats:
        s = self.settings
        recent = s.recent_kept(self.size)
        total = self._expected_frames()
        with VideoDecoder(self.info, s.hwaccel, keyframes_only=s.mode == "keyframes",
                          start=s.start, end=s.end) as decoder:
            self.hwaccel = decoder.stats.hwaccel
            selector = Selector(s, self.info)
            try:
                for d in decoder.frames():
                    self.stats.decoded += 1
                    cand = selector.consider(d)
                    if d.index <= self.last_committed:
                        self._replay(d, cand, recent)
                    elif cand is not None:
                        self._decide(cand, recent)
                    if s.max_frames and self.stats.kept >= s.max_frames:
                        break
                    self._drain(block=False)
                    self._tick(total)
                self._drain(block=True)
            except BaseException:
                self._abort()
                raise
            finally:
                self.stats.mode_dropped = selector.mode_dropped
                self.stats.scenes = selector.cuts.scene + 1 if self.stats.decoded else 0
            self._finish_stats(decoder)
        self.ports.progress(total or self.stats.decoded, total or self.stats.decoded, self._preview)
        return self.stats

    def _replay(self, d, cand: Optional[Candidate], recent: RecentKept) -> None:
        """A frame at or before the last committed one: follow what was committed."""
        done = self.committed.get(d.index)
        if done is None:
            return
        self.n = max(self.n, done.n)
        self.stats.resumed += 1
        if done.status == "active":
            self.stats.kept += 1
            sig = cand.sig if cand is not None else signature(thumb_source(luma_of(d.frame, planes8(d.frame))),
                                                              colour_fn(d.frame, self.info.display_size))
            recent.add(sig, d.index)
            if not (self.ds.root / done.path).exists():  # deleted by hand: write it again
                self.writer.submit(d.frame, self.ds.root / done.path, self.size).result()
                self.stats.written += 1

    def _decide(self, cand: Candidate, recent: RecentKept) -> None:
        s, d = self.settings, cand.decoded
        if s.dedupe and recent.match(cand.sig) is not None:
            self.stats.near_duplicates += 1
            return
        status, dup_of, extra = "active", None, {"luma": round(cand.sig.mean, 2)}
        if self.cross is not None and in_thirds(d.pts, self.info.duration):
            found = self.cross.match(cand.sig)
            if found is not None:
                self.stats.cross_episode += 1
                status, dup_of = "duplicate", found[0]
                extra.update(cross_episode=round(found[1], 4), file=s.cross_episode == "mark")
        if status == "active":
            recent.add(cand.sig, d.index)
            self.stats.kept += 1
        if d.key:
            extra["key_frame"] = True
        if cand.cut:
            extra["scene_start"] = True
        self.n += 1
        rel = f"{self.folder}/{self.name.frame_name(self.n)}{s.suffix}"
        row = FrameRow(d.index, d.pts, cand.scene, self.n, rel, *self.size, status=status,
                       duplicate_of=dup_of, thumb=cand.sig.thumb, phash=cand.sig.phash, extra=extra)
        future = None
        if status == "active" or s.cross_episode == "mark":
            future = self.writer.submit(d.frame, self.ds.root / rel, self.size, preview=self._want_preview())
        self.pending.append(_Pending(row, future))

    # -- ordered commits ---------------------------------------------------------------------
    def _drain(self, block: bool) -> None:
        while self.pending and (block or self.pending[0].future is None or self.pending[0].future.done()):
            p = self.pending[0]
            if p.future is not None:
                written = p.future.result()  # raises the worker's error (disk full, ...)
                p.row.width, p.row.height = written.width, written.height
                self.stats.written += 1
                if written.preview is not None:
                    self._preview = written.preview
            self.pending.popleft()
            self.batch.append(p.row)
        now = time.monotonic()
        if self.batch and (block or len(self.batch) >= COMMIT_EVERY or now - self._last_commit >= COMMIT_SECONDS):
            commit_rows(self.ds, self.conn, self.source_id, self.name, self.batch, self.key)
            self.batch = []
            self._last_commit = now

    def _abort(self) -> None:
        """Commit the in-order prefix that made it to disk; remove files written after a failure."""
        failed = False
        while self.pending:
            p = self.pending.popleft()
            ok = True
            if p.future is not None:
                try:
                    p.future.result()
                except BaseException:
                    ok = False
            if ok and not failed:
                self.batch.append(p.row)
            else:
                failed = True
                with contextlib.suppress(OSError):
                    (self.ds.root / p.row.path).unlink()
        if self.batch:
            commit_rows(self.ds, self.conn, self.source_id, self.name, self.batch, self.key)
            self.batch = []

    # -- progress ----------------------------------------------------------------------------
    def _tick(self, total: Optional[int]) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_SECONDS:
            return
        self._last_progress = now
        preview, self._preview = self._preview, None
        self.ports.progress(self.stats.decoded, max(total or 0, self.stats.decoded), preview)
        if self.ports.cancelled():
            raise Cancelled()

    def _want_preview(self) -> bool:
        now = time.monotonic()
        if now - self._last_preview_ask >= PREVIEW_SECONDS or self.stats.written == 0:
            self._last_preview_ask = now
            return True
        return False

    def _expected_frames(self) -> Optional[int]:
        info, s = self.info, self.settings
        if not info.frames:
            return None
        if not (s.start or s.end) or not info.fps:
            return info.frames
        end = s.end if s.end is not None else (info.duration or info.frames / info.fps)
        return max(1, round((min(end, info.duration or end) - s.start) * info.fps))

    def _finish_stats(self, decoder: VideoDecoder) -> None:
        ds = decoder.stats
        if ds.last_pts is not None:
            step = 1 / self.info.fps if self.info.fps else 0
            self.stats.duration = ds.last_pts + step if not self.settings.end else self.info.duration
        if ds.stopped:
            self.stats.warnings.append(f"decoding stopped early: {ds.stopped}")
        if ds.damaged_packets:
            self.stats.warnings.append(f"{ds.damaged_packets} damaged packet(s) skipped; first: {ds.errors[0]}"
                                       if ds.errors else f"{ds.damaged_packets} damaged packet(s) skipped")
        if ds.gaps:
            spans = ", ".join(f"{a:.2f}s-{b:.2f}s" for a, b in ds.gaps[:3]) + (" ..." if len(ds.gaps) > 3 else "")
            self.stats.warnings.append(f"frames missing (undecodable) in {len(ds.gaps)} place(s): {spans}")
        if ds.corrupt_frames:
            self.stats.warnings.append(f"{ds.corrupt_frames} frame(s) the decoder could only partly "
                                       f"reconstruct were skipped")
        expected = self.info.frames
        if (expected and not (self.settings.start or self.settings.end) and self.settings.mode != "keyframes"
                and not self.settings.max_frames and ds.decoded + ds.corrupt_frames < 0.98 * expected - 1):
            ends = f"; it ends at {ds.last_pts:.1f}s of {self.info.duration:.1f}s" if (
                ds.last_pts is not None and self.info.duration) else ""
            self.stats.warnings.append(f"decoded {ds.decoded} of about {expected} frames: the file seems "
                                       f"truncated or damaged{ends}")


