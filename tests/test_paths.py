import os

import pytest

from udw.core.errors import BadInput
from udw.core.inputs import expand_inputs
from udw.core.paths import Roots, safe_name, within


@pytest.mark.parametrize("name,expected", [
    ("Saber", "Saber"), ("../etc", "_etc"), ("a/b", "a_b"), ("C:evil", "C_evil"),
    ("..", "unnamed"), (".hidden", "hidden"), ("Émi ラ", "Émi ラ"), ("x\x00y", "x_y"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_within_refuses_escapes_and_symlinks(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "link")
    assert within(root, "sub") == (root / "sub").resolve()
    for bad in ["../outside", str(outside), "link", "sub/../../outside"]:
        with pytest.raises(BadInput, match="outside the allowed folder"):
            within(root, bad)


def test_roots_resolve_relative_to_first_and_allow_others(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in "abc")
    for p in (a, b, c):
        p.mkdir()
    monkeypatch.setenv("UDW_ROOTS", str(c))
    roots = Roots.from_env(a, b)
    assert roots.resolve("x") == a / "x"
    assert roots.resolve(b / "y") == b / "y"
    assert roots.resolve(c / "z") == c / "z"
    with pytest.raises(BadInput, match="UDW_ROOTS"):
        roots.resolve(tmp_path / "elsewhere")
    with pytest.raises(BadInput, match="no path"):
        roots.resolve("  ")


def test_expand_inputs_files_folders_globs(tmp_path):
    for name in ["a.png", "b.PNG", "c.txt", "sub/d.jpg", "ü n i.webp"]:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    sfx = {".png", ".jpg", ".webp"}
    got = expand_inputs([tmp_path, tmp_path / "a.png"], sfx)
    assert sorted(p.name for p in got) == ["a.png", "b.PNG", "d.jpg", "ü n i.webp"]
    assert [p.name for p in expand_inputs([str(tmp_path / "*.png")], sfx)] == ["a.png"]
    with pytest.raises(BadInput, match="no matching files"):
        expand_inputs([str(tmp_path / "*.mkv")], sfx)
