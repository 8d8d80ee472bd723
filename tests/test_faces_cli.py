"""The `udw faces / characters / arrange / export / sources` verbs end to end."""

import json

import pytest
from PIL import Image

from udw.cli.main import main


@pytest.fixture
def frames(tmp_path, magenta_frame):
    src = tmp_path / "frames"
    src.mkdir()
    for name, boxes in {"a": [(100, 100, 160, 160)], "b": [(300, 40, 400, 140), (500, 200, 540, 240)], "c": []}.items():
        Image.fromarray(magenta_frame((640, 320), boxes)).save(src / f"{name}.png")
    return src


def test_cli_pipeline(tmp_path, frames, tiny_yolo, capsys):
    ds = str(tmp_path / "ds")
    assert main(["-q", "import", str(frames), "-d", ds, "--licence", "made for the test"]) == 0
    assert main(["-q", "faces", ds, "--detector", str(tiny_yolo), "--count-from", "faces", "--crop",
                 "--crop-min", "64", "--crop-size", "96"]) == 0
    out = capsys.readouterr().out
    assert "3 faces in 2 images, 3 crops" in out and "tiny_face" in out
    assert "face-height buckets:" in out and "no face in: " in out and "c.png" in out
    assert main(["-q", "faces", ds, "--detector", str(tiny_yolo), "--classes", "person"]) == 2
    assert "has no class 'person' (its classes: 0: face)" in capsys.readouterr().err
    assert main(["-q", "characters", ds, "--embedder", "colour", "--min-cluster", "2"]) == 0
    assert "unknown_1" in capsys.readouterr().out
    assert main(["-q", "characters", ds, "--rename", "unknown_1=Mage", "--rename", "others=Mage"]) == 0
    assert main(["-q", "export", ds, "-o", str(tmp_path / "ed2"), "--trainer", "everydream", "--weight", "others=2",
                 "--no-crops"]) == 0
    out = capsys.readouterr().out
    assert "ED2/epoch" in out and "total" in out
    # level 1: 1_character (weight 1, two buckets of one image) and others (weight 2, one image)
    assert (tmp_path / "ed2" / "others" / "multiply.txt").read_text() == "4"
    meta = json.loads((tmp_path / "ed2/1_character/Mage/face_height_ratio_0-25/a.json").read_text())
    assert meta["characters"] == ["Mage"] and meta["count"] == "1"
    assert "made for the test" in (tmp_path / "ed2" / "README.md").read_text()
    assert main(["-q", "arrange", ds, "-o", str(tmp_path / "arr"), "--levels", "count,bucket", "--mode", "copy"]) == 0
    assert "1_character/face_height_ratio_" in capsys.readouterr().out
    assert main(["sources", ds, "--licence", "CC-BY 4.0"]) == 0
    assert "licence: CC-BY 4.0" in capsys.readouterr().out


def test_cli_errors_exit_2_with_a_hint(tmp_path, frames, capsys):
    assert main(["faces", str(tmp_path / "none")]) == 2
    assert "not a UDW dataset" in capsys.readouterr().err
    ds = str(tmp_path / "ds")
    main(["-q", "import", str(frames), "-d", ds])
    assert main(["faces", ds, "--buckets", "70,20"]) == 2
    assert main(["faces", ds, "--detector-buckets", "lbpcascade_animeface"]) == 2
    assert "NAME=EDGES" in capsys.readouterr().err
    assert main(["arrange", ds, "-o", ds]) == 2
    assert "dataset's own folder" in capsys.readouterr().err
    assert main(["characters", ds, "--rename", "nonsense"]) == 2
    assert main(["export", ds, "-o", str(tmp_path / "x"), "--trainer", "kohya", "--weight", "bad"]) == 2
    assert main(["sources", ds, "--source", "/nowhere/*", "--licence", "x"]) == 2
