"""Skeleton rendering (colours, any size) and retargeting (angles from B, lengths from A)."""

import math

import numpy as np
import pytest

from udw.core.errors import BadInput
from udw.pose import PoseFrame, render_pose
from udw.pose.keypoints import (COLOURS, L_ANK, L_ELB, L_HIP, L_KNE, L_SHO, L_WRI, NECK, NOSE, R_ANK,
                                R_ELB, R_HIP, R_KNE, R_SHO, R_WRI)
from udw.pose.retarget import BONES, HEAD, bone_length, retarget, retarget_frame
from udw.testing.poses import figure, hide

LIMB_BONES = [b for b in BONES if b not in HEAD]


def test_render_uses_the_openpose_colour_table():
    person = figure(hands=True, face=True)
    img = render_pose(PoseFrame(512, 640, [person]))
    assert img.shape == (640, 512, 3) and img.dtype == np.uint8
    for k in (NECK, R_ELB, L_KNE, R_ANK):
        x, y = person.body[k, :2].round().astype(int)
        assert tuple(img[y, x]) == COLOURS[k]
    mid = ((person.body[R_HIP, :2] + person.body[R_KNE, :2]) / 2).round().astype(int)
    assert tuple(img[mid[1], mid[0]]) == tuple(int(c * 0.6) for c in COLOURS[7])  # limb 8-9 at 60 %
    x, y = person.hand_left[8, :2].round().astype(int)  # a fingertip: a blue joint
    assert tuple(img[y, x]) == (0, 0, 255)
    x, y = person.face[0, :2].round().astype(int)
    assert tuple(img[y, x]) == (255, 255, 255)
    no_extras = render_pose(PoseFrame(512, 640, [person]), hands=False, face=False)
    assert (no_extras == (255, 255, 255)).all(-1).sum() == 0 and (no_extras == (0, 0, 255)).all(-1).sum() < 200


def test_render_at_any_size_scales_points_and_sticks():
    person = figure()
    small = render_pose(PoseFrame(512, 640, [person]))
    big = render_pose(PoseFrame(512, 640, [person]), 1024, 1280)
    other = render_pose(PoseFrame(512, 640, [person]), 300, 200)
    assert big.shape == (1280, 1024, 3) and other.shape == (200, 300, 3)
    x, y = (person.body[L_WRI, :2] * 2).round().astype(int)
    assert tuple(big[y, x]) == COLOURS[L_WRI]
    lit_small, lit_big = (small.sum(-1) > 0).sum(), (big.sum(-1) > 0).sum()
    assert 3.0 < lit_big / lit_small < 5.0  # twice the size and twice the stick width: ~4x the ink
    x, y = (person.body[NECK, 0] * 300 / 512), (person.body[NECK, 1] * 200 / 640)
    assert tuple(other[int(round(y)), int(round(x))]) == COLOURS[NECK]
    assert render_pose(PoseFrame(64, 64, [])).sum() == 0


def _angle(body, bone):
    (x0, y0), (x1, y1) = body[bone[0], :2], body[bone[1], :2]
    return math.atan2(y1 - y0, x1 - x0)


def test_retarget_keeps_b_angles_and_takes_a_lengths():
    b = figure(arm_angle=130, elbow_bend=-40, leg_spread=20, knee_bend=35, torso=150)
    chibi = figure(neck=(100, 70), torso=60, shoulder=25, upper_arm=22, forearm=20, hip=15, thigh=18,
                   shin=16, head=35, arm_angle=10)
    out = retarget(b, chibi)
    new = out.person.body
    assert out.unit == "torso"
    assert np.allclose(new[NECK], b.body[NECK])  # anchored at B's neck
    unit_a = np.mean([bone_length(chibi.body, (NECK, R_HIP)), bone_length(chibi.body, (NECK, L_HIP))])
    unit_b = np.mean([bone_length(b.body, (NECK, R_HIP)), bone_length(b.body, (NECK, L_HIP))])
    for bone in BONES:
        assert _angle(new, bone) == pytest.approx(_angle(b.body, bone), abs=1e-9), bone
    for bone in LIMB_BONES:
        want = bone_length(chibi.body, bone) / unit_a * unit_b
        assert bone_length(new, bone) == pytest.approx(want, rel=1e-9), bone
    head_a, head_b = bone_length(chibi.body, (NECK, NOSE)) / unit_a, bone_length(b.body, (NECK, NOSE)) / unit_b
    assert bone_length(new, (NECK, NOSE)) / unit_b == pytest.approx(head_a, rel=1e-9)
    assert head_a > 2 * head_b  # the chibi's head stays big
    assert np.allclose(new[[R_HIP, L_HIP]], b.body[[R_HIP, L_HIP]])  # torso = unit: hips stay too


