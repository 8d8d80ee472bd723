"""Seed-format metadata and captions, the Level 1-3 arrangement, and its guards."""

import json
import os

import pytest
from PIL import Image

from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.dataset import ArrangeSettings, CaptionSettings, MetaSettings, arrange, collect, render_caption
from udw.dataset.arrange import MARKER
from udw.dataset.captions import core_tags
from udw.faces.geometry import Face
from udw.faces.store import save_faces


SEED_FACES = [((0.22447916 * 1920, 0.42592592 * 1080, 0.39270833 * 1920, 0.70833333 * 1080), "KuraueHinata"),
              ((0.6296875 * 1920, 0.15185185 * 1080, 0.7520833 * 1920, 0.3712962 * 1080), "AobaKokona")]
SEED_TAGS = [("long_hair", "general"), ("2girls", "general"), ("outdoors", "general"),
             ("kuraue hinata", "character"), ("general", "rating")]


def test_seed_json_and_caption(tmp_path, make_face_dataset):
    ds = make_face_dataset(tmp_path / "ds", [("yamaS2EP04_1", SEED_FACES, SEED_TAGS, "yamaS2", "EP04")])
    (meta,) = collect(ds)
    assert json.dumps(meta.seed_json()) == json.dumps({
        "count": "2", "characters": ["KuraueHinata", "AobaKokona"], "general": "anishot yamaS2EP04",
        "facepos": ["fvp 42 70 fhp 22 39", "fvp 15 37 fhp 62 75"], "tags": ["long_hair", "2girls", "outdoors"],
        # beyond the seed: the ratio the bucket came from and the detector whose boxes it measures
        "face_height_ratio": 0.2824, "face_detector": "t"})
    assert render_caption(meta, CaptionSettings()) == (
        "2people, KuraueHinata AobaKokona, anishot yamaS2EP04, fvp 42 70 fhp 22 39 fvp 15 37 fhp 62 75, "
        "long hair, 2girls, outdoors")


def test_caption_options(tmp_path, make_face_dataset):
    specs = [(f"s{i}", [((100, 100, 300, 400), "Aoi")], [("blue_hair", "general"), ("smile", "general"),
                                                          ("1girl", "general"), (">_<", "general")], None, None)
             for i in range(3)]
    ds = make_face_dataset(tmp_path / "ds", specs)
    metas = collect(ds, MetaSettings(general="anishot", count_from="faces"))
    m = metas[0]
    assert render_caption(m, CaptionSettings(max_tags=2)) == "1person, Aoi, anishot, fvp 9 37 fhp 5 15, blue hair, smile"
    assert render_caption(m, CaptionSettings(underscores=True)).endswith("blue_hair, smile, 1girl, >_<")
    assert render_caption(m, CaptionSettings(template="{characters}, {tags}", keep_parts=1)) == \
        "Aoi ||| blue hair, smile, 1girl, >_<"
    core = core_tags(metas, 0.5)
    assert core == {"Aoi": {"blue_hair"}}
    assert "blue hair" not in render_caption(m, CaptionSettings(drop_core_tags=True), core)
    with pytest.raises(BadInput, match="unknown caption fields"):
        CaptionSettings(template="{count}, {mood}").validate()


def test_images_without_tags_or_faces(tmp_path, make_face_dataset):
    ds = make_face_dataset(tmp_path / "ds", [("empty", [], [], None, None)])
    (meta,) = collect(ds)
    assert meta.seed_json() == {"count": "0", "characters": [], "general": "anishot", "facepos": [], "tags": []}
    assert render_caption(meta, CaptionSettings()) == "anishot"


def tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != MARKER)


def test_level_1_to_3_tree(tmp_path, make_face_dataset, scene_specs):
    ds = make_face_dataset(tmp_path / "ds", scene_specs)
    report = arrange(ds, tmp_path / "out")
    assert tree(tmp_path / "out") == sorted(f"{d}/{n}{e}" for d, n in [
        ("1_character/Aoi/face_height_ratio_0-25", "a1"), ("1_character/Aoi/face_height_ratio_25-50", "a2"),
        ("2_characters/Aoi+Beni/face_height_ratio_50-75", "ab"), ("2_characters/Aoi+Beni/face_height_ratio_75-100", "ab2"),
        ("3_characters/Aoi+Beni+Kuro/face_height_ratio_0-25", "abc"), ("others", "noise"), ("others", "noface"),
        ("6+_characters/C0+C1+C2+C3+C4+C5+C6/face_height_ratio_0-25", "six")] for e in (".png", ".json", ".txt"))
    assert report.balance.images == 8 and len(report.balance.rows) == 7
    a1 = tmp_path / "out/1_character/Aoi/face_height_ratio_0-25/a1.png"
    assert os.stat(a1).st_ino == os.stat(tmp_path / "ds/images/a1.png").st_ino  # hard link


