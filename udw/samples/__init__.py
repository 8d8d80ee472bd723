"""Ground-truth sample episodes: short, deterministic cel-animation clips in an anime style.

The product demo, the tests and the benchmarks use these as their default data. Each episode is a
real video (H.264 MP4, VP9 WebM or H.264 MKV, yuv420p) plus ``{series}_EP{nn}.truth.json`` that
says, for every decoded frame, which scene and drawing it shows, whether it is a hold, its
near-duplicate group and where every face is (schema: :mod:`udw.samples.truth`).

How the clips are made, like TV anime:

- four characters (``aoi``, ``beni``, ``kuro``, ``shiro``) with distinct hair colour and shape,
  eye colour and outfit, drawn in flat colours with dark outlines over flat-colour backgrounds;
- drawings held on twos and threes (consecutive identical frames), some shots on ones; pans over
  backgrounds wider or taller than the frame, slow (a held cel panned on ones) and fast (follow
  shots, whip pans); blinks and mouth flaps; hard cuts between shots;
- close-ups, extreme close-ups, medium and wide shots, with 0, 1, 2, 3 and 4 characters, so that
  every face-height-ratio bucket (0-25, 25-50, 50-75, 75-100 %) and person count occurs;
- episodes of one series share an opening and an ending (same drawings, same frame count);
- small acting, the cases a dataset must keep apart: expression changes (close-ups react, an
  ``acting`` shot changes expression, head tilt and hand one at a time), outfit-colour variants
  (a ``dressup`` shot), an arm raised, next to the copies it must merge (holds, blinks, lip
  flaps, slow pans of a few pixels). Every frame's truth names its *distinct drawing* and its
  *kind of case* (``distinct`` / ``kind``; scored with :mod:`udw.dedupe.quality`).

**Image sets** (:mod:`.imageset`, ``generate_image_set``): pictures of base stills, their variants
(other drawings) and copies made with the noise model of :mod:`.noise` (JPEG q60-95, WebP, rescale
0.5-1x, crop <= 2 %, shift <= 1 %, gamma +-5 %, H.264 CRF 18-28), with the same per-image truth.

**Near-duplicate groups** (``groups`` / ``frames[].group`` in the truth). Groups never span a scene
cut. Inside a scene, frames are taken in order; each frame joins the first group of its scene (in
order of creation) whose *anchor* frame it matches, else it starts a new group as its anchor. A
frame matches an anchor when the same characters are drawn at the same size and in the same pose
(stand, wave, walk A, walk B) and neither the background (camera) nor any character is displaced
by more than ``shift_px`` pixels horizontally or vertically on screen; eyes (open, half, closed)
and mouths (closed, half, open) may differ. ``shift_px`` is 1/80 of the frame width (8 px at
640x360). Consequences: identical drawings always share a group; holds, blinks, mouth flaps and
pans of at most ``shift_px`` from the anchor are one group; a fast pan or a hop animated on ones
starts a new group whenever the displacement from every earlier anchor exceeds ``shift_px``; a
raised arm or the other walk-cycle drawing is another group. Two frames of one group are displaced
by at most 2 * ``shift_px``; neighbours across a group boundary inside a pan may be closer (the
truth's per-frame ``cam`` lets an evaluator measure that). Identical drawings in different episodes
(the shared opening and ending) are related by ``shared``, not by groups: groups are per episode;
their ``distinct`` ids are equal, though. Expressions, head tilts, hand gestures and outfit
colours are part of the drawing (a change starts another group); eyes and mouths are not.

API::

    generate_samples(out_dir, episodes=2, ...) -> list[SampleEpisode]
    generate_episode(out_dir, series="udwdemo", episode=1, seed=0, width=640, height=360, fps=24,
                     duration_s=24.0, container="mp4", opening_s=None, ending_s=None,
                     shared_with=(), progress=None, cancel=None) -> SampleEpisode
    load_truth(path) -> EpisodeTruth
    plan_episode(...) -> EpisodePlan; render_frame(plan, i) -> (h, w, 3) uint8 RGB; build_truth(...)

``python -m udw.samples OUT_DIR`` writes the default set. Same arguments give byte-identical truth
JSON and identical pictures.
"""

from .cast import CHARACTER_IDS, CHARACTERS, Character, character
from .generate import SampleEpisode, episode_paths, generate_episode, generate_samples
from .imageset import generate_image_set
from .labels import Labels, episode_labels, imageset_labels
from .plan import EpisodePlan, plan_episode
from .render import render_frame
from .truth import (BUCKETS, COPY_KINDS, DISTINCT_KINDS, EpisodeTruth, FaceTruth, FrameTruth, GroupTruth, SceneTruth, SharedTruth,
                    build_truth, nd_shift_px)
from .truthjson import dumps_truth, load_truth

__all__ = [
    "BUCKETS", "CHARACTERS", "CHARACTER_IDS", "COPY_KINDS", "Character", "DISTINCT_KINDS", "EpisodePlan",
    "EpisodeTruth", "FaceTruth", "FrameTruth", "GroupTruth", "Labels", "SampleEpisode", "SceneTruth",
    "SharedTruth", "build_truth", "character", "dumps_truth", "episode_labels", "episode_paths",
    "generate_episode", "generate_image_set", "generate_samples", "imageset_labels", "load_truth",
    "nd_shift_px", "plan_episode", "render_frame",
]