def test_strength_blends_and_zero_is_identity():
    b, a = figure(arm_angle=100), figure(upper_arm=120, forearm=100, torso=150)
    assert np.allclose(retarget(b, a, 0.0).person.body, b.body)
    full = bone_length(retarget(b, a, 1.0).person.body, (R_SHO, R_ELB))
    half = bone_length(retarget(b, a, 0.5).person.body, (R_SHO, R_ELB))
    assert half == pytest.approx((full + bone_length(b.body, (R_SHO, R_ELB))) / 2)
    with pytest.raises(BadInput, match="0..1"):
        retarget(b, a, 1.5)


def test_foreshortened_limb_stays_foreshortened():
    b = figure()
    b.body[L_WRI, :2] = b.body[L_ELB, :2] + (b.body[L_WRI, :2] - b.body[L_ELB, :2]) * 0.5  # forearm at the camera
    a = figure(forearm=90)
    new = retarget(b, a).person.body
    ratio = bone_length(new, (L_ELB, L_WRI)) / bone_length(new, (R_ELB, R_WRI))
    assert ratio == pytest.approx(0.5, rel=1e-6)


def test_half_body_reference_keeps_b_legs_and_hands_follow():
    b = figure(hands=True, face=True)
    half = hide(figure(torso=150, upper_arm=100), R_KNE, L_KNE, R_ANK, L_ANK)
    out = retarget(b, half)
    assert any("r_hip-r_knee" in n for n in out.notes)
    assert bone_length(out.person.body, (R_HIP, R_KNE)) == pytest.approx(bone_length(b.body, (R_HIP, R_KNE)))
    shift = out.person.body[L_WRI, :2] - b.body[L_WRI, :2]
    assert np.linalg.norm(shift) > 10
    assert np.allclose(out.person.hand_left[0, :2], out.person.body[L_WRI, :2])
    # the hand keeps its shape, scaled like the forearm
    k = out.scales[(L_ELB, L_WRI)]
    assert np.allclose(out.person.hand_left[8, :2] - out.person.hand_left[0, :2],
                       (b.hand_left[8, :2] - b.hand_left[0, :2]) * k)


def test_unit_falls_back_and_missing_neck_parts_keep_positions():
    b = hide(figure(), R_HIP, L_HIP, R_KNE, L_KNE, R_ANK, L_ANK)   # half-body target
    a = figure(shoulder=80, upper_arm=90)
    out = retarget(b, a)
    assert out.unit == "shoulders"
    nb = hide(figure(), NECK)
    out = retarget(nb, figure(neck=(10, 10)))
    assert np.allclose(out.person.body[R_SHO], nb.body[R_SHO])  # cut off from the root: stays
    assert retarget(nb, figure()).unit == "shoulder width"
    arms_only = hide(figure(), NOSE, NECK, R_SHO, L_SHO, R_HIP, L_HIP, R_KNE, L_KNE, R_ANK, L_ANK)
    with pytest.raises(BadInput, match="share no body measure"):
        retarget(arms_only, figure())


def test_retarget_frame_checks_people():
    frame = PoseFrame(512, 512, [figure(), figure(neck=(400, 100))])
    out, notes = retarget_frame(frame, PoseFrame(512, 512, [figure(torso=100)]), target_person=1)
    assert np.allclose(out.people[0].body, frame.people[0].body)
    assert not np.allclose(out.people[1].body, frame.people[1].body)
    with pytest.raises(BadInput, match="reference pose has no person"):
        retarget_frame(frame, PoseFrame(512, 512, []))
    with pytest.raises(BadInput, match="person 3 does not exist"):
        retarget_frame(frame, frame, target_person=3)


def test_retargeted_points_off_canvas_are_flagged():
    b = figure(neck=(256, 60))
    out, _ = retarget_frame(PoseFrame(512, 512, [b]), PoseFrame(512, 512, [figure(head=120, torso=100)]))
    flagged = out.outside()
    assert flagged and all(part == "body" for _, part, _ in flagged)
    assert {k for _, _, k in flagged} & {14, 15, 16, 17}  # the big head leaves the top edge
    assert out.people[0].body[L_SHO, 2] > 0 and L_HIP not in {k for _, _, k in flagged}