def test_small_combinations_are_merged_and_levels_configurable(tmp_path, make_face_dataset, scene_specs):
    ds = make_face_dataset(tmp_path / "ds", scene_specs)
    arrange(ds, tmp_path / "out", ArrangeSettings(min_images=2, levels=("count", "character"), mode="copy"))
    files = tree(tmp_path / "out")
    assert "1_character/Aoi/a1.png" in files and "2_characters/Aoi+Beni/ab.png" in files
    assert "3_characters/character_others/abc.png" in files
    assert not os.path.samefile(tmp_path / "out/1_character/Aoi/a1.png", tmp_path / "ds/images/a1.png")
    arrange(ds, tmp_path / "sym", ArrangeSettings(mode="symlink", levels=("bucket",)))
    link = tmp_path / "sym/face_height_ratio_0-25/a1.png"
    assert link.is_symlink() and link.resolve() == (tmp_path / "ds/images/a1.png").resolve()


def test_without_characters_the_level_is_left_out(tmp_path, make_face_dataset, scene_specs):
    specs = [(n, [(b, None) for b, _ in f], t, s, e) for n, f, t, s, e in scene_specs[:2]]
    ds = make_face_dataset(tmp_path / "ds", specs)
    report = arrange(ds, tmp_path / "out")
    assert tree(tmp_path / "out")[0].startswith("1_character/face_height_ratio_")
    assert "character level is left out" in report.notes[0]


def test_rerun_replaces_stale_files_and_resumes(tmp_path, make_face_dataset, scene_specs):
    ds = make_face_dataset(tmp_path / "ds", scene_specs)
    arrange(ds, tmp_path / "out")
    with ds.transaction() as conn:
        conn.execute("UPDATE faces SET character='Kuro' WHERE character='Aoi'")
    report = arrange(ds, tmp_path / "out")
    files = tree(tmp_path / "out")
    assert "1_character/Kuro/face_height_ratio_0-25/a1.png" in files
    assert not any("/Aoi/" in f or "Aoi+" in f for f in files) and report.removed > 0
    assert not (tmp_path / "out/1_character/Aoi").exists()  # empty folders go too


def test_target_holding_something_else_is_refused(tmp_path, make_face_dataset, scene_specs):
    ds = make_face_dataset(tmp_path / "ds", scene_specs[:2])
    other = make_face_dataset(tmp_path / "other", scene_specs[2:4])
    arrange(other, tmp_path / "out")
    with pytest.raises(BadInput, match="another dataset"):
        arrange(ds, tmp_path / "out")
    with pytest.raises(BadInput, match="holds a UDW dataset"):
        arrange(ds, tmp_path / "other")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(BadInput, match="other files"):
        arrange(ds, tmp_path / "mine")
    arrange(ds, tmp_path / "mine", ArrangeSettings(merge=True))
    arrange(ds, tmp_path / "mine", ArrangeSettings(merge=True, levels=("count",)))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "mine/1_character/Aoi").exists() and (tmp_path / "mine/1_character/a1.png").exists()
    with pytest.raises(BadInput, match="dataset's own folder"):
        arrange(ds, tmp_path / "ds")


def test_empty_dataset(tmp_path):
    ds = Dataset.open_or_create(tmp_path / "ds")
    report = arrange(ds, tmp_path / "out")
    assert report.placed == [] and "no active images" in report.notes[0] and report.balance.rows == []


def test_crops_carry_their_parent_tags(tmp_path, make_face_dataset):
    ds = make_face_dataset(tmp_path / "ds", [("p", [((0, 0, 100, 100), "Aoi")], [("smile", "general")], None, None)])
    parent = ds.items()[0]
    with ds.transaction() as conn:
        crop = ds.add_item(conn, "images/p_c0.png", "crop:x:0", kind="crop", parent_id=parent.id, width=10, height=10)
        save_faces(conn, crop, [Face(0, 0, 5, 5, character="Aoi")])
    Image.new("RGB", (10, 10)).save(tmp_path / "ds/images/p_c0.png")
    metas = {m.item.kind: m for m in collect(ds)}
    assert metas["crop"].tags == ["smile"]
    assert [m.item.kind for m in collect(ds, MetaSettings(include_crops=False))] == ["frame"]


def test_files_deleted_by_hand_are_left_out_and_said(tmp_path, make_face_dataset, scene_specs):
    ds = make_face_dataset(tmp_path / "ds", scene_specs)
    (tmp_path / "ds/images/a1.png").unlink()  # deleted outside UDW; the manifest still lists it
    report = arrange(ds, tmp_path / "out")
    assert "1 image(s) are in the manifest but not on disk" in report.summary() and "a1.png" in report.summary()
    assert report.balance.images == 7 and not list((tmp_path / "out").rglob("a1.*"))
