"""Frame-extraction nodes: videos -> UDW dataset (streamed), and one video -> a bounded IMAGE batch."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any, Optional

import folder_paths

from ..udw.core.errors import BadInput, UdwError
from ..udw.core.inputs import expand_inputs
from ..udw.core.manifest import Dataset
from ..udw.video import CROSS_EPISODE, FORMATS, MODES, VIDEO_SUFFIXES, FrameSettings, extract_frames, parse_time
from ..udw.video.iterate import iter_selected
from .host import (CATEGORY, DatasetStageNode, comfy_ports, dataset_roots, engine_input,
                   input_roots, path_error, resolve_input, to_image_batch)

_D = FrameSettings()
IMAGE_BATCH_LIMIT = 1024  # frames one IMAGE batch may hold (a 1080p frame is 24 MB as float32)


def _selection_inputs() -> dict:
    return {
        "mode": (list(MODES), {"default": _D.mode, "tooltip": "mpdecimate: drop holds (FFmpeg semantics); "
                               "keyframes: only keyframes (fast); every: every Nth frame or N fps; "
                               "scene: the first frame of each scene"}),
        "dedupe": ("BOOLEAN", {"default": True, "tooltip": "drop near-duplicates (slight pans, blinks) "
                               "before they are written"}),
        "dedupe_change": ("FLOAT", {"default": _D.dedupe_change, "min": 0.0, "max": 1.0, "step": 0.001,
                                    "tooltip": "largest share of the picture that may change once aligned "
                                               "(lower keeps more frames)"}),
        "every": ("INT", {"default": _D.every, "min": 1, "max": 100000, "tooltip": "every mode: keep every Nth frame"}),
        "fps": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 240.0, "step": 0.1,
                          "tooltip": "every mode: frames per second to keep instead of every Nth (0: off)"}),
        "start": ("STRING", {"default": "", "tooltip": "start time, seconds or [H:]MM:SS (empty: beginning)"}),
        "end": ("STRING", {"default": "", "tooltip": "end time, seconds or [H:]MM:SS (empty: end)"}),
        "hi": ("INT", {"default": _D.hi, "min": 0, "max": 1 << 24, "tooltip": "mpdecimate hi (seed: 64*200)"}),
        "lo": ("INT", {"default": _D.lo, "min": 0, "max": 1 << 24, "tooltip": "mpdecimate lo (seed: 64*50)"}),
        "frac": ("FLOAT", {"default": _D.frac, "min": 0.0, "max": 1.0, "step": 0.01, "tooltip": "mpdecimate frac"}),
    }


def _settings(**kw: Any) -> FrameSettings:
    for name in ("start", "end"):
        try:
            kw[name] = parse_time(kw.get(name))
        except BadInput as exc:
            raise BadInput(f"{name}: {exc.args[0]}", exc.hint) from exc
    kw["start"] = kw["start"] or 0.0
    return FrameSettings(**{k: v for k, v in kw.items() if k in FrameSettings.__dataclass_fields__}).validated()


def _video_source(video: Optional[str], video_input: Any) -> list[Path]:
    """Paths to read: the linked VIDEO (a file, or its bytes spooled to temp) or the typed path."""
    if video_input is not None:
        src = video_input.get_stream_source()
        if isinstance(src, (str, os.PathLike)):
            return [Path(src)]
        if isinstance(src, io.BytesIO):
            data = src.getvalue()
            target = Path(folder_paths.get_temp_directory()) / f"udw_video_{hashlib.sha1(data).hexdigest()[:16]}.mp4"
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            return [target]
        raise BadInput("the connected VIDEO has no file to read", "connect a Load Video node")
    if not video or not str(video).strip():
        raise BadInput("no video given", "type a video path (file, folder or glob) or connect a VIDEO")
    return [input_roots().resolve(video)]


def _fail(exc: UdwError) -> RuntimeError:
    return RuntimeError(str(exc))


class UDWExtractFrames(DatasetStageNode):
    DESCRIPTION = ("Extract the distinct frames of videos into a UDW dataset, streamed (never all frames in "
                   "memory): holds and near-duplicates are dropped before encoding, openings/endings shared "
                   "by the episodes are dropped, scene ids recorded. Re-runs resume each video.")
    CATEGORY = f"{CATEGORY}/video"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "video": ("STRING", {"default": "", "tooltip": "Video file, folder or glob (e.g. show/*.mkv); relative "
                                 "paths start in ComfyUI's input folder. Ignored when a VIDEO is connected."}),
            "dataset": ("STRING", {"default": "frames", "tooltip": "Dataset folder; relative paths start in output/udw."}),
            **_selection_inputs(),
            "cross_episode": (list(CROSS_EPISODE), {"default": _D.cross_episode, "tooltip": "opening/ending frames "
                              "repeating an earlier episode of the run: drop (recorded only), mark, or off"}),
            "format": (list(FORMATS), {"default": _D.format, "tooltip": "png: lossless (the seed's format); "
                       "webp: smaller, lossless at quality 100; jpeg: smallest and fastest"}),
            "quality": ("INT", {"default": _D.quality, "min": 1, "max": 100, "tooltip": "JPEG/WebP quality (WebP 100: lossless)"}),
            "max_frames": ("INT", {"default": 0, "min": 0, "max": 1 << 20, "tooltip": "per video; 0: no limit"}),
            "prefix": ("STRING", {"default": "", "tooltip": "series_episode for one video (frames named e.g. "
                                  "yamaS2EP04_12); empty: read from the file names"}),
        }, "optional": {
            "video_input": ("VIDEO", {"tooltip": "a video from Load Video (upload); replaces the path"}),
            **engine_input(),
        }, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, video=None):
        # One argument: ComfyUI repeats a failure against every argument declared here; dataset,
        # start and end are checked when the node runs, by errors that name them.
        # Empty is fine when a VIDEO is connected (checked when it runs).
        return (path_error(input_roots(), video) if video else None) or True

    @classmethod
    def IS_CHANGED(cls, video="", dataset="", video_input=None, unique_id=None, engine=None, **settings):
        try:
            files = [] if video_input is not None else expand_inputs([input_roots().resolve(video)], VIDEO_SUFFIXES)
            stamps = ",".join(f"{p}:{p.stat().st_mtime_ns}" for p in files)
            ds = dataset_roots().resolve(dataset)
            fp = Dataset(ds).fingerprint() if (ds / "udw-manifest.sqlite").exists() else ""
            return hashlib.sha1(f"{stamps}|{fp}|{sorted(settings.items())}".encode()).hexdigest()
        except (OSError, UdwError):
            return float("nan")

    def run(self, video, dataset, unique_id=None, video_input=None, engine=None, **kw):
        try:
            sources = _video_source(video, video_input)
            settings = _settings(**kw)
            root = resolve_input("dataset", dataset_roots(), dataset)
            report = extract_frames(root, sources, settings, comfy_ports(unique_id, engine=engine))
        except UdwError as exc:
            raise _fail(exc) from exc
        if report.aborted:
            raise RuntimeError(report.details())
        return {"ui": {"text": [report.details()]}, "result": (Dataset(root), report.details())}


class UDWExtractFramesImages:
    DESCRIPTION = ("The distinct frames of ONE video as an IMAGE batch (bounded by max_frames), for ordinary "
                   "graphs; use UDW Extract Frames for whole episodes.")
    CATEGORY = f"{CATEGORY}/video"
    RETURN_TYPES = ("IMAGE", "STRING")
    RETURN_NAMES = ("images", "timestamps")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "video": ("STRING", {"default": "", "tooltip": "One video file; relative paths start in ComfyUI's input "
                                 "folder. Ignored when a VIDEO is connected."}),
            "max_frames": ("INT", {"default": 64, "min": 1, "max": IMAGE_BATCH_LIMIT,
                                   "tooltip": "stop after this many kept frames (the batch lives in memory)"}),
            **_selection_inputs(),
        }, "optional": {
            "video_input": ("VIDEO", {"tooltip": "a video from Load Video (upload); replaces the path"}),
        }, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, video=None):
        if video:  # one argument, so that a failure is shown once, against `video`
            err = path_error(input_roots(), video)
            if err:
                return err
            if input_roots().resolve(video).is_dir() or any(c in video for c in "*?["):
                return f"{video}: give one video file here (UDW Extract Frames takes folders and globs)"
        return True

    @classmethod
    def IS_CHANGED(cls, video="", video_input=None, unique_id=None, **settings):
        if video_input is not None:
            return ""
        try:
            return f"{input_roots().resolve(video).stat().st_mtime_ns}|{sorted(settings.items())}"
        except (OSError, UdwError):
            return float("nan")

    def run(self, video, max_frames, unique_id=None, video_input=None, **kw):
        try:
            (path,) = _video_source(video, video_input)
            settings = _settings(max_frames=max_frames, cross_episode="off", **kw)
            ports = comfy_ports(unique_id)
            frames = list(iter_selected(path, settings, ports))
        except UdwError as exc:
            raise _fail(exc) from exc
        if not frames:
            raise RuntimeError(f"{path}: no frame was selected; check the start/end times and the mode")
        ports.progress(1, 1, frames[-1].rgb)
        stamps = "\n".join(f"{f.index}\t{f.pts:.3f}\t{f.scene}" for f in frames)
        return (to_image_batch([f.rgb for f in frames]), "frame\tseconds\tscene\n" + stamps)


MAPPINGS = {
    "UDWExtractFrames": (UDWExtractFrames, "UDW Extract Frames"),
    "UDWExtractFramesImages": (UDWExtractFramesImages, "UDW Extract Frames (Images)"),
}
