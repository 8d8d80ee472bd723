"""Tiny ControlNets in the original key layout (`control_model.*`, like lllyasviel's
control_v11p_sd15_openpose), built from the same UNet description as the tiny SD1 checkpoints.

A ControlNet is a copy of the UNet's encoder (time embedding, input blocks, middle block) plus:
the hint encoder `input_hint_block` (eight 3x3 convolutions 3->16->16->32->32->96->96->256->C, the
3rd, 5th and 7th with stride 2, so an image 8x the latent's size lands on the latent grid), one 1x1
`zero_convs.i` per input block and `middle_block_out`. Real training starts those at zero; here they
are random (deterministic), and the hint encoder's last convolution is amplified (`hint_gain`) so
that, as in a trained ControlNet, what the control adds depends mostly on the pose image rather
than on the noisy latent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Union

from .tiny_sd import COMFY, TINY, Entry, SDSpec, tensor_value, unet_tensor_specs, write_checkpoint

PREFIX = "control_model."
HINT_CHANNELS = (16, 16, 32, 32, 96, 96, 256)


def input_block_channels(spec: SDSpec) -> list[int]:
    """Output channels of every input block, in order (one zero conv each)."""
    c = spec.model_channels
    chans, ch = [c], c
    for level, mult in enumerate(spec.channel_mult):
        for _ in range(spec.num_res_blocks):
            ch = mult * c
            chans.append(ch)
        if level != len(spec.channel_mult) - 1:
            chans.append(ch)
    return chans


def controlnet_tensor_specs(spec: SDSpec = TINY, prefix: str = PREFIX, hint_channels: int = 3) -> list[Entry]:
    encoder = [e for e in unet_tensor_specs(spec, prefix)
               if e[0][len(prefix):].split(".")[0] in ("time_embed", "input_blocks", "middle_block")]
    hint: list[Entry] = []
    cin = hint_channels
    for i, cout in enumerate(HINT_CHANNELS + (spec.model_channels,)):
        hint += [(f"{prefix}input_hint_block.{2 * i}.weight", (cout, cin, 3, 3), "w"),
                 (f"{prefix}input_hint_block.{2 * i}.bias", (cout,), "b")]
        cin = cout
    zero: list[Entry] = []
    for i, ch in enumerate(input_block_channels(spec)):
        zero += [(f"{prefix}zero_convs.{i}.0.weight", (ch, ch, 1, 1), "w"), (f"{prefix}zero_convs.{i}.0.bias", (ch,), "b")]
    ch = spec.model_channels * spec.channel_mult[-1]
    mid = [(f"{prefix}middle_block_out.0.weight", (ch, ch, 1, 1), "w"), (f"{prefix}middle_block_out.0.bias", (ch,), "b")]
    return encoder + hint + zero + mid


def build_controlnet(path: Union[str, Path], spec: SDSpec = TINY, seed: int = 0, dtype: str = "F16",
                     prefix: str = PREFIX, hint_gain: float = 30.0) -> Path:
    """A ControlNet for checkpoints built from `spec` (TINY for diffusers, COMFY for ComfyUI)."""
    entries = controlnet_tensor_specs(spec, prefix)
    last = f"{prefix}input_hint_block.{2 * len(HINT_CHANNELS)}."
    overrides = {key: tensor_value(key, shape, init, seed) * hint_gain
                 for key, shape, init in entries if key.startswith(last)}
    return write_checkpoint(path, entries, seed=seed, dtype=dtype, overrides=overrides,
                            metadata={"udw_test_model": "tiny ControlNet (OpenPose layout)"})


def build_sdxl_like_controlnet(path: Union[str, Path], base: SDSpec = TINY, seed: int = 0) -> Path:
    """A ControlNet like `base` but whose cross-attention expects SDXL's 2048-wide text context
    (for the "ControlNet of another architecture" checks)."""
    return build_controlnet(path, replace(base, context_dim=2048), seed)


__all__ = ["build_controlnet", "build_sdxl_like_controlnet", "controlnet_tensor_specs", "input_block_channels",
           "COMFY", "TINY"]
