"""Gradio Blocks shared by the A1111 tab (gradio 3.41), Forge (gradio 4) and the standalone app.

Only this subpackage imports gradio. It is written against the API those versions share; where
they differ, `compat.make` drops the keyword arguments that the installed version does not know.
"""

from .host import UiHost

__all__ = ["UiHost", "build_blocks"]


def build_blocks(host: "UiHost"):
    from .app import build_blocks as _build

    return _build(host)
