"""The LBP anime-face cascade on real anime-style sprites (Debian renpy packages) composited
onto frames at known scales and positions; the NumPy evaluator against OpenCV's own."""

import numpy as np
import pytest
from PIL import Image

from udw.faces.cascade import CascadeDetector, group_rectangles, load_cascade, opencv_cascade_class
from udw.faces.geometry import iou


def sprite_on_white(path):
    im = Image.open(path).convert("RGBA")
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    bg.alpha_composite(im)
    return bg.convert("RGB"), im


def composite(sprites, size=(1280, 720), background=(120, 150, 200)):
    """Sprites [(RGBA image, scale, (x, y))] pasted onto a flat background; returns the frame."""
    frame = Image.new("RGB", size, background)
    for im, scale, (x, y) in sprites:
        small = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        frame.paste(small, (x, y), small)
    return np.asarray(frame)


@pytest.fixture(scope="module")
def sprite_faces(renpy_sprites, cascade_path):
    """Each sprite's face box, found on the bare sprite (the reference the composites must match)."""
    det = CascadeDetector(cascade_path)
    out = {}
    for name in ("sylvie green normal", "eileen happy", "lucy happy", "sylvie blue smile"):
        path = renpy_sprites[name]
        rgb, rgba = sprite_on_white(path)
        faces = det.detect(np.asarray(rgb))
        if len(faces) == 1:
            out[name] = (rgba, faces[0].box)
    assert len(out) == 4, f"the cascade should find each sprite's face, found {sorted(out)}"
    return out


@pytest.mark.parametrize("scale", [0.5, 0.75])
def test_faces_found_at_known_scales_and_positions(sprite_faces, cascade_path, scale):
    det = CascadeDetector(cascade_path)
    names = ["sylvie green normal", "eileen happy", "lucy happy"]
    sprites, truth, x = [], [], 30
    for n in names:
        rgba, (x0, y0, x1, y1) = sprite_faces[n]
        y = 720 - round(rgba.height * scale)
        sprites.append((rgba, scale, (x, y)))
        truth.append((x0 * scale + x, y0 * scale + y, x1 * scale + x, y1 * scale + y))
        x += round(rgba.width * scale) + 40
    found = det.detect(composite(sprites))
    assert len(found) == 3, [f.box for f in found]
    for t in truth:
        assert max(iou(f.box, t) for f in found) > 0.6


def test_no_face_in_an_empty_frame(cascade_path):
    assert CascadeDetector(cascade_path).detect(np.full((360, 640, 3), 200, np.uint8)) == []


def test_face_cut_by_the_border_is_still_clipped_to_the_frame(sprite_faces, cascade_path):
    rgba, (x0, y0, x1, y1) = sprite_faces["eileen happy"]
    frame = composite([(rgba, 1.0, (-round(x0 + (x1 - x0) * 0.1), 0))], size=(640, 720))
    for f in CascadeDetector(cascade_path).detect(frame):
        assert 0 <= f.x0 < f.x1 <= 640 and 0 <= f.y0 < f.y1 <= 720


def test_group_rectangles_like_opencv():
    rects = [(10, 10, 40, 40), (11, 10, 40, 40), (10, 12, 41, 41), (200, 200, 30, 30)]
    assert group_rectangles(rects, 2) == [(10, 11, 40, 40, 3)]
    assert len(group_rectangles(rects, 0)) == 4  # OpenCV leaves the boxes ungrouped at 0


def test_xml_is_parsed_fully(cascade_path):
    c = load_cascade(cascade_path)
    assert (c.win_w, c.win_h) == (24, 24) and len(c.stage_ends) == 20
    assert c.weak_subsets.shape[1] == 8 and c.rects[:, 2:].min() >= 1


def test_numpy_evaluator_matches_opencv(sprite_faces, cascade_path, renpy_sprites):
    if opencv_cascade_class() is None:
        pytest.skip("this OpenCV has no CascadeClassifier (OpenCV 5 moved it out): nothing to compare with")
    ours = CascadeDetector(cascade_path, max_side=0, backend="numpy")
    theirs = CascadeDetector(cascade_path, max_side=0, backend="opencv")
    for name in list(sprite_faces)[:4]:
        rgb = np.asarray(sprite_on_white(renpy_sprites[name])[0])
        a, b = ours.detect(rgb), theirs.detect(rgb)
        assert len(a) == len(b) and all(iou(x.box, y.box) > 0.95 for x, y in zip(a, b))
