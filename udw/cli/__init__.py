"""The `udw` command: one verb per stage, over the same core that the host nodes use."""

from .main import main

__all__ = ["main"]
