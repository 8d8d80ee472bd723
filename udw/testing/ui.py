"""Reading what a UDW gradio section showed, for tests that drive the UI over HTTP."""

from __future__ import annotations

import html
import re
from typing import Any


def shown_error(result: Any, index: int = 0) -> str:
    """The text of the lasting error message in output `index` of a section's result (fails if none)."""
    value = result[index] if isinstance(result, (tuple, list)) else result
    assert isinstance(value, str) and 'class="udw-msg udw-error"' in value, f"no error message shown: {value!r}"
    return html.unescape(re.sub(r"<[^>]+>", " ", value))
