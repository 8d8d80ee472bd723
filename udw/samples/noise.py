"""The copy noise model: what re-encoding, rescaling and re-framing do to a picture.

A *copy* of a drawing keeps its identity for a dataset (it should be merged); each function here
makes one kind of copy within the ranges a calibration should cover (issue 14): JPEG q60-95, WebP
q70-95, rescale 0.5-1x, crop <= 2 % per side, shift <= 1 % of the width, gamma +-5 %, H.264 at
CRF 18-28. Every copy is an (h, w, 3) uint8 RGB array plus the file suffix it is stored under and
the parameters used (recorded in the truth), and for JPEG/WebP the encoded file itself.
"""

from __future__ import annotations

import io
from typing import Callable, Optional

import numpy as np
from PIL import Image

Copy = tuple[np.ndarray, str, dict, Optional[bytes]]  # picture, file suffix, parameters, encoded file


def _pil(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(rgb))


def jpeg(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    q = int(rng.integers(60, 96))
    buf = io.BytesIO()
    _pil(rgb).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(buf).convert("RGB")), ".jpg", {"quality": q}, buf.getvalue()


def webp(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    q = int(rng.integers(70, 96))
    buf = io.BytesIO()
    _pil(rgb).save(buf, "WEBP", quality=q)
    return np.asarray(Image.open(buf).convert("RGB")), ".webp", {"quality": q}, buf.getvalue()


def rescale(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    f = round(float(rng.uniform(0.5, 0.95)), 3)
    h, w = rgb.shape[:2]
    size = (max(8, round(w * f)), max(8, round(h * f)))
    return np.asarray(_pil(rgb).resize(size, Image.Resampling.LANCZOS)), ".png", {"factor": f}, None


def crop(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    h, w = rgb.shape[:2]
    l, t, r, b = (int(rng.integers(0, max(1, round(0.02 * s)) + 1)) for s in (w, h, w, h))
    return rgb[t:h - b, l:w - r].copy(), ".png", {"left": l, "top": t, "right": r, "bottom": b}, None


def shift(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    """The picture slid by up to 1 % of the width, the uncovered edge repeated (same size)."""
    h, w = rgb.shape[:2]
    limit = max(1, round(0.01 * w))
    dx, dy = int(rng.integers(-limit, limit + 1)), int(rng.integers(-limit, limit + 1))
    if dx == dy == 0:
        dx = limit
    ys = np.clip(np.arange(h) - dy, 0, h - 1)
    xs = np.clip(np.arange(w) - dx, 0, w - 1)
    return rgb[ys][:, xs].copy(), ".png", {"dx": dx, "dy": dy}, None


def gamma(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    g = round(float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)) + 1.0, 3)
    lut = np.clip(np.round(255.0 * (np.arange(256) / 255.0) ** g), 0, 255).astype(np.uint8)
    return lut[rgb], ".png", {"gamma": g}, None


def h264(rgb: np.ndarray, rng: np.random.Generator) -> Copy:
    """One picture through an H.264 encode and decode (yuv420p) at CRF 18-28."""
    import av

    crf = int(rng.integers(18, 29))
    h, w = rgb.shape[:2]
    even = rgb[:h - h % 2, :w - w % 2]
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24, options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = even.shape[1], even.shape[0], "yuv420p"
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(even), format="rgb24")):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    with av.open(buf) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    return frame, ".png", {"crf": crf}, None


NOISE: dict[str, Callable[[np.ndarray, np.random.Generator], Copy]] = {
    "jpeg": jpeg, "webp": webp, "rescale": rescale, "crop": crop, "shift": shift, "gamma": gamma, "h264": h264,
}
NOISE_KINDS = {
    "jpeg": "a JPEG re-save at quality 60-95",
    "webp": "a WebP re-save at quality 70-95",
    "rescale": "downscaled to 0.5-0.95x",
    "crop": "cropped by at most 2 % per side",
    "shift": "slid by at most 1 % of the width",
    "gamma": "gamma changed by 2-5 %",
    "h264": "an H.264 frame at CRF 18-28",
}
