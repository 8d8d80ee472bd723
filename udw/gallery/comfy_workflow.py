"""ComfyUI UI-format workflows (the `workflow` chunk) as API-format graphs, for files that carry
only the workflow or whose `prompt` graph lacks what the workflow still shows."""

from __future__ import annotations

from typing import Any

from .comfy_walk import MAX_DEPTH, SEED_KEYS


# -- UI-format workflows ------------------------------------------------------------------------
# Widget order of common core nodes (ComfyUI's INPUT_TYPES order; "control_after_generate" is the
# frontend's extra value after a seed widget).
WIDGETS = {
    "KSampler": ["seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "denoise"],
    "KSamplerAdvanced": ["add_noise", "noise_seed", "control_after_generate", "steps", "cfg",
                         "sampler_name", "scheduler", "start_at_step", "end_at_step",
                         "return_with_leftover_noise"],
    "SamplerCustom": ["add_noise", "noise_seed", "control_after_generate", "cfg"],
    "RandomNoise": ["noise_seed", "control_after_generate"],
    "CFGGuider": ["cfg"],
    "KSamplerSelect": ["sampler_name"],
    "BasicScheduler": ["scheduler", "steps", "denoise"],
    "KarrasScheduler": ["steps", "sigma_max", "sigma_min", "rho"],
    "CLIPTextEncode": ["text"],
    "CLIPTextEncodeSDXL": ["width", "height", "crop_w", "crop_h", "target_width", "target_height",
                           "text_g", "text_l"],
    "CLIPSetLastLayer": ["stop_at_clip_layer"],
    "CheckpointLoaderSimple": ["ckpt_name"],
    "CheckpointLoader": ["config_name", "ckpt_name"],
    "UNETLoader": ["unet_name", "weight_dtype"],
    "LoraLoader": ["lora_name", "strength_model", "strength_clip"],
    "LoraLoaderModelOnly": ["lora_name", "strength_model"],
    "EmptyLatentImage": ["width", "height", "batch_size"],
    "EmptySD3LatentImage": ["width", "height", "batch_size"],
    "LatentUpscale": ["upscale_method", "width", "height", "crop"],
    "LatentUpscaleBy": ["upscale_method", "scale_by"],
    "PrimitiveString": ["value"], "PrimitiveStringMultiline": ["value"],
    "PrimitiveInt": ["value", "control_after_generate"], "PrimitiveFloat": ["value"],
    "StringConcatenate": ["string_a", "string_b", "delimiter"],
    "ControlNetApplyAdvanced": ["strength", "start_percent", "end_percent"],
    "DualCFGGuider": ["cfg_conds", "cfg_cond2_negative", "style"],
    "TextEncodeQwenImageEdit": ["prompt"], "TextEncodeQwenImageEditPlus": ["prompt"],
    "ImageScale": ["upscale_method", "width", "height", "crop"], "ImageScaleBy": ["upscale_method", "scale_by"],
    "ImageScaleToTotalPixels": ["upscale_method", "megapixels"], "UpscaleModelLoader": ["model_name"],
    "VAELoader": ["vae_name"],
}
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}


def _links(workflow: dict) -> dict[int, tuple[Any, int]]:
    out = {}
    for link in workflow.get("links") or []:
        if isinstance(link, list) and len(link) >= 5:
            out[link[0]] = (link[1], link[2])
        elif isinstance(link, dict) and "id" in link:
            out[link["id"]] = (link.get("origin_id"), link.get("origin_slot", 0))
    return out


def _widget_names(node: dict, values: list) -> list[str]:
    known = WIDGETS.get(str(node.get("type")))
    if known:
        return known
    names = [i["widget"]["name"] for i in node.get("inputs") or []
             if isinstance(i, dict) and isinstance(i.get("widget"), dict) and "name" in i["widget"]]
    out, vi = [], 0
    for name in names:  # skip the frontend's control value that follows a seed widget
        out.append(name)
        vi += 1
        if name in SEED_KEYS and vi < len(values) and (values[vi] in CONTROL_VALUES or isinstance(values[vi], bool)):
            out.append("control_after_generate")
            vi += 1
    return out


def ui_to_api(workflow: dict) -> dict:
    """A UI-format workflow as an API-format graph: links resolved through Reroute nodes,
    PrimitiveNode values inlined, widget values named (known nodes, or the widget inputs that
    current frontends list). Muted and bypassed nodes are left out."""
    if not isinstance(workflow, dict) or not isinstance(workflow.get("nodes"), list):
        return {}
    nodes = {n.get("id"): n for n in workflow["nodes"] if isinstance(n, dict)}
    links = _links(workflow)

    def source(link_id: Any, depth: int = 0) -> Any:
        if link_id not in links or depth > MAX_DEPTH:
            return None
        origin, slot = links[link_id]
        node = nodes.get(origin)
        if node is None:
            return None
        if node.get("type") == "Reroute" or node.get("mode") == 4:
            ins = [i for i in node.get("inputs") or [] if isinstance(i, dict) and i.get("link") is not None]
            return source(ins[0]["link"], depth + 1) if ins else None
        if node.get("type") == "PrimitiveNode":
            values = node.get("widgets_values") or [None]
            return values[0] if isinstance(values, list) else None
        return [str(origin), int(slot or 0)]

    api = {}
    for nid, node in nodes.items():
        kind = node.get("type")
        if kind in ("Reroute", "PrimitiveNode", "Note", "MarkdownNote") or node.get("mode") in (2, 4):
            continue
        values = node.get("widgets_values")
        inputs: dict[str, Any] = {}
        if isinstance(values, dict):
            inputs.update(values)
        elif isinstance(values, list):
            inputs.update({k: v for k, v in zip(_widget_names(node, values), values)
                           if k != "control_after_generate"})
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and slot.get("link") is not None:
                value = source(slot["link"])
                if value is not None:
                    inputs[slot.get("name", "")] = value
        api[str(nid)] = {"class_type": kind, "inputs": inputs}
    return api
