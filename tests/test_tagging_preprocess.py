"""WD14 preprocessing, checked numerically and against SmilingWolf's reference code."""

import numpy as np
import pytest
from PIL import Image

from udw.tagging.preprocess import load_prepared, prepare


def reference(image: Image.Image, side: int) -> np.ndarray:
    """The reference (SmilingWolf's wd-tagger app), written out independently of udw."""
    image = image.convert("RGBA")
    canvas = Image.new("RGBA", image.size, (255, 255, 255))
    canvas.alpha_composite(image)
    image = canvas.convert("RGB")
    max_dim = max(image.size)
    padded = Image.new("RGB", (max_dim, max_dim), (255, 255, 255))
    padded.paste(image, ((max_dim - image.size[0]) // 2, (max_dim - image.size[1]) // 2))
    if max_dim != side:
        padded = padded.resize((side, side), Image.BICUBIC)
    return np.asarray(padded, dtype=np.float32)[:, :, ::-1]


def test_known_rgba_image_gives_known_tensor():
    # 4x2 RGBA, model side 4: white rows above and below, alpha composited onto white
    # (out = round(c * a + 255 * (1 - a))), channels reversed to BGR, float32 0-255.
    im = Image.new("RGBA", (4, 2))
    im.putdata([(255, 0, 0, 255), (0, 255, 0, 128), (0, 0, 255, 0), (10, 20, 30, 255),
                (0, 0, 0, 64), (255, 255, 255, 255), (200, 100, 50, 192), (1, 2, 3, 1)])
    W = [255, 255, 255]
    expected = np.array([
        [W, W, W, W],
        [[0, 0, 255], [127, 255, 127], W, [30, 20, 10]],
        [[191, 191, 191], W, [101, 138, 214], [254, 254, 254]],
        [W, W, W, W],
    ], dtype=np.float32)
    got = prepare(im, 4)
    assert got.dtype == np.float32 and got.shape == (4, 4, 3)
    np.testing.assert_array_equal(got, expected)


def test_portrait_is_padded_left_and_right_and_resized():
    im = Image.new("RGB", (2, 6), (255, 0, 0))  # red, 2 wide: pad 2 columns each side to 6x6, then 3x3
    got = prepare(im, 3)
    assert got.shape == (3, 3, 3)
    centre = got[:, 1]
    assert (centre[:, 2] > 240).all() and (centre[:, 0] < 60).all()   # BGR: red is channel 2
    np.testing.assert_array_equal(got, reference(im, 3))


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (640, 640), (300, 200), (200, 300),
                                  (447, 13), (13, 447), (448, 100), (100, 448), (1, 1), (449, 448)])
def test_bit_identical_to_reference(size):
    rng = np.random.default_rng(sum(size))
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    im = Image.fromarray(arr)
    np.testing.assert_array_equal(prepare(im, 448), reference(im, 448))
    np.testing.assert_array_equal(prepare(arr, 448), reference(im, 448))  # arrays (ComfyUI) too


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "PA", "I;16", "CMYK"])
def test_every_mode_matches_reference(mode, tmp_path, make_image):
    path = make_image(tmp_path / f"m.{'tif' if mode in ('CMYK', 'I;16') else 'png'}", 3, (70, 40), "RGB")
    im = Image.open(path).convert("RGBA")
    alpha = np.linspace(0, 255, 70 * 40, dtype=np.uint8).reshape(40, 70)
    im.putalpha(Image.fromarray(alpha))
    im = im.convert(mode) if mode != "RGBA" else im
    got = prepare(im, 32)
    ref_input = im if mode not in ("I;16",) else im.convert("L")
    if mode == "CMYK":
        ref_input = im.convert("RGB")
    np.testing.assert_array_equal(got, reference(ref_input, 32))


def test_files_decode_through_the_safe_reader(tmp_path, make_image):
    path = make_image(tmp_path / "a.png", 1, (90, 50), "RGBA")
    np.testing.assert_array_equal(load_prepared(path, 64), reference(Image.open(path), 64))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    from udw.core.errors import BadInput
    with pytest.raises(BadInput, match="bad.png"):
        load_prepared(bad, 64)
