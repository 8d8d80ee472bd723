"""Small real images, and the shared folder beside the repository."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from . import SHARED


def make_image(path: Path, seed: int, size=(96, 64), mode="RGB") -> Path:
    """A small deterministic picture with flat shapes (not noise), in the given mode."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(im)
    for _ in range(4):
        x0, y0 = rng.integers(0, size[0] // 2), rng.integers(0, size[1] // 2)
        x1, y1 = x0 + rng.integers(8, size[0] // 2), y0 + rng.integers(8, size[1] // 2)
        draw.ellipse([x0, y0, x1, y1], fill=tuple(int(c) for c in rng.integers(0, 255, 3)), outline=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.convert(mode).save(path)
    return path


@pytest.fixture(name="make_image")
def make_image_fixture():
    return make_image


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    for i in range(6):
        make_image(folder / f"frame {i:02d}.png", i)
    return folder


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is not beside the repository ({SHARED}); it holds test models")
    return SHARED
