"""The gallery node and the browser's routes: an IMAGE batch as a grid and a saved gallery folder
(images with their generation parameters, grid.png, index.html and index.md), shown in the node
as a scrollable thumbnail gallery by web/udw_gallery.js."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folder_paths
from PIL import Image, ImageOps

from ..udw.core.errors import UdwError
from ..udw.core.images import open_image
from ..udw.core.paths import safe_name, within
from ..udw.gallery.browser import BrowserService
from ..udw.gallery.comfy_graph import summarize_api
from ..udw.gallery.export import export_gallery
from ..udw.gallery.grid import make_grid
from ..udw.gallery.meta_write import save_image
from ..udw.gallery.query import Filter
from ..udw.gallery.thumbs import ThumbCache
from .host import CATEGORY, DATASET_TYPE, dataset_roots, from_image_batch, to_image_batch

_service: dict = {}


def browser_service() -> BrowserService:
    if "svc" not in _service:
        _service["svc"] = BrowserService(dataset_roots(), ThumbCache())
    return _service["svc"]


def comfy_folders() -> dict[str, str]:
    return {"output": folder_paths.get_output_directory(), "input": folder_paths.get_input_directory(),
            "temp": folder_paths.get_temp_directory()}


def register_routes() -> bool:
    """Add /udw/... routes to ComfyUI's server (absent when the pack is imported without one)."""
    try:
        import server  # ComfyUI's own module: imported only here, in the adapter
        routes = server.PromptServer.instance.routes
    except (ImportError, AttributeError):
        return False
    from .routes import register

    register(routes, browser_service, comfy_folders)
    return True


def dataset_entries(ds, limit: int) -> list[dict]:
    """The first `limit` active items as entries of the node's gallery (web/udw_gallery.js): shown at
    their own aspect through the browser's thumbnail route, enlarged on a click with their tags."""
    return [{"dataset": str(ds.root), "id": int(item.id), "label": Path(item.path).stem}
            for item in ds.items(status="active", limit=max(1, limit))]


def _next_folder(base: Path, prefix: str) -> Path:
    """`prefix_00001`, `prefix_00002`, ... like ComfyUI's own counters (never reuses a folder)."""
    pattern = re.compile(re.escape(prefix) + r"_(\d{5})$")
    taken = [int(m.group(1)) for p in base.glob(f"{prefix}_*") if (m := pattern.match(p.name))]
    return base / f"{prefix}_{max(taken, default=0) + 1:05d}"


class UDWGallery:
    DESCRIPTION = ("Lay out an IMAGE batch as a labelled grid and (optionally) save it as a gallery folder: "
                   "every image with its generation parameters, the grid, and HTML/Markdown pages. The node "
                   "shows a scrollable gallery; click a thumbnail to enlarge it.")
    CATEGORY = f"{CATEGORY}/gallery"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("grid",)
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "images": ("IMAGE", {"tooltip": "the images to show"}),
            "columns": ("INT", {"default": 0, "min": 0, "max": 64, "tooltip": "grid columns (0: near square)"}),
            "cell": ("INT", {"default": 256, "min": 64, "max": 1024, "step": 16,
                             "tooltip": "grid cell size in pixels"}),
            "title": ("STRING", {"default": "", "tooltip": "text above the grid and the page title"}),
            "save": ("BOOLEAN", {"default": True, "tooltip": "keep the gallery in the output folder "
                                 "(off: temporary, like a preview)"}),
            "filename_prefix": ("STRING", {"default": "udw_gallery", "tooltip": "gallery folder name prefix"}),
        }, "optional": {
            "labels": ("STRING", {"default": "", "multiline": True,
                                  "tooltip": "one label per line, in image order (empty: numbers)"}),
        }, "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO", "unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, filename_prefix=None):
        if filename_prefix is not None and safe_name(filename_prefix, "") != filename_prefix.strip():
            return f"filename_prefix {filename_prefix!r} may not contain / \\ : * ? \" < > | or start with a dot"
        return True

    def run(self, images, columns, cell, title, save, filename_prefix, labels="", prompt=None,
            extra_pnginfo=None, unique_id=None):
        pics = [Image.fromarray(a) for a in from_image_batch(images)]
        names = [line.strip() for line in (labels or "").splitlines()]
        names = [names[i] if i < len(names) and names[i] else f"#{i + 1}" for i in range(len(pics))]
        try:
            grid = make_grid(pics, names, cols=columns, cell=cell, title=title)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc
        kind = "output" if save else "temp"
        base = Path(comfy_folders()[kind])
        folder = _next_folder(base, safe_name(filename_prefix, "udw_gallery"))
        info = summarize_api(prompt) if isinstance(prompt, dict) else None
        workflow = (extra_pnginfo or {}).get("workflow") if isinstance(extra_pnginfo, dict) else None
        shown = []
        for i, (pic, name) in enumerate(zip(pics, names)):
            fname = f"{i + 1:04d}.png"
            if info is not None:
                info.params["Label"] = name
            save_image(pic, folder / "images" / fname, info, comfy_prompt=prompt, workflow=workflow)
            shown.append({"filename": fname, "subfolder": str(Path(folder.name) / "images"), "type": kind,
                          "label": name})
        save_image(grid, folder / "grid.png", None, comfy_prompt=prompt, workflow=workflow)
        export_gallery(folder / "images", folder, title=title or folder.name, link=True, thumb_size=256,
                       cache=browser_service().thumbs)
        ui = {"udw_gallery": shown,
              "udw_grid": [{"filename": "grid.png", "subfolder": folder.name, "type": kind}],
              "udw_folder": [json.dumps({"folder": folder.name, "type": kind})]}
        return {"ui": ui, "result": (to_image_batch([grid]),)}


