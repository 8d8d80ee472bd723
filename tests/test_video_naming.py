"""Frame names {series}{episode}_{n}: from a series_episode prefix or parsed from file names."""

import pytest

from udw.core.errors import BadInput
from udw.video import parse_filename, parse_prefix, parse_time


@pytest.mark.parametrize("name,series,episode", [
    ("[Group] Show - 04 [1080p].mkv", "Show", "EP04"),
    ("[SubsPlease] Yama no Susume S2 - 04v2 (1080p) [ABCD1234].mkv", "YamanoSusumeS2", "EP04"),
    ("Show.Name.S02E04.1080p.WEB-DL.x264.mkv", "ShowNameS2", "EP04"),
    ("Show EP04.mp4", "Show", "EP04"),
    ("Show Episode 12.mkv", "Show", "EP12"),
    ("Show_04.mp4", "Show", "EP04"),
    ("ヤマノススメ 第04話.mp4", "ヤマノススメ", "EP04"),
    ("Show - 12.5 [720p].mkv", "Show", "EP12.5"),
    ("udwdemo_EP01.mp4", "udwdemo", "EP01"),
    ("my clip.mp4", "myclip", ""),
])
def test_parse_filename(name, series, episode):
    got = parse_filename(name)
    assert (got.series, got.episode) == (series, episode)


def test_prefix_and_frame_names():
    name = parse_prefix("yamaS2_EP04")
    assert (name.series, name.episode, name.frame_name(12)) == ("yamaS2", "EP04", "yamaS2EP04_12")
    assert parse_prefix("show").frame_name(1) == "show_1"
    assert parse_filename("[G] Show - 04 [1080p].mkv", series="My Show").prefix == "MyShowEP04"
    with pytest.raises(BadInput):
        parse_prefix("  ")
    with pytest.raises(BadInput):
        parse_prefix("../_EP01")


def test_parse_time():
    assert parse_time("90") == 90.0 and parse_time("1:30") == 90.0 and parse_time("0:01:30.5") == 90.5
    assert parse_time("") is None and parse_time(None) is None and parse_time(2) == 2.0
    with pytest.raises(BadInput, match="cannot read the time"):
        parse_time("1m30")
