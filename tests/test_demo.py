"""`udw demo`: samples -> references -> the whole build -> a gallery page, resumable."""

import pytest

from udw.cli.main import main
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.demo import run_demo
from udw.samples import CHARACTERS


@pytest.fixture
def shared_models(cascade_path, monkeypatch):
    monkeypatch.setenv("UDW_MODELS_DIR", str(cascade_path.parent))  # as `make demo` sets it
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_demo_builds_a_dataset_and_a_gallery(tmp_path, shared_models):
    lines = []
    report = run_demo(tmp_path / "out", Ports(), log=lines.append, duration_s=8.0)
    status = {s.name: s.status for s in report.steps}
    assert status == {"frames": "done", "dedupe": "done", "tag": "skipped", "faces": "done",
                      "characters": "done", "export": "done", "gallery": "done"}, report.summary()
    assert any("tag: skipped" in line and "put model.onnx" in line for line in lines)  # says what to do
    assert sorted(p.name for p in (tmp_path / "out" / "refs").iterdir()) == sorted(c.name for c in CHARACTERS)
    train = tmp_path / "out" / "train"
    pictures = [p for p in train.rglob("*.png")]
    assert pictures and all(p.with_suffix(".txt").is_file() for p in pictures)  # every picture captioned
    page = report.gallery.read_text()
    assert report.gallery == (tmp_path / "out" / "gallery" / "index.html").resolve()
    named = [c.name for c in CHARACTERS if c.name in page]
    assert len(named) >= 2, "the references name characters in the gallery"
    kept = Dataset(tmp_path / "out" / "dataset").count()
    again = run_demo(tmp_path / "out", Ports(), log=lines.append, duration_s=8.0)  # resumes
    assert again.status("faces").summary.startswith("0 done"), again.summary()  # nothing detected twice
    assert Dataset(tmp_path / "out" / "dataset").count() == kept


def test_demo_verb_prints_the_page_to_open(tmp_path, shared_models, capsys):
    assert main(["-q", "demo", "-o", str(tmp_path / "out"), "--duration", "2"]) == 0
    out = capsys.readouterr().out
    assert f"open {(tmp_path / 'out' / 'gallery' / 'index.html').resolve()}" in out
