"""OpenCV 4's own `CascadeClassifier`, run in a small side venv, for parity tests and benchmarks.

OpenCV 5 (what this venv may hold) dropped the cascade detector, so the NumPy port is checked
against the real thing: `opencv-python-headless<5` is pip-installed once from the package
registry into `UDW_TEST_CACHE/../opencv4-venv` (default `~/.cache/udw-studio/opencv4-venv`),
and grey pictures go there and back as a `.npz` file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from .real_art import cache_dir

REQUIREMENT = "opencv-python-headless<5"
_RUNNER = r"""
import json, sys
import cv2, numpy as np
data = np.load(sys.argv[1])
clf = cv2.CascadeClassifier(sys.argv[2])
sf, mn, ms = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = [[list(map(int, r)) for r in clf.detectMultiScale(data[k], scaleFactor=sf, minNeighbors=mn,
                                                          minSize=(ms, ms))] for k in sorted(data.files)]
print(json.dumps({"version": cv2.__version__, "boxes": out}))
"""


class OpenCV4Unavailable(RuntimeError):
    """pip could not install OpenCV 4 here (no registry reachable): tests skip with this reason."""


def venv_dir() -> Path:
    return cache_dir().parent / "opencv4-venv"


def side_python() -> Path:
    """The side venv's python with OpenCV 4 in it, built on first use."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    partial = venv.with_name(venv.name + ".udwtmp")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(partial)], check=True, capture_output=True, timeout=300)
        done = subprocess.run([str(partial / "bin" / "python"), "-m", "pip", "install", "-q", REQUIREMENT],
                              capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OpenCV4Unavailable(f"could not build a venv for {REQUIREMENT}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        raise OpenCV4Unavailable(f"`pip install {REQUIREMENT}` failed (no package registry reachable?): {tail[0]}")
    (partial / ".complete").write_text(REQUIREMENT)
    shutil.rmtree(venv, ignore_errors=True)
    partial.rename(venv)  # the venv is run through its bin/python only, so it may move
    return python


def detect_multiscale(greys: Sequence[np.ndarray], cascade: Path, scale_factor: float = 1.1,
                      min_neighbors: int = 5, min_size: int = 24) -> tuple[str, list[list[tuple]]]:
    """(OpenCV version, boxes (x, y, w, h) per picture) from OpenCV 4's detectMultiScale."""
    python = side_python()
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "greys.npz"
        np.savez(npz, **{f"g{k:05d}": np.ascontiguousarray(g, dtype=np.uint8) for k, g in enumerate(greys)})
        done = subprocess.run([str(python), "-c", _RUNNER, str(npz), str(cascade), str(scale_factor),
                               str(min_neighbors), str(min_size)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"OpenCV 4 runner failed: {done.stderr.strip()[-2000:]}")
    data = json.loads(done.stdout)
    return data["version"], [[tuple(b) for b in boxes] for boxes in data["boxes"]]
