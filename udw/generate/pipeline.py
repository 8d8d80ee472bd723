"""The standalone SD1 pipeline: one checkpoint file (+ optional VAE and LoRAs) -> diffusers.

No hub access at any point: configs and the tokenizer are shipped (see sd1.py, tokenizer.py),
so HF_HUB_OFFLINE=1 changes nothing. The file is checked before anything heavy happens (what it
is, SD1 or not, with a message saying what it is otherwise). One loaded pipeline is kept.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

from ..checkpoints.arch import ArchInfo, detect
from ..checkpoints.hashing import FileHashes, file_hashes
from ..checkpoints.locate import require_sd1
from ..checkpoints.lora import check_compatible, lora_info
from ..checkpoints.reader import open_checkpoint
from ..core.errors import BadInput
from ..core.ports import Ports
from ..gallery.passes import Lora
from ..looks.samplers import SAMPLERS, SCHEDULERS, sampler_id, scheduler_id
from .lora_merge import merge_lora
from .sd1 import build_models, shipped_config
from .tokenizer import clip_tokenizer

log = logging.getLogger("udw.generate")


@dataclass
class LoraSpec:
    path: Path
    weight: float = 1.0

    @classmethod
    def parse(cls, text: str) -> "LoraSpec":
        """`path[:weight]` as typed on the command line."""
        head, sep, tail = str(text).rpartition(":")
        if sep and head and _is_number(tail):
            return cls(Path(head), float(tail))
        return cls(Path(text))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@dataclass
class Loaded:
    """A ready pipeline plus the facts the infotext needs."""

    pipe: Any
    path: Path
    arch: ArchInfo
    hashes: Optional[FileHashes]
    vae: Optional[Path] = None
    vae_hashes: Optional[FileHashes] = None
    loras: list[Lora] = field(default_factory=list)        # as merged: file, weight, A1111 short hash
    key: tuple = ()

    @property
    def name(self) -> str:
        return self.path.stem


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """diffusers/transformers warn about EMA extraction and dtype casts that do not apply here."""
    loggers = [logging.getLogger(n) for n in ("diffusers", "transformers")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def _torch():
    try:
        import diffusers  # noqa: F401
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise BadInput(f"standalone generation needs torch, diffusers and transformers ({exc.name} is missing)",
                       "pip install 'udw-studio[app]' (or: pip install diffusers transformers)") from exc
    return torch


def read_state_dict(path: Path) -> dict:
    """All tensors as torch tensors (safetensors via the library after our header check)."""
    torch = _torch()
    with open_checkpoint(path) as reader:
        if reader.format == "ckpt":
            return dict(reader.state_dict)
    from safetensors.torch import load_file

    return {k: v for k, v in load_file(str(path)).items() if isinstance(v, torch.Tensor)}


def checked_arch(path: Path) -> ArchInfo:
    with open_checkpoint(path) as reader:
        arch = detect(reader.tensors, reader, reader.metadata, path)
    require_sd1(arch, path.name)
    if arch.variant:
        raise BadInput(f"{path.name} is an {arch.variant} model", "txt2img needs a normal SD1 checkpoint")
    return arch


def make_scheduler(sampler: str, scheduler: str, prediction: str = "epsilon") -> Any:
    import inspect

    import diffusers

    cls_name, options = SAMPLERS[sampler_id(sampler)][1:]
    cls = getattr(diffusers, cls_name)
    config = {**shipped_config("scheduler"), "prediction_type": "v_prediction" if prediction == "v" else "epsilon",
              **options, **SCHEDULERS[scheduler_id(scheduler)][1]}
    accepted = set(inspect.signature(cls.__init__).parameters)
    return cls.from_config({k: v for k, v in config.items() if k in accepted})


_LOCK = threading.Lock()
_CACHE: dict[str, Loaded] = {}


def device_and_dtype(device: Optional[str] = None) -> tuple[Any, Any]:
    torch = _torch()
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return dev, (torch.float16 if dev.type == "cuda" else torch.float32)


def load_pipeline(checkpoint: Union[str, Path], vae: Optional[Union[str, Path]] = None,
                  loras: Sequence[LoraSpec] = (), device: Optional[str] = None,
                  ports: Optional[Ports] = None, hashes: bool = True) -> Loaded:
    """Build (or reuse) the pipeline for this checkpoint, VAE and LoRA set."""
    torch = _torch()
    from diffusers import StableDiffusionPipeline

    path = Path(checkpoint)
    dev, dtype = device_and_dtype(device)
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, str(vae), tuple((str(lo.path), lo.weight) for lo in loras),
           str(dev), str(dtype))
    with _LOCK:
        hit = _CACHE.get("current")
        if hit and hit.key == key:
            return hit
        _CACHE.clear()                      # one SD model in memory at a time
        arch = checked_arch(path)
        lora_states = [(lo, _lora_state(lo, arch, path)) for lo in loras]
        with quiet_libraries():
            sd = read_state_dict(path)
            vae_sd = read_state_dict(Path(vae)) if vae else None
            models = build_models(sd, vae_sd, dtype=torch.float32)
            del sd, vae_sd
            for lo, state in lora_states:
                merge_lora(state, models["unet"], models["text_encoder"], lo.weight, lo.path.name)
            pipe = StableDiffusionPipeline(vae=models["vae"], text_encoder=models["text_encoder"],
                                           tokenizer=clip_tokenizer(), unet=models["unet"],
                                           scheduler=make_scheduler("euler", "normal", arch.prediction),
                                           safety_checker=None, feature_extractor=None,
                                           requires_safety_checker=False)
            pipe = pipe.to(dev, dtype)
            pipe.set_progress_bar_config(disable=True)
        loaded = Loaded(pipe, path, arch, file_hashes(path, ports) if hashes else None,
                        Path(vae) if vae else None, file_hashes(vae, ports) if (vae and hashes) else None,
                        [Lora.from_file(lo.path.name, lo.weight,
                                        hash=file_hashes(lo.path, addnet=True).lora_short if hashes else None)
                         for lo, _ in lora_states], key)
        _CACHE["current"] = loaded
        return loaded


def _lora_state(lo: LoraSpec, arch: ArchInfo, ckpt: Path) -> dict:
    with open_checkpoint(lo.path) as reader:
        info = detect(reader.tensors)
        if info.kind != "lora":
            raise BadInput(f"{lo.path.name} is not a LoRA: it is a {info.label}", "give a LoRA file with --lora")
        check_compatible(lora_info(reader.tensors, reader.metadata), lo.path.name, arch.family, arch.context_dim)
    return read_state_dict(lo.path)


def unload() -> None:
    with _LOCK:
        _CACHE.clear()
