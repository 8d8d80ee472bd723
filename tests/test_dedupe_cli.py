"""`udw dedupe` end to end, in process: plain folders, JSON, move + undo, eval, bad settings."""

import json
import shutil

import pytest

from udw.cli.main import main
from udw.core.manifest import Dataset
from udw.dedupe.synthetic import write_set


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-src")
    write_set(folder, scenes=6, variants_per_scene=3, negatives=2, seed=4, size=(160, 90))
    return folder


@pytest.fixture
def folder(tmp_path, source):
    shutil.copytree(source, tmp_path / "pics")
    return tmp_path / "pics"


def test_mark_with_eval_and_preview(folder, capsys):
    assert main(["-q", "dedupe", str(folder), "--eval", str(folder / "truth.json")]) == 0
    out = capsys.readouterr().out
    assert "dedupe (structure >= 0.95 candidates, verified" in out and "marked" in out
    assert "verifier:" in out and "copies" in out and "coverage" in out and "wrong merges" in out
    assert "pairs    precision" in out and "removal  precision" in out and "clusters precision" in out
    assert (folder / "previews" / "dedupe.png").is_file()
    assert Dataset(folder).count("duplicate") > 0


def test_json_move_undo(folder, capsys):
    assert main(["-q", "dedupe", str(folder), "--move-duplicates", "--json", "--no-preview", "-m", "dhash"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["settings"]["method"] == "dhash" and report["removed"] == len(list((folder / "duplicates").iterdir()))
    assert report["preview"] is None
    assert main(["-q", "dedupe", str(folder), "--undo"]) == 0
    assert f"{report['removed']} items restored" in capsys.readouterr().out
    assert not (folder / "duplicates").exists()


def test_dry_run_writes_preview_elsewhere(folder, tmp_path, capsys):
    out_png = tmp_path / "p.png"
    assert main(["-q", "dedupe", str(folder), "--dry-run", "--preview", str(out_png), "--keep", "largest",
                 "--linkage", "chain"]) == 0
    assert "would remove" in capsys.readouterr().out and out_png.is_file()
    assert Dataset(folder).count("duplicate") == 0


def test_bad_settings_exit_2_with_a_hint(folder, capsys):
    assert main(["-q", "dedupe", str(folder), "--threshold", "0.3"]) == 2
    err = capsys.readouterr().err
    assert "threshold 0.3 is out of range" in err and "0.5 to 1.0" in err
    assert main(["-q", "dedupe", str(folder / "nothing")]) == 2
    assert "no such dataset or folder" in capsys.readouterr().err
    assert main(["-q", "dedupe", str(folder), "-m", "embed", "--model", str(folder / "none.onnx")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dedupe", str(folder), "--move-duplicates", "--delete-duplicates"])