class UDWDatasetImages:
    DESCRIPTION = ("Load the dataset items that match a filter as an IMAGE batch (each fitted into a square) "
                   "with their names as labels, e.g. to feed UDW Gallery. Filter syntax as in the browser: "
                   "`1girl, -smile, red hair|blue hair, * eyes`.")
    CATEGORY = f"{CATEGORY}/gallery"
    RETURN_TYPES = ("IMAGE", "STRING", "INT")
    RETURN_NAMES = ("images", "labels", "matched")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "dataset": (DATASET_TYPE,),
            "tags": ("STRING", {"default": "", "tooltip": "tag filter (empty: all active items)"}),
            "character": ("STRING", {"default": "", "tooltip": "only this character (empty: any)"}),
            "limit": ("INT", {"default": 16, "min": 1, "max": 256, "tooltip": "at most this many images"}),
            "size": ("INT", {"default": 512, "min": 64, "max": 2048, "step": 32,
                             "tooltip": "each image is fitted into a square of this size"}),
        }}

    @classmethod
    def IS_CHANGED(cls, dataset, **kwargs):
        return dataset.fingerprint() if hasattr(dataset, "fingerprint") else float("nan")

    def run(self, dataset, tags, character, limit, size):
        f = Filter(tags=tags, character=character.strip() or None)
        sets = browser_service().idsets(dataset)
        matched = sets.ordered(sets.resolve(f), "path")  # natural order of names: frame _2 before _10
        ids = [int(i) for i in matched[:limit]]
        if not ids:
            raise RuntimeError(f"no item of {dataset.root.name} matches the filter {tags!r}")
        pics, names = [], []
        for item in dataset.items(status=None, ids=ids):
            try:
                im = open_image(within(dataset.root, item.path))
            except UdwError:
                continue
            im = ImageOps.contain(im, (size, size), Image.Resampling.LANCZOS)  # enlarges small frames too
            square = Image.new("RGB", (size, size), (0, 0, 0))
            square.paste(im, ((size - im.width) // 2, (size - im.height) // 2))
            pics.append(square)
            names.append(Path(item.path).stem)
        if not pics:
            raise RuntimeError("every matching image is missing or unreadable; run Check files in the browser")
        return (to_image_batch(pics), "\n".join(names), int(matched.size))


MAPPINGS = {"UDWGallery": (UDWGallery, "UDW Gallery"),
            "UDWDatasetImages": (UDWDatasetImages, "UDW Dataset Images")}
