"""Aligning two small colour thumbnails of (maybe) one picture: scale, shift and tone.

Copies of one drawing differ by a rescale, a slight crop or shift, re-encoding and a tone drift
(gamma, brightness). `align` maps picture B onto A's grid with an axis-aligned scale and shift
(phase correlation for the coarse shift, then Lucas-Kanade refinement of x/y scale and shift on
blurred luma), and `match_tone` fits each channel of B to A with a quadratic curve (a gamma change
of +-5% is a curve, not a line). What is left after both is what a verifier judges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Warp:
    """B's coordinates of A's pixel (x, y): (sx * x + tx, sy * y + ty), in A's thumb pixels."""

    sx: float
    tx: float
    sy: float
    ty: float

    def matrix(self) -> np.ndarray:
        return np.array([[self.sx, 0, self.tx], [0, self.sy, self.ty]], np.float32)

    def shift_fraction(self, width: int, height: int) -> float:
        """Largest displacement of A's frame corners, as a share of A's size."""
        xs = np.array([0, width - 1], np.float32)
        ys = np.array([0, height - 1], np.float32)
        dx = np.abs(self.sx * xs + self.tx - xs).max() / max(width, 1)
        dy = np.abs(self.sy * ys + self.ty - ys).max() / max(height, 1)
        return float(max(dx, dy))


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _LUMA


def _standardised(g: np.ndarray) -> np.ndarray:
    g = cv2.GaussianBlur(g, (0, 0), 1.0)
    return (g - g.mean()) / (g.std() + 1e-3)


def coarse_shift(a: np.ndarray, b: np.ndarray, limit: float) -> tuple[float, float]:
    """(dx, dy) that moves b onto a by phase correlation; (0, 0) when the peak is weak or farther
    than `limit` (a share of the size): then the pictures are not shifted copies anyway."""
    h, w = a.shape
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(a, b, window)
    if response < 0.05 or abs(dx) > limit * w + 1 or abs(dy) > limit * h + 1:
        return 0.0, 0.0
    return float(dx), float(dy)


def align(a_rgb: np.ndarray, b_rgb: np.ndarray, max_shift: float = 0.04, max_scale: float = 0.05,
          iterations: int = 8) -> Warp:
    """The warp that maps B (any size) onto A's grid. Scale starts from the size ratio; the
    refinement is bounded (`max_scale` around it, shifts up to `max_shift` of the size)."""
    ha, wa = a_rgb.shape[:2]
    hb, wb = b_rgb.shape[:2]
    sx0, sy0 = wb / wa, hb / ha
    a = _standardised(luma(a_rgb))
    b_full = luma(b_rgb)
    b_on_a = _standardised(cv2.resize(b_full, (wa, ha), interpolation=cv2.INTER_AREA))
    dx, dy = coarse_shift(a, b_on_a, max_shift)
    warp = Warp(sx0, (0.5 * sx0 - 0.5) + dx * sx0, sy0, (0.5 * sy0 - 0.5) + dy * sy0)
    b_blur = cv2.GaussianBlur(b_full, (0, 0), max(1.0, 0.5 * (sx0 + sy0)))
    ys, xs = np.mgrid[0:ha, 0:wa].astype(np.float32)
    for _ in range(iterations):
        step = _lk_step(a, b_blur, warp, xs, ys)
        if step is None:
            break
        warp = Warp(warp.sx + step[0], warp.tx + step[1], warp.sy + step[2], warp.ty + step[3])
        if abs(step[1]) + abs(step[3]) < 0.01:
            break
    if (abs(warp.sx / sx0 - 1) > max_scale or abs(warp.sy / sy0 - 1) > max_scale
            or warp.shift_fraction(wa, ha) > max_shift + max_scale):
        return Warp(sx0, 0.5 * sx0 - 0.5 + dx * sx0, sy0, 0.5 * sy0 - 0.5 + dy * sy0)
    return warp


