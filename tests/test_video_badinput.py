"""Bad videos and bad places: a clear message each, nothing half-written, the other videos still done."""

import random

import pytest

from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.video import FrameSettings, extract_frames, probe

SETTINGS = FrameSettings(hi=768, lo=320, cross_episode="off")
LONG = ((20, 2, 0), (20, 2, 0), (20, 2, 0))  # 120 frames


@pytest.fixture
def videos(tmp_path, make_clip):
    src = tmp_path / "in"
    make_clip(src / "good.mkv", shots=LONG, gop=12)
    make_clip(src / "whole.mp4", shots=LONG, gop=12)
    data = (src / "good.mkv").read_bytes()
    (src / "truncated.mkv").write_bytes(data[:len(data) * 6 // 10])
    mp4 = (src / "whole.mp4").read_bytes()
    (src / "truncated.mp4").write_bytes(mp4[:len(mp4) * 6 // 10])
    damaged = bytearray(data)
    rng = random.Random(1)
    for i in range(len(damaged) // 2, len(damaged) // 2 + 3000):
        damaged[i] = rng.randrange(256)
    (src / "damaged.mkv").write_bytes(bytes(damaged))
    (src / "empty.mkv").write_bytes(b"")
    (src / "notes.mp4").write_text("not a video at all")
    (src / "エピソード 01 (copy).mkv").write_bytes(data)
    return src


def test_each_bad_video_is_reported_and_the_others_done(tmp_path, videos):
    report = extract_frames(tmp_path / "ds", [videos, tmp_path / "missing.mkv"], SETTINGS)
    by = {v.path.rsplit("/", 1)[-1]: v for v in report.videos}
    assert by["missing.mkv"].state == "failed" and "no such file" in by["missing.mkv"].error
    assert by["empty.mkv"].state == "failed" and "empty file (0 bytes)" in by["empty.mkv"].error
    assert by["notes.mp4"].state == "failed" and "not a video" in by["notes.mp4"].error
    assert by["truncated.mp4"].state == "failed" and "download it again" in by["truncated.mp4"].error
    good = by["good.mkv"]
    assert good.state == "done" and good.decoded == 120 and not good.warnings
    trunc = by["truncated.mkv"]  # MKV streams: what arrived decodes, the rest is reported
    assert trunc.state == "done" and 20 < trunc.decoded < 100
    assert any("truncated" in w and "ends at" in w for w in trunc.warnings)
    damaged = by["damaged.mkv"]
    assert damaged.state == "done" and 60 < damaged.decoded < 120 and damaged.warnings
    unicode = by["エピソード 01 (copy).mkv"]
    assert unicode.state == "done" and unicode.kept == good.kept
    ds = Dataset(tmp_path / "ds")
    states = {s["path"].rsplit("/", 1)[-1]: s["state"] for s in ds.sources()}
    assert states["empty.mkv"] == states["notes.mp4"] == "failed"
    for it in ds.items(status=None):
        assert ds.abspath(it).is_file()
    assert not list((tmp_path / "ds").rglob("*.udwtmp*"))


def test_probe_messages():
    with pytest.raises(BadInput, match="no such file"):
        probe("/nonexistent/video.mkv")


def test_audio_only_file(tmp_path):
    import wave

    path = tmp_path / "sound.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    with pytest.raises(BadInput, match="no video stream"):
        probe(path)


def test_unreadable_folder_is_reported(tmp_path, videos, monkeypatch):
    import os

    import udw.core.inputs as inputs

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(inputs.os, "access", lambda p, m: False if str(p) == str(locked) else real_access(p, m))
    report = extract_frames(tmp_path / "ds", [locked, videos / "good.mkv"], SETTINGS)
    assert report.videos[0].state == "failed" and "not readable" in report.videos[0].error
    assert report.videos[1].state == "done"


def test_output_that_cannot_be_written(tmp_path, videos, monkeypatch):
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(BadInput, match="cannot create a dataset"):
        extract_frames(tmp_path / "file" / "ds", [videos / "good.mkv"], SETTINGS)

    import udw.video.output as output

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(output, "open", denied, raising=False)
    report = extract_frames(tmp_path / "ds", [videos / "good.mkv", videos / "whole.mp4"], SETTINGS)
    assert "permission denied" in report.aborted and len(report.videos) == 1
    assert Dataset(tmp_path / "ds").count(status=None) == 0
    assert not [p for p in (tmp_path / "ds").rglob("*") if p.is_file() and "frames" in p.parts]


def test_bad_settings_are_refused_with_a_hint(tmp_path, videos):
    with pytest.raises(BadInput, match="unknown mode"):
        extract_frames(tmp_path / "ds", [videos], FrameSettings(mode="all"))
    with pytest.raises(BadInput, match="names one episode"):
        extract_frames(tmp_path / "ds", [videos], FrameSettings(prefix="show_EP01"))
    with pytest.raises(BadInput, match="not after start"):
        FrameSettings(start=5, end=2).validated()
