"""extract_frames end to end on generated clips: what is kept, what the manifest says, the modes."""

import json

import numpy as np
import pytest
from PIL import Image

from udw.core.manifest import Dataset
from udw.video import FrameSettings, extract_frames
from udw.video.neardup import RecentKept, signature

EXACT = dict(hi=768, lo=320)  # FFmpeg's own mpdecimate thresholds: every new drawing is kept


def rows(ds_root):
    ds = Dataset(ds_root)
    with ds.db() as c:
        return [dict(r) for r in c.execute("SELECT * FROM items ORDER BY source_id, frame_index")]


def frame_files(ds_root):
    return sorted(p for p in (ds_root / "frames").rglob("*") if p.is_file())


def first_of_each_drawing(labels):
    return [i for i, lab in enumerate(labels) if i == 0 or labels[i - 1] != lab]


def test_holds_dropped_and_every_kept_frame_has_a_row(tmp_path, make_clip):
    labels = make_clip(tmp_path / "clip.mkv")
    report = extract_frames(tmp_path / "ds", [tmp_path / "clip.mkv"], FrameSettings(**EXACT))
    got = rows(tmp_path / "ds")
    assert [r["frame_index"] for r in got] == first_of_each_drawing(labels)
    assert report.kept == len(got) == 15 and report.videos[0].holds == 34 - 15
    for n, r in enumerate(got, 1):
        assert r["path"] == f"frames/clip/clip_{n}.png" and r["kind"] == "frame" and r["status"] == "active"
        assert r["pts"] == pytest.approx(r["frame_index"] / 24, abs=1e-3)
        assert r["scene"] == labels[r["frame_index"]][0]  # one scene per shot
        assert (r["width"], r["height"]) == (160, 96)
    assert len(frame_files(tmp_path / "ds")) == 15
    src = Dataset(tmp_path / "ds").sources()[0]
    assert src["kind"] == "video" and src["state"] == "done" and src["series"] == "clip"
    assert json.loads(src["info"])["probe"]["codec"] == "h264"


def test_hold_thresholds_default_finer_than_the_seed(tmp_path, make_clip):
    # issue 14: the seed's hi=64*200:lo=64*50 dropped new drawings; the default drops holds only
    make_clip(tmp_path / "clip.mp4", shots=((10, 2, 0), (8, 3, 1)))
    default = extract_frames(tmp_path / "a", [tmp_path / "clip.mp4"], FrameSettings(dedupe=False))
    seed = extract_frames(tmp_path / "s", [tmp_path / "clip.mp4"], FrameSettings(dedupe=False, hi=12800, lo=3200))
    exact = extract_frames(tmp_path / "b", [tmp_path / "clip.mp4"], FrameSettings(dedupe=False, **EXACT))
    assert FrameSettings().mpdecimate.filter_string() == "mpdecimate=hi=3200:lo=768:frac=0.33"
    assert 0 < seed.kept <= default.kept <= exact.kept


def test_near_duplicates_are_never_written(tmp_path, make_clip):
    # a slow pan (1 px/frame, the limit is 160/80 = 2 px) then a new drawing every frame
    make_clip(tmp_path / "pan.mkv", shots=((1, 24, 1), (6, 1, 0)))
    off = extract_frames(tmp_path / "off", [tmp_path / "pan.mkv"], FrameSettings(dedupe=False, **EXACT))
    on = extract_frames(tmp_path / "on", [tmp_path / "pan.mkv"], FrameSettings(**EXACT))
    v = on.videos[0]
    assert v.near_duplicates > 0 and on.kept + v.near_duplicates == off.kept
    assert 6 < on.kept < off.kept
    kept = rows(tmp_path / "on")
    assert len(frame_files(tmp_path / "on")) == len(kept) == on.kept  # dropped frames never reach the disk
    assert sum(r["scene"] == 1 for r in kept) == 6  # the new drawings of shot 2 all stay


def _picture(shift=0, blink=False, arm=False):
    im = np.full((96, 160), 90, np.uint8)
    for x in range(0, 320, 40):
        im[30:96, max(0, x - shift):max(0, x - shift + 14)] = 200
    im[20:50, 70:100] = 30  # a head
    if blink:
        im[30:32, 78:92] = 90
    if arm:
        im[40:80, 110:118] = 250
    return im


