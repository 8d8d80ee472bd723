"""Video verbs: frames (extract distinct frames into a dataset) and probe."""

from __future__ import annotations

import argparse
import json
import re

from ..video import CROSS_EPISODE, FORMATS, MODES, FrameSettings, extract_frames, parse_time, probe
from ..video.probe import check_file
from .progress import CtrlC, terminal_ports

_D = FrameSettings()


def threshold(text: str) -> int:
    """An mpdecimate threshold as FFmpeg writes it: `12800` or `64*200`."""
    if not re.fullmatch(r"\s*\d+\s*(\*\s*\d+\s*)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number like 12800 or 64*200")
    value = 1
    for part in text.split("*"):
        value *= int(part)
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "frames", help="extract distinct frames from videos into a dataset",
        description="Decode videos (files, folders or glob patterns) and write their distinct frames into "
                    "DATASET/frames/<series><episode>/, with one manifest row per frame (source, frame index, "
                    "timestamp, scene). Holds are dropped by mpdecimate (FFmpeg semantics, the seed's "
                    "thresholds by default), near-duplicates before they are encoded, and openings/endings "
                    "repeated across the episodes of the run. Re-running resumes each video.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders or glob patterns (quote globs)")
    p.add_argument("-o", "--output", "-d", "--dataset", dest="output", required=True, metavar="DATASET",
                   help="dataset folder (created if needed)")
    g = p.add_argument_group("selection")
    g.add_argument("--mode", choices=MODES, default=_D.mode,
                   help="mpdecimate: drop holds; keyframes: only keyframes (fast); every: every Nth frame or "
                        "--fps; scene: the first frame of each scene")
    g.add_argument("--hi", type=threshold, default=_D.hi, help="mpdecimate hi (default 64*50; the seed's 64*200 also drops new drawings)")
    g.add_argument("--lo", type=threshold, default=_D.lo, help="mpdecimate lo (default 64*12; the seed's 64*50)")
    g.add_argument("--frac", type=float, default=_D.frac, help="mpdecimate frac")
    g.add_argument("--max", dest="max_drop", type=int, default=_D.max_drop,
                   help="mpdecimate max: >0 most drops in a row, <0 fewest kept frames between drops")
    g.add_argument("--keep", type=int, default=_D.keep, help="mpdecimate keep: similar frames kept before dropping")
    g.add_argument("--every", type=int, default=_D.every, help="every mode: keep every Nth frame")
    g.add_argument("--fps", type=float, default=_D.fps, help="every mode: keep this many frames per second instead")
    g.add_argument("--start", default=None, help="start time (seconds or [H:]MM:SS)")
    g.add_argument("--end", default=None, help="end time (seconds or [H:]MM:SS)")
    g.add_argument("--max-frames", type=int, default=_D.max_frames, help="keep at most this many frames per video (0: all)")
    g.add_argument("--scene-threshold", type=float, default=_D.scene_threshold,
                   help="scene cut when 1 - correlation of consecutive frames exceeds this")
    g = p.add_argument_group("near-duplicates")
    g.add_argument("--no-dedupe", dest="dedupe", action="store_false", help="keep near-duplicate frames")
    g.add_argument("--dedupe-shift", type=float, default=_D.dedupe_shift,
                   help="largest slide (pan) still a duplicate, as a fraction of the width")
    g.add_argument("--dedupe-change", type=float, default=_D.dedupe_change,
                   help="largest share of the picture that may change once aligned")
    g.add_argument("--dedupe-window", type=int, default=_D.dedupe_window, help="compare with this many recent kept frames")
    g.add_argument("--keep-lip-flaps", action="store_true",
                   help="keep blinks and mouth flaps of one drawing as separate frames (default: merged)")
    g.add_argument("--dedupe-strictness", type=float, default=_D.dedupe_strictness,
                   help="colour check: 1 is calibrated on the copy noise model; 2 keeps more frames apart")
    g.add_argument("--grey-dedupe", dest="dedupe_colour", action="store_false",
                   help="the old grey-only near-duplicate rule (faster; merges small acting changes)")
    g.add_argument("--cross-episode", choices=CROSS_EPISODE, default=_D.cross_episode,
                   help="frames in the first/last thirds repeating another episode of the run: drop them "
                        "(recorded, not written), mark them (written, status duplicate) or keep them")
    g.add_argument("--cross-threshold", type=float, default=_D.cross_threshold,
                   help="correlation at which such frames count as repeats")
    g = p.add_argument_group("output")
    g.add_argument("--format", choices=list(FORMATS), default=_D.format)
    g.add_argument("--quality", type=int, default=_D.quality, help="JPEG/WebP quality (WebP 100: lossless)")
    g.add_argument("--png-compression", type=int, default=_D.png_compression, help="PNG zlib level 0-9")
    g.add_argument("--prefix", default="", help="SERIES_EPISODE for one video (frames SERIESEPISODE_n), e.g. yamaS2_EP04")
    g.add_argument("--series", default="", help="series name for all videos (episodes read from file names)")
    g = p.add_argument_group("run")
    g.add_argument("--hwaccel", default=_D.hwaccel, help="hardware decoding: auto, none, or a device type (cuda, vaapi, ...)")
    g.add_argument("--workers", type=int, default=_D.workers, help="encoder threads (0: one per CPU, at most 4)")
    g.add_argument("--redo", action="store_true", help="replace frames of videos extracted before with other settings")
    g.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_frames)

    p = sub.add_parser("probe", help="show what a video is (codec, size, aspect, rate, length)")
    p.add_argument("video")
    p.set_defaults(func=cmd_probe)


def settings_from_args(args: argparse.Namespace) -> FrameSettings:
    names = [f for f in FrameSettings.__dataclass_fields__ if hasattr(args, f)]
    values = {f: getattr(args, f) for f in names}
    values["start"] = parse_time(args.start) or 0.0
    values["end"] = parse_time(args.end)
    return FrameSettings(**values).validated()


def cmd_frames(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with CtrlC() as ctrl_c:
        report = extract_frames(args.output, args.inputs, settings, terminal_ports("frames", ctrl_c, args.quiet))
    if args.json:
        print(json.dumps({"dataset": report.dataset, "kept": report.kept, "cancelled": report.cancelled,
                          "aborted": report.aborted, "seconds": round(report.seconds, 2),
                          "videos": [v.__dict__ for v in report.videos]}, indent=2, default=str))
    else:
        print(report.details())
    if report.aborted:
        return 2
    if report.cancelled:
        return 1
    return 1 if report.failed else 0


def cmd_probe(args: argparse.Namespace) -> int:
    info = probe(check_file(args.video))
    print(json.dumps(info.to_dict(), indent=2))
    return 0
