"""Frame names `{series}{episode}_{n}`: from a `series_episode` prefix or parsed from file names.

The seed pipeline names frames `yamaS2EP04_123.png` from the prefix `yamaS2_EP04`. Episode files
are usually named like `[Group] Show - 04 [1080p].mkv`, `Show.S02E04.1080p.WEB.mkv` or
`Show EP04.mp4`; `parse_filename` reads the series and episode from such names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..core.errors import BadInput


@dataclass(frozen=True)
class EpisodeName:
    series: str
    episode: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.series}{self.episode}"

    def frame_name(self, n: int) -> str:
        return f"{self.prefix}_{n}"


_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|【[^】]*】")
_JUNK = re.compile(r"\b(?:\d{3,4}p|[xh]\.?26[45]|hevc|avc|aac\d*(?:\.\d)?|flac|opus|bd(?:rip)?|blu-?ray|"
                   r"web(?:-?dl|rip)?|dual[- ]audio|multi[- ]?subs?|10-?bit|8-?bit|hdr|v\d)\b", re.I)
_PATTERNS = [
    # Show.S02E04 / Show S2 E04 / Show s02e04v2
    re.compile(r"^(?P<series>.*?)[\s._-]*S(?P<season>\d{1,2})[\s._-]*E(?P<ep>\d{1,4}(?:\.\d)?)(?:v\d)?\b", re.I),
    # [Group] Show - 04 [1080p]  /  Show - 04v2
    re.compile(r"^(?P<series>.*?)\s+-\s+(?:EP?\s*)?(?P<ep>\d{1,4}(?:\.\d)?)(?:v\d)?(?:\s|$)", re.I),
    # Show EP04 / Show Episode 4 / Show E04 / Show #04 / Show 第04話
    re.compile(r"^(?P<series>.*?)[\s._-]*(?:episode|ep|e|#|第)\s*\.?(?P<ep>\d{1,4}(?:\.\d)?)(?:v\d)?(?:話|话)?"
               r"(?:[\s._-]|$)", re.I),
    # Show_04 / Show 04 (a trailing number)
    re.compile(r"^(?P<series>.*?\D)[\s._-]+(?P<ep>\d{1,4}(?:\.\d)?)(?:v\d)?$"),
]


def compact(text: str) -> str:
    """A name token: letters and digits of any script kept, everything else removed."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch.isalnum())


def episode_token(number: str) -> str:
    if "." in number:
        whole, frac = number.split(".", 1)
        return f"EP{int(whole):02d}.{frac}"
    return f"EP{int(number):02d}"


def parse_prefix(prefix: str) -> EpisodeName:
    """`yamaS2_EP04` -> series `yamaS2`, episode `EP04`; without `_`, all of it is the series."""
    text = prefix.strip()
    if not text:
        raise BadInput("empty frame-name prefix", "give it as SERIES_EPISODE, e.g. yamaS2_EP04")
    series, sep, episode = text.rpartition("_")
    if not sep:
        series, episode = text, ""
    series, episode = compact(series), compact(episode)
    if not series:
        raise BadInput(f"frame-name prefix {prefix!r} has no usable series name",
                       "use letters or digits, e.g. yamaS2_EP04")
    return EpisodeName(series, episode)


def parse_filename(path: str, series: Optional[str] = None) -> EpisodeName:
    """Series and episode from a video file name; `series` overrides the parsed series."""
    stem = Path(path).stem
    text = _BRACKETS.sub(" ", stem)
    if " " not in text.strip():
        text = text.replace(".", " ").replace("_", " ")  # scene-style Show.Name.S01E04
    text = re.sub(r"\s+", " ", text).strip()
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match and compact(match.group("series")):
            found = compact(_JUNK.sub(" ", match.group("series")))
            season = match.groupdict().get("season")
            if season:
                found += f"S{int(season)}"
            return EpisodeName(compact(series) if series else found or compact(stem),
                               episode_token(match.group("ep")))
    fallback = compact(_JUNK.sub(" ", text)) or compact(stem) or "video"
    if series:
        return EpisodeName(compact(series), fallback)
    return EpisodeName(fallback, "")
