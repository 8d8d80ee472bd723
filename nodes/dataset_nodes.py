"""Dataset nodes: import images into a dataset, open one, preview it as a grid."""

from __future__ import annotations

from ..udw.core.errors import UdwError
from ..udw.core.manifest import Dataset
from ..udw.dataset.ingest import MODES, import_images
from ..udw.gallery.grid import dataset_grid
from .gallery_nodes import dataset_entries
from .host import (CATEGORY, DATASET_TYPE, DatasetStageNode, comfy_ports, dataset_roots, engine_input, input_roots,
                   path_error, resolve_input, to_image_batch)


def _fail(exc: UdwError) -> RuntimeError:
    """ComfyUI shows exception text in its error dialog: give it the message and the hint."""
    return RuntimeError(str(exc))


class UDWImportImages(DatasetStageNode):
    DESCRIPTION = "Import image files (a folder, a file or a glob) into a UDW dataset; re-runs add only new files."
    CATEGORY = f"{CATEGORY}/dataset"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "source": ("STRING", {"default": "", "tooltip": "Folder, image file or glob pattern; relative "
                                  "paths start in ComfyUI's input folder."}),
            "dataset": ("STRING", {"default": "my_dataset", "tooltip": "Dataset folder; relative paths "
                                   "start in output/udw."}),
            "mode": (list(MODES), {"default": "copy", "tooltip": "copy the files, or hard-link them "
                                   "when on the same drive"}),
        }, "optional": engine_input(), "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, source=None):
        # Linked inputs arrive as None (checked when it runs). One argument: ComfyUI repeats a
        # failure against every argument declared here; `dataset` is checked when the node runs.
        return path_error(input_roots(), source) or True

    @classmethod
    def IS_CHANGED(cls, source, dataset, mode, engine=None, unique_id=None):
        try:
            src = input_roots().resolve(source)
            st = src.stat()
            ds = Dataset(dataset_roots().resolve(dataset))
            return f"{st.st_mtime_ns}:{ds.fingerprint()}"
        except (OSError, UdwError):
            return float("nan")

    def run(self, source, dataset, mode, engine=None, unique_id=None):
        try:
            report = import_images(resolve_input("dataset", dataset_roots(), dataset), [input_roots().resolve(source)],
                                   mode=mode, ports=comfy_ports(unique_id, engine=engine))
        except UdwError as exc:
            raise _fail(exc) from exc
        ds = Dataset(dataset_roots().resolve(dataset))
        text = report.summary()  # names every file that could not be imported
        return {"ui": {"text": [text]}, "result": (ds, text)}


class UDWLoadDataset:
    DESCRIPTION = "Open an existing UDW dataset folder."
    CATEGORY = f"{CATEGORY}/dataset"
    RETURN_TYPES = (DATASET_TYPE, "INT")
    RETURN_NAMES = ("dataset", "items")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"dataset": ("STRING", {"default": "my_dataset",
                                                    "tooltip": "Dataset folder; relative paths start in output/udw."})}}

    @classmethod
    def VALIDATE_INPUTS(cls, dataset=None):
        err = path_error(dataset_roots(), dataset)
        if err or dataset is None:
            return err or True
        try:
            Dataset(dataset_roots().resolve(dataset))
        except UdwError as exc:
            return str(exc)
        return True

    @classmethod
    def IS_CHANGED(cls, dataset):
        try:
            return Dataset(dataset_roots().resolve(dataset)).fingerprint()
        except UdwError:
            return float("nan")

    def run(self, dataset):
        ds = Dataset(dataset_roots().resolve(dataset))
        return (ds, ds.count())


class UDWDatasetPreview:
    DESCRIPTION = "Show the first items of a dataset as a labelled grid (also output as an IMAGE)."
    CATEGORY = f"{CATEGORY}/dataset"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("grid",)
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "dataset": (DATASET_TYPE,),
            "limit": ("INT", {"default": 48, "min": 1, "max": 1024, "tooltip": "how many items to show"}),
            "columns": ("INT", {"default": 0, "min": 0, "max": 64, "tooltip": "0 picks a near-square grid"}),
            "cell": ("INT", {"default": 192, "min": 32, "max": 1024, "step": 16, "tooltip": "cell size in pixels"}),
        }}

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")  # the dataset can change on disk between runs; previews are cheap

    def run(self, dataset, limit, columns, cell):
        try:
            grid = dataset_grid(dataset, limit=limit, cols=columns, cell=cell)
        except UdwError as exc:
            raise _fail(exc) from exc
        # the node shows the items one by one at a readable size (a grid of 48 squeezed into the node
        # was unreadable); the grid stays the IMAGE output
        return {"ui": {"udw_gallery": dataset_entries(dataset, limit)}, "result": (to_image_batch([grid]),)}


MAPPINGS = {
    "UDWImportImages": (UDWImportImages, "UDW Import Images"),
    "UDWLoadDataset": (UDWLoadDataset, "UDW Load Dataset"),
    "UDWDatasetPreview": (UDWDatasetPreview, "UDW Dataset Preview"),
}
