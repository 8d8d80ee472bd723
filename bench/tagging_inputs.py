"""Inputs of bench_tagging.py, built once and cached (never committed).

- A randomly initialised ViT-B/16 tagger at 448x448 with 10,861 outputs, exported from a small torch
  ViT (speed does not depend on weight values). It takes the WD v3 signature: `input` [batch, 448,
  448, 3] float32 BGR 0-255, `output` [batch, 10861] sigmoid scores. Its head bias is set so that a
  few dozen tags pass 0.35 per image, as with real taggers, so agreement figures mean something.
- 1920x1080 PNG frames of the Big Buck Bunny trailer (CC-BY 3.0) from the moviepy==2.2.1 sdist,
  upscaled from 1280x720 with bicubic filtering.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tarfile
from pathlib import Path

CACHE = Path(os.environ.get("UDW_BENCH_CACHE", Path.home() / ".cache" / "udw" / "bench"))
N_TAGS = 10861
N_CHARACTERS = 2000
SIDE = 448
TRAILER = "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4"


def vit_tagger() -> Path:
    """Folder with model.onnx + selected_tags.csv (built with torch on first use, ~1 min)."""
    folder = CACHE / "vit-b16-448-random"
    if (folder / "model.onnx").is_file() and (folder / "selected_tags.csv").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "selected_tags.csv")
    _export_vit(folder / "model.onnx")
    return folder


def _write_csv(path: Path) -> None:
    rows = [(i, name, 9, 0) for i, name in enumerate(["general", "sensitive", "questionable", "explicit"])]
    rows += [(len(rows) + i, f"tag_{i}", 0, 1000) for i in range(N_TAGS - 4 - N_CHARACTERS)]
    rows += [(len(rows) + i, f"character_{i}_(series)", 4, 100) for i in range(N_CHARACTERS)]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["tag_id", "name", "category", "count"])
        w.writerows(rows)
    tmp.replace(path)


def _export_vit(path: Path) -> None:
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, d: int = 768, heads: int = 12):
            super().__init__()
            self.n1, self.n2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
            self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            y = self.n1(x)
            x = x + self.attn(y, y, y, need_weights=False)[0]
            return x + self.mlp(self.n2(x))

    class ViT(nn.Module):
        def __init__(self, d: int = 768, depth: int = 12, patch: int = 16):
            super().__init__()
            self.patch = nn.Conv2d(3, d, patch, patch)
            self.pos = nn.Parameter(torch.randn(1, (SIDE // patch) ** 2, d) * 0.02)
            self.blocks = nn.Sequential(*[Block(d) for _ in range(depth)])
            self.norm = nn.LayerNorm(d, eps=1e-6)
            self.head = nn.Linear(d, N_TAGS)

        def forward(self, x):  # NHWC BGR 0-255, as the WD taggers take it
            x = x.flip(-1).permute(0, 3, 1, 2) / 127.5 - 1.0
            x = self.patch(x).flatten(2).transpose(1, 2) + self.pos
            x = self.norm(self.blocks(x)).mean(1)
            return torch.sigmoid(self.head(x))

    torch.manual_seed(0)
    model = ViT().eval()
    with torch.no_grad():  # sparse, image-dependent scores: ~30 general tags over 0.35, ~2 characters
        model.head.weight.mul_(3.5)
        model.head.bias.fill_(-6.0)
        model.head.bias[N_TAGS - N_CHARACTERS:] = -4.5
    tmp = path.with_name(".model.tmp.onnx")
    torch.onnx.export(model, (torch.rand(1, SIDE, SIDE, 3) * 255,), str(tmp), input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      opset_version=17, dynamo=False)
    tmp.replace(path)


def trailer() -> Path:
    target = CACHE / "trailer_bbb.mp4"
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / "moviepy-2.2.1.tar.gz"
    if not sdist.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "moviepy==2.2.1", "-d", str(CACHE), "-q"], check=True)
    with tarfile.open(sdist) as tar:
        member = tar.getmember(TRAILER)
        with tar.extractfile(member) as src, open(target.with_suffix(".tmp"), "wb") as dst:
            dst.write(src.read())
    target.with_suffix(".tmp").replace(target)
    return target


def frames(n: int) -> list[Path]:
    """n 1920x1080 PNG frames spread over the trailer (cached)."""
    import av
    from PIL import Image

    folder = CACHE / "frames1080"
    paths = [folder / f"frame_{i:03d}.png" for i in range(n)]
    if all(p.is_file() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    with av.open(str(trailer())) as container:
        stream = container.streams.video[0]
        total = stream.frames or 1300
        wanted = {int((i + 0.5) * total / n): i for i in range(n)}
        for k, frame in enumerate(container.decode(stream)):
            if k in wanted and not paths[wanted[k]].is_file():
                im = frame.to_image().resize((1920, 1080), Image.BICUBIC)
                tmp = folder / f".tmp_{wanted[k]}.png"
                im.save(tmp)
                tmp.replace(paths[wanted[k]])
            if k > max(wanted):
                break
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise RuntimeError(f"could not extract {len(missing)} frames from {trailer()}")
    return paths
