"""What crosses the wire between the driver and Ray workers.

Driver -> workers, once per actor: the stage (its class by reference, its attributes pickled,
`transient` ones such as open ONNX sessions left out and rebuilt by `prepare_worker`), a view of
the dataset folder, and the picklable parts of the Ports (model folders, providers, download
permission; never the host's progress/cancel callables).

Driver -> workers, per item: one row {id: int64, item: the pickled `Item` (its manifest row and
what the stage's `attach()` read for it)}. Items are small; pixels never travel: workers read
the files themselves.

Workers -> driver, per item: one row {id, ok, error, result: bytes, ...} where `result` is the
pickled return value of `process()` for that item (dataclasses, tuples, small arrays). Pickle is
the format Ray itself uses for tasks and actors, and these bytes come only from the workers of
the job this driver submitted, never from files; the driver alone turns them into manifest rows
through the stage's own `commit()`.
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any, Optional

from ..core.errors import UdwError
from ..core.manifest import Item
from ..core.ports import Ports
from ..core.stages import Stage


def pack_stage(stage: Stage) -> bytes:
    """The stage without its transient attributes, pickled (cloudpickle, as Ray does)."""
    return pack_object(stage)


def pack_object(obj: Any) -> bytes:
    """An object (stage or job) as (class, attributes), `transient` attributes left out."""
    from ray import cloudpickle

    register_by_value(type(obj))
    state = dict(obj.__dict__)
    for name in getattr(obj, "transient", ()):
        if name in state:
            state[name] = None
    try:
        return cloudpickle.dumps((type(obj), state), protocol=5)
    except Exception as exc:  # noqa: BLE001 - pickling raises many types; name the culprit
        label = getattr(obj, "name", type(obj).__name__)
        raise UdwError(f"{label!r} cannot be sent to Ray workers: {_culprit(state, exc)}",
                       "list the attribute in the class's `transient` and rebuild it in prepare_worker()") from exc


def unpack_stage(blob: bytes) -> Stage:
    return unpack_object(blob)


def unpack_object(blob: bytes) -> Any:
    cls, state = pickle.loads(blob)
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def _culprit(state: dict, exc: Exception) -> str:
    from ray import cloudpickle

    for name, value in state.items():
        try:
            cloudpickle.dumps(value)
        except Exception:  # noqa: BLE001
            return f"attribute {name!r} ({type(value).__name__}) cannot be pickled"
    return f"{type(exc).__name__}: {exc}"


def ports_spec(ports: Ports) -> dict:
    """The parts of the host's Ports that mean something on a worker."""
    return {"model_dirs": {k: [str(p) for p in v] for k, v in ports.model_dirs.items()},
            "providers": list(ports.providers) if ports.providers is not None else None,
            "allow_download": bool(ports.allow_download)}


def worker_ports(spec: dict) -> Ports:
    return Ports(model_dirs=spec.get("model_dirs") or {}, providers=spec.get("providers"),
                 allow_download=spec.get("allow_download", False))


def item_to_wire(item: Item) -> bytes:
    """An item row and its attached context (see Stage.attach), pickled."""
    return encode_result(item)


def item_from_wire(blob: bytes) -> Item:
    return pickle.loads(blob)


def encode_result(result: Any) -> bytes:
    buf = io.BytesIO()
    pickle.dump(result, buf, protocol=5)
    return buf.getvalue()


def decode_result(blob: Optional[bytes]) -> Any:
    return pickle.loads(blob) if blob is not None else None


def register_by_value(cls: type) -> None:
    """Ship a class's module by value when workers cannot import it (scripts, notebooks, tests).

    Classes from the `udw` package travel by reference: workers import the same code.
    """
    from ray import cloudpickle

    from .naming import pack_prefix

    name, prefix = cls.__module__, pack_prefix()
    ours = name == "udw" or name.startswith("udw.") or (prefix and name.startswith(f"{prefix}.udw."))
    if not ours and name in sys.modules and name != "__main__":
        cloudpickle.register_pickle_by_value(sys.modules[name])
