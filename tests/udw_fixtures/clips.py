"""Small generated videos for the frame-extraction tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def clip_frames(shots, size):
    """(RGB frame, (shot, drawing)) for a storyboard of shots (drawings, hold, pan_px[, look]).

    Each shot has its own flat background (shots with the same `look` draw the same pictures) with
    tall outlined blocks (which slide by `pan_px` per frame) and a ball that moves to a new place on
    every drawing; each drawing is held `hold`
    frames, like cel animation on twos or threes.
    """
    from PIL import Image, ImageDraw

    w, h = size
    for s, (drawings, hold, pan, *look) in enumerate(shots):
        rng = np.random.default_rng(1000 + (look[0] if look else s))
        bg = tuple(int(c) for c in rng.integers(30, 220, 3))
        blocks = [tuple(int(c) for c in rng.integers(0, 255, 3)) for _ in range(6)]
        ball = tuple(int(c) for c in rng.integers(0, 255, 3))
        k = 0
        for d in range(drawings):
            for _ in range(hold):
                im = Image.new("RGB", (w * 2, h), bg)
                draw = ImageDraw.Draw(im)
                for j, colour in enumerate(blocks):
                    x = -pan * k + j * w // 3
                    draw.rectangle([x, h // 3, x + w // 8, h], fill=colour, outline=(0, 0, 0))
                cx = w // 5 + d * (w // 2) // max(1, drawings)
                draw.ellipse([cx, h // 6, cx + h // 3, h // 6 + h // 3], fill=ball, outline=(0, 0, 0), width=2)
                yield np.asarray(im.crop((0, 0, w, h))), (s, d)
                k += 1


def make_clip(path, shots=((6, 2, 0), (4, 3, 0), (5, 2, 0)), size=(160, 96), fps=24, codec=None,
              pix_fmt="yuv420p", sar=None, times=None, gop=None) -> list:
    """Encode a storyboard with PyAV (H.264 for .mp4/.mkv, VP9 for .webm, MPEG-4 for .avi).

    `times` gives each frame's timestamp in seconds (variable frame rate, millisecond time base);
    `sar` an anamorphic sample aspect ratio. Returns each frame's (shot, drawing).
    """
    from fractions import Fraction

    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = codec or {".webm": "libvpx-vp9", ".avi": "mpeg4"}.get(path.suffix.lower(), "libx264")
    options = {"libx264": {"crf": "16", "preset": "ultrafast"},
               "libvpx-vp9": {"crf": "20", "b:v": "0", "deadline": "realtime", "cpu-used": "8"}}.get(codec, {})
    labels = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], pix_fmt
        stream.options = options
        if gop:
            stream.codec_context.gop_size = gop
        if sar:
            stream.codec_context.sample_aspect_ratio = Fraction(*sar)
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i, (rgb, label) in enumerate(clip_frames(shots, size)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if times is not None:
                frame.pts, frame.time_base = int(round(times[i] * 1000)), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
            labels.append(label)
        for packet in stream.encode(None):
            out.mux(packet)
    return labels


@pytest.fixture(name="make_clip")
def make_clip_fixture():
    pytest.importorskip("av")
    return make_clip
