"""The pair verifier: copies (the noise model) are merged, different drawings are kept, with reasons."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from udw.dedupe import noise
from udw.dedupe.cluster import cluster
from udw.dedupe.search import Pairs
from udw.dedupe.synthetic import scene, variant
from udw.dedupe.verify import Features, PairVerifier, Verdict, VerifySettings

V = PairVerifier()


def arr(im) -> np.ndarray:
    return np.asarray(im.convert("RGB"))


def judge(a: np.ndarray, b: np.ndarray, verifier: PairVerifier = V, faces_a=None, faces_b=None) -> Verdict:
    fa = Features.from_bytes(verifier.features(a, faces_a).to_bytes())   # as stored in the manifest
    fb = Features.from_bytes(verifier.features(b, faces_b).to_bytes())
    return verifier.verdict(fa, fb)


@pytest.fixture(scope="module")
def base() -> np.ndarray:
    return arr(scene(11, (480, 270)))


COPIES = {
    "jpeg q60": lambda x: noise.jpeg(x, 60),
    "webp q60": lambda x: noise.webp(x, 60),
    "rescale 0.5": lambda x: noise.rescale(x, 0.5),
    "crop 2%": lambda x: noise.crop(x, (0.02, 0.01, 0.0, 0.02)),
    "shift 1%": lambda x: noise.shift(x, 5, -2),
    "gamma 0.95": lambda x: noise.gamma(x, 0.95),
    "gamma 1.05 + jpeg q75": lambda x: noise.jpeg(noise.gamma(x, 1.05), 75),
    "greyscale": noise.grey,
}


@pytest.mark.parametrize("kind", list(COPIES))
def test_copies_of_the_noise_model_are_merged_with_a_reason(base, kind):
    v = judge(base, COPIES[kind](base))
    assert v.duplicate, v.reason
    assert v.value <= v.threshold and "a copy" in v.reason and v.signal
    if kind == "greyscale":
        assert "greyscale" in v.reason


def test_h264_copy_is_merged(base):
    if not noise.has_h264():
        pytest.skip("PyAV with libx264 is not installed")
    assert judge(base, noise.h264(base, 28)).duplicate


def recoloured(im: np.ndarray) -> np.ndarray:
    """The largest flat-colour region painted another colour (an outfit colour change)."""
    q = im // 32
    keys, counts = np.unique(q.reshape(-1, 3), axis=0, return_counts=True)
    big = keys[np.argsort(counts)[-2]]              # not the background: the second-largest colour
    out = im.copy()
    out[np.all(q == big, axis=2)] = (40, 160, 90)
    return out


def test_different_drawings_are_kept_with_their_reason(base):
    small_change = arr(variant(Image.fromarray(base), "patch", 3))      # a blink-sized new shape
    moved = arr(scene(11, (480, 270), moved=0))                          # one shape moved far
    other = arr(scene(12, (480, 270)))
    for name, b in (("patch", small_change), ("moved", moved), ("colour", recoloured(base)), ("other", other)):
        v = judge(base, b)
        assert not v.duplicate, (name, v.reason)
        assert v.value > v.threshold and "a different drawing" in v.reason, name
    # a copy of the changed drawing is still a different drawing from the first one
    assert not judge(noise.jpeg(base, 70), noise.rescale(small_change, 0.7)).duplicate


def test_strictness_moves_the_threshold(base):
    copy = noise.jpeg(noise.rescale(base, 0.6), 65)
    loose, strict = PairVerifier(VerifySettings(strictness=0.5)), PairVerifier(VerifySettings(strictness=4))
    assert judge(base, copy, strict).threshold == pytest.approx(judge(base, copy, loose).threshold / 8)
    with pytest.raises(Exception, match="strictness"):
        PairVerifier(VerifySettings(strictness=10))


def test_crops_are_copies_only_when_asked(base):
    crop = noise.crop(base, (0.2, 0.15, 0.1, 0.2))   # a third of the picture cut away
    assert not judge(base, crop).duplicate
    v = judge(base, crop, PairVerifier(VerifySettings(allow_crops=True)))
    assert v.duplicate and "crop" in v.reason
    other_crop = noise.crop(arr(scene(12, (480, 270))), (0.2, 0.15, 0.1, 0.2))
    assert not judge(base, other_crop, PairVerifier(VerifySettings(allow_crops=True))).duplicate


def test_lip_flaps_kept_by_default_merged_on_request():
    face = (200, 60, 280, 140)
    a = np.full((270, 480, 3), (120, 170, 220), np.uint8)
    im = Image.fromarray(a)
    d = ImageDraw.Draw(im)
    d.ellipse(face, fill=(250, 220, 200), outline=(40, 30, 30), width=2)
    d.ellipse((220, 85, 232, 97), fill=(30, 30, 60))
    d.ellipse((248, 85, 260, 97), fill=(30, 30, 60))
    d.rectangle((60, 150, 160, 260), fill=(200, 60, 60), outline=(30, 30, 30), width=2)
    closed = np.asarray(im).copy()
    d.ellipse((230, 115, 250, 132), fill=(120, 20, 30))                 # the mouth opens
    open_mouth = np.asarray(im)
    assert not judge(closed, open_mouth, faces_a=[face], faces_b=[face]).duplicate
    merge = PairVerifier(VerifySettings(keep_lip_flaps=False))
    v = judge(closed, open_mouth, merge, faces_a=[face], faces_b=[face])
    assert v.duplicate and v.signal == "lip flap" and "keep_lip_flaps" in v.reason


def test_real_art_expressions_and_outfits_kept_copies_merged(renpy_sprites, renpy_backgrounds):
    from udw.testing import art_sets

    draws = art_sets.drawings(size=(640, 360), backgrounds=("bg meadow",))
    by_name = {d.name.split(" @")[0]: d for d in draws}
    rng = np.random.default_rng(5)
    for name in ("sylvie blue normal", "eileen happy", "lucy happy"):
        d = by_name[name]
        for _ in range(2):
            copy, how = noise.noisy_copy(d.rgb, rng, kinds=("jpeg", "webp", "rescale", "gamma", "crop", "shift"))
            v = judge(d.rgb, copy)
            assert v.duplicate, (name, how, v.reason)
    for a, b in (("sylvie blue normal", "sylvie blue giggle"), ("sylvie blue normal", "sylvie green normal"),
                 ("eileen happy", "eileen vhappy"), ("lucy happy", "lucy mad")):
        da, db = by_name[a], by_name[b]
        v = judge(da.rgb, db.rgb, faces_a=da.faces, faces_b=db.faces)
        assert not v.duplicate, (a, b, v.reason)


def test_direct_linkage_verifies_a_large_cluster_about_once_per_picture():
    n = 300   # every pair is a candidate (one tight cluster), yet each picture is verified once
    i, j = np.triu_indices(n, 1)
    pairs = Pairs(i, j, np.full(len(i), 0.99, np.float32))
    asked = []

    def check(later: int, kept: int) -> bool:
        asked.append((later, kept))
        return True

    result = cluster(np.arange(n), pairs, np.arange(n), "direct", check)
    assert len(asked) == n - 1 and set(result.survivor.tolist()) == {0}


def test_features_reject_non_pictures_and_keep_faces():
    with pytest.raises(Exception, match="not a picture"):
        V.features(np.zeros((0, 5, 3), np.uint8))
    f = V.features(np.zeros((100, 200, 3), np.uint8) + 90, faces=[(20, 10, 60, 50)])
    back = Features.from_bytes(f.to_bytes())
    assert len(back.faces) == 1 and back.faces[0] == pytest.approx((0.1, 0.1, 0.3, 0.5)) and len(back.face_crops) == 1
    assert back.thumb.shape == f.thumb.shape and back.width == 200 and back.height == 100


def test_dataset_bad_input_transparent_animated_sizes_and_a_single_picture(tmp_path):
    from udw.dedupe.run import dedupe_dataset

    folder = tmp_path / "mixed"
    folder.mkdir()
    pic = scene(21, (320, 180))
    rgba = pic.convert("RGBA")
    alpha = np.full((180, 320), 255, np.uint8)
    alpha[:, :40] = 0                                   # a transparent strip: composited on white
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(folder / "a_transparent.png")
    Image.fromarray(arr(rgba.convert("RGBA").resize((320, 180))) * 0 + 255).save(folder / "zz_white.png")
    flat = Image.new("RGB", (320, 180), (255, 255, 255))
    flat.paste(rgba, (0, 0), rgba)
    flat.resize((240, 135)).save(folder / "b_flattened_small.jpg", quality=90)   # another size: a copy
    other = scene(22, (320, 180))
    frames = [other, scene(23, (320, 180))]                         # animated: the first frame is used
    frames[0].save(folder / "c_animated.gif", save_all=True, append_images=frames[1:], duration=100)
    other.save(folder / "d_first_frame.png")
    report = dedupe_dataset(folder, preview=True, dry_run=True)
    assert report.considered == 5 and report.removed == 2, report.details()
    assert report.preview is not None
    single = tmp_path / "one"
    single.mkdir()
    pic.save(single / "only.png")
    alone = dedupe_dataset(single, dry_run=True)
    assert alone.considered == 1 and alone.removed == 0 and alone.kept == 1


def test_faces_in_the_manifest_reach_the_verifier(tmp_path):
    from udw.core.manifest import Dataset
    from udw.dedupe import compute
    from udw.dedupe.run import dedupe_dataset
    from udw.faces.geometry import Face
    from udw.faces.store import save_faces

    folder = tmp_path / "pics"
    folder.mkdir()
    scene(31, (320, 180)).save(folder / "a.png")
    scene(32, (320, 180)).save(folder / "b.png")
    dedupe_dataset(folder, dry_run=True, preview=False)            # indexes the folder in place
    ds = Dataset(folder)
    item = ds.items()[0]
    with ds.transaction() as conn:
        save_faces(conn, item.id, [Face(40, 20, 120, 100)])
        conn.execute("DELETE FROM signatures WHERE item_id=? AND kind=?", (item.id, compute.VERIFY))
    dedupe_dataset(folder, dry_run=True, preview=False)            # recomputes the missing kind
    with ds.db() as conn:
        blob = conn.execute("SELECT data FROM signatures WHERE item_id=? AND kind=?", (item.id, compute.VERIFY)).fetchone()[0]
    feat = Features.from_bytes(blob)
    assert len(feat.faces) == 1 and feat.faces[0] == pytest.approx((40 / 320, 20 / 180, 120 / 320, 100 / 180))
    assert len(feat.face_crops) == 1
