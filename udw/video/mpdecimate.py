"""Hold removal with the semantics of FFmpeg's `mpdecimate` filter (libavfilter/vf_mpdecimate.c).

The filter compares each frame with the last frame it KEPT (its reference), plane by plane, in
8x8 blocks placed every 4 pixels (rows from 0, columns from 8, whole blocks only). Per plane, the
frame differs when one block's sum of absolute differences exceeds `hi`, or when more than
`int((w/16)*(h/16)*frac)` blocks exceed `lo`. It is dropped when no plane differs, subject to
`max` (>0: at most that many drops in a row; <0: at least -max kept frames between drops) and
`keep` (that many similar frames are kept before dropping starts). Planes are the 8-bit planes of
the decoded picture (formats that the filter does not take are converted first, as FFmpeg does).

Block sums: |cur-ref| summed in 4x4 cells, each visited 8x8 block being four cells. The fast
path takes 4x4 cell means from two exact-half bilinear resizes in OpenCV (each a rounded 2x2
mean: ~12x faster than its area resize, and a cell mean is off by at most one grey level, so a
block sum is known to within +-64) and decides from those bounds; only when a threshold falls
inside them are the exact sums computed. The decision is always the exact one (tests compare it
with FFmpeg frame by frame; the bound is re-checked once per process on this OpenCV build).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover - OpenCV is a core dependency; numpy fallback kept for safety
    cv2 = None

# The seed recipe's thresholds (mpdecimate=hi=64*200:lo=64*50:frac=0.33), the default here.
SEED_HI, SEED_LO, SEED_FRAC = 64 * 200, 64 * 50, 0.33
# The hold rule `udw frames` uses by default: 4x finer than the seed's, which drops new drawings
# whose change spreads thinly (an expression, a hand: coverage 0.77 of the sample episodes' drawings
# at the seed's thresholds, 1.0 at these); the near-duplicate rule after it merges what is left.
HOLD_HI, HOLD_LO, HOLD_FRAC = 64 * 50, 64 * 12, 0.33
# FFmpeg's own defaults, for reference and for comparisons.
FFMPEG_HI, FFMPEG_LO, FFMPEG_FRAC = 64 * 12, 64 * 5, 0.33


@dataclass(frozen=True)
class MpdecimateParams:
    hi: int = HOLD_HI
    lo: int = HOLD_LO
    frac: float = HOLD_FRAC
    max: int = 0
    keep: int = 0

    def filter_string(self) -> str:
        """The equivalent FFmpeg filter, e.g. for a baseline run."""
        text = f"mpdecimate=hi={self.hi}:lo={self.lo}:frac={self.frac}"
        if self.max:
            text += f":max={self.max}"
        if self.keep:
            text += f":keep={self.keep}"
        return text


def block_sads(cur: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """SAD of the 8x8 blocks mpdecimate visits (y = 0,4,..,h-8; x = 8,12,..,w-8) as int32."""
    h, w = cur.shape
    if h < 8 or w < 16:
        return np.zeros((0, 0), np.int32)
    hc, wc = h // 4, w // 4
    if cv2 is not None:  # SIMD absolute difference; numpy needs a widening copy
        diff = cv2.absdiff(cur, ref)[:hc * 4, :wc * 4]
    else:
        diff = np.abs(cur[:hc * 4, :wc * 4].astype(np.int16) - ref[:hc * 4, :wc * 4]).astype(np.uint8)
    # 4-row sums in uint16 (4 x 255 fits), by adding strided views (numpy's small-axis sum is slow)
    quad = diff.reshape(hc, 4, wc * 4)
    rows = quad[:, 0].astype(np.uint16)
    rows += quad[:, 1]
    rows += quad[:, 2]
    rows += quad[:, 3]
    col = rows.reshape(hc, wc, 4)
    cells = ((col[..., 0] + col[..., 1]) + (col[..., 2] + col[..., 3])).astype(np.int32)  # <= 4080
    pairs = cells[:-1] + cells[1:]
    blocks = pairs[:, :-1] + pairs[:, 1:]
    return blocks[:, 2:]  # block columns start at x = 8


CELL_ERROR = 16                 # |16 * cell mean - cell sum| after two rounded 2x2 means
APPROX_ERROR = 4 * CELL_ERROR   # per block of four cells
_fast_ok: Optional[bool] = None


def cell_means(diff: np.ndarray) -> np.ndarray:
    """Rounded 4x4 means of a uint8 picture whose sides are multiples of 4 (two 2x2 passes)."""
    h, w = diff.shape
    half = cv2.resize(diff, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(half, (w // 4, h // 4), interpolation=cv2.INTER_LINEAR)


def fast_path_ok() -> bool:
    """Does this OpenCV's bilinear halving keep CELL_ERROR? (checked once, on hard patterns)"""
    global _fast_ok
    if _fast_ok is None:
        rng = np.random.default_rng(7)
        tests = [rng.integers(0, 256, (64, 96), dtype=np.uint8),
                 (rng.random((64, 96)) < 0.5).astype(np.uint8) * 255,
                 np.tile(np.array([[0, 255], [255, 1]], np.uint8), (32, 48))]
        _fast_ok = cv2 is not None and all(
            np.abs(cell_means(t).astype(np.int32) * 16 - t.reshape(16, 4, 24, 4).sum(axis=(1, 3))).max() <= CELL_ERROR
            for t in tests)
    return _fast_ok


