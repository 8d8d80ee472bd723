"""Pose error and identity similarity on constructed cases."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from udw.core.errors import BadInput
from udw.pose import PoseFrame
from udw.pose.evaluate import mean_scores
from udw.pose.keypoints import L_ANK, R_ANK, R_ELB, R_WRI
from udw.pose.metrics import EvalReport, PoseScore, frame_pose_error, pose_error
from udw.testing.poses import figure, hide


def test_pose_error_is_distance_over_body_size():
    t = figure()
    size = t.size()
    assert size == pytest.approx(np.linalg.norm(t.body[:, :2].max(0) - t.body[:, :2].min(0)))
    assert pose_error(t, t).error == 0.0
    shifted = t.transformed(1.0, 1.0, 12.0, -5.0)
    assert pose_error(t, shifted).error == pytest.approx(13.0 / size)
    moved = t.copy()
    moved.body[R_WRI, :2] += (0, 36)            # one of 18 keypoints off by 36 px
    assert pose_error(t, moved).error == pytest.approx(36 / 18 / size)


def test_only_keypoints_seen_in_both_count_and_misses_are_listed():
    t = figure()
    partial = hide(t.transformed(1, 1, 10, 0), R_ANK, L_ANK)
    score = pose_error(t, partial)
    assert score.compared == 16 and score.error == pytest.approx(10 / t.size())
    assert score.missed == ["r_ankle", "l_ankle"] and score.extra == []
    score = pose_error(hide(t, R_ELB), t)
    assert score.extra == ["r_elbow"] and score.compared == 17
    assert pose_error(t, None).error is None and len(pose_error(t, None).missed) == 18
    nothing = pose_error(t, hide(t, *range(18)))
    assert nothing.error is None and nothing.compared == 0


def test_frames_of_other_sizes_and_extra_people():
    t = figure()
    target = PoseFrame(512, 640, [t])
    half = PoseFrame(256, 320, [figure(neck=(10, 10)), t.transformed(0.5, 0.5)])  # the output at half size
    score = frame_pose_error(target, half)
    assert score.error == pytest.approx(0.0, abs=1e-9)     # the best-matching person, rescaled
    assert frame_pose_error(target, PoseFrame(512, 640, [])).error is None
    with pytest.raises(BadInput, match="no person"):
        frame_pose_error(PoseFrame(8, 8, []), target)


def test_means_skip_missing_scores():
    reports = [EvalReport(PoseScore(0.1, 18), 0.9), EvalReport(PoseScore(None, 0), None), EvalReport(None, 0.7)]
    m = mean_scores(reports)
    assert m == {"pose_error": pytest.approx(0.1), "identity_similarity": pytest.approx(0.8), "images": 3}
    assert "pose error: n/a" in reports[1].summary() and "identity similarity 0.7000" in reports[2].summary()


def test_identity_similarity_with_a_ccip_layout_embedder(tmp_path):
    pytest.importorskip("onnx")
    from udw.pose.metrics import Embedder
    from udw.testing.tiny_pose import build_embedder

    emb = Embedder(build_embedder(tmp_path / "model_feat.onnx", size=128))
    assert emb.size == 128

    def drawing(colours, shift=0):
        im = Image.new("RGB", (200, 260), colours[0])
        d = ImageDraw.Draw(im)
        d.ellipse([60 + shift, 20, 140 + shift, 100], fill=colours[1])        # head
        d.rectangle([70 + shift, 100, 130 + shift, 220], fill=colours[2])    # outfit
        return im

    a = drawing([(240, 240, 240), (250, 200, 180), (40, 60, 160)])
    same = emb.similarity(a, a)
    shifted = emb.similarity(a, drawing([(240, 240, 240), (250, 200, 180), (40, 60, 160)], shift=6))
    outfit = emb.similarity(a, drawing([(240, 240, 240), (250, 200, 180), (200, 30, 30)]))
    other = emb.similarity(a, drawing([(20, 20, 20), (120, 90, 60), (220, 220, 40)]))
    assert same == pytest.approx(1.0, abs=1e-6)
    assert 1.0 > shifted > outfit > other
