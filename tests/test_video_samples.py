"""Frame extraction scored against the ground truth of generated sample episodes (udw.samples)."""

import pytest

from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.video import FrameSettings, extract_frames
from udw.video.decode import hw_candidates
from udw.video.evaluate import kept_from_dataset, score

samples = pytest.importorskip("udw.samples")


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    out = tmp_path_factory.mktemp("eps")
    eps = samples.generate_samples(out, episodes=2, width=320, height=180, fps=12, duration_s=8.0)
    return [e.video for e in eps], [samples.load_truth(e.truth) for e in eps]


def run(tmp_path, episodes, **kw):
    videos, truths = episodes
    report = extract_frames(tmp_path / "ds", videos, FrameSettings(**kw))
    prefix = {str(v.resolve()): t.prefix for v, t in zip(videos, truths)}
    return report, score(truths, kept_from_dataset(Dataset(tmp_path / "ds"), prefix))


def test_distinct_pictures_kept_and_repeats_dropped(tmp_path, episodes):
    report, s = run(tmp_path, episodes, hi=768, lo=320)
    # measured at this small size (320x180, 12 fps): coverage 0.85, precision 0.83, recall 0.90
    assert s.coverage >= 0.8 and s.drop_precision >= 0.8 and s.drop_recall >= 0.85
    assert s.redundant <= 0.1 * s.kept
    assert s.scene_precision >= 0.9 and s.scene_recall >= 0.9
    assert report.videos[1].cross_episode > 0 and report.videos[0].cross_episode == 0
    # the names come from the sample file names (udwdemo_EP01.mp4 -> udwdemoEP01_n)
    assert {r.series + r.episode for r in Dataset(tmp_path / "ds").items()} == {"udwdemoEP01", "udwdemoEP02"}


def test_streaming_dedupe_removes_what_mpdecimate_leaves(tmp_path, episodes):
    _, plain = run(tmp_path / "a", episodes, dedupe=False, cross_episode="off")
    _, deduped = run(tmp_path / "b", episodes)
    assert deduped.kept < 0.7 * plain.kept
    assert deduped.drop_recall > plain.drop_recall


def test_hardware_decoder_choice(tmp_path, episodes):
    assert hw_candidates("none") == []
    with pytest.raises(BadInput, match="not in this FFmpeg build"):
        hw_candidates("no-such-device")
    report, _ = run(tmp_path, ([episodes[0][0]], [episodes[1][0]]), hwaccel="auto")
    assert report.videos[0].state == "done"  # whatever the machine has, software is the fallback
