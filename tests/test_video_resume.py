"""A stopped or killed extraction resumes without losing or duplicating frames."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.video import FrameSettings, extract_frames
import udw.video.pipeline as pipeline

REPO = Path(__file__).resolve().parents[1]
SETTINGS = dict(hi=768, lo=320)
SHOTS = ((10, 2, 0), (8, 3, 1), (10, 1, 0))


def state(root):
    ds = Dataset(root)
    with ds.db() as c:
        items = [tuple(r) for r in c.execute("SELECT frame_index, path, status, scene FROM items ORDER BY frame_index")]
    files = sorted(p.relative_to(root).as_posix() for p in (Path(root) / "frames").rglob("*") if p.is_file())
    return items, files


@pytest.fixture
def clip(tmp_path, make_clip):
    make_clip(tmp_path / "ep.mkv", shots=SHOTS)
    clean = tmp_path / "clean"
    extract_frames(clean, [tmp_path / "ep.mkv"], FrameSettings(**SETTINGS))
    return tmp_path / "ep.mkv", state(clean)


def test_cancel_then_resume(tmp_path, clip, monkeypatch):
    video, (want_items, want_files) = clip
    monkeypatch.setattr(pipeline, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(pipeline, "COMMIT_EVERY", 2)
    calls = []
    ports = Ports(cancelled=lambda: calls.append(1) or len(calls) > 20)
    report = extract_frames(tmp_path / "ds", [video], FrameSettings(**SETTINGS), ports)
    assert report.cancelled and report.videos[0].state == "partial"
    items, files = state(tmp_path / "ds")
    assert 0 < len(items) < len(want_items) and files == sorted(i[1] for i in items)
    assert Dataset(tmp_path / "ds").sources()[0]["state"] == "partial"
    again = extract_frames(tmp_path / "ds", [video], FrameSettings(**SETTINGS))
    assert again.videos[0].state == "done" and again.videos[0].resumed == len(items)
    assert state(tmp_path / "ds") == (want_items, want_files)


def test_killed_process_resumes(tmp_path, clip):
    """The process dies (os._exit) after files were written but before their rows were committed."""
    video, (want_items, want_files) = clip
    code = textwrap.dedent("""
        import os, sys
        import udw.video.pipeline as p
        p.COMMIT_EVERY, p.COMMIT_SECONDS = 3, 1e9
        real, calls = p.commit_rows, []
        def dying(*a, **k):
            calls.append(1)
            if len(calls) == 3:
                os._exit(9)
            return real(*a, **k)
        p.commit_rows = dying
        from udw.video import FrameSettings, extract_frames
        extract_frames(sys.argv[1], [sys.argv[2]], FrameSettings(hi=768, lo=320, workers=2))
    """)
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ds"), str(video)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    items, files = state(tmp_path / "ds")
    # two commits landed (a commit takes every row already written, so at least 3 each)
    assert 6 <= len(items) < len(want_items) and items == want_items[:len(items)]
    assert len(files) > len(items)  # written but never committed: orphans
    report = extract_frames(tmp_path / "ds", [video], FrameSettings(**SETTINGS))
    assert report.videos[0].state == "done" and report.videos[0].resumed == len(items)
    assert state(tmp_path / "ds") == (want_items, want_files)
    assert not list((tmp_path / "ds").rglob("*.udwtmp*"))


def test_disk_full_stops_cleanly_and_resumes(tmp_path, clip, monkeypatch):
    video, (want_items, want_files) = clip
    import errno

    import udw.video.output as output

    real_open, opened = open, []

    def filling_up(path, mode="r", *a, **k):
        if "w" in mode:
            opened.append(path)
            if len(opened) > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(output, "open", filling_up, raising=False)
    report = extract_frames(tmp_path / "ds", [video], FrameSettings(**SETTINGS, workers=1))
    assert "disk full" in report.aborted and "free some space" in report.aborted
    items, files = state(tmp_path / "ds")
    assert len(items) == 5 and files == sorted(i[1] for i in items)  # the manifest names exactly what is there
    assert not list((tmp_path / "ds").rglob("*.udwtmp*"))
    monkeypatch.setattr(output, "open", real_open, raising=False)
    extract_frames(tmp_path / "ds", [video], FrameSettings(**SETTINGS))
    assert state(tmp_path / "ds") == (want_items, want_files)


def test_deleted_frame_file_is_written_again(tmp_path, clip):
    video, (want_items, want_files) = clip
    root = tmp_path / "ds"
    extract_frames(root, [video], FrameSettings(**SETTINGS))
    os.remove(root / want_files[3])
    with Dataset(root).db() as c:  # a half-finished state: the video counts as not done
        c.execute("UPDATE sources SET state='partial'")
    report = extract_frames(root, [video], FrameSettings(**SETTINGS))
    assert report.videos[0].written == 1 and state(root) == (want_items, want_files)