def test_near_duplicate_rule_slide_limit_and_new_drawings():
    recent = RecentKept(8, 1 / 80, 0.02, (160, 96))  # slide limit: 2 px
    recent.add(signature(_picture()), "kept")
    assert recent.match(signature(_picture(shift=1))) is not None
    assert recent.match(signature(_picture(blink=True))) is not None
    assert recent.match(signature(_picture(shift=6))) is None
    assert recent.match(signature(_picture(arm=True))) is None
    flat = np.full((96, 160), 16, np.uint8)
    recent.add(signature(flat), "black")
    assert recent.match(signature(flat + 2))[0] == "black"
    assert recent.match(signature(flat + 40)) is None


def test_modes(tmp_path, make_clip):
    labels = make_clip(tmp_path / "c.mkv", gop=10)
    clip = [tmp_path / "c.mkv"]

    def indices(name, **kw):
        extract_frames(tmp_path / name, clip, FrameSettings(dedupe=False, **kw))
        return [r["frame_index"] for r in rows(tmp_path / name)]

    assert indices("every", mode="every", every=5) == [0, 5, 10, 15, 20, 25, 30]
    assert indices("fps", mode="every", fps=4) == [0, 6, 12, 18, 24, 30]
    assert indices("key", mode="keyframes") == [0, 10, 20, 30]
    assert indices("scene", mode="scene") == [0, 12, 24]
    assert indices("range", mode="every", every=1, start=0.5, end=1.0) == list(range(12, 24))
    assert indices("cap", max_frames=4, **EXACT) == first_of_each_drawing(labels)[:4]


def test_output_formats_and_quality(tmp_path, make_clip):
    make_clip(tmp_path / "c.mkv")
    sizes = {}
    for fmt, quality in [("png", 95), ("webp", 100), ("jpeg", 95), ("jpeg", 30), ("webp", 60)]:
        root = tmp_path / f"{fmt}{quality}"
        extract_frames(root, [tmp_path / "c.mkv"], FrameSettings(format=fmt, quality=quality, **EXACT))
        files = frame_files(root)
        assert files and all(f.suffix == {"png": ".png", "webp": ".webp", "jpeg": ".jpg"}[fmt] for f in files)
        with Image.open(files[0]) as im:
            assert im.size == (160, 96)
            sizes[fmt, quality] = (sum(f.stat().st_size for f in files), np.asarray(im.convert("RGB")))
    assert sizes["jpeg", 30][0] < sizes["jpeg", 95][0]
    assert np.array_equal(sizes["webp", 100][1], sizes["png", 95][1])  # WebP 100 is lossless
    assert np.abs(sizes["jpeg", 95][1].astype(int) - sizes["png", 95][1]).mean() < 4


def test_containers_bit_depth_anamorphic_and_vfr(tmp_path, make_clip):
    make_clip(tmp_path / "a.webm")
    make_clip(tmp_path / "b.avi")
    make_clip(tmp_path / "c10.mkv", pix_fmt="yuv420p10le")
    make_clip(tmp_path / "d.mp4")
    make_clip(tmp_path / "e.mkv", sar=(32, 27))
    times = [round(i * 0.04 + (0.03 if i % 4 == 3 else 0), 3) for i in range(34)]  # irregular spacing
    make_clip(tmp_path / "f.mkv", times=times)
    report = extract_frames(tmp_path / "ds", [tmp_path], FrameSettings(mode="every", every=1, dedupe=False,
                                                                       cross_episode="off"))
    assert [v.state for v in report.videos] == ["done"] * 6
    by_src = {}
    for r in rows(tmp_path / "ds"):
        by_src.setdefault(r["series"], []).append(r)
    assert {k: len(v) for k, v in by_src.items()} == {"a": 34, "b": 34, "c10": 34, "d": 34, "e": 34, "f": 34}
    assert {(r["width"], r["height"]) for r in by_src["e"]} == {(190, 96)}  # 160 * 32/27: square pixels
    with Image.open(tmp_path / "ds" / by_src["e"][0]["path"]) as im:
        assert im.size == (190, 96)
    assert [r["pts"] for r in by_src["f"]] == pytest.approx([t - times[0] for t in times], abs=2e-3)
    # the 10-bit frames look like the 8-bit ones
    with Image.open(tmp_path / "ds" / by_src["c10"][5]["path"]) as a, \
            Image.open(tmp_path / "ds" / by_src["d"][5]["path"]) as b:
        assert np.abs(np.asarray(a).astype(int) - np.asarray(b)).mean() < 3


