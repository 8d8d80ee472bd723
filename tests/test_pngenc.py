"""The fast PNG writer produces standard PNGs that decode to the exact pixels."""

import io

import numpy as np
import pytest
from PIL import Image

from udw.core import pngenc


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 3), (64, 48, 4), (33, 17), (90, 160, 3)])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_round_trip(shape, level):
    rng = np.random.default_rng(sum(shape) + level)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    img[: shape[0] // 2] = 17  # a flat part, as in cels
    with Image.open(io.BytesIO(pngenc.encode_png(img, level))) as im:
        im.load()
        assert im.format == "PNG" and np.array_equal(np.asarray(im), img)


def test_zlib_fallback(monkeypatch):
    monkeypatch.setattr(pngenc, "_deflate", None)
    img = np.arange(300, dtype=np.uint8).reshape(10, 10, 3)
    with Image.open(io.BytesIO(pngenc.encode_png(img))) as im:
        assert np.array_equal(np.asarray(im), img)


def test_refuses_what_png_cannot_hold():
    with pytest.raises(ValueError):
        pngenc.encode_png(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError):
        pngenc.encode_png(np.zeros((4, 4, 3), np.float32))