def _lk_step(a: np.ndarray, b_blur: np.ndarray, warp: Warp, xs: np.ndarray, ys: np.ndarray):
    """One Gauss-Newton step of (sx, tx, sy, ty) with a free gain and offset, robust to the
    few pixels a local change leaves (residuals over 3 median deviations are ignored)."""
    ha, wa = a.shape
    j = cv2.warpAffine(b_blur, warp.matrix(), (wa, ha), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_REPLICATE)
    j = (j - j.mean()) / (j.std() + 1e-3)
    gx = cv2.Sobel(j, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(j, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    # Derivatives are taken in A's grid; B's coordinates move sx times faster.
    gx, gy = gx / max(warp.sx, 1e-3), gy / max(warp.sy, 1e-3)
    err = (j - a).ravel()
    cols = np.stack([(gx * xs).ravel(), gx.ravel(), (gy * ys).ravel(), gy.ravel(),
                     j.ravel(), np.ones(err.size, np.float32)], axis=1)
    dev = np.abs(err)   # both standardised: residuals centre on 0; a robust scale from a sample
    keep = dev <= 3 * (np.median(dev[::7]) + 1e-3) + 0.05
    if keep.sum() < 16:
        return None
    c = cols[keep]
    try:  # normal equations: 6 unknowns, far faster than a full least-squares solver
        sol = np.linalg.solve(c.T @ c + 1e-6 * np.eye(6, dtype=np.float32), -(c.T @ err[keep]))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(sol)):
        return None
    return np.clip(sol[:4], [-0.02, -2.0, -0.02, -2.0], [0.02, 2.0, 0.02, 2.0])


def warp_onto(b_rgb: np.ndarray, warp: Warp, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """B resampled on A's grid (float32 HxWx3) and the mask of pixels that fall inside B."""
    wa, ha = size
    hb, wb = b_rgb.shape[:2]
    src = b_rgb.astype(np.float32)
    if warp.sx > 1.5 or warp.sy > 1.5:  # B much larger than A: area-average first (no aliasing)
        src = cv2.resize(src, (wa, ha), interpolation=cv2.INTER_AREA)
        fx, fy = wa / wb, ha / hb
        warp = Warp(warp.sx * fx, (warp.tx + 0.5) * fx - 0.5, warp.sy * fy, (warp.ty + 0.5) * fy - 0.5)
        hb, wb = ha, wa
    out = cv2.warpAffine(src, warp.matrix(), (wa, ha), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    xs = warp.sx * np.arange(wa, dtype=np.float32) + warp.tx
    ys = warp.sy * np.arange(ha, dtype=np.float32) + warp.ty
    inside = (ys[:, None] >= -0.5) & (ys[:, None] <= hb - 0.5) & (xs[None, :] >= -0.5) & (xs[None, :] <= wb - 0.5)
    return out, inside


def _quadratic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares y ~ c0 + c1 x + c2 x^2 (normal equations)."""
    v = np.stack([np.ones_like(x), x, x * x], axis=1)
    return np.linalg.solve(v.T @ v + 1e-9 * np.eye(3), v.T @ y)


def match_tone(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """B with each channel mapped to A's by a least-squares quadratic over the masked pixels
    (twice: the second fit leaves out the 5% worst pixels, where the drawings may differ).
    A channel with almost no spread gets an offset only."""
    out = np.empty_like(b)
    step = max(1, int(mask.sum()) // 3000)  # a sample of the pixels is plenty for 3 coefficients
    for c in range(a.shape[2]):
        x = (b[..., c][mask][::step] / 255.0).astype(np.float64)
        y = a[..., c][mask][::step].astype(np.float64)
        if len(x) < 8 or np.ptp(x) < 4 / 255.0:
            out[..., c] = b[..., c] + (float(np.mean(y - x * 255.0)) if len(x) else 0.0)
            continue
        use = np.ones(len(x), bool)
        for _ in range(2):
            coef = _quadratic(x[use], y[use])
            err = np.abs(coef[0] + coef[1] * x + coef[2] * x * x - y)
            use = err <= np.partition(err, int(0.95 * (len(err) - 1)))[int(0.95 * (len(err) - 1))]
        xb = b[..., c] / 255.0
        out[..., c] = coef[0] + coef[1] * xb + coef[2] * xb * xb
    return np.clip(out, 0, 255)
