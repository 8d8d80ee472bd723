"""Hold removal with FFmpeg's mpdecimate semantics: against a literal port and against FFmpeg itself."""

import re
import shutil
import subprocess

import numpy as np
import pytest

from udw.video.frames import planes8
from udw.video.mpdecimate import Mpdecimate, MpdecimateParams, block_sads, plane_differs


def literal_diff_planes(cur, ref, hi, lo, frac):
    """vf_mpdecimate.c diff_planes, loop for loop."""
    h, w = ref.shape
    t = int(np.float32((w // 16) * (h // 16)) * np.float32(frac))
    c = 0
    for y in range(0, h - 7, 4):
        for x in range(8, w - 7, 4):
            d = int(np.abs(cur[y:y + 8, x:x + 8].astype(int) - ref[y:y + 8, x:x + 8]).sum())
            if d > hi:
                return True
            if d > lo:
                c += 1
                if c > t:
                    return True
    return False


class LiteralDecimate:
    """decimate_frame + filter_frame of vf_mpdecimate.c (with max and keep)."""

    def __init__(self, hi, lo, frac, max_drop=0, keep=0):
        self.hi, self.lo, self.frac, self.max, self.keep = hi, lo, frac, max_drop, keep
        self.ref, self.drop_count, self.keep_count = None, 0, 0

    def decimate(self, cur):
        if self.keep > 0 and self.keep_count > -1 and self.keep_count < self.keep:
            self.keep_count += 1
            return False
        if self.max > 0 and self.drop_count >= self.max:
            return False
        if self.max < 0 and (self.drop_count - 1) > self.max:
            return False
        return not any(literal_diff_planes(c, r, self.hi, self.lo, self.frac) for c, r in zip(cur, self.ref))

    def push(self, cur):
        if self.ref is not None and self.decimate(cur):
            self.drop_count = max(1, self.drop_count + 1)
            self.keep_count = -1
            return False
        self.ref = cur
        self.drop_count = min(-1, self.drop_count - 1)
        if self.keep_count < 0:
            self.keep_count = 0
        return True


def test_block_sads_match_the_blocks_ffmpeg_visits():
    rng = np.random.default_rng(0)
    for h, w in [(8, 16), (17, 23), (36, 50), (64, 64)]:
        cur = rng.integers(0, 256, (h, w), dtype=np.uint8)
        ref = rng.integers(0, 256, (h, w), dtype=np.uint8)
        got = block_sads(cur, ref)
        want = np.array([[np.abs(cur[y:y + 8, x:x + 8].astype(int) - ref[y:y + 8, x:x + 8]).sum()
                          for x in range(8, w - 7, 4)] for y in range(0, h - 7, 4)])
        assert got.shape == want.shape and np.array_equal(got, want)


@pytest.mark.parametrize("hi,lo,frac", [(64 * 200, 64 * 50, 0.33), (64 * 12, 64 * 5, 0.33), (900, 100, 0.1),
                                        (2000, 50, 0.0)])
def test_plane_decision_equals_the_literal_port(hi, lo, frac):
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    for k in range(60):
        cur = base.copy()
        # a patch of varying size and strength: around the thresholds, sometimes above
        y, x, s = rng.integers(0, 40), rng.integers(0, 56), int(rng.integers(2, 30))
        cur[y:y + s, x:x + s] = np.clip(cur[y:y + s, x:x + s].astype(int) + rng.integers(-80, 80), 0, 255)
        assert plane_differs(cur, base, hi, lo, frac) == literal_diff_planes(cur, base, hi, lo, frac), k


def test_fast_bounds_hold_and_thresholds_inside_them_give_the_exact_decision():
    from udw.video.mpdecimate import APPROX_ERROR, approx_block_sads, fast_path_ok

    assert fast_path_ok()
    rng = np.random.default_rng(3)
    for k in range(40):
        h, w = int(rng.integers(8, 90)), int(rng.integers(16, 120))
        ref = rng.integers(0, 256, (h, w), dtype=np.uint8)
        cur = np.clip(ref.astype(int) + rng.integers(-60, 60, (h, w)) * (rng.random((h, w)) < 0.3), 0, 255)
        cur = cur.astype(np.uint8)
        exact = block_sads(cur, ref)
        assert np.abs(approx_block_sads(cur, ref).astype(int) - exact).max() <= APPROX_ERROR
        for lo in (int(np.median(exact)) + d for d in (-50, -20, -3, 0, 3, 20, 50)):  # inside the band
            for frac in (0.05, 0.33, 0.9):
                hi = int(exact.max()) + int(rng.integers(-10, 10))
                assert plane_differs(cur, ref, hi, lo, frac) == literal_diff_planes(cur, ref, hi, lo, frac)


@pytest.mark.parametrize("max_drop,keep", [(0, 0), (2, 0), (-2, 0), (0, 2), (3, 1)])
def test_max_and_keep_bookkeeping_equal_the_literal_port(max_drop, keep):
    rng = np.random.default_rng(2)
    frames, current = [], rng.integers(0, 256, (32, 48), dtype=np.uint8)
    for _ in range(80):  # runs of holds (tiny noise) broken by new drawings
        if rng.random() < 0.3:
            current = rng.integers(0, 256, (32, 48), dtype=np.uint8)
        noise = rng.integers(-2, 3, current.shape)
        y = np.clip(current.astype(int) + noise, 0, 255).astype(np.uint8)
        frames.append([y, y[::2, ::2].copy(), y[1::2, ::2].copy()])
    ours = Mpdecimate(MpdecimateParams(768, 320, 0.33, max_drop, keep))
    theirs = LiteralDecimate(768, 320, 0.33, max_drop, keep)
    got = [ours.push(p) for p in frames]
    assert got == [theirs.push(p) for p in frames]
    assert 0 < sum(got) < len(got)


def test_filter_string_is_what_ffmpeg_takes():
    assert MpdecimateParams().filter_string() == "mpdecimate=hi=3200:lo=768:frac=0.33"
    assert MpdecimateParams(64 * 200, 64 * 50).filter_string() == "mpdecimate=hi=12800:lo=3200:frac=0.33"
    assert MpdecimateParams(max=-2, keep=1).filter_string().endswith(":max=-2:keep=1")


def _our_kept(path, params):
    import av

    dec, kept = Mpdecimate(params), []
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if dec.push(planes8(frame)):
                kept.append(i)
    return kept


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg command is not installed")
@pytest.mark.parametrize("params", [MpdecimateParams(), MpdecimateParams(768, 320, 0.33)])
def test_same_frames_as_ffmpeg_mpdecimate(tmp_path, make_clip, params):
    clip = tmp_path / "clip.mkv"
    make_clip(clip, shots=((8, 2, 0), (6, 3, 3), (6, 1, 1), (4, 4, 0)), size=(192, 112))
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", str(clip), "-vf",
                          params.filter_string() + ",showinfo", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    theirs = [int(n) for n in re.findall(r"pts:\s*(\d+)", out)]
    # showinfo prints the kept frames' timestamps; map ours to the same timestamps
    import av

    with av.open(str(clip)) as c:
        pts = [f.pts for f in c.decode(video=0)]
    ours = [pts[i] for i in _our_kept(clip, params)]
    assert ours == theirs and 0 < len(ours) < len(pts)
