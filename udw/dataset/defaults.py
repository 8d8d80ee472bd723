"""One source of the Build defaults for every front end (CLI, ComfyUI node, UDW tab, app).

Each front end collects the same few choices (source, dataset, references, training folder,
trainer, steps) and turns them into `BuildSettings` here, so the same input gives the same
dataset whichever way it was started. Step settings left at None take the steps' own defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from .build import STEPS, BuildSettings
from .trainers import TRAINERS

DATASET = "dataset"          # dataset folder name when none is given (relative to the host's output root)
TRAINER = TRAINERS[0]        # everydream
TOGGLED_STEPS = tuple(s for s in STEPS if s not in ("frames", "export"))  # frames runs on the source; export
#                                                                            runs when a training folder is given

PathText = Optional[Union[str, Path]]


@dataclass(frozen=True)
class BuildChoices:
    """What a front end asks the user for, with the defaults every front end shows."""

    refs: PathText = None        # refs/NAME/*.png (None: DATASET/refs when present)
    export_to: PathText = None   # training folder (None: no export)
    trainer: str = TRAINER
    gallery_to: PathText = None  # page folder (None: DATASET/previews/gallery)

    def settings(self) -> BuildSettings:
        from ..characters import CharacterSettings
        from .export import ExportSettings

        return BuildSettings(export=ExportSettings(trainer=self.trainer or TRAINER),
                             export_to=self.export_to or None, gallery_to=self.gallery_to or None,
                             characters=CharacterSettings(refs=str(self.refs)) if self.refs else None)


def chosen_steps(enabled: dict[str, bool]) -> list[str]:
    """The steps to run from per-step toggles (missing toggles: on)."""
    return ["frames", *(s for s in TOGGLED_STEPS if enabled.get(s, True)), "export"]
