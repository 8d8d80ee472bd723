"""Dedupe nodes: remove near-duplicates from a dataset, undo it, or dedupe an IMAGE batch."""

from __future__ import annotations

from PIL import Image, ImageDraw

from ..udw.core.errors import BadInput, UdwError
from ..udw.core.manifest import Dataset
from ..udw.dedupe.run import dedupe_dataset, dedupe_images, restore
from ..udw.dedupe.settings import ACTIONS, KEEP_RULES, LINKAGES, METHODS, DedupeSettings
from ..udw.gallery.fonts import ui_font
from .host import (CATEGORY, DATASET_TYPE, DatasetStageNode, comfy_ports, from_image_batch, register_model_folder,
                   to_image_batch, ui_preview)

_DEFAULTS = ", ".join(f"{m.name} {m.candidate:g}" for m in METHODS.values())
_THRESHOLD = ("FLOAT", {"default": METHODS["structure"].candidate, "min": 0.5, "max": 1.0, "step": 0.001,
                        "tooltip": f"smallest signature similarity of a candidate pair, which the pair verifier then checks (1 = identical only). "
                                   f"Typical: {_DEFAULTS}. For the hashes, 1 - bits/64."})
_METHOD = (list(METHODS), {"default": "structure", "tooltip": "; ".join(f"{m.name}: {m.help}" for m in METHODS.values())})
_KEEP = (list(KEEP_RULES), {"default": "sharpest", "tooltip": "; ".join(f"{k}: {v}" for k, v in KEEP_RULES.items())})
_LINKAGE = (list(LINKAGES), {"default": "direct", "tooltip": "; ".join(f"{k}: {v}" for k, v in LINKAGES.items())})
_MODEL = ("STRING", {"default": "mobilenetv3-large", "tooltip": "embed only: mobilenetv3-large, mobilenetv3-small, "
                     "clip-vit-b32 (files in models/udw_embedders or the HF cache) or a path to an .onnx model"})


def _fail(exc: UdwError) -> RuntimeError:
    return RuntimeError(str(exc))


def _settings(method, threshold, keep, linkage, model=None, action="mark", **_):
    return DedupeSettings(method=method, threshold=threshold, keep=keep, linkage=linkage,
                          model=(model or None) if method == "embed" else None, action=action).validated()


def _check(**values) -> object:
    """VALIDATE_INPUTS: a readable message for a bad setting (linked inputs arrive as None)."""
    known = {k: v for k, v in values.items() if v is not None}
    try:
        DedupeSettings(**known).validated()
    except (BadInput, TypeError) as exc:
        return str(exc).replace("\n  -> ", " — ")
    return True


def _ports(unique_id):
    return comfy_ports(unique_id, model_dirs={"embedders": register_model_folder("embedders")})


def _note(text: str, width: int = 640) -> Image.Image:
    im = Image.new("RGB", (width, 72), (24, 24, 28))
    ImageDraw.Draw(im).text((12, 24), text, fill=(230, 230, 235), font=ui_font(18))
    return im


class UDWRemoveDuplicates:
    DESCRIPTION = ("Find near-duplicate pictures in a dataset, keep one per cluster and mark the rest as "
                   "duplicates (or move/delete their files). Signatures propose candidate pairs; the pair "
                   "verifier merges copies and keeps different drawings (expressions, outfit colours), and "
                   "the report names the closest calls on both sides. Re-running replaces the previous result; "
                   "UDW Restore Duplicates undoes it. Outputs a preview of the largest clusters.")
    CATEGORY = f"{CATEGORY}/dedupe"
    RETURN_TYPES = (DATASET_TYPE, "IMAGE", "STRING")
    RETURN_NAMES = ("dataset", "clusters", "report")
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "dataset": (DATASET_TYPE, {"tooltip": "a UDW dataset (UDW Load Dataset, UDW Import Images, frames)"}),
            "method": _METHOD,
            "threshold": _THRESHOLD,
            "keep": _KEEP,
            "linkage": _LINKAGE,
            "action": (list(ACTIONS), {"default": "mark", "tooltip": "; ".join(f"{k}: {v}" for k, v in ACTIONS.items())}),
            "preview_clusters": ("INT", {"default": 8, "min": 1, "max": 64, "tooltip": "largest clusters in the preview"}),
        }, "optional": {"model": _MODEL}, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, method=None, threshold=None, keep=None, linkage=None, action=None):
        return _check(method=method, threshold=threshold, keep=keep, linkage=linkage, action=action)

    @classmethod
    def IS_CHANGED(cls, dataset=None, **kwargs):
        # The manifest can change on disk between runs; an unchanged result is not rewritten,
        # so the fingerprint settles after one run.
        return dataset.fingerprint() if isinstance(dataset, Dataset) else float("nan")

    def run(self, dataset, method, threshold, keep, linkage, action, preview_clusters, model=None, unique_id=None):
        try:
            settings = _settings(method, threshold, keep, linkage, model, action)
            report = dedupe_dataset(dataset, settings, _ports(unique_id), preview_clusters=preview_clusters)
        except UdwError as exc:
            raise _fail(exc) from exc
        text = "\n".join([report.summary(), *report.details()])
        grid = report.preview or _note("no near-duplicates found at this threshold")
        return {"ui": {**ui_preview([grid], "udw_dedupe"), "text": [text]},
                "result": (dataset, to_image_batch([grid]), text)}


class UDWRestoreDuplicates(DatasetStageNode):
    DESCRIPTION = "Undo the last dedupe of a dataset: every removed picture is active again (moved files go back)."
    CATEGORY = f"{CATEGORY}/dedupe"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"dataset": (DATASET_TYPE,)}, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def IS_CHANGED(cls, dataset=None, **kwargs):
        return dataset.fingerprint() if isinstance(dataset, Dataset) else float("nan")

    def run(self, dataset, unique_id=None):
        try:
            text = restore(dataset, comfy_ports(unique_id)).summary()
        except UdwError as exc:
            raise _fail(exc) from exc
        return {"ui": {"text": [text]}, "result": (dataset, text)}


class UDWDedupeImages:
    DESCRIPTION = ("Remove near-duplicates from an IMAGE batch: outputs the kept pictures (in order) and "
                   "their indices in the input batch, e.g. '0,3,4'.")
    CATEGORY = f"{CATEGORY}/dedupe"
    RETURN_TYPES = ("IMAGE", "STRING", "STRING")
    RETURN_NAMES = ("images", "kept_indices", "report")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "images": ("IMAGE",),
            "method": _METHOD,
            "threshold": _THRESHOLD,
            "keep": (list(KEEP_RULES), {"default": "earliest", "tooltip": _KEEP[1]["tooltip"]}),
            "linkage": _LINKAGE,
        }, "optional": {"model": _MODEL}, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, method=None, threshold=None, keep=None, linkage=None):
        return _check(method=method, threshold=threshold, keep=keep, linkage=linkage)

    def run(self, images, method, threshold, keep, linkage, model=None, unique_id=None):
        try:
            settings = _settings(method, threshold, keep, linkage, model)
            pictures = from_image_batch(images)
            result = dedupe_images(pictures, settings, _ports(unique_id))
        except UdwError as exc:
            raise _fail(exc) from exc
        return (images[result.kept], ",".join(map(str, result.kept)), result.summary())


MAPPINGS = {
    "UDWRemoveDuplicates": (UDWRemoveDuplicates, "UDW Remove Duplicates"),
    "UDWRestoreDuplicates": (UDWRestoreDuplicates, "UDW Restore Duplicates"),
    "UDWDedupeImages": (UDWDedupeImages, "UDW Dedupe Images"),
}
