"""Shared plumbing: errors, ports (progress/cancel), atomic file writes, the dataset manifest, stages."""

from .errors import UdwError, BadInput, ModelNotFound, Cancelled
from .ports import Ports, ProgressFn, CancelFn
from .manifest import Dataset, Item
from .stages import Stage, StageReport, run_stage

__all__ = [
    "UdwError", "BadInput", "ModelNotFound", "Cancelled",
    "Ports", "ProgressFn", "CancelFn",
    "Dataset", "Item",
    "Stage", "StageReport", "run_stage",
]
