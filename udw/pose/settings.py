"""Reference guidance settings (no torch here: the UIs import this)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import BadInput


@dataclass
class ReferenceSettings:
    strength: float = 1.0
    style_fidelity: float = 0.5
    start: float = 0.0           # fraction of the sampling where the guidance starts / ends
    end: float = 1.0

    def validate(self) -> None:
        for name in ("strength", "style_fidelity", "start", "end"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise BadInput(f"reference {name.replace('_', ' ')} {value} is outside 0..1", "use a value from 0 to 1")
        if self.start > self.end:
            raise BadInput(f"reference start {self.start} is after its end {self.end}", "make start <= end")