def approx_block_sums(cur: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each visited block, the sum of its four cells' rounded mean |cur-ref| (uint16).

    16x this is the block's SAD to within +-APPROX_ERROR.
    """
    h, w = cur.shape
    hc, wc = h // 4, w // 4
    diff = cv2.absdiff(cur[:hc * 4, :wc * 4], ref[:hc * 4, :wc * 4])
    cells = cell_means(diff)
    sums = cv2.boxFilter(cells, cv2.CV_16U, (2, 2), normalize=False, anchor=(0, 0),
                         borderType=cv2.BORDER_CONSTANT)  # sums[i, j] = cells[i:i+2, j:j+2].sum()
    return sums[:-1, 2:-1]


def approx_block_sads(cur: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The visited blocks' SADs to within +-APPROX_ERROR."""
    return approx_block_sums(cur, ref).astype(np.int32) * 16


def plane_differs(cur: np.ndarray, ref: np.ndarray, hi: int, lo: int, frac: float) -> bool:
    """vf_mpdecimate's diff_planes: True when the plane changed enough to keep the frame."""
    h, w = ref.shape
    # C: int t = (w/16)*(h/16)*frac;  (int * float in single precision, truncated)
    limit = int(np.float32((w // 16) * (h // 16)) * np.float32(frac))
    if h < 8 or w < 16:
        return False
    if fast_path_ok():
        # compare 16*S (S: sums of cell means) with the thresholds widened by the rounding bound:
        # 16*S > t  <=>  S > t // 16  for integers
        sums = approx_block_sums(cur, ref)
        top = int(sums.max()) * 16
        if top > hi + APPROX_ERROR or np.count_nonzero(sums > (lo + APPROX_ERROR) // 16) > limit:
            return True  # some block surely exceeds hi, or surely more than `limit` exceed lo
        if top <= hi - APPROX_ERROR and np.count_nonzero(sums > (lo - APPROX_ERROR) // 16) <= limit:
            return False  # surely none exceeds hi and at most `limit` can exceed lo
    sads = block_sads(cur, ref)
    if sads.size == 0:
        return False
    if int(sads.max()) > hi:
        return True
    return int(np.count_nonzero(sads > lo)) > limit


class Mpdecimate:
    """Streaming decision: call `push(planes)` for every frame in order; True means keep it.

    `planes` are 2-D uint8 arrays (Y, U, V[, A]); the arrays of a kept frame become the
    reference, so the caller must not modify them afterwards.
    """

    def __init__(self, params: MpdecimateParams = MpdecimateParams()):
        self.params = params
        self.ref: Optional[Sequence[np.ndarray]] = None
        self.drop_count = 0   # >0: frames dropped in a row; <0: frames kept in a row
        self.keep_count = 0

    def reset(self) -> None:
        self.ref, self.drop_count, self.keep_count = None, 0, 0

    def similar(self, planes: Sequence[np.ndarray]) -> bool:
        """vf_mpdecimate's decimate_frame (including its max/keep bookkeeping)."""
        p = self.params
        if p.keep > 0 and -1 < self.keep_count < p.keep:
            self.keep_count += 1
            return False
        if p.max > 0 and self.drop_count >= p.max:
            return False
        if p.max < 0 and (self.drop_count - 1) > p.max:
            return False
        for cur, ref in zip(planes, self.ref):
            if cur.shape != ref.shape or plane_differs(cur, ref, p.hi, p.lo, p.frac):
                return False
        return True

    def push(self, planes: Sequence[np.ndarray]) -> bool:
        if self.ref is not None and self.similar(planes):
            self.drop_count = max(1, self.drop_count + 1)
            self.keep_count = -1  # keep no more similar frames until a different one comes
            return False
        self.ref = planes
        self.drop_count = min(-1, self.drop_count - 1)
        if self.keep_count < 0:
            self.keep_count = 0
        return True
