"""Module names across the wire when `udw` is imported under another name.

ComfyUI imports the pack as a package named after its folder (e.g. `udw-studio main`), so our
classes are `udw-studio main.udw.tagging.stage.TagStage` there, a name no Ray worker can
import. Two fixes, both without touching sys.path:

- the actor classes handed to Ray are taken from the canonical `udw` package (loaded from this
  same folder if the host has not imported it under that name), which workers import normally;
- the driver tells the actors its prefix, and each actor makes `<prefix>` an alias package whose
  `udw` resolves to the same files before it unpickles the stage, so the stage, its options and
  its results keep their names: results come back as the driver's own classes.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

_OWN = __name__  # '<prefix>.udw.scale.naming' or 'udw.scale.naming'
_TAIL = ".udw.scale.naming"
UDW_DIR = Path(__file__).resolve().parents[1]


def pack_prefix() -> str:
    """The package this `udw` is imported under ('' when it is plain `udw`)."""
    return _OWN[: -len(_TAIL)] if _OWN.endswith(_TAIL) else ""


def canonical_class(cls: type) -> type:
    """The same class from the canonical `udw` package (what workers can import)."""
    prefix = pack_prefix()
    if not prefix:
        return cls
    module = cls.__module__[len(prefix) + 1:]
    return getattr(_canonical_module(module), cls.__qualname__)


def _canonical_module(name: str) -> types.ModuleType:
    if "udw" not in sys.modules:  # load the canonical package from this folder, by location
        spec = importlib.util.spec_from_file_location("udw", UDW_DIR / "__init__.py",
                                                      submodule_search_locations=[str(UDW_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["udw"] = module
        spec.loader.exec_module(module)
    return importlib.import_module(name)


def install_alias(prefix: str) -> None:
    """Worker side: make `<prefix>.udw...` importable from this worker's `udw` files."""
    if not prefix or prefix in sys.modules:
        return
    stub = types.ModuleType(prefix)
    stub.__path__ = [str(UDW_DIR.parent)]  # only its `udw` subpackage is ever imported
    sys.modules[prefix] = stub
