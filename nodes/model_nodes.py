"""UDW Models: what models UDW uses, where they are installed, their licence and source; and a
download of one of them into ComfyUI's models/udw_<kind> folder (with progress)."""

from __future__ import annotations

import folder_paths

from ..udw.core.errors import UdwError
from ..udw.core.ports import Ports
from ..udw.models.registry import known_specs
from ..udw.models.status import HEADERS, get_model, list_status
from .host import CATEGORY, comfy_ports, register_model_folder
from .pose_nodes import model_dirs as pose_dirs
from .tagging_nodes import tagger_dirs

NOTHING = "(list only)"


def model_dirs() -> dict:
    """Every kind's folders as the nodes search them (models/udw_<kind> first: downloads go there)."""
    kinds = {s.kind for s in known_specs()} - {"controlnet"}
    dirs = {kind: register_model_folder(kind) for kind in kinds}
    controlnet = folder_paths.folder_names_and_paths.get("controlnet", ([f"{folder_paths.models_dir}/controlnet"],))
    dirs.update(pose_dirs(), taggers=tagger_dirs(), controlnet=list(controlnet[0]))  # where ControlNetLoader looks
    return dirs


def table(dirs: dict) -> str:
    lines = [" | ".join(HEADERS)]
    for status in list_status(Ports(model_dirs=dirs)):
        lines.append(" | ".join(status.row()))
    return "\n".join(lines)


class UDWModels:
    DESCRIPTION = ("The models UDW Studio uses (WD14 taggers, face detectors, character embedders, pose): "
                   "installed or not, where, licence and source. Pick one in `download` and run to fetch it into "
                   "models/udw_<kind> (UDW_MODEL_MIRROR=URL: from URL/<model>/<file>). Missing models also "
                   "arrive on first use unless UDW_AUTO_DOWNLOAD=0.")
    CATEGORY = f"{CATEGORY}/models"
    RETURN_TYPES = ("STRING",)
    RETURN_NAMES = ("models",)
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        names = sorted(s.name for s in known_specs())
        return {"required": {"download": ([NOTHING, *names], {"default": NOTHING,
                                                              "tooltip": "a model to download now"})},
                "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")  # the folders change outside ComfyUI

    def run(self, download, unique_id=None):
        dirs = model_dirs()
        note = ""
        if download != NOTHING:
            try:
                files = get_model(download, comfy_ports(unique_id, model_dirs=dirs))
            except UdwError as exc:
                raise RuntimeError(str(exc)) from exc
            note = f"{download}: {'downloaded' if files.origin == 'download' else 'already installed'} in " \
                   f"{files.first.parent}\n\n"
        text = note + table(dirs)
        return {"ui": {"text": [text]}, "result": (text,)}


MAPPINGS = {"UDWModels": (UDWModels, "UDW Models")}
