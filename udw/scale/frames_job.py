"""The worker side of frame extraction on Ray: one video (or one time segment) per task.

The unchanged local extractor (`udw.video.extract_frames`) runs on the worker against a scratch
manifest (`sandbox.ScratchDataset`) seeded with the video's committed rows, so its own resume
logic, hold removal, near-duplicate window and encoders work as on one machine. It writes into a
private work folder inside the dataset (`.udw-work/<task>/`): its start-up sweep of temporary
files and its stray-file cleanup then never touch another worker's files. A whole-video task
moves its frames into place itself; segment files are renumbered and moved by the driver.
"""

from __future__ import annotations

import base64
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from ..core.ports import Ports
from .jobs import RemoteJob, TaskError
from .sandbox import ScratchDataset, export_sources, seed
from .view import DatasetView

WORK_DIR = ".udw-work"


def pack_seed(rows: dict) -> str:
    return base64.b64encode(pickle.dumps(rows, protocol=5)).decode("ascii")


def _unpack_seed(text: str) -> dict:
    return pickle.loads(base64.b64decode(text))


class FramesJob(RemoteJob):
    name = "frames"
    tasks_per_batch = 1

    def prepare_worker(self, view: DatasetView, ports: Ports) -> None:
        self.ports = ports

    def run_task(self, view: DatasetView, task: dict) -> dict:
        from ..video import FrameSettings, extract_frames

        work = view.root / WORK_DIR / task["id"]
        shutil.rmtree(work, ignore_errors=True)  # a retried task starts clean
        work.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="udw-scratch-") as tmp:
            scratch = ScratchDataset(work, Path(tmp) / "manifest.sqlite")
            seed(scratch, _unpack_seed(task["seed"]))
            settings = FrameSettings.from_dict(task["settings"])
            # "videos": earlier episodes (finished, in the seed) before this one, so that the local
            # extractor builds its opening/ending index from them exactly as a local run does.
            videos = task.get("videos") or [task["video"]]
            report = extract_frames(scratch, videos, settings, getattr(self, "ports", None) or Ports())
            if report.aborted:
                raise TaskError(report.aborted)
            rows = export_sources(scratch, [task["source_id"]])
        if task.get("segment") is None:
            move_tree(work / "frames", view.root / "frames")
            shutil.rmtree(work, ignore_errors=True)
        return {"video": report.videos[-1] if report.videos else None, "rows": rows, "work": str(work),
                "segment": task.get("segment")}


def move_tree(src: Path, dst: Path) -> int:
    """Move every file under `src` to the same place under `dst` (same filesystem: renames)."""
    if not src.is_dir():
        return 0
    n = 0
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        n += 1
    return n
