"""The NumPy port of the LBP cascade against OpenCV 4's own CascadeClassifier (run in a side venv
with `opencv-python-headless<5` from PyPI, cached; skipped with the reason when pip cannot reach
the registry), on generated pictures (the sample episodes) and on real anime-style art."""

import cv2
import numpy as np
import pytest

from udw.faces.cascade import CascadeDetector, load_cascade
from udw.faces.evaluate import match
from udw.testing import face_scenes, opencv4

samples = pytest.importorskip("udw.samples")


@pytest.fixture(scope="module")
def opencv4_python():
    try:
        return opencv4.side_python()
    except opencv4.OpenCV4Unavailable as exc:
        pytest.skip(str(exc))


def grey(img):
    return cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY))


def generated_pictures():
    plan = samples.plan_episode(episode=1, seed=0)
    truth = samples.build_truth(plan, "x.mp4", "mp4", "h264")
    with_faces = [fr.i for fr in truth.frames if fr.faces]
    picks = with_faces[:: max(1, len(with_faces) // 4)][:4]
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)  # a busy picture: many raw windows
    return [samples.render_frame(plan, i) for i in picks] + [noise]


@pytest.fixture(scope="module")
def real_pictures(renpy_sprites, renpy_backgrounds, cascade_path):
    det = CascadeDetector(cascade_path, max_side=0, closeups=False)
    faces = face_scenes.sprite_faces(renpy_sprites, lambda img: [f.box for f in det.detect(img)])
    scenes = face_scenes.build_scenes(faces, list(renpy_backgrounds.values()), n=6, size=(480, 270),
                                      bands=((0.1, 0.4), (0.4, 0.7), (0.7, 1.0)), seed=5)
    return [s.image for s in scenes]


def corners(r):
    return (r[0], r[1], r[0] + r[2], r[1] + r[3])


def assert_same_boxes(ours, theirs):
    assert len(ours) == len(theirs), (ours, theirs)
    pairs = match([corners(r) for r in theirs], [corners(r) for r in ours], 0.0)
    assert len(pairs) == len(theirs) and all(v >= 0.9 for *_, v in pairs), (ours, theirs)


@pytest.mark.parametrize("kind", ["generated", "real"])
def test_numpy_port_gives_opencv4_boxes(kind, opencv4_python, cascade_path, request):
    pictures = generated_pictures() if kind == "generated" else request.getfixturevalue("real_pictures")
    greys = [grey(p) for p in pictures]
    version, theirs = opencv4.detect_multiscale(greys, cascade_path)
    assert version.startswith("4.")
    port = CascadeDetector(cascade_path, backend="numpy", max_side=0, closeups=False)
    found = 0
    for g, boxes in zip(greys, theirs):
        ours = [r[:4] for r in port.detect_grey(g, 24)]
        assert_same_boxes(ours, boxes)
        found += len(boxes)
    assert found >= 3  # the pictures hold faces OpenCV finds: the comparison is not between empty lists


def test_windows_reach_the_whole_picture(opencv4_python, cascade_path, renpy_sprites):
    """A face filling the picture: the largest window OpenCV tries is the picture itself."""
    rgb, _ = face_scenes.on_white(renpy_sprites["eileen happy"])
    x0, y0, x1, y1 = 54, 76, 271, 293  # the face on the bare sprite (see face_scenes.sprite_faces)
    tight = grey(rgb[y0 - 4:y1 + 4, x0 - 4:x1 + 4])
    _, (theirs,) = opencv4.detect_multiscale([tight], cascade_path)
    ours = [r[:4] for r in CascadeDetector(cascade_path, backend="numpy").detect_grey(tight, 24)]
    assert theirs and theirs[0][2] >= 0.8 * tight.shape[0]
    assert_same_boxes(ours, theirs)


def test_cascade_is_read_with_float_thresholds(cascade_path):
    c = load_cascade(cascade_path)
    assert c.stage_thresholds.dtype == np.float32
