"""Ground truth of a sample episode: typed records, how they are derived from a plan, JSON in/out.

File ``{series}_EP{nn}.truth.json`` beside the video; one top-level object::

    format "udw.samples.truth", version 1, series, episode, prefix ("udwdemo_EP01"), video (file
    name beside the JSON), container, codec, pix_fmt, width, height, fps, frame_count, seed,
    box_format "xyxy-px-exclusive",
    near_duplicate   {"shift_px": S, "definition": "..."}
    characters       [{"id", "name", "hair_style", "hair", "eyes", "outfit", "accent", "skin"}]
    segments         [{"kind": "opening"|"body"|"ending", "start", "end"}]
    scenes           [{"id", "key", "segment", "start", "end", "kind", "shot", "background",
                       "timing", "camera": {"start": [x, y], "velocity": [vx, vy], "step"},
                       "characters": [ids]}]
    groups           [{"id", "scene", "anchor", "frames": [i, ...]}]   (near-duplicate groups)
    frames           [{"i", "pts", "scene", "drawing", "hold_of", "group", "cam": [x, y],
                       "faces": [{"char", "box", "clipped"[, "full_box"]}]}]
    shared           [{"episode": prefix, "segment": "opening"|"ending", "frames": [[i, j], ...]}]

All ``start``/``end`` ranges are frame indices with ``end`` exclusive. ``pts`` is ``i / fps`` in
seconds (containers may round it to their time base, WebM to 1 ms). ``box`` is ``[x0, y0, x1, y1]``
in frame pixels, ``x1``/``y1`` exclusive, clipped to the frame; ``clipped`` tells whether the face
crosses the border, and then ``full_box`` gives the unclipped box. A face box spans the drawn face
from the hairline (hidden under the bangs) to the chin and from cheek to cheek. A character whose
face is entirely outside the frame has no entry. ``timing`` is 1, 2 or 3 (on ones, twos, threes).

``drawing`` names the picture before encoding: ``"{scene key}.d{n:03d}"``; two frames with the same
drawing id render to identical pixels (across episodes too: the shared opening and ending keep
their keys). ``hold_of`` is the index of the first earlier frame of the same scene with the same
drawing, else null. ``cam`` is the camera's offset in pixels inside the scene's background art
(it changes during pans). ``shared[].frames`` pairs frame ``i`` of this episode with frame ``j`` of the
named episode showing the same drawing. See the package docstring for the near-duplicate groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .cast import CHARACTERS
from .figure import face_box
from .plan import EpisodePlan
from .storyboard import FrameState, near_duplicate, shot_state

FORMAT, VERSION = "udw.samples.truth", 1
BUCKETS = ("0-25", "25-50", "50-75", "75-100")
ND_DEFINITION = (
    "Groups never span a scene cut. Inside a scene, frames are taken in order; each frame joins the "
    "first group of its scene (in order of creation) whose anchor it matches, else it starts a new "
    "group as that group's anchor. A frame matches an anchor when the same characters are drawn at "
    "the same size and in the same pose (stand, wave, walk A, walk B) and neither the background "
    "(camera) nor any character is displaced by more than shift_px pixels horizontally or "
    "vertically on screen; eyes (open/half/closed) and mouths (closed/half/open) may differ. So "
    "identical drawings always share a group; holds, blinks, mouth flaps and pans of at most "
    "shift_px from the anchor are one group; a fast pan or a hop animated on ones starts a new group "
    "whenever the displacement from every earlier anchor exceeds shift_px; a raised arm or the other "
    "walk drawing is another group. Two frames of a group are displaced by at most 2 * shift_px; "
    "across a group boundary inside a pan, neighbours may be closer (use frames[].cam to measure)."
)


def nd_shift_px(width: int) -> int:
    """The near-duplicate displacement threshold: 1/80 of the frame width (8 px at 640)."""
    return max(2, round(width / 80))


@dataclass(frozen=True)
class FaceTruth:
    char: str
    box: tuple[int, int, int, int]
    clipped: bool
    full_box: tuple[int, int, int, int]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class FrameTruth:
    i: int
    pts: float
    scene: int
    drawing: str
    hold_of: int | None
    group: int
    faces: tuple[FaceTruth, ...]
    cam: tuple[int, int] = (0, 0)  # camera offset in the scene's background art (pans, tilts)

    @property
    def count(self) -> int:
        return len(self.faces)

    @property
    def characters(self) -> tuple[str, ...]:
        return tuple(f.char for f in self.faces)


@dataclass(frozen=True)
class SceneTruth:
    id: int
    key: str
    segment: str
    start: int
    end: int
    kind: str
    shot: str
    background: str
    timing: int
    camera: dict
    characters: tuple[str, ...]


@dataclass(frozen=True)
class GroupTruth:
    id: int
    scene: int
    anchor: int  # the frame the group was measured against (its first frame)
    frames: tuple[int, ...]  # ascending; not always contiguous (a drawing that comes back rejoins)


@dataclass(frozen=True)
class SharedTruth:
    episode: str
    segment: str
    frames: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class EpisodeTruth:
    series: str
    episode: int
    prefix: str
    video: str
    container: str
    codec: str
    width: int
    height: int
    fps: float
    frame_count: int
    seed: int
    shift_px: int
    characters: tuple[dict, ...]
    segments: tuple[tuple[str, int, int], ...]
    scenes: tuple[SceneTruth, ...]
    groups: tuple[GroupTruth, ...]
    frames: tuple[FrameTruth, ...]
    shared: tuple[SharedTruth, ...]

    def face_ratio(self, i: int) -> float:
        """Tallest (clipped) face height over the frame height; 0.0 without faces."""
        return max((f.height for f in self.frames[i].faces), default=0) / self.height

    def bucket(self, i: int) -> str | None:
        """The seed's ``face_height_ratio_*`` bucket of frame ``i`` ("0-25" ... "75-100"), or None."""
        if not self.frames[i].faces:
            return None
        return BUCKETS[min(3, int(self.face_ratio(i) * 4))]


