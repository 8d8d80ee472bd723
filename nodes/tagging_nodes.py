"""WD14 tagger nodes: an IMAGE batch -> tags, confidences and rating; and a dataset stage."""

from __future__ import annotations

import json
import os

import numpy as np

import folder_paths

from ..udw.core.errors import ModelNotFound, UdwError
from ..udw.core.ports import Ports
from ..udw.models.fetch import auto_download_enabled, can_download
from ..udw.models.registry import get_spec, known_specs
from ..udw.tagging import DEFAULT_MODEL, TagOptions, list_local, open_tagger, parse_tag_list, resolve, tag_arrays
from ..udw.tagging.model import DEVICES
from ..udw.tagging.stage import run_lines, tag_dataset
from .host import (CATEGORY, DATASET_TYPE, DatasetStageNode, comfy_ports, from_image_batch,
                   register_model_folder)



def tagger_dirs() -> list[str]:
    """models/udw_taggers, then the folders of the popular WD14 node packs (their files work as they are)."""
    dirs = register_model_folder("taggers")
    if "wd14_tagger" in folder_paths.folder_names_and_paths:
        dirs += folder_paths.get_folder_paths("wd14_tagger")
    dirs.append(os.path.join(folder_paths.models_dir, "wd14_tagger"))
    for custom in folder_paths.folder_names_and_paths.get("custom_nodes", ([], None))[0]:
        dirs.append(os.path.join(custom, "ComfyUI-WD14-Tagger", "models"))
    return list(dict.fromkeys(dirs))


def _ports(unique_id=None, device="auto", allow_download=True) -> Ports:
    return comfy_ports(unique_id, model_dirs={"taggers": tagger_dirs()}, providers=DEVICES.get(device),
                       allow_download=allow_download and auto_download_enabled())


def _options(general_threshold, character_threshold, general_mcut, character_mcut, exclude_tags, max_tags,
             replace_underscore, escape_brackets, drop_overlap) -> TagOptions:
    return TagOptions(general=general_threshold, character=character_threshold, general_mcut=general_mcut,
                      character_mcut=character_mcut, blacklist=parse_tag_list(exclude_tags),
                      drop_overlap=drop_overlap, max_tags=max_tags, underscores=not replace_underscore,
                      escape=escape_brackets)


def _model_error(model):
    """A validation message when the model is missing and cannot arrive on first use, else True.

    Only `model` is validated: ComfyUI repeats a failure against every argument of VALIDATE_INPUTS."""
    if model is None:
        return True
    try:
        resolve(model, Ports(model_dirs={"taggers": tagger_dirs()}))
    except ModelNotFound as exc:
        known = model in {s.name for s in known_specs("taggers")}
        if known and auto_download_enabled() and can_download(get_spec(model)):
            return True  # downloads when the node runs (unless its allow_download is off: then it says so)
        return str(exc)
    return True


def _common_inputs() -> dict:
    models = list_local(tagger_dirs())
    return {
        "model": (models, {"default": DEFAULT_MODEL if DEFAULT_MODEL in models else models[0],
                           "tooltip": "SmilingWolf WD taggers by name, or any .onnx tagger with its "
                                      "selected_tags.csv, found in models/udw_taggers (or models/wd14_tagger)"}),
        "general_threshold": ("FLOAT", {"default": 0.35, "min": 0.0, "max": 1.0, "step": 0.01,
                                        "tooltip": "general tags scoring above this are kept"}),
        "character_threshold": ("FLOAT", {"default": 0.85, "min": 0.0, "max": 1.0, "step": 0.01,
                                          "tooltip": "character tags scoring above this are kept"}),
        "general_mcut": ("BOOLEAN", {"default": False, "tooltip": "pick the general threshold at the "
                                     "largest gap between scores (MCut) instead"}),
        "character_mcut": ("BOOLEAN", {"default": False, "tooltip": "MCut for characters (never below 0.15)"}),
        "exclude_tags": ("STRING", {"default": "", "tooltip": "comma-separated tags never to output"}),
        "max_tags": ("INT", {"default": 0, "min": 0, "max": 1000, "tooltip": "at most this many general "
                             "tags, best first (0: no limit)"}),
        "replace_underscore": ("BOOLEAN", {"default": True, "tooltip": "long_hair -> long hair (kaomoji "
                                           "such as ^_^ keep theirs)"}),
        "escape_brackets": ("BOOLEAN", {"default": True, "tooltip": r"( ) -> \( \) so prompts read them as text"}),
        "drop_overlap": ("BOOLEAN", {"default": True, "tooltip": "drop hair when long_hair is there"}),
    }


_OPTIONAL = {
    "device": (list(DEVICES), {"default": "auto", "tooltip": "auto: the best onnxruntime provider "
                               "installed, CPU if it fails its self-check"}),
    "int8": ("BOOLEAN", {"default": False, "tooltip": "int8 dynamic quantization: about 2x faster on CPU, "
                         "slightly different scores (made once, cached)"}),
    "allow_download": ("BOOLEAN", {"default": True, "tooltip": "download a missing SmilingWolf model from the "
                                   "Hugging Face Hub into models/udw_taggers on first use (UDW_AUTO_DOWNLOAD=0 "
                                   "turns downloads off everywhere)"}),
}


