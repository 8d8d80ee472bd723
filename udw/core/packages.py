"""Optional imports with a clear error: which package is missing and how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import UdwError


class MissingPackage(UdwError):
    """A Python package a step needs is not installed in this environment."""


def require(module: str, package: str, needed_for: str) -> ModuleType:
    """`import module`, or MissingPackage saying that `needed_for` needs `pip install package`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingPackage(f"{needed_for} needs the Python package {package}, which is not installed ({exc})",
                             f"pip install {package} (inside ComfyUI or A1111: run UDW Studio's install.py "
                             "with the host's Python)") from exc
