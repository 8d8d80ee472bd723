"""Crash-safe file writes: write to a temporary name beside the target, then rename.

A killed process leaves at most a `*.udwtmp` file, never a half-written target; `sweep_temp`
removes such leftovers when a stage starts again.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Callable, Iterator, Union

from .errors import BadInput

TEMP_MARK = ".udwtmp"
PathLike = Union[str, os.PathLike]


def temp_name(target: Path) -> Path:
    # Keep the real suffix last so that encoders that infer the format from it still work.
    return target.with_name(f".{target.stem}{TEMP_MARK}{os.getpid()}{target.suffix}")


@contextlib.contextmanager
def atomic_path(target: PathLike, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success rename it onto `target`.

    On any error the temporary file is removed and the target is left as it was.
    A full disk becomes a `BadInput` that says so.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise BadInput(f"disk full while writing {target}",
                           "free some space (or choose another output folder) and run again") from exc
        if isinstance(exc, PermissionError):
            raise BadInput(f"cannot write {target}: permission denied",
                           "choose an output folder you can write to") from exc
        raise


def write_bytes(target: PathLike, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: PathLike, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_with(target: PathLike, writer: Callable[[Path], None]) -> Path:
    """Atomically create `target` by calling writer(temp_path)."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def sweep_temp(folder: PathLike) -> int:
    """Remove temporary files left by a killed run below `folder`; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    n = 0
    for path in folder.rglob(f"*{TEMP_MARK}*"):
        with contextlib.suppress(OSError):
            path.unlink()
            n += 1
    return n
