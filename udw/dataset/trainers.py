"""Trainer files for an arranged dataset, from one balance (see balance.py for the semantics).

- EveryDream2: `multiply.txt` (a float) in every image folder; captions `.txt` beside the images.
- kohya sd-scripts: a dataset TOML (`--dataset_config`) with one subset per folder, `num_repeats`
  and `caption_extension` (kohya's default is `.caption`), or the DreamBooth folder convention
  `img/<N>_<name>/` (N repeats; used with `--train_data_dir img`); the TOML overrides folder names.
- OneTrainer: a concepts JSON (a list of concept objects, as saved by its concepts tab) with one
  concept per folder, `balancing` and `balancing_strategy` REPEATS or SAMPLES, prompts from the
  `.txt` beside each image (`prompt_source: sample`). Random flips only where captions say nothing
  about left and right: OneTrainer mirrors the image, never the caption, so `fhp` face positions and
  names in reading order would then describe the other half of the picture.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional

from ..core.atomic import atomic_path, write_text
from ..core.errors import BadInput
from .balance import Balance, Row

TRAINERS = ("everydream", "kohya", "onetrainer")
CAPTION_EXT = {"everydream": ".txt", "kohya": ".caption", "onetrainer": ".txt"}
KOHYA_LAYOUTS = ("toml", "folders")
STRATEGIES = ("REPEATS", "SAMPLES")
POSITIONAL_FIELDS = ("{facepos}", "{characters}")  # caption parts that a mirrored image contradicts


def flip_safe(caption_template: str) -> bool:
    """Whether captions of this template stay true when the image is mirrored."""
    return not any(f in caption_template for f in POSITIONAL_FIELDS)


def write_everydream(out: Path, balance: Balance) -> list[Path]:
    written = []
    for r in balance.rows:
        written.append(write_text(out.joinpath(*r.folder, "multiply.txt"), r.written()))
    return written


def _toml_str(s: str) -> str:
    """A TOML basic string (quotes, backslashes and control characters escaped)."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def write_kohya_toml(out: Path, balance: Balance, caption_ext: str, resolution: int = 512,
                     keep_tokens_separator: Optional[str] = None, name: str = "dataset.toml") -> Path:
    lines = ["# kohya sd-scripts dataset config written by UDW Studio: train with --dataset_config",
             "# num_repeats per folder come from the hierarchical balance (see the dataset card).",
             "[general]", f"caption_extension = {_toml_str(caption_ext)}", "shuffle_caption = false"]
    if keep_tokens_separator:
        lines.append(f"keep_tokens_separator = {_toml_str(keep_tokens_separator)}")
    lines += ["", "[[datasets]]", f"resolution = {int(resolution)}", "enable_bucket = true", ""]
    for r in balance.rows:
        if r.multiplier <= 0:
            continue
        lines += ["  [[datasets.subsets]]", f"  image_dir = {_toml_str(str(out.joinpath(*r.folder)))}",
                  f"  num_repeats = {r.repeats()}", ""]
    return write_text(out / name, "\n".join(lines))


def kohya_folder_name(r: Row) -> str:
    """`<repeats>_<name>`: kohya reads the number before the first `_` as the repeats."""
    return f"{r.repeats()}_{'-'.join(r.folder)}"


def write_kohya_folders(out: Path, balance: Balance, caption_ext: str, sub: str = "img") -> Path:
    """Hard links (copies across drives) of each folder's files into img/<N>_<name>/."""
    root = out / sub
    if root.exists():
        shutil.rmtree(root)  # ours: rebuilt from the arrangement each time
    for r in balance.rows:
        if r.multiplier <= 0:
            continue
        src, dst = out.joinpath(*r.folder), root / kohya_folder_name(r)
        dst.mkdir(parents=True, exist_ok=True)
        for f in sorted(src.iterdir()):
            if f.is_file() and f.name != "multiply.txt":
                _link(f, dst / f.name)
    return root


def _link(src: Path, dst: Path) -> None:
    real = Path(os.path.realpath(src))
    with atomic_path(dst) as tmp:
        try:
            os.link(real, tmp)
        except OSError:
            shutil.copyfile(real, tmp)


def onetrainer_concept(out: Path, r: Row, strategy: str, seed: int, flip: bool = False) -> dict:
    balancing = float(r.written()) if strategy == "REPEATS" else float(r.samples())
    return {
        "__version": 1,
        "image": {"__version": 0, "enable_crop_jitter": True, "enable_random_flip": flip,
                  "enable_fixed_flip": False, "enable_resolution_override": False, "resolution_override": "512"},
        "text": {"__version": 0, "prompt_source": "sample", "prompt_path": "", "enable_tag_shuffling": False,
                 "tag_delimiter": ",", "keep_tags_count": 1},
        "name": "/".join(r.folder), "path": str(out.joinpath(*r.folder)), "seed": seed, "enabled": True,
        "validation_concept": False, "include_subdirectories": False, "image_variations": 1,
        "text_variations": 1, "balancing": balancing, "balancing_strategy": strategy, "loss_weight": 1.0,
    }


def write_onetrainer(out: Path, balance: Balance, strategy: str = "REPEATS",
                     name: str = "concepts.json", flip: bool = False) -> Path:
    """`flip`: let OneTrainer mirror images at random (only for captions that are `flip_safe`)."""
    if strategy not in STRATEGIES:
        raise BadInput(f"unknown balancing strategy {strategy!r}", f"use {' or '.join(STRATEGIES)}")
    concepts = [onetrainer_concept(out, r, strategy, seed=n, flip=flip) for n, r in enumerate(balance.rows)
                if r.multiplier > 0]
    return write_text(out / name, json.dumps(concepts, indent=2))
