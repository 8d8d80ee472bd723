"""Frame extraction that streams: video files -> distinct frames in a dataset.

Decoding (PyAV), hold removal with FFmpeg mpdecimate semantics, keyframes / every Nth / target
fps / scene modes, streaming near-duplicate removal before encoding, openings and endings shared
across the episodes of a run, PNG/WebP/JPEG written by worker threads, resumable per video.

    extract_frames(dataset, ["show_*.mkv"], FrameSettings(mode="mpdecimate"), ports) -> ExtractReport
"""

from .extract import ExtractReport, VideoResult, expand_videos, extract_frames
from .mpdecimate import Mpdecimate, MpdecimateParams
from .naming import EpisodeName, parse_filename, parse_prefix
from .probe import VIDEO_SUFFIXES, VideoInfo, probe
from .settings import CROSS_EPISODE, FORMATS, MODES, FrameSettings, parse_time

__all__ = [
    "ExtractReport", "VideoResult", "expand_videos", "extract_frames", "Mpdecimate", "MpdecimateParams",
    "EpisodeName", "parse_filename", "parse_prefix", "VIDEO_SUFFIXES", "VideoInfo", "probe",
    "CROSS_EPISODE", "FORMATS", "MODES", "FrameSettings", "parse_time",
]
