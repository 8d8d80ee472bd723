"""Generation parameters out of a ComfyUI graph (the `prompt` API graph a SaveImage embeds).

The walk starts at the saved image (SaveImage, else a preview, else the last sampler) and goes back
through decoders, upscalers and encoders to the first sampler whose latent starts empty (or from
an input image): that is the base pass; later samplers on the way are hires passes (the size
changed) or refiner passes (same size, another checkpoint), each with its own size and values.
From each sampler it walks to the prompt encoders (through conditioning, string, primitive and
pass-through nodes, guiders such as CFGGuider/DualCFGGuider, edit encoders, ConditioningZeroOut:
an empty negative) and down the model input to the checkpoint and LoRA loaders. Anything it cannot
follow is left empty: callers always keep the raw JSON as well.
"""

from __future__ import annotations

from typing import Any, Optional

from .comfy_walk import GraphWalker, is_link
from .comfy_workflow import ui_to_api
from .geninfo import GenerationInfo
from .passes import Pass

__all__ = ["summarize_api", "ui_to_api"]


def _int(value: Any) -> Optional[int]:
    return None if value is None else int(value)


def _float(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def _pass(kind: str, s: dict, nid: str) -> Pass:
    steps = _int(s["steps"])
    end = _int(s["end"])
    return Pass(kind, _int(s["seed"]), steps, _float(s["cfg"]), s["sampler"], s["scheduler"], _float(s["denoise"]),
                s["width"], s["height"], start_step=_int(s["start"]) or None,
                end_step=end if end is not None and steps is not None and end < steps else None,
                txt2img=s["txt2img"] if kind == "base" else None, node=nid)


def _best_chain(walker: GraphWalker, image_size: Optional[tuple]) -> tuple[list[str], dict]:
    """The saved image's chain: the one whose final size is the image's, else the longest."""
    chains = [walker.chain(link) for link in walker.outputs()]
    chains = [c for c in chains if c[0]] or [([nid], {}) for nid, _ in walker.samplers()[:1]]
    if image_size and all(image_size):
        sized = [c for c in chains if tuple(walker.size([c[0][-1], 0])) == tuple(image_size)]
        chains = sized or chains
    return max(chains, key=lambda c: len(c[0])) if chains else ([], {})


def summarize_api(graph: dict, image_size: Optional[tuple] = None) -> Optional[GenerationInfo]:
    """GenerationInfo of an API-format graph, or None when it holds no sampler. `image_size`: the
    saved image's (width, height), to tell apart the outputs of a graph that saves several."""
    if not isinstance(graph, dict):
        return None
    walker = GraphWalker(graph)
    ids, resizes = _best_chain(walker, image_size)
    if not ids:
        return None
    found = {nid: walker.sampler_info(walker.graph[nid]) for nid in ids}
    base = found[ids[0]]
    info = GenerationInfo(source="comfyui", prompt=base["positive"] or "", negative=base["negative"] or "")
    info.passes = [_pass("base", base, ids[0])]
    walker.model_chain(base["_model"], info)
    walker.model_chain(base["_clip"], info)
    for nid in ids[1:]:
        info.passes.append(_later_pass(walker, info, found[nid], nid, resizes.get(nid, [])))
    first = info.passes[0]
    info.seed, info.steps, info.cfg = first.seed, first.steps, first.cfg
    info.sampler, info.scheduler, info.width, info.height = first.sampler, first.scheduler, first.width, first.height
    hires = info.pass_of("hires")
    # A1111's `Denoising strength`: the hires pass's, or an img2img base's; a txt2img base has none
    info.denoise = hires.denoise if hires else (None if first.txt2img else first.denoise)
    return info


def _later_pass(walker: GraphWalker, info: GenerationInfo, s: dict, nid: str, resizes: list[dict]) -> Pass:
    base = info.passes[0]
    ckpt = walker.checkpoint_of(s["_model"])
    other_model = bool(ckpt and info.model and ckpt != info.model)
    resized = (s["width"], s["height"]) != (base.width, base.height) or bool(resizes)
    p = _pass("hires" if resized or not other_model else "refiner", s, nid)
    p.model = ckpt if other_model else None
    p.prompt = s["positive"] if s["positive"] not in (None, info.prompt) else None
    p.negative = s["negative"] if s["negative"] not in (None, info.negative) else None
    if p.kind == "hires":
        if base.width and p.width and base.height and p.height and \
                abs(p.width / base.width - p.height / base.height) < 0.01:
            p.upscale = round(p.width / base.width, 4)
        # a model upscaler names the hires upscaler (a plain resize after it only fits the size)
        ordered = sorted(resizes, key=lambda n: not is_link(walker.inputs(n).get("upscale_model")))
        p.upscaler = next((n for n in map(walker.upscaler_name, ordered) if n), None)
    walker.model_chain(s["_model"], info)  # LoRAs of this pass's model that the base did not have
    return p
