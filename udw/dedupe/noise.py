"""The noise model copies of a picture go through, for calibrating and testing the verifier.

Each kind is one transformation a copy may get on its way into a dataset: re-encoding (JPEG
q60-95, WebP q60-95, H.264 CRF 18-28 through PyAV when it is installed), rescaling (0.5-1x), a
crop of up to 2% per side, a shift of up to 1% (edge filled), a gamma change of up to +-5%, and
greyscale. `noisy_copy` draws one kind (or a chain of two) with random strength.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np
from PIL import Image

KINDS = ("jpeg", "webp", "rescale", "crop", "shift", "gamma", "h264")


def _pil(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(rgb[..., :3]))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    _pil(rgb).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(buf).convert("RGB"))


def webp(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    _pil(rgb).save(buf, format="WEBP", quality=int(quality))
    return np.asarray(Image.open(buf).convert("RGB"))


def rescale(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(8, round(w * factor)), max(8, round(h * factor)))
    return np.asarray(_pil(rgb).resize(size, Image.Resampling.LANCZOS))


def crop(rgb: np.ndarray, fractions: tuple[float, float, float, float]) -> np.ndarray:
    """Cut (left, top, right, bottom) shares of the size off the edges (no resize)."""
    h, w = rgb.shape[:2]
    l, t, r, b = fractions
    return rgb[int(t * h):h - int(b * h), int(l * w):w - int(r * w)].copy()


def shift(rgb: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move the content by (dx, dy) pixels, filling the uncovered edge by replication."""
    h, w = rgb.shape[:2]
    pad = np.pad(rgb, ((abs(dy), abs(dy)), (abs(dx), abs(dx)), (0, 0)), mode="edge")
    return pad[abs(dy) - dy:abs(dy) - dy + h, abs(dx) - dx:abs(dx) - dx + w].copy()


def gamma(rgb: np.ndarray, g: float) -> np.ndarray:
    lut = (255.0 * (np.arange(256) / 255.0) ** g).round().clip(0, 255).astype(np.uint8)
    return lut[rgb[..., :3]]


def grey(rgb: np.ndarray) -> np.ndarray:
    g = (rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).round()
    return np.repeat(g.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)


def h264(rgb: np.ndarray, crf: int) -> np.ndarray:
    """The picture encoded as a short H.264 clip (yuv420p, CRF `crf`) and decoded back."""
    import av  # optional: only the H.264 kind needs it

    h, w = rgb.shape[:2]
    frame_rgb = np.ascontiguousarray(rgb[:h - h % 2, :w - w % 2, :3])
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = frame_rgb.shape[1], frame_rgb.shape[0], "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": "veryfast"}
        for _ in range(3):  # a few frames: the middle one is a P-frame, as in real episodes
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")))
        out.mux(stream.encode(None))
    buf.seek(0)
    with av.open(buf) as inp:
        frames = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    return frames[len(frames) // 2]


def has_h264() -> bool:
    try:
        import av

        return "libx264" in av.codecs_available
    except ImportError:
        return False


def _draw(kind: str, rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    h, w = rgb.shape[:2]
    if kind == "jpeg":
        q = int(rng.integers(60, 96))
        return jpeg(rgb, q), f"jpeg q{q}"
    if kind == "webp":
        q = int(rng.integers(60, 96))
        return webp(rgb, q), f"webp q{q}"
    if kind == "rescale":
        f = float(rng.uniform(0.5, 1.0))
        return rescale(rgb, f), f"rescale {f:.2f}"
    if kind == "crop":
        fr = tuple(float(x) for x in rng.uniform(0, 0.02, 4))
        return crop(rgb, fr), "crop " + "/".join(f"{100 * x:.1f}%" for x in fr)
    if kind == "shift":
        dx, dy = (int(round(x)) for x in rng.uniform(-0.01, 0.01, 2) * np.array([w, h]))
        return shift(rgb, dx, dy), f"shift {dx},{dy}px"
    if kind == "gamma":
        g = float(rng.uniform(0.95, 1.05))
        return gamma(rgb, g), f"gamma {g:.3f}"
    if kind == "h264":
        crf = int(rng.integers(18, 29))
        return h264(rgb, crf), f"h264 crf{crf}"
    raise ValueError(f"unknown noise kind {kind!r}")


def noisy_copy(rgb: np.ndarray, rng: np.random.Generator, kinds: tuple[str, ...] = KINDS,
               chain: int = 2) -> tuple[np.ndarray, str]:
    """A copy through `chain` random transformations of the model (e.g. rescale then JPEG)."""
    out, how, _ = noisy_copy_mapped(rgb, rng, kinds, chain)
    return out, how


def noisy_copy_mapped(rgb: np.ndarray, rng: np.random.Generator, kinds: tuple[str, ...] = KINDS,
                      chain: int = 2) -> tuple[np.ndarray, str, Callable]:
    """noisy_copy, plus a function that maps a box (x0, y0, x1, y1) of the original to the copy."""
    usable = [k for k in kinds if k != "h264" or has_h264()]
    out, names = rgb, []
    sx = sy = 1.0
    tx = ty = 0.0
    for k in rng.choice(usable, size=chain, replace=False):
        before = out.shape[:2]
        out, name = _draw(str(k), out, rng)
        names.append(name)
        fy, fx = out.shape[0] / before[0], out.shape[1] / before[1]
        if k == "rescale":
            sx, sy, tx, ty = sx * fx, sy * fy, tx * fx, ty * fy
        elif k == "crop":
            left, top = (float(v.rstrip("%")) / 100 for v in name.split()[1].split("/")[:2])
            tx, ty = tx - int(left * before[1]), ty - int(top * before[0])
        elif k == "shift":
            dx, dy = (int(v) for v in name.split()[1].rstrip("px").split(","))
            tx, ty = tx + dx, ty + dy

    def mapped(box):
        x0, y0, x1, y1 = box
        return (x0 * sx + tx, y0 * sy + ty, x1 * sx + tx, y1 * sy + ty)

    return out, " + ".join(names), mapped


NOISE: dict[str, Callable] = {"jpeg": jpeg, "webp": webp, "rescale": rescale, "crop": crop, "shift": shift,
                              "gamma": gamma, "grey": grey, "h264": h264}
