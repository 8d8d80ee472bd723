import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from udw.core.atomic import TEMP_MARK
from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.dataset.ingest import import_images


def test_import_copies_checks_and_is_idempotent(image_folder, tmp_path):
    (image_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (image_folder / "notes.txt").write_text("not an image")
    report = import_images(tmp_path / "ds", [image_folder])
    assert report.added == 6 and len(report.failed) == 1 and "broken.png" in report.failed[0][0]
    ds = Dataset(tmp_path / "ds")
    items = ds.items()
    assert [it.path for it in items][:2] == ["images/frame 00.png", "images/frame 01.png"]
    assert all(ds.abspath(it).read_bytes() == (image_folder / it.path.split("/")[1]).read_bytes()
               for it in items)
    assert (items[0].width, items[0].height) == (96, 64)
    again = import_images(ds, [image_folder])
    assert again.added == 0 and again.already_there == 6 and ds.count() == 6


def test_same_name_from_two_folders_gets_distinct_files(tmp_path, make_image):
    a = make_image(tmp_path / "a" / "x.png", 1)
    b = make_image(tmp_path / "b" / "x.png", 2)
    import_images(tmp_path / "ds", [a, b])
    paths = [it.path for it in Dataset(tmp_path / "ds").items()]
    assert paths[0] == "images/x.png" and paths[1].startswith("images/x-") and len(set(paths)) == 2


def test_modes_and_glob(tmp_path, image_folder):
    report = import_images(tmp_path / "ds", [str(image_folder / "frame 0[0-2].png")], mode="link")
    assert report.added == 3
    ds = Dataset(tmp_path / "ds")
    assert os.stat(ds.abspath(ds.items()[0])).st_nlink == 2
    with pytest.raises(BadInput, match="unknown import mode"):
        import_images(tmp_path / "ds", [image_folder], mode="move")
    with pytest.raises(BadInput, match="no such file"):
        import_images(tmp_path / "ds", [tmp_path / "missing"])


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "I;16", "CMYK"])
def test_every_mode_is_accepted(tmp_path, mode, make_image):
    suffix = ".jpg" if mode == "CMYK" else ".png"
    path = make_image(tmp_path / f"m{suffix}", 3, mode=mode)
    report = import_images(tmp_path / "ds", [path])
    assert report.added == 1, report.failed


def test_decompression_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000)).save(path)  # 400 MP of zeros: a tiny file
    report = import_images(tmp_path / "ds", [path])
    assert report.added == 0 and "decompression bomb" in report.failed[0][1]


def test_unwritable_dataset_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(BadInput, match="cannot create a dataset"):
        Dataset(locked / "ds", create=True)


KILL_SCRIPT = """
import sys, time
from udw.core.ports import Ports
from udw.dataset.ingest import import_images
slow = Ports(progress=lambda d, t, p=None: time.sleep(0.002))
import_images(sys.argv[2], [sys.argv[1]], ports=slow)
"""


def _rows(manifest):
    try:
        with sqlite3.connect(manifest, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_mid_import_then_rerun_is_complete_and_duplicate_free(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(240):  # noisy 256px PNGs: slow enough to decode that the kill lands mid-run
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(src / f"f{i:03d}.png")
    ds_dir = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(src), str(ds_dir)])
    deadline = time.time() + 60
    while _rows(ds_dir / "udw-manifest.sqlite") < 40 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _rows(ds_dir / "udw-manifest.sqlite")
    assert 0 < partial < 240, "the kill must land in the middle of the run"

    report = import_images(ds_dir, [src])
    ds = Dataset(ds_dir)
    items = ds.items()
    assert report.added == 240 - partial and report.already_there == partial
    assert len(items) == 240 and len({it.path for it in items}) == 240
    files = sorted(p.name for p in (ds_dir / "images").iterdir())
    assert files == sorted(f"f{i:03d}.png" for i in range(240))  # no temp files, no orphans
    assert not any(TEMP_MARK in f for f in files)
    for it in items[::37]:
        assert ds.abspath(it).read_bytes() == (src / it.path.split("/")[1]).read_bytes()
