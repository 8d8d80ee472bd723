import errno

import pytest

from udw.core import atomic
from udw.core.errors import BadInput


def test_write_replaces_target_only_on_success(tmp_path):
    target = tmp_path / "a" / "file.txt"
    atomic.write_text(target, "one")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "one"
    assert list(target.parent.iterdir()) == [target]


def test_disk_full_is_reported_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "img.png"

    def full(tmp):
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(BadInput, match="disk full") as err:
        atomic.write_with(target, full)
    assert "free some space" in err.value.hint
    assert list(tmp_path.iterdir()) == []


def test_temp_name_keeps_suffix_and_sweep_removes_leftovers(tmp_path):
    tmp = atomic.temp_name(tmp_path / "x.png")
    assert tmp.suffix == ".png" and atomic.TEMP_MARK in tmp.name
    (tmp_path / "sub").mkdir()
    leftover = atomic.temp_name(tmp_path / "sub" / "y.webp")
    leftover.write_bytes(b"x")
    (tmp_path / "keep.png").write_bytes(b"x")
    assert atomic.sweep_temp(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.png"]
