"""Reference-only attention on a ComfyUI MODEL through its patching API (nothing in ComfyUI is edited).

- `ModelPatcher.clone()` + `set_model_unet_function_wrapper`: before each UNet call inside the
  guidance window, the wrapper runs the UNet once on the noised reference latent (same sigma, same
  text conditioning, no ControlNet) with transformer_options marking a "write" pass; then the real
  call runs with a "read" mark. An existing wrapper (another node's) is chained, not replaced.
- `set_model_attn1_replace` for every input/middle/output block: the replacement sees the projected
  q/k/v of each self-attention layer; it records k/v in the write pass and, in the read pass, lets
  the queries attend to their own and the recorded keys/values (udw.pose.refattn). Existing attn1
  replacements (another node's) are called inside ours, not dropped.
The state of one sampling step travels in transformer_options, so the patch is re-entrant.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch

from ..udw.core.errors import BadInput
from ..udw.pose.refattn import Bank, ReferenceSettings, fit_latent, read_attention, reference_noise, uncond_mask

MODE_KEY, BANK_KEY = "udw_reference_mode", "udw_reference_bank"


def _attention(q, k, v, extra: dict) -> torch.Tensor:
    import comfy.ldm.modules.attention as attention

    return attention.optimized_attention(q, k, v, extra["n_heads"], attn_precision=extra.get("attn_precision"))


def _replacement(settings: ReferenceSettings, previous: Optional[Callable]) -> Callable:
    base = previous or _attention

    def replace(q, k, v, extra):
        mode, bank = extra.get(MODE_KEY), extra.get(BANK_KEY)
        if mode is None or bank is None:
            return base(q, k, v, extra)
        block = extra.get("block") or ("?", 0)
        layer = (block[0], block[1], extra.get("block_index", 0))
        if mode == "write":
            bank.record(layer, k, v)
            return base(q, k, v, extra)
        stored = bank.get(layer)
        if stored is None:
            return base(q, k, v, extra)
        rows = uncond_mask(extra.get("cond_or_uncond"), q.shape[0], q.device)
        return read_attention(q, k, v, stored[0], stored[1], lambda a, b, c: base(a, b, c, extra), rows, settings)

    return replace


def unet_blocks(model: Any) -> list[tuple[str, int]]:
    """(block name, number) of every block of the model's UNet, as ComfyUI names them."""
    dm = getattr(model.model, "diffusion_model", None)
    if dm is None or not hasattr(dm, "input_blocks") or not hasattr(dm, "output_blocks"):
        raise BadInput(f"reference guidance needs a UNet model (SD1.x, SD2, SDXL); this one is "
                       f"{type(getattr(model, 'model', model)).__name__}", "use an SD1.5-family checkpoint such as UDW")
    return ([("input", i) for i in range(len(dm.input_blocks))] + [("middle", 0)]
            + [("output", i) for i in range(len(dm.output_blocks))])


def patch_reference(model: Any, latents: list[torch.Tensor], settings: ReferenceSettings, seed: int = 0) -> Any:
    """A clone of `model` with reference-only attention from `latents` (already process_latent_in'd)."""
    settings.validate()
    blocks = unet_blocks(model)
    patched = model.clone()
    existing = dict(patched.model_options.get("transformer_options", {}).get("patches_replace", {}).get("attn1", {}))
    for name, number in blocks:
        patched.set_model_attn1_replace(_replacement(settings, existing.get((name, number))), name, number)
    for key, fn in existing.items():  # replacements bound to one transformer index win the lookup: wrap them too
        if len(key) == 3:
            patched.set_model_attn1_replace(_replacement(settings, fn), key[0], key[1], key[2])
    sampling = patched.get_model_object("model_sampling")
    sigma_hi = float(sampling.percent_to_sigma(settings.start))
    sigma_lo = float(sampling.percent_to_sigma(settings.end))
    previous = patched.model_options.get("model_function_wrapper")
    cache: dict = {}

    def fitted(i: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        key = (i, tuple(x.shape[2:]), x.device, x.dtype)
        if key not in cache:
            lat = fit_latent(latents[i][:1].float(), x.shape[2], x.shape[3])
            noise = reference_noise(lat.shape, seed + i)  # made at the final size: resizing noise would shrink it
            cache[key] = (lat.to(x.device, x.dtype), noise.to(x.device, x.dtype))
        return cache[key]

    def run(apply_model, args):
        if previous is not None:
            return previous(apply_model, args)
        return apply_model(args["input"], args["timestep"], **args["c"])

    def wrapper(apply_model, args):
        x, t, c = args["input"], args["timestep"], args["c"]
        sigma = float(t.flatten()[0])
        if not sigma_lo <= sigma <= sigma_hi or settings.strength <= 0:
            return run(apply_model, args)
        options = c.get("transformer_options", {})
        bank = Bank()
        ref_c = {k: v for k, v in c.items() if k != "control"}
        ref_c["transformer_options"] = {**options, MODE_KEY: "write", BANK_KEY: bank}
        for i in range(len(latents)):
            lat, noise = fitted(i, x)
            rows = x.shape[0]
            ref_x = sampling.noise_scaling(t.to(x.dtype), noise.repeat(rows, 1, 1, 1), lat.repeat(rows, 1, 1, 1))
            apply_model(ref_x, t, **ref_c)
        read_c = dict(c)
        read_c["transformer_options"] = {**options, MODE_KEY: "read", BANK_KEY: bank}
        try:
            return run(apply_model, {**args, "c": read_c})
        finally:
            bank.clear()

    patched.set_model_unet_function_wrapper(wrapper)
    return patched


def context_dim(module: Any) -> Optional[int]:
    """The text-context width of a UNet / ControlNet (768 SD1, 1024 SD2, 2048 SDXL), from its first
    cross-attention layer; None when it has none (T2I adapters, unloaded control LoRAs)."""
    if module is None:
        return None
    for sub in module.modules():
        attn2 = getattr(sub, "attn2", None)
        to_k = getattr(attn2, "to_k", None) if attn2 is not None else None
        if to_k is not None and hasattr(to_k, "in_features"):
            return int(to_k.in_features)
    return None


FAMILIES = {768: "SD1.x", 1024: "SD2.x", 2048: "SDXL"}


def check_controlnet(model: Any, control_net: Any) -> None:
    """A clear message when the ControlNet was made for another architecture than the model."""
    model_dim = context_dim(getattr(model.model, "diffusion_model", None))
    control_dim = context_dim(getattr(control_net, "control_model", None))
    if model_dim is None or control_dim is None or model_dim == control_dim:
        return
    family = FAMILIES.get(control_dim, f"text width {control_dim}")
    mine = FAMILIES.get(model_dim, f"text width {model_dim}")
    raise BadInput(f"the ControlNet is for {family} but the model is {mine}",
                   f"load an OpenPose ControlNet made for {mine} (for UDW / SD1.5: control_v11p_sd15_openpose)")
