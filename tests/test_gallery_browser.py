"""The browser service: filters, paging, detail, tag edits with sidecars, moves, bad input."""

import json
import os
import sqlite3

import pytest

from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.core.paths import Roots
from udw.gallery.browser import BrowserService
from udw.gallery.query import NONE, Filter, parse_tags, where
from udw.gallery.thumbs import ThumbCache

CHARS = ["saber", "rin", None]
TAGS = [["1girl", "solo", "blonde hair"], ["1girl", "black hair", "twintails"], ["scenery", "sky"]]


def build_dataset(root, make_image, n=12):
    """n items over 2 episodes: tags, faces (pixel boxes), buckets, clusters, caption sidecars."""
    ds = Dataset.open_or_create(root)
    with ds.transaction() as conn:
        src = ds.add_source(conn, "/videos/fate ep1.mkv", "video", series="fate", episode="01")
        for i in range(n):
            kind = i % 3
            rel = f"images/{CHARS[kind] or 'others'}/f{i:03d}.png"
            if i < n - 1:  # the last file is "deleted": still in the manifest
                make_image(root / rel, i, size=(96, 64))
            item = ds.add_item(conn, rel, f"k{i}", source_id=src, frame_index=i * 24, pts=i * 1.0,
                               series="fate", episode="01" if i < n // 2 else "02", width=96, height=64,
                               bucket=f"face_height_ratio_{25 * (i % 2)}-{25 * (i % 2) + 25}",
                               cluster=i // 4, status="active")
            conn.executemany("INSERT INTO tags VALUES(?,?,?,?)",
                             [(item, t, "general", 0.9 - 0.1 * k) for k, t in enumerate(TAGS[kind])])
            if CHARS[kind]:
                conn.execute("INSERT INTO faces VALUES(?,?,?,?,?,?,?,?,?,?)",
                             (item, 0, 10, 5, 40, 35, 0.93, "yolo", CHARS[kind], 0.8))
            (root / rel).with_suffix(".txt").parent.mkdir(parents=True, exist_ok=True)
            (root / rel).with_suffix(".txt").write_text("1people, " + ", ".join(t.replace(" ", "_") for t in TAGS[kind]))
        conn.execute("UPDATE items SET status='duplicate', duplicate_of=1 WHERE id=4")
    (root / "images/saber/f000.json").write_text(json.dumps({"count": "1", "tags": TAGS[0]}))
    return ds


@pytest.fixture
def service(tmp_path, make_image):
    root = tmp_path / "root"
    build_dataset(root / "ds", make_image)
    return BrowserService(Roots(root), ThumbCache(tmp_path / "thumbs", size=64)), root


def total(svc, **kw):
    return svc.page("ds", Filter(**kw)).total


def test_filters_combine(service):
    svc, _ = service
    assert total(svc) == 11 and total(svc, status="any") == 12 and total(svc, status="duplicate") == 1
    assert total(svc, tags="1girl") == 7                      # id 4 (saber) is a duplicate
    assert total(svc, tags="1girl, -twintails") == 3
    assert total(svc, tags="blonde hair | twintails") == 7
    assert total(svc, tags="* hair") == 7 and total(svc, tags="!* hair") == 4
    assert total(svc, character="rin") == 4 and total(svc, character=NONE) == 4
    assert total(svc, bucket="face_height_ratio_0-25") == 6
    assert total(svc, episode="fate/02") == 6 and total(svc, cluster=0) == 3
    assert total(svc, text="f00") == 9 and total(svc, text="%") == 0
    assert total(svc, tags="1girl", min_score=0.85) == 7 and total(svc, tags="solo", min_score=0.85) == 0


def test_paging_is_stable_and_bounded(service):
    svc, _ = service
    first = svc.page("ds", Filter(), offset=0, limit=5)
    second = svc.page("ds", Filter(), offset=5, limit=5)
    ids = [i["id"] for i in first.items + second.items]
    assert len(ids) == len(set(ids)) == 10 and first.total == 11
    assert svc.page("ds", Filter(), limit=10_000).items and svc.page("ds", Filter(), offset=-5).offset == 0


def test_tag_expression_parsing():
    terms = parse_tags(" 1girl , -smile, a|b|, ,!x ")
    assert [(t.alternatives, t.negate) for t in terms] == [(["1girl"], False), (["smile"], True),
                                                          (["a", "b"], False), (["x"], True)]
    with pytest.raises(BadInput):
        parse_tags(",".join(f"t{i}" for i in range(40)))
    with pytest.raises(BadInput, match="status"):
        where(Filter(status="bogus"))
    with pytest.raises(BadInput, match="whole number"):
        Filter.from_dict({"cluster": "1; DROP TABLE items"})


def test_detail_has_tags_faces_provenance(service):
    svc, root = service
    d = svc.detail("ds", 1)
    assert d["exists"] and [t["tag"] for t in d["tags"]] == ["1girl", "solo", "blonde hair"]
    assert d["faces"][0]["character"] == "saber" and d["faces"][0]["box"] == [0.1042, 0.0781, 0.4167, 0.5469]
    assert d["provenance"]["source"]["path"].endswith("fate ep1.mkv") and d["provenance"]["timecode"] == "00:00:00.000"
    assert d["provenance"]["duplicates"] == 1 and d["sidecars"][".txt"].startswith("1people")
    im = svc.faces_image("ds", 1)
    assert im.size == (512, 341)  # tiny frames are enlarged so that the labels stay readable
    assert im.getpixel((54, 150)) != im.getpixel((60, 150))  # the box's left edge (x0=10 of 96) was drawn
    gone = svc.detail("ds", 12)
    assert not gone["exists"] and gone["metadata"] is None
    assert svc.thumb("ds", 12).name.startswith("missing")


def test_set_tags_writes_manifest_edits_and_sidecars(service):
    svc, root = service
    report = svc.set_tags("ds", 1, ["1girl", "blonde hair", "armor", "solo"][::-1][1:] + ["green eyes"])
    assert report.items == 1 and report.sidecars == 2
    d = svc.detail("ds", 1)
    assert {t["tag"] for t in d["tags"]} == {"1girl", "blonde hair", "armor", "green eyes"}
    assert {(e["tag"], e["action"]) for e in d["edits"]} == {("solo", "remove"), ("armor", "add"), ("green eyes", "add")}
    caption = (root / "ds/images/saber/f000.txt").read_text()
    assert caption == "1people, 1girl, blonde_hair, armor, green_eyes"  # underscore style kept
    assert json.loads((root / "ds/images/saber/f000.json").read_text())["tags"] == ["1girl", "blonde hair", "armor", "green eyes"]


def test_batch_ops_over_filtered_set(service):
    svc, root = service
    f = Filter(character="rin")
    dry = svc.batch_edit("ds", f, "add", "long hair, red eyes", dry_run=True)
    assert dry.items == 4 and dry.added == 8 and total(svc, tags="red eyes") == 0
    svc.batch_edit("ds", f, "add", "long hair, red eyes")
    assert total(svc, tags="red eyes") == 4 and total(svc, tags="long hair, -rin") == 4
    assert "red_eyes" in (root / "ds/images/rin/f001.txt").read_text()
    rep = svc.batch_edit("ds", Filter(), "replace", "black hair", "dark hair")
    assert rep.items == 4 and total(svc, tags="black hair") == 0 and total(svc, tags="dark hair") == 4
    assert (root / "ds/images/rin/f001.txt").read_text().startswith("1people, 1girl, dark_hair, twintails")
    assert {t["tag"]: t["score"] for t in svc.detail("ds", 2)["tags"]}["dark hair"] == pytest.approx(0.8)  # score kept
    svc.batch_edit("ds", Filter(), "regex", r"^(\w+) hair$", r"hair:\1")
    assert total(svc, tags="hair:dark") == 4 and total(svc, tags="hair:blonde") == 3
    svc.batch_edit("ds", Filter(tags="scenery"), "remove", "sky")
    assert total(svc, tags="sky") == 0 and "sky" not in (root / "ds/images/others/f002.txt").read_text()
    with pytest.raises(BadInput, match="regular expression"):
        svc.batch_edit("ds", Filter(), "regex", "(", "")
    with pytest.raises(BadInput, match="unknown tag operation"):
        svc.batch_edit("ds", Filter(), "explode", "x")


def test_move_character_and_bucket_moves_files(service):
    svc, root = service
    rep = svc.move("ds", 2, character="sakura")
    assert rep.moved_file and rep.path == "images/sakura/f001.png"
    assert (root / "ds/images/sakura/f001.png").exists() and (root / "ds/images/sakura/f001.txt").exists()
    assert not (root / "ds/images/rin/f001.png").exists()
    assert total(svc, character="sakura") == 1 and total(svc, character="rin") == 3
    svc.move("ds", 3, character="rin")  # no faces: a manual face row without a box
    d = svc.detail("ds", 3)
    assert d["faces"][0]["detector"] == "manual" and d["faces"][0]["box"] is None
    svc.move("ds", 2, bucket="face_height_ratio_75-100")
    assert svc.detail("ds", 2)["item"]["extra"]["manual"] == {"character": "sakura", "bucket": "face_height_ratio_75-100"}
    with pytest.raises(BadInput, match="nothing to move"):
        svc.move("ds", 2)


def test_paths_stay_inside_roots(service, tmp_path, make_image):
    svc, root = service
    for bad in ("../", "/etc", str(tmp_path), "ds/../../"):
        with pytest.raises(BadInput, match="outside"):
            svc.page(bad, Filter())
    build_dataset(tmp_path / "outside", make_image, n=2)
    os.symlink(tmp_path / "outside", root / "escape")
    with pytest.raises(BadInput, match="outside"):
        svc.page("escape", Filter())
    os.symlink(tmp_path / "outside/images/saber/f000.png", root / "ds/images/link.png")
    with pytest.raises(BadInput, match="outside"):
        svc.file_path("ds/images/link.png")
    # a manifest row pointing out of the dataset (crafted file) is refused, not served
    with sqlite3.connect(root / "ds/udw-manifest.sqlite") as conn:
        conn.execute("UPDATE items SET path='../../../etc/passwd' WHERE id=5")
    with pytest.raises(BadInput, match="outside"):
        svc.image_path("ds", 5)
    with pytest.raises(BadInput, match="not an image"):
        svc.file_path("ds/udw-manifest.sqlite")


def test_check_files_marks_missing(service):
    svc, _ = service
    assert svc.check_files("ds", Filter()) == {"checked": 12, "missing": 1, "found_again": 0}
    assert total(svc, status="missing") == 1 and total(svc) == 10


def test_facets_and_suggestions(service):
    svc, _ = service
    fac = svc.facets("ds")
    assert {c["value"]: c["count"] for c in fac["characters"]} == {"saber": 4, "rin": 4}
    assert {e["value"] for e in fac["episodes"]} == {"fate/01", "fate/02"}
    assert fac["statuses"] == {"active": 11, "duplicate": 1} and fac["clusters"] == 3
    assert [s["tag"] for s in svc.suggest_tags("ds", "b")] == ["black hair", "blonde hair"]
    assert svc.find_datasets()[0]["label"] == "root/ds"


def test_thumbnail_cache_hits_and_invalidation(service, make_image):
    svc, root = service
    first = svc.thumb("ds", 1)
    assert svc.thumbs.stats.misses == 1 and svc.thumb("ds", 1) == first and svc.thumbs.stats.hits == 1
    make_image(root / "ds/images/saber/f000.png", 99, size=(120, 80))  # edited file: new thumbnail
    assert svc.thumb("ds", 1) != first and svc.thumbs.stats.misses == 2
    (root / "ds/images/rin/f001.png").write_bytes(b"not a png")
    assert svc.thumb("ds", 2).name.startswith("unreadable")


def test_id_sets_agree_with_sql(service):
    """The cached numpy filters and `query.where` (used by batch edits) mean the same thing."""
    import random

    svc, _ = service
    ds = svc.dataset("ds")
    words = ["1girl", "solo", "* hair", "sky|twintails", "nothing", "b*"]
    rnd = random.Random(3)
    for _ in range(60):
        terms = [("-" if rnd.random() < 0.3 else "") + rnd.choice(words) for _ in range(rnd.randint(0, 3))]
        f = Filter(tags=", ".join(terms), status=rnd.choice(["active", "any", "duplicate"]),
                   character=rnd.choice([None, "rin", NONE]), bucket=rnd.choice([None, "face_height_ratio_0-25"]),
                   episode=rnd.choice([None, "fate/01"]), cluster=rnd.choice([None, 1]),
                   min_score=rnd.choice([0.0, 0.75]), text=rnd.choice(["", "f00", "saber/"]))
        cond, args = where(f)
        with ds.db() as conn:
            expected = [r[0] for r in conn.execute(f"SELECT i.id FROM items i WHERE {cond} ORDER BY i.id", args)]
        assert list(svc.ids("ds", f)) == expected, f
    assert list(svc.ids("ds", Filter(status="any"), order="newest"))[0] == 12
    names = [i["path"] for i in svc.page("ds", Filter(), order="path", limit=100).items]
    assert names == sorted(names)


def test_cached_sets_follow_manifest_changes(service):
    svc, _ = service
    assert total(svc, tags="armor") == 0
    svc.set_tags("ds", 1, ["armor"])
    assert total(svc, tags="armor") == 1 and total(svc, tags="solo") == 2


def test_moves_reach_the_arranged_folders(service, tmp_path):
    """A character or bucket chosen in the browser is what `arrange` (the folder view) uses."""
    from udw.dataset.arrange import arrange

    svc, root = service
    svc.move("ds", 1, character="arturia", bucket="face_height_ratio_75-100")
    svc.check_files("ds", Filter())  # arrange needs every active file present: mark the deleted one missing
    report = arrange(svc.dataset("ds"), tmp_path / "arranged")
    placed = {p.meta.item.id: p.folder for p in report.placed}
    assert "face_height_ratio_75-100" in placed[1] and any("arturia" in part for part in placed[1])
