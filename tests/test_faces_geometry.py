"""Face geometry: the seed's fvp/fhp text, face height ratio, buckets, person counts."""

import pytest

from udw.faces.geometry import (Buckets, Face, check_edges, count_from_tags, face_height_ratio, facepos, iou,
                                parse_detector_edges, person_count)


def test_facepos_matches_the_seed_truncation():
    # the seed: int(rel * 100) for top, bottom, left, right
    face = Face(0.22447916 * 1920, 0.42592592 * 1080, 0.39270833 * 1920, 0.70833333 * 1080)
    assert facepos(face, 1920, 1080) == "fvp 42 70 fhp 22 39"


def test_face_height_ratio_takes_the_tallest_face():
    faces = [Face(0, 0, 10, 30), Face(50, 10, 70, 100)]
    assert face_height_ratio(faces, 200) == pytest.approx(0.45)
    assert face_height_ratio([], 200) == 0.0
    assert face_height_ratio([Face(0, -5, 10, 300)], 200) == 1.0


@pytest.mark.parametrize("ratio,name", [(0.0, "0-25"), (0.2499, "0-25"), (0.25, "25-50"), (0.5, "50-75"),
                                        (0.99, "75-100"), (1.0, "75-100")])
def test_default_buckets(ratio, name):
    assert Buckets().bucket(ratio) == f"face_height_ratio_{name}"


def test_configurable_buckets():
    b = Buckets.parse("20")
    assert b.names == tuple(f"face_height_ratio_{a}-{a + 20}" for a in range(0, 100, 20))
    assert Buckets.parse("10, 60").bucket(0.3) == "face_height_ratio_10-60"
    for bad in ("50,25", "0,50", "150", "30,30", "x"):
        with pytest.raises(ValueError):
            Buckets.parse(bad)


def test_bucket_edges_per_detector():
    faces = [Face(0, 0, 10, 70, detector="cascade")]  # 70 % of a 100 px picture
    own = {"cascade": (30, 60, 90)}
    assert Buckets.for_faces(faces, (25, 50, 75), own).bucket(0.7) == "face_height_ratio_50-75"
    assert Buckets.for_faces(faces, (25, 50, 75)).bucket(0.7) == "face_height_ratio_50-75"
    assert Buckets.for_faces(faces, (25, 50, 75), own).bucket(0.55) == "face_height_ratio_25-50"
    assert parse_detector_edges(["cascade=30,60,90", " yolo = 20 "]) == {"cascade": (30, 60, 90), "yolo": (20, 40, 60, 80)}
    check_edges((25, 50, 75), own)
    with pytest.raises(ValueError, match="as many as the default"):
        check_edges((25, 50, 75), {"cascade": (40,)})
    for bad in (["cascade"], ["=30"], ["cascade=90,30"]):
        with pytest.raises(ValueError):
            parse_detector_edges(bad)


@pytest.mark.parametrize("tags,count", [
    (["1girl", "solo"], 1), (["2girls", "1boy"], 3), (["multiple_girls", "3girls"], 3),
    (["6+girls", "2boys"], 8), (["multiple boys"], 2), (["1other", "1girl"], 2), (["scenery"], None), ([], None)])
def test_count_from_tags(tags, count):
    assert count_from_tags(tags) == count


def test_person_count_sources():
    assert person_count(2, ["1girl"], "auto") == 1        # tags see people faces miss (and vice versa)
    assert person_count(2, ["scenery"], "auto") == 2      # no count tag: faces
    assert person_count(2, ["1girl"], "faces") == 2
    assert person_count(2, ["3girls"], "max") == 3
    assert person_count(2, [], "tags") == 0
    with pytest.raises(ValueError):
        person_count(1, [], "votes")


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0
