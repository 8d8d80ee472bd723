"""The frame-extraction nodes inside a fake ComfyUI (the real one runs in tests/hosts)."""

import io

import pytest

NODE_DEFAULTS = dict(mode="mpdecimate", dedupe=True, dedupe_change=0.005, every=24, fps=0.0, start="", end="",
                     hi=768, lo=320, frac=0.33)




def extract_inputs(**kw):
    return {"video": "", "dataset": "frames", **NODE_DEFAULTS, "cross_episode": "drop", "format": "png",
            "quality": 95, "max_frames": 0, "prefix": "", **kw}


class FakeVideo:
    """ComfyUI's VideoFromFile surface: get_stream_source() -> path or BytesIO."""

    def __init__(self, source):
        self.source = source

    def get_stream_source(self):
        return self.source


def test_nodes_are_registered(comfy):
    names = comfy.pack.NODE_DISPLAY_NAME_MAPPINGS
    assert names["UDWExtractFrames"] == "UDW Extract Frames"
    assert names["UDWExtractFramesImages"] == "UDW Extract Frames (Images)"
    inputs = comfy.nodes["UDWExtractFrames"].INPUT_TYPES()
    assert inputs["optional"]["video_input"][0] == "VIDEO"
    for name in ("UDWExtractFrames", "UDWExtractFramesImages"):
        spec = comfy.nodes[name].INPUT_TYPES()
        assert all("tooltip" in opts[1] for opts in [*spec["required"].values(), *spec["optional"].values()])


def test_extract_a_folder_with_progress_per_video_and_previews(comfy, make_clip):
    make_clip(comfy.base / "input" / "show" / "Show - 01.mkv")
    make_clip(comfy.base / "input" / "show" / "Show - 02.mkv", shots=((5, 2, 0, 7), (4, 2, 0, 8)))
    (ds, report), ui = comfy.run("UDWExtractFrames", **extract_inputs(video="show"))
    assert ds.root == comfy.base / "output" / "udw" / "frames" and ds.count() == 15 + 9
    assert "Show - 01.mkv: 15 frames kept" in report and ui["text"] == [report]
    fractions = [done / total for done, total, _ in comfy.progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1  # one bar over both videos, never back
    assert any(preview for *_, preview in comfy.progress)  # kept frames shown on the bar
    (again, report), _ = comfy.run("UDWExtractFrames", **extract_inputs(video="show"))
    assert "already done" in report and again.count() == 24


def test_video_input_from_load_video(comfy, make_clip, tmp_path):
    clip = comfy.base / "input" / "up.mkv"
    make_clip(clip)
    (ds, _), _ = comfy.run("UDWExtractFrames", **extract_inputs(dataset="a"), video_input=FakeVideo(str(clip)))
    assert ds.count() == 15
    data = io.BytesIO(clip.read_bytes())
    (ds, _), _ = comfy.run("UDWExtractFrames", **extract_inputs(dataset="b"), video_input=FakeVideo(data))
    assert ds.count() == 15


def test_validation(comfy, make_clip):
    make_clip(comfy.base / "input" / "c.mkv")
    ok = comfy.validate("UDWExtractFrames", extract_inputs(video="c.mkv"))
    assert ok is True
    assert "no such file" in comfy.validate("UDWExtractFrames", extract_inputs(video="nope.mkv"))
    assert "outside the allowed" in comfy.validate("UDWExtractFrames", extract_inputs(video="/etc/passwd"))
    with pytest.raises(RuntimeError, match="start: cannot read the time"):  # checked when it runs, named
        comfy.run("UDWExtractFrames", **extract_inputs(video="c.mkv", start="1m"))
    with pytest.raises(RuntimeError, match="dataset: .*outside the allowed"):
        comfy.run("UDWExtractFrames", **extract_inputs(video="c.mkv", dataset="/etc/x"))
    assert comfy.validate("UDWExtractFrames", extract_inputs(video=None)) is True  # linked input
    with pytest.raises(RuntimeError, match="no video given"):
        comfy.run("UDWExtractFrames", **extract_inputs())
    assert "one video file" in comfy.validate("UDWExtractFramesImages", {"video": "."})


def test_image_batch_is_bounded(comfy, make_clip):
    make_clip(comfy.base / "input" / "c.mkv")
    (images, stamps), _ = comfy.run("UDWExtractFramesImages", video="c.mkv", max_frames=4, **NODE_DEFAULTS)
    assert tuple(images.shape) == (4, 96, 160, 3) and 0.0 <= float(images.min()) <= float(images.max()) <= 1.0
    lines = stamps.splitlines()
    assert lines[0] == "frame\tseconds\tscene" and [line.split("\t")[0] for line in lines[1:]] == ["0", "2", "4", "6"]
    (images, _), _ = comfy.run("UDWExtractFramesImages", video="c.mkv", max_frames=100, **NODE_DEFAULTS)
    assert images.shape[0] == 15
    assert comfy.progress[-1][2]  # the last kept frame is shown


def test_shipped_workflow_runs(comfy, make_clip, load_workflow):
    make_clip(comfy.base / "input" / "udw_sample_episode.mkv", shots=((8, 2, 0), (6, 3, 0), (6, 2, 0)))
    outputs = comfy.run_workflow(load_workflow("extract_frames.api.json"))
    ds = outputs["1"][0]
    assert 0 < ds.count() <= 20 and outputs["2"][0].shape[0] == 1
    assert ds.sources()[0]["series"] == "udwsampleepisode"
