"""Retargeting: pose B redrawn with character A's proportions.

Each bone of the OpenPose tree keeps its direction from B (so every joint angle is B's) and gets
A's length relative to a body unit measured on both poses: the torso (neck to hips), else the
shoulders, the hips or the head. The tree grows from B's neck, so neck and hips stay where B has them
and a chibi character's short legs or big head stay short or big in B's pose.

Two details keep it honest on real 2D poses:
- foreshortening: a limb that B shows shortened (pointing at the camera) stays shortened by the
  same factor; the "true" length of a limb is the longer of it and its mirror limb (in A and B);
- the head scales as a whole (one factor from the mean head-bone length) so that a turned head keeps
  B's layout of eyes and ears. Hands and face follow their wrist / nose, scaled like their parent.
Bones that A does not show (a half-body reference has no legs) take the mirror bone, or keep B's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..core.errors import BadInput
from .keypoints import (BODY_NAMES, L_ANK, L_EAR, L_ELB, L_EYE, L_HIP, L_KNE, L_SHO, L_WRI, NECK, NOSE, R_ANK,
                        R_EAR, R_ELB, R_EYE, R_HIP, R_KNE, R_SHO, R_WRI, Person, PoseFrame)

# Parent -> child, parents first (the neck is the root).
BONES = ((NECK, R_SHO), (R_SHO, R_ELB), (R_ELB, R_WRI), (NECK, L_SHO), (L_SHO, L_ELB), (L_ELB, L_WRI),
         (NECK, R_HIP), (R_HIP, R_KNE), (R_KNE, R_ANK), (NECK, L_HIP), (L_HIP, L_KNE), (L_KNE, L_ANK),
         (NECK, NOSE), (NOSE, R_EYE), (R_EYE, R_EAR), (NOSE, L_EYE), (L_EYE, L_EAR))
HEAD = frozenset({(NECK, NOSE), (NOSE, R_EYE), (R_EYE, R_EAR), (NOSE, L_EYE), (L_EYE, L_EAR)})
_MIRROR_JOINT = {R_SHO: L_SHO, R_ELB: L_ELB, R_WRI: L_WRI, R_HIP: L_HIP, R_KNE: L_KNE, R_ANK: L_ANK,
                 R_EYE: L_EYE, R_EAR: L_EAR}
_MIRROR_JOINT.update({v: k for k, v in list(_MIRROR_JOINT.items())})
UNITS = {"torso": ((NECK, R_HIP), (NECK, L_HIP)), "shoulders": ((NECK, R_SHO), (NECK, L_SHO)),
         "shoulder width": ((R_SHO, L_SHO),), "hip width": ((R_HIP, L_HIP),), "head": ((NECK, NOSE),)}


@dataclass
class Retargeted:
    person: Person
    unit: str                                   # the body unit both poses were measured in
    scales: dict[tuple[int, int], float] = field(default_factory=dict)   # new length / B's length
    notes: list[str] = field(default_factory=list)


def mirror(bone: tuple[int, int]) -> tuple[int, int]:
    return (_MIRROR_JOINT.get(bone[0], bone[0]), _MIRROR_JOINT.get(bone[1], bone[1]))


def bone_length(body: np.ndarray, bone: tuple[int, int]) -> Optional[float]:
    a, b = body[bone[0]], body[bone[1]]
    if a[2] <= 0 or b[2] <= 0:
        return None
    return float(np.hypot(b[0] - a[0], b[1] - a[1]))


def _mean_length(body: np.ndarray, bones) -> Optional[float]:
    lengths = [v for v in (bone_length(body, b) for b in bones) if v]
    return float(np.mean(lengths)) if lengths else None


def _true_length(body: np.ndarray, bone: tuple[int, int]) -> Optional[float]:
    """The longer of a limb and its mirror (the less foreshortened view of that limb)."""
    lengths = [v for v in (bone_length(body, bone), bone_length(body, mirror(bone))) if v]
    return max(lengths) if lengths else None


def choose_unit(a: np.ndarray, b: np.ndarray) -> tuple[str, float, float]:
    for name, bones in UNITS.items():
        ua, ub = _mean_length(a, bones), _mean_length(b, bones)
        if ua and ub:
            return name, ua, ub
    raise BadInput("the two poses share no body measure (torso, shoulders, hips or head)",
                   "use poses where the shoulders or the hips are visible in both images")


def retarget(target: Person, proportions: Person, strength: float = 1.0) -> Retargeted:
    """`target` (pose B) with the proportions of `proportions` (character A); 0 <= strength <= 1."""
    if not 0.0 <= strength <= 1.0:
        raise BadInput(f"retarget strength {strength} is outside 0..1", "use a value from 0 (off) to 1")
    b, a = target.body, proportions.body
    unit, ua, ub = choose_unit(a, b)
    head = _head_scale(a, b, ua, ub)
    out = target.copy()
    new = out.body
    placed = np.zeros(len(new), dtype=bool)
    placed[NECK] = b[NECK, 2] > 0
    scales: dict[tuple[int, int], float] = {}
    for bone in BONES:
        parent, child = bone
        if b[child, 2] <= 0:
            continue
        if not placed[parent]:  # a part cut off from the neck keeps B's position (its own anchor)
            placed[child] = True
            continue
        length_b = bone_length(b, bone) or 0.0
        wanted = length_b * head if bone in HEAD else _limb_length(a, b, bone, ua, ub)
        length = (1 - strength) * length_b + strength * wanted
        direction = (b[child, :2] - b[parent, :2]) / length_b if length_b > 1e-9 else np.zeros(2)
        new[child, :2] = new[parent, :2] + direction * length
        placed[child] = True
        scales[bone] = length / length_b if length_b > 1e-9 else 1.0
    head_factor = (1 - strength) + strength * head
    _follow(out, target, scales, head_factor)
    notes = [f"proportions measured relative to the {unit}"]
    missing = [f"{_name(bone)}" for bone in BONES if b[bone[1], 2] > 0 and bone not in HEAD
               and _true_length(a, bone) is None]
    if missing:
        notes.append("the reference pose does not show " + ", ".join(missing) + "; kept the target's lengths")
    return Retargeted(out, unit, scales, notes)


def _limb_length(a: np.ndarray, b: np.ndarray, bone: tuple[int, int], ua: float, ub: float) -> float:
    length_b = bone_length(b, bone) or 0.0
    true_a, true_b = _true_length(a, bone), _true_length(b, bone)
    if not true_a or not true_b:
        return length_b
    foreshortening = length_b / true_b
    return foreshortening * true_a / ua * ub


def _head_scale(a: np.ndarray, b: np.ndarray, ua: float, ub: float) -> float:
    ha, hb = _mean_length(a, HEAD), _mean_length(b, HEAD)
    return (ha / ua) / (hb / ub) if ha and hb else 1.0


def _follow(out: Person, target: Person, scales: dict, head_factor: float) -> None:
    """Hands follow their wrists and the face its nose, scaled like the bone they hang on."""
    def move(part: str, anchor: int, factor: float) -> None:
        arr = getattr(out, part)
        if arr is None or target.body[anchor, 2] <= 0:
            return
        vis = arr[:, 2] > 0
        arr[vis, :2] = out.body[anchor, :2] + (getattr(target, part)[vis, :2] - target.body[anchor, :2]) * factor

    move("hand_left", L_WRI, scales.get((L_ELB, L_WRI), 1.0))
    move("hand_right", R_WRI, scales.get((R_ELB, R_WRI), 1.0))
    move("face", NOSE, head_factor)


def _name(bone: tuple[int, int]) -> str:
    return f"{BODY_NAMES[bone[0]]}-{BODY_NAMES[bone[1]]}"


def retarget_frame(target: PoseFrame, proportions: PoseFrame, strength: float = 1.0,
                   target_person: int = 0, reference_person: int = 0) -> tuple[PoseFrame, list[str]]:
    """Retarget one person of `target` to one person of `proportions`; other people stay as they are."""
    if not target.people:
        raise BadInput("the target pose has no person", "extract a pose with a person first")
    if not proportions.people:
        raise BadInput("the reference pose has no person", "extract the character's pose first (anime mode "
                                                          "helps with half-body references)")
    for name, frame, idx in (("target", target, target_person), ("reference", proportions, reference_person)):
        if not 0 <= idx < len(frame.people):
            raise BadInput(f"{name} person {idx} does not exist ({len(frame.people)} in the pose)",
                           f"use an index from 0 to {len(frame.people) - 1}")
    result = retarget(target.people[target_person], proportions.people[reference_person], strength)
    out = target.copy()
    out.people[target_person] = result.person
    return out, result.notes
