"""`run_export`: arrange, balance and write one trainer's files plus the dataset card."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Optional, Union

from ..core.atomic import write_text
from ..core.errors import BadInput
from ..core.manifest import Dataset
from ..core.ports import Ports
from . import trainers as tr
from .arrange import ArrangeReport, ArrangeSettings, arrange, record_files
from .balance import table
from .card import render_card

CARD_NAME = "README.md"


@dataclass
class ExportSettings:
    trainer: str = "everydream"
    arrange: ArrangeSettings = field(default_factory=ArrangeSettings)
    caption_ext: Optional[str] = None      # None: the trainer's usual (.caption for kohya, else .txt)
    kohya_layout: str = "toml"             # toml | folders
    strategy: str = "REPEATS"              # OneTrainer: REPEATS | SAMPLES
    resolution: int = 512                  # kohya dataset TOML (UDW is SD1.x)
    card: bool = True

    def validate(self) -> None:
        if self.trainer not in tr.TRAINERS:
            raise BadInput(f"unknown trainer {self.trainer!r}", f"use one of {', '.join(tr.TRAINERS)}")
        if self.kohya_layout not in tr.KOHYA_LAYOUTS:
            raise BadInput(f"unknown kohya layout {self.kohya_layout!r}", f"use {' or '.join(tr.KOHYA_LAYOUTS)}")
        if self.strategy not in tr.STRATEGIES:
            raise BadInput(f"unknown balancing strategy {self.strategy!r}", f"use {' or '.join(tr.STRATEGIES)}")


@dataclass
class ExportReport:
    trainer: str
    arranged: ArrangeReport
    files: list[Path] = field(default_factory=list)
    table: str = ""

    @property
    def cancelled(self) -> bool:
        return self.arranged.cancelled

    def summary(self) -> str:
        files = "\n".join(f"  wrote {f}" for f in self.files)
        return f"{self.arranged.summary()}\n{files}\n\n{self.table}"


def run_export(dataset: Union[Dataset, str, Path], out: Union[str, Path], settings: Optional[ExportSettings] = None,
               ports: Optional[Ports] = None) -> ExportReport:
    s = settings or ExportSettings()
    s.validate()
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    ext = s.caption_ext or tr.CAPTION_EXT[s.trainer]
    arr_settings = replace(s.arrange, caption_ext=ext)
    arranged = arrange(ds, out, arr_settings, ports)
    report = ExportReport(s.trainer, arranged)
    if arranged.cancelled:
        return report
    bal, root = arranged.balance, arranged.out
    notes = _write_trainer(s, root, bal, ext, report)
    report.table = table(bal, s.trainer, s.strategy)
    if s.card:
        card = render_card(ds, arranged, bal, s.trainer, notes, _plain(s, ext), s.strategy)
        report.files.append(write_text(root / CARD_NAME, card))
    record_files(root, report.files)
    return report


def _write_trainer(s: ExportSettings, root: Path, bal, ext: str, report: ExportReport) -> list[str]:
    sep = s.arrange.caption.separator if s.arrange.caption.keep_parts else None
    if s.trainer == "everydream":
        report.files += tr.write_everydream(root, bal)
        return [f"EveryDream2: `--data_root {root}`; each folder's `multiply.txt` sets its repeats "
                "(whole part every epoch, fraction sampled); captions are the `.txt` beside each image."]
    if s.trainer == "kohya":
        if s.kohya_layout == "folders":
            report.files.append(tr.write_kohya_folders(root, bal, ext))
            return [f"kohya: `--train_data_dir {root / 'img'} --caption_extension {ext}`; "
                    "folder names `<repeats>_<name>` set the repeats."]
        report.files.append(tr.write_kohya_toml(root, bal, ext, s.resolution, sep))
        return [f"kohya: `--dataset_config {root / 'dataset.toml'}` (num_repeats per folder, "
                f"caption_extension {ext}; the TOML overrides folder names)."]
    flip = tr.flip_safe(s.arrange.caption.template)
    report.files.append(tr.write_onetrainer(root, bal, s.strategy, flip=flip))
    return [f"OneTrainer: load `{root / 'concepts.json'}` in the concepts tab; balancing "
            f"{s.strategy}, prompts from the `.txt` beside each image; random flip "
            + ("on." if flip else "off (captions name face positions or characters left to right, and "
               "OneTrainer mirrors only the image).")]


def _plain(s: ExportSettings, ext: str) -> dict:
    """The settings as used: the caption extension really written, also inside `arrange`."""
    used = replace(s, caption_ext=ext, arrange=replace(s.arrange, caption_ext=ext))
    return asdict(used)