class UDWWD14Tagger:
    DESCRIPTION = ("Tag images with a WD14 tagger (SmilingWolf v2/v3 or a local ONNX tagger). One model "
                   "session for all runs; the batch is prepared in threads while the model runs. Outputs "
                   "one tag line, one JSON of tag -> confidence and one rating per image.")
    CATEGORY = f"{CATEGORY}/tagging"
    RETURN_TYPES = ("STRING", "STRING", "STRING")
    RETURN_NAMES = ("tags", "confidences", "rating")
    OUTPUT_IS_LIST = (True, True, True)
    OUTPUT_TOOLTIPS = ("tag line per image (characters first, then by score)",
                       "JSON object tag -> confidence per image", "general, sensitive, questionable or explicit")
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        inputs = {"required": {"image": ("IMAGE", {"tooltip": "images to tag (a batch is fine)"}),
                               **_common_inputs()},
                  "optional": {"mask": ("MASK", {"tooltip": "LoadImage's mask: transparent parts are put "
                                                 "on white, as the taggers were trained"}), **_OPTIONAL},
                  "hidden": {"unique_id": "UNIQUE_ID"}}
        return inputs

    @classmethod
    def VALIDATE_INPUTS(cls, model=None):
        return _model_error(model)

    def run(self, image, model, general_threshold, character_threshold, general_mcut, character_mcut,
            exclude_tags, max_tags, replace_underscore, escape_brackets, drop_overlap, mask=None,
            device="auto", int8=False, allow_download=True, unique_id=None):
        options = _options(general_threshold, character_threshold, general_mcut, character_mcut, exclude_tags,
                           max_tags, replace_underscore, escape_brackets, drop_overlap)
        ports = _ports(unique_id, device, allow_download)
        try:
            images = _with_alpha(from_image_batch(image), mask)
            tagger = open_tagger(model, ports, int8=int8, for_batches=len(images) > 1)
            results = tag_arrays(tagger, images, options, ports)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc
        tags = [r.prompt(options) for r in results]
        conf = [json.dumps(r.confidences(options), ensure_ascii=False) for r in results]
        ratings = [r.rating or "" for r in results]
        shown = [f"{rating}: {line}" for rating, line in zip(ratings, tags)]
        if tagger.session.fell_back:
            shown.insert(0, f"note: {tagger.session.reason}")
        return {"ui": {"text": shown}, "result": (tags, conf, ratings)}


def _with_alpha(images: list[np.ndarray], mask) -> list[np.ndarray]:
    """Add LoadImage's mask back as alpha (mask = 1 - alpha), so preparation composites onto white."""
    if mask is None:
        return images
    m = mask.detach().cpu().numpy() if hasattr(mask, "detach") else np.asarray(mask)
    m = m[None] if m.ndim == 2 else m
    out = []
    for i, im in enumerate(images):
        mi = m[min(i, len(m) - 1)]
        if mi.shape != im.shape[:2]:  # LoadImage gives a 64x64 zero mask for opaque images
            out.append(im)
            continue
        alpha = ((1.0 - mi) * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
        out.append(np.dstack([im, alpha]))
    return out


class UDWTagDataset(DatasetStageNode):
    DESCRIPTION = ("Tag every item of a UDW dataset: scores into its manifest, a .tags file beside each "
                   "image. Resumable: only new items, or all of them when the model or settings change.")
    CATEGORY = f"{CATEGORY}/tagging"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"dataset": (DATASET_TYPE,), **_common_inputs(),
                             "write_sidecars": ("BOOLEAN", {"default": True, "tooltip": "write <image>.tags"})},
                "optional": dict(_OPTIONAL), "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, model=None):
        return _model_error(model)

    @classmethod
    def IS_CHANGED(cls, dataset=None, **kwargs):
        return float("nan")  # the stage itself skips finished items: running again is cheap

    def run(self, dataset, model, general_threshold, character_threshold, general_mcut, character_mcut,
            exclude_tags, max_tags, replace_underscore, escape_brackets, drop_overlap, write_sidecars,
            device="auto", int8=False, allow_download=True, unique_id=None):
        options = _options(general_threshold, character_threshold, general_mcut, character_mcut, exclude_tags,
                           max_tags, replace_underscore, escape_brackets, drop_overlap)
        try:
            report = tag_dataset(dataset, model, options, _ports(unique_id, device, allow_download), int8=int8,
                                 sidecars=write_sidecars)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc
        text = "\n".join(run_lines(dataset, report))
        return {"ui": {"text": [text]}, "result": (dataset, text)}


MAPPINGS = {
    "UDWWD14Tagger": (UDWWD14Tagger, "UDW WD14 Tagger"),
    "UDWTagDataset": (UDWTagDataset, "UDW Tag Dataset"),
}
