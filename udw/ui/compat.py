"""The few places where gradio 3.41, 4.x and 5/6 differ."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import gradio as gr


@functools.lru_cache(maxsize=None)
def _accepted(cls: type) -> frozenset:
    params = inspect.signature(cls.__init__).parameters
    return frozenset(params)


def make(cls: type, **kwargs: Any) -> Any:
    """Create a component, passing only the keyword arguments this gradio accepts.

    Callers give the union of spellings (e.g. `sources=["upload"]` for 4+, `source="upload"`
    for 3.x); each version keeps the ones it knows.
    """
    known = _accepted(cls)
    return cls(**{k: v for k, v in kwargs.items() if k in known})


def major() -> int:
    return int(gr.__version__.split(".")[0])


def update(**kwargs: Any) -> Any:
    """`gr.update` exists in every supported version (kept for 5/6 as a plain dict helper)."""
    return gr.update(**kwargs)
