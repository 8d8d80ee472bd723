"""Path safety: user-given names and paths must never escape their root."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Union

from .errors import BadInput, OutsideRoot

_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def safe_name(name: str, fallback: str = "unnamed") -> str:
    """A single path component made from free text (character names, folder labels).

    Separators, drive colons and control characters become `_`; `.`/`..` and leading dots
    are removed, so the result can never address another folder.
    """
    text = unicodedata.normalize("NFC", str(name)).strip()
    text = _UNSAFE.sub("_", text).strip(" .")
    text = text.lstrip(".")
    return text[:120] or fallback


def within(root: Union[str, os.PathLike], user_path: Union[str, os.PathLike]) -> Path:
    """Resolve `user_path` relative to `root` and refuse it if it leaves `root`.

    Symlinks are resolved first, so a link pointing outside the root is refused too.
    """
    root_r = Path(root).resolve()
    candidate = Path(user_path)
    full = (candidate if candidate.is_absolute() else root_r / candidate).resolve()
    if full != root_r and root_r not in full.parents:
        raise OutsideRoot(f"path {str(user_path)!r} is outside the allowed folder {root_r}",
                       "use a path inside that folder")
    return full


def rel_posix(path: Union[str, os.PathLike], root: Union[str, os.PathLike]) -> str:
    """`path` relative to `root`, with forward slashes (the manifest's path form)."""
    return Path(os.path.relpath(Path(path), Path(root))).as_posix()


class Roots:
    """The folders a UI user may name paths in (relative paths resolve against the first).

    Hosts build one from their own folders (ComfyUI input/output, A1111 outputs, `UDW_ROOTS`),
    so a path typed into a node, a tab or sent to a route can never reach elsewhere.
    """

    def __init__(self, *folders: Union[str, os.PathLike]):
        if not folders:
            raise ValueError("Roots needs at least one folder")
        self.folders = [Path(f).expanduser().resolve() for f in folders]
        # what to do about a refused path; a host says where its users add folders
        self.hint = "use a path inside them, or add its folder to the UDW_ROOTS environment variable"

    @classmethod
    def from_env(cls, *defaults: Union[str, os.PathLike], env: str = "UDW_ROOTS") -> "Roots":
        extra = [p for p in os.environ.get(env, "").split(os.pathsep) if p.strip()]
        return cls(*defaults, *extra)

    @property
    def default(self) -> Path:
        return self.folders[0]

    def resolve(self, user_path: Union[str, os.PathLike]) -> Path:
        text = str(user_path).strip()
        if not text:
            raise BadInput("no path given", "type a folder name or path")
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            return within(self.default, candidate)
        for root in self.folders:
            try:
                return within(root, candidate)
            except BadInput:
                continue
        allowed = ", ".join(str(f) for f in self.folders)
        raise OutsideRoot(f"path {text!r} is outside the allowed folders ({allowed})", self.hint)
