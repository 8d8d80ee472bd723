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


def test_demo_builds_a_dataset_and_a_gallery(tmp_path, shared_models, capsys):
    assert main(["-q", "demo", "-o", str(tmp_path / "out"), "--duration", "8"]) == 0
    out = capsys.readouterr().out
    page = (tmp_path / "out" / "gallery" / "index.html").resolve()
    assert f"open {page}" in out  # the verb ends with the page to open
    for step in ("frames", "dedupe", "faces", "characters", "export", "gallery"):
        assert f"  {step}: " in out and f"  {step}: failed" not in out
    assert "tag: skipped" in out and "put model.onnx" in out  # no tagger here: says what to do
    assert sorted(p.name for p in (tmp_path / "out" / "refs").iterdir()) == sorted(c.name for c in CHARACTERS)
    pictures = list((tmp_path / "out" / "train").rglob("*.png"))
    assert pictures and all(p.with_suffix(".txt").is_file() for p in pictures)  # every picture captioned
    named = [c.name for c in CHARACTERS if c.name in page.read_text()]
    assert len(named) >= 2, "the references name characters in the gallery"
    kept = Dataset(tmp_path / "out" / "dataset").count()
    again = run_demo(tmp_path / "out", Ports(), log=lambda line: None, duration_s=8.0)  # resumes
    assert again.ok and again.status("faces").summary.startswith("0 done"), again.summary()
    assert Dataset(tmp_path / "out" / "dataset").count() == kept
