"""Frame extraction fanned out on Ray: per video and per time segment, the local manifest."""

import os
import signal

import pytest

pytest.importorskip("udw.video", reason="frame extraction (udw.video) is not merged yet")

from udw.core.engine import EngineSettings  # noqa: E402
from udw.core.manifest import Dataset  # noqa: E402
from udw.core.ports import Ports  # noqa: E402
from udw.scale.compare import canonical_manifest, manifest_differences  # noqa: E402
from udw.scale.frames import extract_frames_scaled  # noqa: E402
from udw.scale.frames_job import FramesJob  # noqa: E402
from udw.video import FrameSettings, extract_frames  # noqa: E402

samples = pytest.importorskip("udw.samples")


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    out = tmp_path_factory.mktemp("ray_eps")
    eps = samples.generate_samples(out, episodes=2, width=320, height=180, fps=12, duration_s=24.0)
    return [e.video for e in eps]


def ray_ports(**kw):
    return Ports(engine=EngineSettings("ray", actors=2, **kw))


def differences(a, b):
    return manifest_differences(canonical_manifest(a), canonical_manifest(b))


@pytest.mark.slow
def test_videos_and_segments_on_ray_match_local(tmp_path, episodes, ray_local):
    settings = FrameSettings(cross_episode="off")
    local = extract_frames(tmp_path / "local", episodes, settings)
    per_video = extract_frames(tmp_path / "videos", episodes, settings, ray_ports(video_segment_s=0))
    segmented = extract_frames(tmp_path / "segments", episodes, settings, ray_ports(video_segment_s=6))
    assert local.kept == per_video.kept == segmented.kept > 50
    ds = Dataset(tmp_path / "local")
    for name in ("videos", "segments"):
        other = Dataset(tmp_path / name)
        assert differences(ds, other) == []  # same rows, names, scenes, signatures, marks
        files = sorted(p.relative_to(other.root).as_posix() for p in (other.root / "frames").rglob("*.png"))
        assert files == sorted(p.relative_to(ds.root).as_posix() for p in (ds.root / "frames").rglob("*.png"))
        assert not (other.root / ".udw-work").exists() or not any((other.root / ".udw-work").iterdir())
    info = Dataset(tmp_path / "segments").sources()[0]["info"]
    assert '"segments": [[0.0, 6.0]' in info  # 24 s cut into 4 parts, each warmed up from 10 s before


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["drop", "mark"])
def test_openings_and_endings_on_ray_match_local(tmp_path, episodes, ray_local, mode):
    """A repeat changes what follows it (numbering, the near-duplicate window): Ray must agree."""
    settings = FrameSettings(cross_episode=mode)
    local = extract_frames(tmp_path / "local", episodes, settings)
    assert local.videos[1].cross_episode > 0
    for name, seg in (("videos", 0), ("segments", 6)):
        remote = extract_frames(tmp_path / name, episodes, settings, ray_ports(video_segment_s=seg))
        counts = [[(v.state, v.kept, v.cross_episode, v.scenes) for v in r.videos] for r in (local, remote)]
        assert counts[0] == counts[1]  # decoded counts differ: segments decode their warm-ups twice
        assert differences(Dataset(tmp_path / "local"), Dataset(tmp_path / name)) == []
        assert frame_files(tmp_path / name) == frame_files(tmp_path / "local")


def frame_files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "frames").rglob("*")) if p.is_file()}


class KillingFramesJob(FramesJob):
    """Kills its worker process (SIGKILL) in the middle of the first video it is given."""

    def __init__(self, marker):
        self.marker = str(marker)

    def run_task(self, view, task):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().run_task(view, task)


@pytest.mark.slow
def test_killed_frame_worker_loses_nothing(tmp_path, episodes, ray_local):
    settings = FrameSettings(cross_episode="off")
    marker = tmp_path / "killed"
    report = extract_frames_scaled(tmp_path / "ds", episodes, settings, ray_ports(video_segment_s=6),
                                   job=KillingFramesJob(marker))
    assert marker.exists()
    if report.kept == 0 or any(v.state != "done" for v in report.videos):
        extract_frames(tmp_path / "ds", episodes, settings, ray_ports(video_segment_s=6))
    extract_frames(tmp_path / "local", episodes, settings)
    assert differences(Dataset(tmp_path / "local"), Dataset(tmp_path / "ds")) == []
