"""Sample inputs the shipped workflows run on, made on first use inside a host's input folder.

Everything comes from the generated sample episodes (no download): two short episodes, frames and
pictures rendered from them, character references named after the cast, and single pictures for
the image nodes. Each set is written once (files atomically, then a marker), so a second use
costs nothing and a killed first use finishes the next time.

    udw_samples/episodes/            udwdemo_EP01.mp4, udwdemo_EP02.webm (+ their truth JSON)
    udw_samples/images/              24 frames of episode 1, holds included (dedupe finds them)
    udw_samples/frames/              one frame with faces per scene (faces, characters)
    udw_samples/refs/NAME/           head crops per character (the cast named once)
    udw_samples/character_a.png      one character alone (pose transfer: who)
    udw_samples/pose_b.png           another character in a wide shot (pose transfer: which pose)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PIL import Image

from ..core.atomic import write_text, write_with
from ..core.ports import Ports
from .generate import SampleEpisode, generate_samples
from .plan import plan_episode
from .render import render_frame
from .truthjson import load_truth

FOLDER = "udw_samples"
DURATION_S = 8.0  # short episodes: a first run takes seconds
SAMPLES = {  # name -> path inside the input folder
    "episodes": f"{FOLDER}/episodes",
    "episode": f"{FOLDER}/episodes/udwdemo_EP01.mp4",
    "images": f"{FOLDER}/images",
    "frames": f"{FOLDER}/frames",
    "refs": f"{FOLDER}/refs",
    "character": f"{FOLDER}/character_a.png",
    "pose": f"{FOLDER}/pose_b.png",
}
DESCRIPTIONS = {
    "episodes": "two sample episodes (a folder of videos: Build, Extract Frames)",
    "episode": "one sample episode (a video file)",
    "images": "24 frames of episode 1 with held drawings (Import, Dedupe, Gallery)",
    "frames": "one frame with faces per scene (Faces, Characters, tagging)",
    "refs": "character references refs/NAME/*.png (Classify Characters)",
    "character": "one character alone (pose transfer: reference A)",
    "pose": "a character in a wide shot (pose transfer: pose B)",
}


def ensure_sample(name: str, input_dir: Path, ports: Optional[Ports] = None) -> Path:
    """The sample `name` under `input_dir`, made now if it is not there yet; returns its path."""
    from ..core.errors import BadInput

    if name not in SAMPLES:
        raise BadInput(f"unknown sample {name!r}", f"use one of {', '.join(SAMPLES)}")
    input_dir = Path(input_dir)
    marker = input_dir / FOLDER / f".{name}.done"
    if not marker.is_file():
        _MAKERS[name](input_dir, ports or Ports())
        write_text(marker, "made by UDW Studio; delete this file to make the sample again\n")
    return input_dir / SAMPLES[name]


def sample_pictures(name: str, input_dir: Path, ports: Optional[Ports] = None, limit: int = 16) -> list[Path]:
    """Pictures that show sample `name` (its own pictures, or frames for the video samples)."""
    path = ensure_sample(name, input_dir, ports)
    if path.is_file() and path.suffix == ".png":
        return [path]
    if name in ("episodes", "episode"):
        path = ensure_sample("frames", input_dir, ports)
    from ..core.text import natural_sorted

    return natural_sorted(path.rglob("*.png"))[:limit]


def _episodes(input_dir: Path, ports: Ports) -> list[SampleEpisode]:
    from ..demo import existing_samples

    folder = input_dir / SAMPLES["episodes"]
    return existing_samples(folder, DURATION_S) or generate_samples(folder, duration_s=DURATION_S,
                                                                   progress=ports.progress,
                                                                   cancel=ports.cancelled)


def _write_frames(episode: SampleEpisode, frames: list[int], folder: Path) -> None:
    plan = plan_episode(episode.series, episode.episode, duration_s=DURATION_S)
    for i in frames:
        target = folder / f"{episode.prefix}_{i}.png"
        if not target.is_file():
            image = Image.fromarray(render_frame(plan, i))
            write_with(target, lambda tmp: image.save(tmp, format="PNG"))


def _make_episodes(input_dir: Path, ports: Ports) -> None:
    _episodes(input_dir, ports)


def _make_images(input_dir: Path, ports: Ports) -> None:
    first = _episodes(input_dir, ports)[0]
    _write_frames(first, list(range(0, 48, 2)), input_dir / SAMPLES["images"])


def _make_frames(input_dir: Path, ports: Ports) -> None:
    for episode in _episodes(input_dir, ports):
        truth, scenes, picked = load_truth(episode.truth), set(), []
        for frame in truth.frames:
            if frame.faces and frame.scene not in scenes and not any(f.clipped for f in frame.faces):
                scenes.add(frame.scene)
                picked.append(frame.i)
        _write_frames(episode, picked[:8], input_dir / SAMPLES["frames"])


def _make_refs(input_dir: Path, ports: Ports) -> None:
    from ..demo import write_refs

    write_refs(_episodes(input_dir, ports), input_dir / SAMPLES["refs"], DURATION_S)


def _solo_frame(input_dir: Path, ports: Ports, pick: Callable, exclude: str = ""):
    """(episode, frame) of a frame with one whole character, chosen by `pick` over the candidates."""
    candidates = []
    for episode in _episodes(input_dir, ports):
        for frame in load_truth(episode.truth).frames:
            if len(frame.faces) == 1 and not frame.faces[0].clipped and frame.faces[0].char != exclude:
                candidates.append((episode, frame))
    return pick(candidates, key=lambda ef: (ef[1].faces[0].height, -ef[1].i))


def _save_frame(episode: SampleEpisode, i: int, target: Path) -> None:
    image = Image.fromarray(render_frame(plan_episode(episode.series, episode.episode, duration_s=DURATION_S), i))
    write_with(target, lambda tmp: image.save(tmp, format="PNG"))


def _make_character(input_dir: Path, ports: Ports) -> None:
    episode, frame = _solo_frame(input_dir, ports, max)  # the largest face: a clear look at who it is
    _save_frame(episode, frame.i, input_dir / SAMPLES["character"])


def _make_pose(input_dir: Path, ports: Ports) -> None:
    _, who = _solo_frame(input_dir, ports, max)
    episode, frame = _solo_frame(input_dir, ports, min, exclude=who.faces[0].char)  # wide: the whole body
    _save_frame(episode, frame.i, input_dir / SAMPLES["pose"])


_MAKERS = {"episodes": _make_episodes, "episode": _make_episodes, "images": _make_images, "frames": _make_frames,
           "refs": _make_refs, "character": _make_character, "pose": _make_pose}
