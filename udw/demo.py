"""`udw demo`: the whole pipeline on generated sample episodes, ending in a gallery page.

1. two sample episodes (a shared opening and ending, held drawings, pans, cuts) with their truth;
2. a reference folder `refs/NAME/` with a few close-ups of each character from episode 1, the
   way a user names the cast once (the character stage then recognises them everywhere);
3. `build_dataset` over both episodes into `dataset/`: frames, dedupe, tags, faces, characters,
   then the training folder `train/` (arranged, balanced, captioned) and its page `gallery/`.
Re-running reuses the samples and resumes the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Union

from PIL import Image

from .characters.stage import CharacterSettings
from .core.atomic import write_with
from .core.ports import Ports
from .dataset.build import BuildReport, BuildSettings, StepResult, build_dataset
from .samples import (CHARACTERS, SampleEpisode, episode_paths, generate_samples, load_truth, plan_episode,
                      render_frame)

REFS_PER_CHARACTER = 3
SERIES, CONTAINERS = "udwdemo", ("mp4", "webm")  # generate_samples' defaults


def run_demo(out: Union[str, Path], ports: Optional[Ports] = None, log: Callable[[str], None] = print,
             duration_s: float = 24.0) -> BuildReport:
    """Samples, references and the full build under `out/`; returns the build's report."""
    out = Path(out).expanduser().resolve()
    log(f"sample episodes -> {out / 'samples'}")
    episodes = existing_samples(out / "samples", duration_s) or generate_samples(out / "samples",
                                                                                duration_s=duration_s)
    refs = write_refs(episodes, out / "refs", duration_s)
    log(f"character references -> {refs} ({', '.join(sorted(p.name for p in refs.iterdir()))})")
    settings = BuildSettings(characters=CharacterSettings(refs=str(refs)), export_to=out / "train",
                             gallery_to=out / "gallery", gallery_title="UDW Studio demo: two sample episodes")

    def show(result: StepResult) -> None:
        log(result.line())

    return build_dataset(out / "dataset", [ep.video for ep in episodes], ports=ports, settings=settings,
                         on_step=show)


def existing_samples(folder: Path, duration_s: float) -> list[SampleEpisode]:
    """The default episodes if a previous run wrote them completely (both files are atomic)."""
    found = []
    for n, container in enumerate(CONTAINERS, 1):
        video, truth_path = episode_paths(folder, SERIES, n, container)
        if not (video.is_file() and truth_path.is_file()):
            return []
        truth = load_truth(truth_path)
        if abs(truth.frame_count / truth.fps - duration_s) > 1:  # written for another --duration
            return []
        found.append(SampleEpisode(SERIES, n, f"{SERIES}_EP{n:02d}", video, truth_path, truth.frame_count,
                                   container))
    return found


def write_refs(episodes: list[SampleEpisode], folder: Path, duration_s: float) -> Path:
    """For each character, head crops of frames where it is alone and its face is largest."""
    names = {c.id: c.name for c in CHARACTERS}
    for char_id, name in names.items():
        picked = []  # (episode, truth, frame), one per scene: different shots, not one held drawing thrice
        for episode in episodes:
            truth = load_truth(episode.truth)
            solo = sorted((f for f in truth.frames if len(f.faces) == 1 and f.faces[0].char == char_id
                           and not f.faces[0].clipped), key=lambda f: (-f.faces[0].height, f.i))
            scenes = set()
            for frame in solo:
                if frame.scene not in scenes and len(picked) < REFS_PER_CHARACTER:
                    scenes.add(frame.scene)
                    picked.append((episode, truth, frame))
        for episode, truth, frame in picked:
            target = folder / name / f"{episode.prefix}_{frame.i:04d}.png"
            if not target.exists():
                plan = plan_episode(episode.series, episode.episode, duration_s=duration_s)
                image = Image.fromarray(render_frame(plan, frame.i)).crop(
                    _head_square(frame.faces[0].box, truth.width, truth.height))
                write_with(target, lambda tmp: image.save(tmp, format="PNG"))
    return folder


def _head_square(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """A square around a face box with hair and shoulders, as a user crops a reference picture."""
    x0, y0, x1, y1 = box
    side = min(int(1.8 * max(x1 - x0, y1 - y0)), width, height)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 - (y1 - y0) // 8
    left, top = min(max(cx - side // 2, 0), width - side), min(max(cy - side // 2, 0), height - side)
    return left, top, left + side, top + side
