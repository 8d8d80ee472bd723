"""build_dataset's step rules: which steps run, when a missing model skips or fails, bad requests."""

import pytest

from udw.core.errors import BadInput
from udw.dataset.build import STEPS, BuildSettings, build_dataset


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("UDW_MODELS_DIR", str(tmp_path / "no-models"))


def test_all_steps_skip_a_missing_model_and_export_needs_a_target(tmp_path, image_folder):
    report = build_dataset(tmp_path / "ds", [image_folder], steps=list(STEPS), settings=BuildSettings())
    status = {s.name: s.status for s in report.steps}
    assert "export" not in status  # no target folder: not run, not an error
    assert status["tag"] == "skipped" and status["frames"] == "done" and status["gallery"] == "done"
    assert report.ok and "6 added" in report.status("frames").summary


def test_a_chosen_step_whose_model_is_missing_fails_with_the_hint(tmp_path, image_folder):
    report = build_dataset(tmp_path / "ds", [image_folder], steps=["frames", "tag"])
    assert [s.status for s in report.steps] == ["done", "failed"]
    assert "selected_tags.csv" in report.status("tag").hint and not report.ok
    with pytest.raises(BadInput, match="needs a target folder"):
        build_dataset(tmp_path / "ds", [], steps=["export"])


def test_inputs_without_pictures_or_videos_stop_the_build(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    report = build_dataset(tmp_path / "ds", [tmp_path / "notes"])
    assert [s.status for s in report.steps] == ["failed"]
    assert "no videos or images" in report.status("frames").summary
