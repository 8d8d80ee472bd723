"""An episode's shot list: the shared opening, the episode's own body shots, the shared ending.

The opening and ending depend only on (series, seed, frame size, fps and their own length), never
on the episode number, so every episode of a series made with the same settings starts and ends
with the very same drawings.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .cast import CHARACTER_IDS
from .shots import BODY_TEMPLATES, Ctx, closeup, establishing, group, title
from .storyboard import FrameState, Shot, shot_state

SERIES_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
MIN_SHOT = 8  # frames; shorter segments get fewer shots

# the shared opening: key, weight, priority (kept first when the opening is short), builder
_OPENING = (
    ("op1", 0.28, 1, lambda c, n, r: establishing(c, n, (), "city", r, tilt=True)),
    ("op2", 0.14, 3, lambda c, n, r: title(c, n, (), "title", r)),
    ("op3", 0.30, 0, lambda c, n, r: group(c, n, CHARACTER_IDS, "roof", r)),
    ("op4", 0.14, 2, lambda c, n, r: closeup(c, n, ("aoi",), "park", r)),
    ("op5", 0.14, 4, lambda c, n, r: closeup(c, n, ("beni",), "room", r)),
)
_ENDING = (
    ("ed1", 1.0, 0, lambda c, n, r: group(c, n, ("kuro", "aoi", "shiro", "beni"), "sunset", r, pan=0.5)),
)


def _series_code(series: str) -> int:
    return zlib.crc32(series.encode("utf-8"))


def _allocate(n: int, weights: list[float]) -> list[int]:
    """Split ``n`` frames in proportion to ``weights`` (largest remainder), every part >= 1."""
    total = sum(weights)
    raw = [n * w / total for w in weights]
    out = [max(1, int(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda k: (-(raw[k] - int(raw[k])), k))
    k = 0
    while sum(out) < n:
        out[order[k % len(order)]] += 1
        k += 1
    while sum(out) > n:
        big = max(range(len(out)), key=lambda j: out[j])
        out[big] -= 1
    return out


def _pick(table, n: int) -> list:
    """The entries of a segment table that fit into ``n`` frames, by priority, in time order."""
    keep = max(1, min(len(table), n // MIN_SHOT))
    chosen = sorted(table, key=lambda e: e[2])[:keep]
    return [e for e in table if e in chosen]


@dataclass(frozen=True)
class EpisodePlan:
    series: str
    episode: int
    seed: int
    width: int
    height: int
    fps: float
    shots: tuple[Shot, ...]
    starts: tuple[int, ...]  # first frame of each shot
    frame_count: int
    segments: tuple[tuple[str, int, int], ...]  # (kind, start, end) with end exclusive
    cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def prefix(self) -> str:
        return f"{self.series}_EP{self.episode:02d}"

    def locate(self, i: int) -> tuple[int, int]:
        """(shot index, frame inside the shot) of episode frame ``i``."""
        if not 0 <= i < self.frame_count:
            raise IndexError(f"frame {i} outside 0..{self.frame_count - 1}")
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return k, i - self.starts[k]

    def state(self, i: int) -> FrameState:
        k, f = self.locate(i)
        return shot_state(self.shots[k], k, f, self.width, self.height)

    def states(self) -> Iterator[FrameState]:
        for k, shot in enumerate(self.shots):
            for f in range(shot.length):
                yield shot_state(shot, k, f, self.width, self.height)


def plan_episode(series: str = "udwdemo", episode: int = 1, seed: int = 0, width: int = 640,
                 height: int = 360, fps: float = 24, duration_s: float = 24.0,
                 opening_s: float | None = None, ending_s: float | None = None) -> EpisodePlan:
    """The shot list of one episode (cheap: nothing is drawn)."""
    if not SERIES_RE.match(series):
        raise ValueError(f"series must be letters, digits and '-' (no '_'), got {series!r}")
    if episode < 1 or episode > 99:
        raise ValueError(f"episode must be 1..99, got {episode}")
    if width < 32 or height < 32 or width % 2 or height % 2:
        raise ValueError(f"frame size must be even and at least 32x32, got {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    n = round(duration_s * fps)
    n_op = round((min(5.0, 0.25 * duration_s) if opening_s is None else opening_s) * fps)
    n_ed = round((min(2.0, 0.1 * duration_s) if ending_s is None else ending_s) * fps)
    if n < 1 or n_op < 0 or n_ed < 0 or n_op + n_ed >= n:
        raise ValueError(f"{n} frames cannot hold a {n_op}-frame opening and a {n_ed}-frame ending")
    code = _series_code(series)
    shots: list[Shot] = []

    def shared(table, total: int, segment: str, seg_code: int) -> None:
        if total <= 0:
            return
        entries = _pick(table, total)
        for (key, _, _, build), length in zip(entries, _allocate(total, [e[1] for e in entries])):
            idx = [e[0] for e in table].index(key)
            ctx = Ctx(width, height, fps, key, segment, int(zlib.crc32(f"{seed}/{series}/{key}".encode())))
            shots.append(build(ctx, length, np.random.default_rng([seed, code, seg_code, idx])))

    shared(_OPENING, n_op, "opening", 0)
    rng = np.random.default_rng([seed, code, 1, episode])
    names = list(BODY_TEMPLATES)
    order = [names[j] for j in rng.permutation(len(names))]
    n_body = n - n_op - n_ed
    chosen = order[:max(1, min(len(order), n_body // MIN_SHOT))]
    lengths = _allocate(n_body, [BODY_TEMPLATES[t][2] for t in chosen])
    for j, (name, length) in enumerate(zip(chosen, lengths)):
        build, cast_n, _, bgs = BODY_TEMPLATES[name]
        r = np.random.default_rng([seed, code, 2, episode, j])
        cast = tuple(str(c) for c in r.permutation(list(CHARACTER_IDS))[:cast_n])
        bg = str(r.choice(list(bgs)))
        key = f"ep{episode:02d}s{j + 1:02d}"
        ctx = Ctx(width, height, fps, key, "body", int(zlib.crc32(f"{seed}/{series}/{key}/{bg}".encode())))
        shots.append(build(ctx, length, cast, bg, r))
    shared(_ENDING, n_ed, "ending", 3)

    starts = tuple(int(s) for s in np.cumsum([0] + [s.length for s in shots[:-1]]))
    segments = tuple((kind, a, b) for kind, a, b in
                     (("opening", 0, n_op), ("body", n_op, n - n_ed), ("ending", n - n_ed, n)) if b > a)
    return EpisodePlan(series, episode, seed, width, height, fps, tuple(shots), starts, n, segments)