def test_names_from_prefix_series_and_collisions(tmp_path, make_clip):
    make_clip(tmp_path / "one" / "[G] Show - 04 [1080p].mkv")
    make_clip(tmp_path / "two" / "[H] Show - 04 [720p].mkv")
    extract_frames(tmp_path / "ds", [tmp_path / "one", tmp_path / "two"], FrameSettings(cross_episode="off", **EXACT))
    names = sorted({r["path"].split("/")[1] for r in rows(tmp_path / "ds")})
    assert names == ["ShowEP04", "ShowEP04v2"]
    extract_frames(tmp_path / "p", [tmp_path / "one"], FrameSettings(prefix="yamaS2_EP04", **EXACT))
    assert rows(tmp_path / "p")[0]["path"] == "frames/yamaS2EP04/yamaS2EP04_1.png"
    extract_frames(tmp_path / "s", [tmp_path / "one"], FrameSettings(series="Yama", **EXACT))
    assert rows(tmp_path / "s")[2]["path"] == "frames/YamaEP04/YamaEP04_3.png"


def test_cross_episode_openings_and_endings(tmp_path, make_clip):
    opening, ending = (5, 2, 0, 50), (3, 2, 0, 60)
    make_clip(tmp_path / "Show - 01.mkv", shots=(opening, (6, 2, 0, 1), (6, 2, 0, 2), ending))
    make_clip(tmp_path / "Show - 02.mkv", shots=(opening, (6, 2, 0, 3), (6, 2, 0, 4), ending))
    videos = [tmp_path / "Show - 01.mkv", tmp_path / "Show - 02.mkv"]
    report = extract_frames(tmp_path / "drop", videos, FrameSettings(**EXACT))
    assert [v.cross_episode for v in report.videos] == [0, 8]
    got = rows(tmp_path / "drop")
    ep1 = {r["id"]: r for r in got if r["series"] == "Show" and r["episode"] == "EP01"}
    dups = [r for r in got if r["status"] == "duplicate"]
    assert len(dups) == 8 and all(r["duplicate_of"] in ep1 for r in dups)
    assert all(not (tmp_path / "drop" / r["path"]).exists() for r in dups)  # dropped: recorded, not written
    assert len(frame_files(tmp_path / "drop")) == len(got) - 8
    assert sum(r["status"] == "active" and r["episode"] == "EP02" for r in got) == 12  # its own body stays
    marked = extract_frames(tmp_path / "mark", videos, FrameSettings(cross_episode="mark", **EXACT))
    assert marked.videos[1].cross_episode == 8 and len(frame_files(tmp_path / "mark")) == len(got)
    off = extract_frames(tmp_path / "off", videos, FrameSettings(cross_episode="off", **EXACT))
    assert off.videos[1].cross_episode == 0 and off.kept == report.kept + 8


def test_rerun_skips_and_settings_change_needs_redo(tmp_path, make_clip):
    make_clip(tmp_path / "c.mkv")
    first = extract_frames(tmp_path / "ds", [tmp_path / "c.mkv"], FrameSettings(**EXACT))
    again = extract_frames(tmp_path / "ds", [tmp_path / "c.mkv"], FrameSettings(**EXACT))
    assert again.videos[0].state == "skipped" and again.kept == first.kept == 15
    other = extract_frames(tmp_path / "ds", [tmp_path / "c.mkv"], FrameSettings(format="jpeg", **EXACT))
    assert other.videos[0].state == "skipped" and "redo" in other.videos[0].error
    redo = extract_frames(tmp_path / "ds", [tmp_path / "c.mkv"], FrameSettings(format="jpeg", redo=True, **EXACT))
    assert redo.videos[0].state == "done"
    files = frame_files(tmp_path / "ds")
    assert len(files) == 15 and all(f.suffix == ".jpg" for f in files) and len(rows(tmp_path / "ds")) == 15