def _faces(st: FrameState, w: int, h: int) -> tuple[FaceTruth, ...]:
    out = []
    for a in st.actors:
        full = face_box(a.x, a.y, a.h)
        box = (max(full[0], 0), max(full[1], 0), min(full[2], w), min(full[3], h))
        if box[2] > box[0] and box[3] > box[1]:
            out.append(FaceTruth(a.char, box, box != full, full))
    return tuple(out)


def _content(st: FrameState, key: str) -> tuple:
    return (key, st.cam, st.actors)


def _shared(plan: EpisodePlan, other: EpisodePlan) -> list[SharedTruth]:
    out = []
    segs = {kind: (a, b) for kind, a, b in other.segments}
    for kind, a, b in plan.segments:
        if kind == "body" or kind not in segs:
            continue
        c, d = segs[kind]
        pairs = []
        for o in range(min(b - a, d - c)):
            i, j = a + o, c + o
            ki, kj = plan.locate(i)[0], other.locate(j)[0]
            if _content(plan.state(i), plan.shots[ki].key) == _content(other.state(j), other.shots[kj].key):
                pairs.append((i, j))
        if pairs:
            out.append(SharedTruth(other.prefix, kind, tuple(pairs)))
    return out


def build_truth(plan: EpisodePlan, video: str, container: str, codec: str,
                shared_with: Sequence[EpisodePlan] = ()) -> EpisodeTruth:
    """Derive the ground truth from the plan alone (nothing is drawn or encoded)."""
    w, h, shift = plan.width, plan.height, nd_shift_px(plan.width)
    frames: list[FrameTruth] = []
    groups: list[GroupTruth] = []
    scenes: list[SceneTruth] = []
    for k, shot in enumerate(plan.shots):
        start = plan.starts[k]
        seen: dict = {}
        anchors: list = []  # (anchor state, group id) of this scene, in creation order
        for f in range(shot.length):
            i = start + f
            st = shot_state(shot, k, f, w, h)
            content = (st.cam, st.actors)
            if content in seen:
                drawing, hold_of = seen[content]
            else:
                drawing, hold_of = f"{shot.key}.d{len(seen):03d}", None
                seen[content] = (drawing, i)
            gid = next((g for a, g in anchors if near_duplicate(a, st, shift)), None)
            if gid is None:
                gid = len(groups)
                anchors.append((st, gid))
                groups.append(GroupTruth(gid, k, i, (i,)))
            else:
                g = groups[gid]
                groups[gid] = GroupTruth(g.id, g.scene, g.anchor, g.frames + (i,))
            frames.append(FrameTruth(i, round(i / plan.fps, 6), k, drawing, hold_of, gid,
                                     _faces(st, w, h), st.cam))
        camera = {"start": [round(shot.cam[0]), round(shot.cam[1])],
                  "velocity": [round(shot.cam_v[0], 6), round(shot.cam_v[1], 6)], "step": shot.cam_step}
        scenes.append(SceneTruth(k, shot.key, shot.segment, start, start + shot.length, shot.kind,
                                 shot.shot_type, shot.background, shot.step, camera,
                                 tuple(a.char for a in shot.actors)))
    shared = [s for other in shared_with for s in _shared(plan, other)]
    fps = int(plan.fps) if float(plan.fps).is_integer() else float(plan.fps)
    return EpisodeTruth(plan.series, plan.episode, plan.prefix, video, container, codec, w, h, fps,
                        plan.frame_count, plan.seed, shift, tuple(c.to_dict() for c in CHARACTERS),
                        plan.segments, tuple(scenes), tuple(groups), tuple(frames), tuple(shared))
