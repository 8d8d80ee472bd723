"""Generate sample episodes: plan, render each drawing once, encode, write the truth beside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .encode import CONTAINERS, VideoWriter, codec_name
from .plan import EpisodePlan, plan_episode
from .render import render_state
from .truth import EpisodeTruth, build_truth
from .truthjson import write_truth

Progress = Callable[..., None]  # (done, total, preview=None)
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class SampleEpisode:
    series: str
    episode: int
    prefix: str  # "udwdemo_EP01": the seed's series_episode prefix
    video: Path
    truth: Path
    frame_count: int
    container: str


def episode_paths(out_dir: str | os.PathLike, series: str, episode: int, container: str) -> tuple[Path, Path]:
    """(video, truth) paths: ``{series}_EP{nn}.{container}`` and ``{series}_EP{nn}.truth.json``."""
    if container not in CONTAINERS:
        raise ValueError(f"unknown container {container!r}; choose one of {', '.join(CONTAINERS)}")
    stem = f"{series}_EP{episode:02d}"
    out = Path(out_dir)
    return out / f"{stem}.{container}", out / f"{stem}.truth.json"


def encode_plan(plan: EpisodePlan, video: Path, container: str, progress: Progress | None = None,
                cancel: Cancel | None = None) -> int:
    """Render and encode every frame of ``plan``; each distinct drawing is drawn once per run of
    identical frames. Returns the number of frames written."""
    total = plan.frame_count
    with VideoWriter(video, container, plan.width, plan.height, plan.fps) as writer:
        last_state, last_frame = None, None
        for i, state in enumerate(plan.states()):
            if state != last_state:
                last_frame = writer.prepare(render_state(plan, state))
                last_state = state
            writer.write(last_frame)
            if (i + 1) % 24 == 0 or i + 1 == total:
                if cancel is not None and cancel():
                    raise InterruptedError(f"sample generation cancelled at frame {i + 1} of {total}")
                if progress is not None:
                    progress(i + 1, total)
        count = writer.count
    plan.cache.clear()
    return count


def generate_episode(out_dir: str | os.PathLike, series: str = "udwdemo", episode: int = 1, seed: int = 0,
                     width: int = 640, height: int = 360, fps: float = 24, duration_s: float = 24.0,
                     container: str = "mp4", opening_s: float | None = None, ending_s: float | None = None,
                     shared_with: Sequence[int] = (), progress: Progress | None = None,
                     cancel: Cancel | None = None) -> SampleEpisode:
    """Write ``{series}_EP{nn}.{container}`` and its ``.truth.json`` into ``out_dir``.

    ``opening_s`` / ``ending_s`` (default: min(5 s, a quarter) and min(2 s, a tenth) of the episode)
    are the lengths of the opening and ending that every episode of the series shares; 0 disables
    one. ``shared_with`` lists other episode numbers (made with the same settings) whose frame
    correspondence is written into the truth's ``shared`` field.
    """
    video, truth_path = episode_paths(out_dir, series, episode, container)
    video.parent.mkdir(parents=True, exist_ok=True)
    args = dict(series=series, seed=seed, width=width, height=height, fps=fps, duration_s=duration_s,
                opening_s=opening_s, ending_s=ending_s)
    plan = plan_episode(episode=episode, **args)
    others = [plan_episode(episode=e, **args) for e in shared_with if e != episode]
    truth: EpisodeTruth = build_truth(plan, video.name, container, codec_name(container), others)
    count = encode_plan(plan, video, container, progress, cancel)
    if count != truth.frame_count:
        raise RuntimeError(f"encoded {count} frames but the truth has {truth.frame_count}")
    write_truth(truth, truth_path)
    return SampleEpisode(series, episode, plan.prefix, video, truth_path, count, container)


def generate_samples(out_dir: str | os.PathLike, episodes: int = 2, series: str = "udwdemo", seed: int = 0,
                     width: int = 640, height: int = 360, fps: float = 24, duration_s: float = 24.0,
                     containers: Sequence[str] = ("mp4", "webm"), opening_s: float | None = None,
                     ending_s: float | None = None, progress: Progress | None = None,
                     cancel: Cancel | None = None) -> list[SampleEpisode]:
    """Episodes 1..``episodes`` sharing their opening and ending; episode ``n`` uses container
    ``containers[(n - 1) % len(containers)]`` (default: EP01 H.264 MP4, EP02 VP9 WebM)."""
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    numbers = list(range(1, episodes + 1))
    out = []
    for k, ep in enumerate(numbers):
        def step(done, total, preview=None, _k=k):
            if progress is not None:
                progress(_k * total + done, episodes * total, preview)

        out.append(generate_episode(out_dir, series, ep, seed, width, height, fps, duration_s,
                                    containers[k % len(containers)], opening_s, ending_s,
                                    [e for e in numbers if e != ep], step, cancel))
    return out
