"""Every stage names each file it could not take (issue 16, finding 4): CLI, node and tab alike."""

import shutil
import struct
import zlib

import pytest

from udw.cli.main import main
from udw.core.manifest import Dataset
from udw.dataset.ingest import import_images, index_in_place

BAD = ("empty.png", "bomb.png", "notes.png")


def _decompression_bomb(path):
    """A valid PNG whose header claims 40000x40000 pixels: Pillow refuses it as a bomb."""
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture
def folder(tmp_path, make_image):
    """9 good pictures and the 3 bad files of the issue: a zero-byte PNG, a bomb, a text file named .png."""
    root = tmp_path / "plain"
    for i in range(9):
        make_image(root / f"good{i}.png", i, (48, 40))
    (root / "empty.png").write_bytes(b"")
    _decompression_bomb(root / "bomb.png")
    (root / "notes.png").write_text("these are my notes, not a picture\n")
    return root


def _names_each_bad_file(text):
    for name in BAD:
        line = next((line for line in text.splitlines() if name in line), None)
        assert line is not None and "skipped" in line and ":" in line.split(name, 1)[1], (name, text)


def test_index_in_place_report_names_every_unreadable_file(folder):
    _, report = index_in_place(folder)
    assert report.added == 9 and len(report.failed) == 3
    head, *rest = report.summary().splitlines()
    assert "9 added" in head and "3 failed" in head
    _names_each_bad_file("\n".join(rest))
    said = {line.split("skipped ", 1)[1].split(": ", 1)[0].rsplit("/", 1)[-1]: line.split(": ", 1)[1] for line in rest}
    assert said["empty.png"] == "empty file (0 bytes)" and "decompression bomb" in said["bomb.png"]
    assert said["notes.png"].startswith("not a readable image") and str(folder) not in said["notes.png"].split("(")[0]


def test_import_names_every_unreadable_file_in_cli_and_node(folder, tmp_path, capsys, comfy):
    assert main(["-q", "import", "-d", str(tmp_path / "ds"), str(folder)]) == 0
    _names_each_bad_file(capsys.readouterr().out)
    report = import_images(tmp_path / "ds2", [folder])
    _names_each_bad_file(report.summary())
    shutil.copytree(folder, comfy.base / "input" / "plain")
    (ds, text), ui = comfy.run("UDWImportImages", source="plain", dataset="d1", mode="copy")
    assert "9 added" in text and ui["text"] == [text] and ds.count() == 9
    _names_each_bad_file(text)


def test_udw_tag_on_a_plain_folder_names_the_files_it_could_not_take(folder, tiny_tagger, capsys, no_models):
    tiny = tiny_tagger("v3")
    assert main(["-q", "tag", str(folder), "--model", str(tiny.onnx)]) == 0
    out = capsys.readouterr().out
    assert "import: 9 added" in out and "3 failed" in out and "tag: 9 done" in out
    _names_each_bad_file(out)
    assert Dataset(folder).count() == 9


def test_the_tagging_tab_and_the_build_step_name_them_too(folder, tiny_tagger, serve_ui, tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    pytest.importorskip("gradio_client")
    from udw.core.paths import Roots
    from udw.dataset.build import _checked
    from udw.models import onnx as udw_onnx
    from udw.tagging import model as tagging_model
    from udw.ui import UiHost

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tagging_model.clear_cache()
    udw_onnx.clear_cache()
    root, models = tmp_path / "root", tmp_path / "models" / "taggers"
    tiny_tagger("v3", folder=models / "wd-swinv2-tagger-v3")
    shutil.copytree(folder, root / "pics")
    client = serve_ui(UiHost("standalone", Roots(root), model_dirs={"taggers": [str(models)]}))
    opts = [0.35, 0.85, False, False, "", 0, False, True, True]
    status = client.predict("pics", "wd-swinv2-tagger-v3", "CPU", False, True, *opts, api_name="/udw_tag_dataset")
    assert "tag: 9 done" in status and "3 failed" in status
    _names_each_bad_file(status)
    shutil.copytree(folder, tmp_path / "again")
    _, report = index_in_place(tmp_path / "again")
    _names_each_bad_file(_checked(report))  # a `udw build` step's line names them as well
