"""Copies for the image sets: the noise model of `udw.dedupe.noise`, with the parameters recorded.

A *copy* of a drawing keeps its identity for a dataset (it should be merged); each function here
draws the strength of one kind of copy within the ranges the verifier is calibrated on (issue 14:
JPEG q60-95, WebP q60-95, rescale 0.5-0.95x, crop <= 2 % per side, shift <= 1 % of the width,
gamma +-2-5 %, H.264 at CRF 18-28) and applies the transformation of `udw.dedupe.noise`. Every
copy is an (h, w, 3) uint8 RGB array plus the parameters used (recorded in the truth). The image
set stores copies as PNG files of the decoded pixels: what a reader of the JPEG would see.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..dedupe import noise as model

Copy = tuple[np.ndarray, dict]  # picture, parameters


def jpeg(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    q = int(rng.integers(60, 96))
    return model.jpeg(rgb, q), {"quality": q}


def webp(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    q = int(rng.integers(60, 96))
    return model.webp(rgb, q), {"quality": q}


def rescale(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    f = round(float(rng.uniform(0.5, 0.95)), 3)
    return model.rescale(rgb, f), {"factor": f}


def crop(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    fractions = tuple(round(float(x), 4) for x in rng.uniform(0, 0.02, 4))
    return model.crop(rgb, fractions), dict(zip(("left", "top", "right", "bottom"), fractions))


def shift(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    limit = max(1, round(0.01 * rgb.shape[1]))
    dx, dy = int(rng.integers(-limit, limit + 1)), int(rng.integers(-limit, limit + 1))
    dx = dx or limit  # never the unchanged picture
    return model.shift(rgb, dx, dy), {"dx": dx, "dy": dy}


def gamma(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    g = round(float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)) + 1.0, 3)
    return model.gamma(rgb, g), {"gamma": g}


def h264(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    crf = int(rng.integers(18, 29))
    return model.h264(rgb, crf), {"crf": crf}


NOISE: dict[str, Callable[[np.ndarray, np.random.Generator], Copy]] = {
    "jpeg": jpeg, "webp": webp, "rescale": rescale, "crop": crop, "shift": shift, "gamma": gamma, "h264": h264,
}
NOISE_KINDS = {
    "jpeg": "a JPEG re-save at quality 60-95",
    "webp": "a WebP re-save at quality 60-95",
    "rescale": "downscaled to 0.5-0.95x",
    "crop": "cropped by at most 2 % per side",
    "shift": "slid by at most 1 % of the width",
    "gamma": "gamma changed by 2-5 %",
    "h264": "an H.264 frame at CRF 18-28",
}
