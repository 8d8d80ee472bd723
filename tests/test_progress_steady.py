"""Progress over a whole multi-video run only moves forward, and hosts get a few events a second."""

from udw.core.ports import Ports, SteadyProgress
from udw.video import extract_frames


def test_parts_of_a_job_continue_instead_of_restarting():
    seen = []
    ports = Ports(progress=lambda d, t, p=None: seen.append(d / t))
    for i, total in enumerate((10, 4, 7)):
        part = ports.part(i, 3)
        for done in range(total + 1):
            part.progress(done, total)
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 1


def test_steady_drops_backward_and_too_fast_events(monkeypatch):
    clock = iter(x * 0.01 for x in range(10_000))
    monkeypatch.setattr("udw.core.ports.time.monotonic", lambda: next(clock))
    seen = []
    steady = SteadyProgress(lambda d, t, p=None: seen.append((d, t)), min_interval=0.1)
    for done in range(301):   # 300 events 10 ms apart: about one in ten shown
        steady(done, 300)
    steady(5, 300)            # a restart would move the bar back: dropped
    assert 25 <= len(seen) <= 40 and seen[-1] == (300, 300) and (5, 300) not in seen[1:]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_two_videos_report_one_rising_bar(tmp_path, make_clip):
    a, b = tmp_path / "a.mkv", tmp_path / "b.mkv"
    make_clip(a, shots=((6, 2, 0), (4, 3, 0)))
    make_clip(b, shots=((5, 2, 0), (6, 2, 0), (4, 1, 0)))
    seen = []
    report = extract_frames(tmp_path / "ds", [a, b], ports=Ports(progress=lambda d, t, p=None: seen.append(d / t)))
    assert [v.state for v in report.videos] == ["done", "done"]
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(0.4 < f < 0.6 for f in seen)  # one bar for both
