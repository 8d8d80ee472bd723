"""Validation errors are attached to the input they concern, once (as ComfyUI reports them)."""

import inspect

import pytest


def comfyui_errors(cls, inputs: dict) -> list[tuple[str, str]]:
    """What ComfyUI's validate_inputs reports: VALIDATE_INPUTS's one result against every argument
    it declares that has a value (execution.py, custom_validation_failed)."""
    args = inspect.getfullargspec(cls.VALIDATE_INPUTS).args[1:]
    given = {k: inputs[k] for k in args if k in inputs}
    result = cls.VALIDATE_INPUTS(**given)
    return [] if result is True else [(name, str(result)) for name in given]


CASES = [
    ("UDWBuildDataset", dict(source="/etc", dataset="b", refs="", export_to="", trainer="everydream"), "source"),
    ("UDWImportImages", dict(source="missing", dataset="d", mode="copy"), "source"),
    ("UDWExtractFrames", dict(video="missing.mkv", dataset="frames", start="0", end="", mode="mpdecimate"), "video"),
    ("UDWExtractFramesImages", dict(video="missing.mkv", start="", end="", max_frames=8), "video"),
]


@pytest.mark.parametrize("node,inputs,culprit", CASES, ids=[c[0] for c in CASES])
def test_one_error_on_the_input_concerned(comfy, node, inputs, culprit):
    errors = comfyui_errors(comfy.nodes[node], inputs)
    assert [name for name, _ in errors] == [culprit], errors


def test_tagger_blames_only_the_model(comfy, monkeypatch):
    monkeypatch.setenv("UDW_AUTO_DOWNLOAD", "0")
    inputs = dict(model="wd-vit-large-tagger-v3", device="auto", allow_download=True, general_threshold=0.35)
    errors = comfyui_errors(comfy.nodes["UDWWD14Tagger"], inputs)
    assert [name for name, _ in errors] == ["model"] and "udw models get" in errors[0][1]


def test_paths_checked_when_it_runs_name_their_input(comfy):
    (comfy.base / "input" / "pics").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="dataset: .*outside the allowed folders"):
        comfy.run("UDWImportImages", source="pics", dataset="/etc/x", mode="copy")
    args = dict(source="", dataset="b", dedupe=False, tag=False, faces=False, characters=False, gallery=False,
                refs="", export_to="/etc/train", trainer="kohya")
    with pytest.raises(RuntimeError, match="export_to: .*outside the allowed folders"):
        comfy.run("UDWBuildDataset", **args)
    with pytest.raises(RuntimeError, match="refs: .*no such file"):
        comfy.run("UDWBuildDataset", **{**args, "export_to": "", "refs": "no_refs_here"})
