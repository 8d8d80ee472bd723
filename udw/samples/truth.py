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
    kinds            {"distinct": {kind: description}, "copy": {kind: description}}
    frames           [{"i", "pts", "scene", "drawing", "hold_of", "group", "distinct", "kind",
                       "cam": [x, y], "faces": [{"char", "box", "clipped"[, "full_box"]}]}]
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

``distinct`` names a frame's near-duplicate group by its scene key ("ep01s04.g03"): the *distinct
drawing* a dataset should keep once. Shared openings/endings keep their keys, so equal ids across
episodes are the same drawing. ``kind`` is the kind of case (DISTINCT_KINDS on a group's first
frame: what changed from the frame before; COPY_KINDS on the others: how it differs from the
group's anchor), so coverage and redundancy can be scored per kind (udw.dedupe.quality).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .cast import CHARACTERS
from .figure import POSE_WALK_A, POSE_WALK_B, face_box
from .plan import EpisodePlan
from .storyboard import FrameState, near_duplicate, shot_state

FORMAT, VERSION = "udw.samples.truth", 2
READS = (1, 2)  # version 1 files have no distinct-drawing ids nor kinds (read as "")
# Kinds of case. The first frame of a near-duplicate group is a distinct drawing; its kind says how
# it differs from the frame before it. Every other frame is a copy; its kind says how it differs
# from its group's anchor. (Image sets add the noise-model copies, see .imageset.)
DISTINCT_KINDS = {
    "cut": "the first frame of a scene",
    "expression": "another facial expression (brows, eyes and mouth drawn anew)",
    "outfit": "the same drawing in other outfit colours",
    "head_tilt": "the head tilted by a few degrees",
    "hand": "a hand moved (to the chest, to the chin, back down)",
    "arm": "an arm raised or lowered",
    "walk": "the other drawing of a walk cycle",
    "move": "a character displaced beyond shift_px (a hop) or entering",
    "pan_reveal": "the camera moved beyond shift_px from every earlier drawing: new picture shows",
}
COPY_KINDS = {
    "hold": "the very same drawing again (held on twos/threes, or repeated)",
    "blink": "eyes half shut or closed, all else the same drawing",
    "lip_flap": "another mouth drawing while talking, all else the same",
    "slow_pan": "the camera moved by at most shift_px from the group's anchor",
    "small_move": "a character displaced by at most shift_px",
}
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
    distinct: str = ""  # distinct-drawing id "{scene key}.g{n:02d}", stable across episodes
    kind: str = ""      # kind of case: a DISTINCT_KINDS key on a group's first frame, else COPY_KINDS

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


def _distinct_kind(prev: FrameState, st: FrameState) -> str:
    """How a new distinct drawing differs from the frame before it."""
    if len(prev.actors) != len(st.actors):
        return "move"
    for p, q in zip(prev.actors, st.actors):
        if p.char != q.char or p.h != q.h:
            return "move"
        for field, kind in (("outfit", "outfit"), ("expression", "expression"), ("tilt", "head_tilt"),
                            ("hand", "hand")):
            if getattr(p, field) != getattr(q, field):
                return kind
        if p.pose != q.pose:
            return "walk" if {p.pose, q.pose} & {POSE_WALK_A, POSE_WALK_B} else "arm"
    return "pan_reveal" if prev.cam != st.cam else "move"


def _copy_kind(anchor: FrameState, st: FrameState) -> str:
    """How a frame differs from its group's anchor (the same drawing)."""
    if any(p.eyes != q.eyes for p, q in zip(anchor.actors, st.actors)):
        return "blink"
    if any(p.mouth != q.mouth for p, q in zip(anchor.actors, st.actors)):
        return "lip_flap"
    return "slow_pan" if anchor.cam != st.cam else "small_move"


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
        prev = None
        for f in range(shot.length):
            i = start + f
            st = shot_state(shot, k, f, w, h)
            content = (st.cam, st.actors)
            if content in seen:
                drawing, hold_of = seen[content]
            else:
                drawing, hold_of = f"{shot.key}.d{len(seen):03d}", None
                seen[content] = (drawing, i)
            found = next(((a, g) for a, g in anchors if near_duplicate(a, st, shift)), None)
            if found is None:
                gid = len(groups)
                anchors.append((st, gid))
                groups.append(GroupTruth(gid, k, i, (i,)))
                kind = "cut" if prev is None else _distinct_kind(prev, st)
            else:
                gid = found[1]
                g = groups[gid]
                groups[gid] = GroupTruth(g.id, g.scene, g.anchor, g.frames + (i,))
                kind = "hold" if hold_of is not None else _copy_kind(found[0], st)
            n_in_scene = next(n for n, (_, g) in enumerate(anchors) if g == gid)
            frames.append(FrameTruth(i, round(i / plan.fps, 6), k, drawing, hold_of, gid,
                                     _faces(st, w, h), st.cam, f"{shot.key}.g{n_in_scene:02d}", kind))
            prev = st
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
