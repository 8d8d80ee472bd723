"""The suite's fixtures, one plugin module per area (registered in tests/conftest.py)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
