"""From scores to tags: thresholds, MCut, rating, blacklist, overlap, order, formatting, labels."""

from pathlib import Path

import numpy as np
import pytest

from udw.core.errors import BadInput
from udw.tagging.labels import Labels, display_name, escape_prompt, read_labels
from udw.tagging.postprocess import (TagOptions, drop_overlaps, mcut_threshold, normalise, parse_tag_list,
                                     select)

NAMES = ["general", "sensitive", "questionable", "explicit", "1girl", "long_hair", "hair", "very_long_hair",
         "hat", "chat", ">_<", "^_^", "smile", "ganyu_(genshin_impact)", "hatsune_miku"]
CATS = ["rating"] * 4 + ["general"] * 9 + ["character"] * 2
LABELS = Labels(tuple(NAMES), tuple(CATS), Path("selected_tags.csv"))


def scores(**values) -> np.ndarray:
    s = np.zeros(len(NAMES), np.float32)
    for k, v in values.items():
        s[NAMES.index({"lt": ">_<", "caret": "^_^"}.get(k, k))] = v
    return s


def test_thresholds_rating_order_and_defaults():
    s = scores(general=0.2, sensitive=0.7, questionable=0.05, explicit=0.01, smile=0.5, hat=0.34,
               hatsune_miku=0.9)
    s[NAMES.index("1girl")] = 0.99
    s[NAMES.index("ganyu_(genshin_impact)")] = 0.84
    r = select(s, LABELS)
    assert r.rating == "sensitive" and r.ratings["sensitive"] == pytest.approx(0.7)
    assert list(r.general) == ["1girl", "smile"]           # 0.35 threshold, hat at 0.34 stays out
    assert list(r.character) == ["hatsune_miku"]           # 0.85: ganyu at 0.84 stays out
    assert r.prompt() == "hatsune miku, 1girl, smile"      # characters first, then by score
    assert r.prompt(TagOptions(characters_first=False)) == "1girl, smile, hatsune miku"
    assert r.confidences() == {"hatsune miku": 0.9, "1girl": 0.99, "smile": 0.5}


def test_mcut_picks_the_largest_gap():
    assert mcut_threshold(np.array([0.9, 0.8, 0.3, 0.2])) == pytest.approx(0.55)
    s = scores(**{"smile": 0.9, "hat": 0.8, "chat": 0.3})
    s[NAMES.index("1girl")] = 0.25
    assert list(select(s, LABELS, TagOptions(general_mcut=True)).general) == ["smile", "hat"]
    # characters: MCut never below 0.15
    c = scores(hatsune_miku=0.12)
    assert select(c, LABELS, TagOptions(character_mcut=True)).character == {}
    c = scores(hatsune_miku=0.5)
    assert list(select(c, LABELS, TagOptions(character_mcut=True)).character) == ["hatsune_miku"]


def test_overlap_pruning_and_kaomoji():
    s = scores(long_hair=0.9, hair=0.95, very_long_hair=0.6, hat=0.7, chat=0.7, lt=0.8, caret=0.8)
    r = select(s, LABELS)
    assert "hair" not in r.general and "long_hair" not in r.general
    assert {"very_long_hair", "hat", "chat", ">_<", "^_^"} <= set(r.general)  # hat is not part of chat
    kept = select(s, LABELS, TagOptions(drop_overlap=False))
    assert {"hair", "long_hair"} <= set(kept.general)
    assert drop_overlaps({"hair": 1.0, "hair_ornament": 0.5}) == {"hair_ornament": 0.5}
    # kaomoji keep underscores and are never escaped; other tags get spaces and escaped brackets
    assert display_name(">_<") == ">_<" and display_name("very_long_hair") == "very long hair"
    assert display_name("very_long_hair", underscores=True) == "very_long_hair"
    assert escape_prompt("ganyu (genshin impact)") == r"ganyu \(genshin impact\)"
    g = scores(**{"ganyu_(genshin_impact)": 0.9, "lt": 0.9})
    r = select(g, LABELS)
    assert r.prompt() == r"ganyu \(genshin impact\), >_<"
    assert r.prompt(TagOptions(escape=False)) == "ganyu (genshin impact), >_<"
    assert r.prompt(TagOptions(underscores=True)) == r"ganyu_\(genshin_impact\), >_<"


def test_blacklist_and_max_tags():
    s = scores(smile=0.9, hat=0.8, chat=0.7, hatsune_miku=0.95)
    s[NAMES.index("1girl")] = 0.99
    opts = TagOptions(blacklist=parse_tag_list("Smile, hatsune miku\n1girl"))
    r = select(s, LABELS, opts)
    assert list(r.general) == ["hat", "chat"] and r.character == {}
    r = select(s, LABELS, TagOptions(max_tags=2))
    assert list(r.general) == ["1girl", "smile"] and list(r.character) == ["hatsune_miku"]
    assert normalise(r"ganyu \(genshin impact\)") == "ganyu_(genshin_impact)" and normalise(">_<") == ">_<"


def test_label_files(tmp_path):
    p = tmp_path / "selected_tags.csv"
    p.write_text("tag_id,name,category,count\n1,general,9,5\n2,long_hair,0,3\n3,hatsune_miku,4,2\n4,furry,5,1\n")
    labels = read_labels(p)
    assert labels.names == ("general", "long_hair", "hatsune_miku", "furry")
    assert labels.categories == ("rating", "general", "character", "general")  # e621 categories -> general
    p.write_text("name\nfoo\nbar\n")
    assert read_labels(p).categories == ("general", "general")
    p.write_text("a,b\n1,2\n")
    with pytest.raises(BadInput, match="no 'name' column"):
        read_labels(p)
    p.write_text("")
    with pytest.raises(BadInput, match="empty"):
        read_labels(p)
    with pytest.raises(BadInput, match="cannot read"):
        read_labels(tmp_path / "missing.csv")
