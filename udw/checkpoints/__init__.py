"""Checkpoints: streamed reading, architecture detection, hashes, inspection, lineage, LoRAs.

Nothing here needs torch except reading pickle (.ckpt) files, which goes through
torch.load(weights_only=True) only.
"""

from .arch import ArchInfo, detect
from .hashing import FileHashes, file_hashes
from .lineage import LineageReport, compare, format_lineage
from .locate import find_model, list_models, require_sd1
from .lora import LoraInfo, check_compatible, lora_info
from .reader import open_checkpoint
from .report import Report, format_report, inspect_file

__all__ = ["ArchInfo", "detect", "FileHashes", "file_hashes", "LineageReport", "compare", "format_lineage",
           "find_model", "list_models", "require_sd1", "LoraInfo", "check_compatible", "lora_info",
           "open_checkpoint", "Report", "format_report", "inspect_file"]
