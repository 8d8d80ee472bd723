"""Close-ups and bucket placement on real anime-style art (Ren'Py sprites on painted backgrounds,
Expat): faces from 0.1 to 1.0 of the frame height, one or two people, some cut by the border.
Truth is in the cascade's own box convention (see udw/testing/face_scenes.py)."""

from pathlib import Path

import pytest
from PIL import Image

from udw.core.manifest import Dataset
from udw.dataset.ingest import import_images
from udw.faces import FaceSettings, run_faces
from udw.faces.cascade import CascadeDetector
from udw.faces.evaluate import match
from udw.faces.geometry import Buckets
from udw.faces.store import load_faces
from udw.testing import face_scenes


@pytest.fixture(scope="module")
def sprites(renpy_sprites, renpy_backgrounds, cascade_path):
    det = CascadeDetector(cascade_path, max_side=0, closeups=False)
    faces = face_scenes.sprite_faces(renpy_sprites, lambda img: [f.box for f in det.detect(img)],
                                     face_scenes.SPRITES[:4])
    return faces, list(renpy_backgrounds.values())


@pytest.fixture(scope="module")
def scenes(sprites):
    return face_scenes.build_scenes(*sprites, n=10, size=(480, 270), bands=((0.1, 0.4), (0.4, 0.7), (0.7, 1.0)),
                                    seed=11)


@pytest.fixture(scope="module")
def placed(scenes, cascade_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("closeups")
    (root / "frames").mkdir()
    for s in scenes:
        Image.fromarray(s.image).save(root / "frames" / f"{s.name}.png")
    ds = Dataset.open_or_create(root / "ds")
    import_images(ds, [root / "frames"])
    report = run_faces(ds, FaceSettings(detector=str(cascade_path), count_from="faces"))
    with ds.db() as conn:
        faces = load_faces(conn)
    return report, {Path(it.path).stem: (it, faces.get(it.id, [])) for it in ds.items()}


def test_buckets_and_counts_match_the_truth(scenes, placed):
    report, items = placed
    buckets = Buckets()
    right_bucket = right_count = 0
    for s in scenes:
        item, found = items[s.name]
        right_bucket += item.bucket == buckets.bucket(s.ratio)
        right_count += item.person_count == len(s.truth)
    print(f"buckets right {right_bucket}/{len(scenes)}, counts right {right_count}/{len(scenes)}")
    assert right_bucket >= 0.8 * len(scenes) and right_count >= 0.8 * len(scenes)
    assert "face-height buckets:" in report.summary()


def test_closeups_need_the_second_pass(sprites, cascade_path):
    """Faces 0.75-1.0 of the frame, half the pictures with a face cut by the border: found with
    the close-up pass, fewer without."""
    hard = face_scenes.build_scenes(*sprites, n=8, size=(480, 270), bands=((0.75, 1.0),), cut_share=0.5, seed=4)
    ours, plain = CascadeDetector(cascade_path), CascadeDetector(cascade_path, closeups=False)
    with_pass = without = total = 0
    for s in hard:
        total += len(s.truth)
        with_pass += len(match(s.truth, [f.box for f in ours.detect(s.image)], 0.5))
        without += len(match(s.truth, [f.box for f in plain.detect(s.image)], 0.5))
    print(f"close-ups found: {with_pass}/{total} with the pass, {without}/{total} without")
    assert with_pass >= 0.8 * total and with_pass > without


def test_a_face_filling_the_frame_is_found(renpy_sprites, cascade_path):
    """The face box as tall as the picture, chin and hair leaving it: one face, ratio near 1."""
    rgb, _ = face_scenes.on_white(renpy_sprites["sylvie green normal"])
    x0, y0, x1, y1 = 116, 47, 263, 194  # the cascade's box on the bare sprite
    tight = rgb[y0 + 10:y1 - 10, x0 - 60:x1 + 60]  # 127 px high: the box is taller than the picture
    found = CascadeDetector(cascade_path).detect(tight)
    assert CascadeDetector(cascade_path, closeups=False).detect(tight) == []
    assert len(found) == 1 and found[0].height >= 0.95 * tight.shape[0]
