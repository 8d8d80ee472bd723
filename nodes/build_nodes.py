"""UDW Build Dataset: videos or pictures -> the whole dataset pipeline in one node (as `udw build`)."""

from __future__ import annotations

from ..udw.core.errors import UdwError
from ..udw.core.manifest import Dataset
from ..udw.dataset.build import build_dataset
from ..udw.dataset.defaults import DATASET, TOGGLED_STEPS, TRAINER, BuildChoices, chosen_steps
from ..udw.dataset.trainers import TRAINERS
from .host import (CATEGORY, DatasetStageNode, comfy_ports, dataset_roots, engine_input, input_roots, path_error,
                   register_model_folder, resolve_input)
from .tagging_nodes import tagger_dirs


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
        toggles = {s: ("BOOLEAN", {"default": True, "tooltip": f"run the {s} step"}) for s in TOGGLED_STEPS}
        return {"required": {
            "source": ("STRING", {"default": "", "tooltip": "videos or pictures: file, folder or glob; relative paths "
                                  "start in ComfyUI's input folder (empty: work on the dataset as it is)"}),
            "dataset": ("STRING", {"default": DATASET, "tooltip": "dataset folder; relative paths start in output/udw"}),
            **toggles,
            "refs": ("STRING", {"default": "", "tooltip": "character references refs/NAME/*.png (input folder; "
                                "empty: DATASET/refs when present)"}),
            "export_to": ("STRING", {"default": "", "tooltip": "training folder to write (output/udw; empty: none)"}),
            "trainer": (list(TRAINERS), {"default": TRAINER}),
        }, "optional": engine_input(), "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, source=None):
        # One argument: ComfyUI repeats a failure against every argument declared here. The other
        # paths are checked when the node runs, by an error that names the input.
        return (path_error(input_roots(), source) if source else None) or True

    def run(self, source, dataset, refs, export_to, trainer, unique_id=None, engine=None, **toggles):
        try:
            root = resolve_input("dataset", dataset_roots(), dataset)
            settings = BuildChoices(refs=resolve_input("refs", input_roots(), refs, True) if refs else None,
                                    export_to=resolve_input("export_to", dataset_roots(), export_to) if export_to
                                    else None, trainer=trainer).settings()
            steps = chosen_steps(toggles)
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
