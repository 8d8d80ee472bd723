"""UDW Build Dataset: videos or pictures -> the whole dataset pipeline in one node (as `udw build`)."""

from __future__ import annotations

from ..udw.characters import CharacterSettings
from ..udw.core.errors import UdwError
from ..udw.core.manifest import Dataset
from ..udw.dataset import ExportSettings
from ..udw.dataset.build import STEPS, BuildSettings, build_dataset
from ..udw.dataset.trainers import TRAINERS
from .host import (CATEGORY, DatasetStageNode, comfy_ports, dataset_roots, engine_input, input_roots, path_error,
                   register_model_folder)
from .tagging_nodes import tagger_dirs

_OPTIONAL_STEPS = [s for s in STEPS if s not in ("frames", "export")]  # toggles; frames runs on the source


def _model_dirs() -> dict:
    return {"taggers": tagger_dirs(), "detectors": register_model_folder("detectors"),
            "embedders": register_model_folder("embedders")}


class UDWBuildDataset(DatasetStageNode):
    DESCRIPTION = ("The whole dataset pipeline: frames (videos) or import (pictures), dedupe, WD14 tags, faces and "
                   "face-ratio buckets, characters, an optional training folder and a gallery page. A step whose "
                   "model is missing is skipped with what to do (see the report); re-runs resume.")
    CATEGORY = f"{CATEGORY}/dataset"

    @classmethod
    def INPUT_TYPES(cls):
        toggles = {s: ("BOOLEAN", {"default": True, "tooltip": f"run the {s} step"}) for s in _OPTIONAL_STEPS}
        return {"required": {
            "source": ("STRING", {"default": "", "tooltip": "videos or pictures: file, folder or glob; relative paths "
                                  "start in ComfyUI's input folder (empty: work on the dataset as it is)"}),
            "dataset": ("STRING", {"default": "dataset", "tooltip": "dataset folder; relative paths start in output/udw"}),
            **toggles,
            "refs": ("STRING", {"default": "", "tooltip": "character references refs/NAME/*.png (input folder; "
                                "empty: DATASET/refs when present)"}),
            "export_to": ("STRING", {"default": "", "tooltip": "training folder to write (output/udw; empty: none)"}),
            "trainer": (list(TRAINERS), {"default": TRAINERS[0]}),
        }, "optional": engine_input(), "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, source=None, dataset=None, refs=None, export_to=None):
        return (path_error(input_roots(), source) if source else None) or \
            (path_error(input_roots(), refs) if refs else None) or \
            (path_error(dataset_roots(), export_to, must_exist=False) if export_to else None) or \
            path_error(dataset_roots(), dataset, must_exist=False) or True

    def run(self, source, dataset, refs, export_to, trainer, unique_id=None, engine=None, **toggles):
        try:
            root = dataset_roots().resolve(dataset)
            settings = BuildSettings(export=ExportSettings(trainer=trainer),
                                     export_to=dataset_roots().resolve(export_to) if export_to else None,
                                     characters=CharacterSettings(refs=str(input_roots().resolve(refs)))
                                     if refs else None)
            steps = ["frames", *(s for s in _OPTIONAL_STEPS if toggles.get(s, True)), "export"]
            report = build_dataset(root, [input_roots().resolve(source)] if source else [], steps,
                                   comfy_ports(unique_id, model_dirs=_model_dirs(), engine=engine), settings,
                                   strict=False)
        except UdwError as exc:
            raise RuntimeError(str(exc)) from exc
        text = report.summary()
        if report.cancelled:
            raise RuntimeError(text)
        # skipped steps, one line each: web/udw_report.js lists them in amber and colours the node
        skipped = [step.line().strip() for step in report.steps if step.status == "skipped"]
        return {"ui": {"text": [text], "udw_warnings": skipped}, "result": (Dataset(root), text)}


MAPPINGS = {"UDWBuildDataset": (UDWBuildDataset, "UDW Build Dataset")}
