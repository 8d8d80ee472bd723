"""The shipped ComfyUI workflows: where they are, loading them, and drawing their thumbnails.

ComfyUI's template browser lists `example_workflows/*.json` of every custom-node pack (UI format,
with `NAME.jpg` as the card's picture); it does not look into sub-folders, so the API-format twins
live in `example_workflows/api/NAME.json` (for POST /prompt and scripts).
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "example_workflows"
API_FOLDER = FOLDER / "api"
THUMB_SIZE = (640, 400)
_COLOURS = {"UDWSampleMedia": (70, 110, 80), "Note": (110, 90, 50)}


def names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.json"))


def _stem(name: str) -> str:
    return name.removesuffix(".json").removesuffix(".api")


def load_api(name: str) -> dict:
    """An API-format workflow by name ("dedupe", "dedupe.json" or the old "dedupe.api.json")."""
    return json.loads((API_FOLDER / f"{_stem(name)}.json").read_text())


def load_ui(name: str) -> dict:
    return json.loads((FOLDER / f"{_stem(name)}.json").read_text())


def thumbnail(ui: dict, title: str) -> Image.Image:
    """The graph as a card picture: nodes as boxes with their titles, links as lines."""
    from ..gallery.fonts import ui_font

    nodes = ui["nodes"]
    x0 = min(n["pos"][0] for n in nodes) - 40
    y0 = min(n["pos"][1] for n in nodes) - 40
    x1 = max(n["pos"][0] + n["size"][0] for n in nodes) + 40
    y1 = max(n["pos"][1] + n["size"][1] for n in nodes) + 40
    w, h = THUMB_SIZE
    scale = min(w / (x1 - x0), (h - 56) / (y1 - y0))
    img = Image.new("RGB", THUMB_SIZE, (32, 34, 40))
    draw = ImageDraw.Draw(img)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x - x0) * scale, 56 + (y - y0) * scale

    by_id = {n["id"]: n for n in nodes}
    for link in ui.get("links", []):
        src, dst = by_id.get(link[1]), by_id.get(link[3])
        if src and dst:
            a = at(src["pos"][0] + src["size"][0], src["pos"][1] + 14 + 20 * link[2])
            b = at(dst["pos"][0], dst["pos"][1] + 14 + 20 * link[4])
            draw.line([a, b], fill=(150, 170, 210), width=2)
    font = ui_font(max(10, int(13 * min(1.6, scale * 1.4))))
    for n in nodes:
        left, top = at(*n["pos"])
        right, bottom = at(n["pos"][0] + n["size"][0], n["pos"][1] + n["size"][1])
        fill = _COLOURS.get(n["type"], (70, 74, 88) if not n["type"].startswith("UDW") else (60, 80, 120))
        draw.rounded_rectangle([left, top, right, bottom], radius=6, fill=fill, outline=(200, 200, 210))
        label = n.get("title") or n["type"].removeprefix("UDW")
        if n["type"] == "UDWSampleMedia":
            label = f"Sample: {n['widgets_values'][0]}"
        while len(label) > 1 and draw.textlength(label, font=font) > right - left - 10:
            label = label[:-1]
        draw.text((left + 6, top + 4), label, fill=(240, 240, 240), font=font)
    draw.text((16, 14), title, fill=(255, 255, 255), font=ui_font(24))
    return img


def write_thumbnails() -> list[Path]:
    """(Re)draw `NAME.jpg` beside every UI workflow (run after changing one)."""
    out = []
    for name in names():
        target = FOLDER / f"{name}.jpg"
        thumbnail(load_ui(name), name.replace("_", " ")).save(target, "JPEG", quality=85)
        out.append(target)
    return out


if __name__ == "__main__":
    for path in write_thumbnails():
        print(path)


# What the shipped workflows read before they made their own samples: tests that put their own
# files in ComfyUI's input folder use these names, as a user replacing the sample node would.
OWN_INPUTS = {"episodes": "udw_samples", "episode": "udw_sample_episode.mkv", "images": "udw_sample_images",
              "frames": "udw_sample_frames", "refs": "udw_sample_refs", "character": "udw_character_a.png",
              "pose": "udw_pose_b.png"}


def with_own_inputs(api: dict, paths: dict = OWN_INPUTS, images: bool = False) -> dict:
    """The workflow with each sample node's `path` link replaced by a typed path (`paths[sample]`)
    and, with `images`, each sample picture by a LoadImage of `paths[sample]` (in the input folder);
    sample nodes left without consumers are removed."""
    api = json.loads(json.dumps(api))
    samples = {k: v["inputs"]["sample"] for k, v in api.items() if v["class_type"] == "UDWSampleMedia"}
    for node in api.values():
        for name, value in node["inputs"].items():
            if isinstance(value, list) and value[0] in samples and value[1] == 0:
                node["inputs"][name] = paths[samples[value[0]]]
            elif isinstance(value, list) and value[0] in samples and images:
                node["inputs"][name] = [value[0], 0]  # LoadImage's IMAGE output
                api[value[0]] = {"class_type": "LoadImage", "inputs": {"image": paths[samples[value[0]]]}}
    used = {v[0] for node in api.values() for v in node["inputs"].values() if isinstance(v, list)}
    return {k: v for k, v in api.items() if k not in samples or k in used}


def load_with_own_inputs(name: str, images: bool = False, **paths: str) -> dict:
    return with_own_inputs(load_api(name), {**OWN_INPUTS, **paths}, images)
