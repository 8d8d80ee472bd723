"""Finding model files by path or name, and refusing the wrong kind with a clear message."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable, Optional, Union

from ..core.errors import BadInput, ModelNotFound
from ..core.ports import Ports
from ..models.registry import search_dirs
from .arch import FAMILY_TITLES, ArchInfo
from .reader import MODEL_SUFFIXES


def model_dirs(kind: str, ports: Optional[Ports] = None, extra: Iterable[Union[str, Path]] = ()) -> list[Path]:
    """Folders searched for `kind` (checkpoints, loras, vae): host folders, UDW_MODELS_DIR, cache."""
    return [Path(d) for d in extra] + search_dirs(kind, ports)


def list_models(kind: str, ports: Optional[Ports] = None, extra: Iterable[Union[str, Path]] = ()) -> list[Path]:
    """Model files (safetensors first, then pickles) in the folders for `kind`, recursively."""
    found: dict[Path, None] = {}
    for folder in model_dirs(kind, ports, extra):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in MODEL_SUFFIXES and path.is_file() and not path.name.startswith("."):
                    found.setdefault(path, None)
    return sorted(found, key=lambda p: (p.suffix.lower() != ".safetensors", p.name.lower()))


def find_model(name: Union[str, Path], kind: str = "checkpoints", ports: Optional[Ports] = None,
               extra: Iterable[Union[str, Path]] = (), allow_path: bool = True) -> Path:
    """An existing path as is (when allow_path); else a file whose name or stem matches `name` in
    the model folders. UIs pass allow_path=False and resolve typed paths against their roots."""
    path = Path(name).expanduser()
    if allow_path and path.is_file():
        return path
    if allow_path and path.exists():
        raise BadInput(f"{path} is a folder, not a model file", "give the .safetensors/.ckpt file itself")
    candidates = list_models(kind, ports, extra)
    wanted = str(name).lower()
    for cand in candidates:  # safetensors sort first, so they win over a .ckpt of the same stem
        if wanted in (cand.name.lower(), cand.stem.lower()) or str(cand).lower().endswith(wanted):
            return cand
    names = [c.name for c in candidates]
    close = difflib.get_close_matches(str(name), names + [c.stem for c in candidates], n=3, cutoff=0.4)
    where = "\n".join(f"    {d}" for d in model_dirs(kind, ports, extra))
    hint = (f"did you mean {', '.join(close)}? " if close else "") + \
        f"give a file path, or put the file in one of:\n{where}"
    raise ModelNotFound(f"no {kind[:-1] if kind.endswith('s') else kind} named {name!r}", hint)


def require_sd1(arch: ArchInfo, name: str) -> None:
    """Refuse anything but an SD1.x checkpoint, saying what the file is instead."""
    if arch.kind != "checkpoint":
        hints = {"lora": "load it with a LoRA loader (UDW LoRA Stack, --lora) on top of a checkpoint",
                 "vae": "use it as the separate VAE of a checkpoint (--vae / the vae input)",
                 "controlnet": "load it with a ControlNet loader",
                 "embedding": "put it in the embeddings folder and use its name in the prompt",
                 "unet": "this file has only the UNet: use a full checkpoint (UNet + text encoder + VAE)"}
        raise BadInput(f"{name} is not a checkpoint: it is a {arch.label}",
                       hints.get(arch.kind, "give a Stable Diffusion 1.x checkpoint (.safetensors)"))
    if arch.family != "SD1":
        what = FAMILY_TITLES.get(arch.family, "an unknown architecture")
        ctx = f" (text context {arch.context_dim})" if arch.context_dim else ""
        raise BadInput(f"{name} is a {what} checkpoint{ctx}, not Stable Diffusion 1.x",
                       "UDW is an SD1.x (NovelAI v1) fine-tune: pick an SD1.5-architecture checkpoint, "
                       "or use this one with its own loader")
    if "no text encoder" in " ".join(arch.notes):
        raise BadInput(f"{name} has no text encoder", "use a full checkpoint (UNet + text encoder + VAE)")
