"""Reference-only attention, host-agnostic (torch): the maths shared by the ComfyUI patch and the
diffusers processor.

A reference pass runs the UNet on the noised reference latent and records, in every self-attention
layer, the keys and values it computes ("write"). The generation pass then lets each self-attention
query attend to its own keys/values AND the recorded ones ("read"), so the reference's features
(face, hair, outfit) flow into the picture wherever they fit, without a pixel-aligned copy.

- `strength` blends the attention output with and without the reference (0 = off, 1 = full);
- `style_fidelity` (as in sd-webui-controlnet and diffusers' reference pipeline): for the
  unconditional rows only, the output mixes in the reference-free attention; classifier-free
  guidance then pushes away from "no reference", i.e. towards the reference's style, at the cost of
  the prompt. 0 = balanced, 1 = the reference's style dominates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from .settings import ReferenceSettings

Attention = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Bank:
    """Keys/values recorded by the reference pass, by layer, as lists (one entry per reference)."""

    keys: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    def record(self, layer, k: torch.Tensor, v: torch.Tensor) -> None:
        self.keys.setdefault(layer, []).append(k.detach())
        self.values.setdefault(layer, []).append(v.detach())

    def get(self, layer) -> Optional[tuple[torch.Tensor, torch.Tensor]]:
        if layer not in self.keys:
            return None
        return torch.cat(self.keys[layer], dim=1), torch.cat(self.values[layer], dim=1)

    def clear(self) -> None:
        self.keys.clear()
        self.values.clear()


def _rows(ref: torch.Tensor, batch: int) -> torch.Tensor:
    """Reference rows matched to the generation batch (repeated when the reference pass was smaller)."""
    if ref.shape[0] == batch:
        return ref
    if batch % ref.shape[0]:
        raise ValueError(f"reference batch {ref.shape[0]} does not divide the generation batch {batch}")
    return ref.repeat(batch // ref.shape[0], *([1] * (ref.dim() - 1)))


def read_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, ref_k: torch.Tensor, ref_v: torch.Tensor,
                   attention: Attention, uncond: Optional[torch.Tensor], settings: ReferenceSettings) -> torch.Tensor:
    """Self-attention output for q/k/v [B, L, C] with the reference's keys/values [B', Lr, C] added.

    `uncond` is a bool mask over the B rows (True = unconditional), or None when unknown.
    """
    ref_k, ref_v = _rows(ref_k.to(k), k.shape[0]), _rows(ref_v.to(v), v.shape[0])
    with_ref = attention(q, torch.cat([k, ref_k], dim=1), torch.cat([v, ref_v], dim=1))
    strength, fidelity = settings.strength, settings.style_fidelity
    need_self = strength < 1.0 or (fidelity > 0.0 and uncond is not None and bool(uncond.any()))
    if not need_self:
        return with_ref
    plain = attention(q, k, v)
    out = with_ref if strength >= 1.0 else strength * with_ref + (1.0 - strength) * plain
    if fidelity > 0.0 and uncond is not None and bool(uncond.any()):
        out = out.clone()
        out[uncond] = fidelity * plain[uncond] + (1.0 - fidelity) * out[uncond]
    return out


def uncond_mask(cond_or_uncond: Optional[list], batch: int, device=None) -> Optional[torch.Tensor]:
    """Rows of a ComfyUI batch that are unconditional: it stacks equal chunks, one per entry of
    cond_or_uncond (0 = positive, 1 = negative)."""
    if not cond_or_uncond or batch % len(cond_or_uncond):
        return None
    per = batch // len(cond_or_uncond)
    flags = torch.tensor([c == 1 for c in cond_or_uncond], device=device)
    return flags.repeat_interleave(per)


def fit_latent(latent: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Centre-crop a reference latent [B, C, h, w] to the aspect of (height, width), then resize to it."""
    _, _, h, w = latent.shape
    if (h, w) == (height, width):
        return latent
    target = width / height
    if w / h > target:   # too wide: crop the sides
        nw = max(1, round(h * target))
        x0 = (w - nw) // 2
        latent = latent[..., :, x0:x0 + nw]
    else:
        nh = max(1, round(w / target))
        y0 = (h - nh) // 2
        latent = latent[..., y0:y0 + nh, :]
    return torch.nn.functional.interpolate(latent, size=(height, width), mode="bilinear", align_corners=False)


def reference_noise(shape, seed: int, dtype=torch.float32) -> torch.Tensor:
    """The fixed noise used to noise the reference at every step (deterministic, on the CPU)."""
    gen = torch.Generator(device="cpu").manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)
    return torch.randn(shape, generator=gen, dtype=dtype)
