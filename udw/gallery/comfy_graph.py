"""Generation parameters out of a ComfyUI graph (the `prompt` API graph a SaveImage embeds).

Walks from each sampler (KSampler, KSamplerAdvanced, SamplerCustom, SamplerCustomAdvanced, or any
node that takes positive/negative conditioning and a seed) back to the prompt encoders through
conditioning nodes, string/primitive nodes and pass-through nodes, and down the model input to
the checkpoint and LoRA loaders. Anything it cannot follow is left empty: callers always keep the
raw JSON as well. `ui_to_api` turns a UI-format `workflow` (with Reroute and PrimitiveNode
nodes) into the same API shape for files that carry only the workflow.
"""

from __future__ import annotations

from typing import Any, Optional

from .geninfo import GenerationInfo

Link = list  # [node_id, output_index]
MAX_DEPTH = 64
SEED_KEYS = ("seed", "noise_seed")
STRING_KEYS = ("text", "value", "string", "prompt", "text_g", "text_l", "t5xxl", "clip_l", "STRING")
NUMBER_KEYS = ("seed", "noise_seed", "value", "int", "float", "number", "steps", "cfg")
PASS_KEYS = ("model", "conditioning", "samples", "latent", "clip", "input", "any", "image")


def _is_link(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and isinstance(v[0], (str, int)) and isinstance(v[1], int)


def _memo(method):
    """Cache a walk per (method, link): shared sub-graphs are walked once and a cycle ends the
    walk (an entry being computed reads as None), so hostile graphs stay linear."""

    def wrapper(self, value, depth=0):
        if not _is_link(value):
            return method(self, value, depth)
        key = (method.__name__, str(value[0]), value[1])
        if key not in self.memo:
            self.memo[key] = None
            self.memo[key] = method(self, value, depth)
        return self.memo[key]

    wrapper.__name__ = method.__name__
    return wrapper


class _Walker:
    def __init__(self, graph: dict):
        self.graph = {str(k): v for k, v in graph.items() if isinstance(v, dict)}
        self.memo: dict[tuple, Any] = {}

    def node(self, link: Any) -> tuple[Optional[dict], int]:
        if not _is_link(link):
            return None, 0
        node = self.graph.get(str(link[0]))
        return (node if isinstance(node, dict) else None), link[1]

    @staticmethod
    def inputs(node: dict) -> dict:
        value = node.get("inputs")
        return value if isinstance(value, dict) else {}

    # -- values through string / primitive / pass-through nodes ---------------------------------
    @_memo
    def string(self, value: Any, depth: int = 0) -> Optional[str]:
        if isinstance(value, str):
            return value
        node, _ = self.node(value)
        if node is None or depth > MAX_DEPTH:
            return None
        ins = self.inputs(node)
        if "string_a" in ins or "text_a" in ins:  # concatenation nodes
            parts = [self.string(ins.get(k), depth + 1) for k in ("string_a", "text_a", "string_b", "text_b")]
            delim = ins.get("delimiter", ins.get("separator", ""))
            return (delim if isinstance(delim, str) else "").join(p for p in parts if p)
        for key in STRING_KEYS:
            if key in ins:
                text = self.string(ins[key], depth + 1)
                if text is not None:
                    return text
        links = [v for v in ins.values() if _is_link(v)]
        return self.string(links[0], depth + 1) if len(links) == 1 else None

    @_memo
    def number(self, value: Any, depth: int = 0) -> Optional[float]:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                return None
        node, _ = self.node(value)
        if node is None or depth > MAX_DEPTH:
            return None
        ins = self.inputs(node)
        for key in NUMBER_KEYS:
            if key in ins:
                found = self.number(ins[key], depth + 1)
                if found is not None:
                    return found
        links = [v for v in ins.values() if _is_link(v)]
        return self.number(links[0], depth + 1) if len(links) == 1 else None

    # -- conditioning back to the text encoders ------------------------------------------------
    @_memo
    def prompt_text(self, link: Any, depth: int = 0) -> Optional[str]:
        node, slot = self.node(link)
        if node is None or depth > MAX_DEPTH:
            return None
        ins = self.inputs(node)
        if "positive" in ins and "negative" in ins:  # ControlNetApplyAdvanced and friends: by slot
            return self.prompt_text(ins["positive" if slot == 0 else "negative"], depth + 1)
        if "text_g" in ins:  # SDXL encoder: both texts when they differ
            g, l_ = self.string(ins.get("text_g")), self.string(ins.get("text_l"))
            return g if not l_ or l_ == g else f"{g}\n{l_}"
        for key in ("text", "t5xxl", "clip_l", "prompt"):
            if key in ins:
                found = self.string(ins[key], depth + 1)
                if found is not None:
                    return found
        parts = [self.prompt_text(ins[k], depth + 1) for k in sorted(ins)
                 if k.startswith("conditioning") and _is_link(ins[k])]
        parts = [p for p in parts if p]
        if parts:
            return "\n".join(dict.fromkeys(parts))
        links = [v for v in ins.values() if _is_link(v)]
        return self.prompt_text(links[0], depth + 1) if len(links) == 1 else None

    # -- model chain: checkpoint, LoRAs, clip skip -----------------------------------------------
    def model_chain(self, link: Any, info: GenerationInfo, depth: int = 0) -> None:
        node, _ = self.node(link)
        if node is None or depth > MAX_DEPTH or ("chain", str(link[0])) in self.memo:
            return
        self.memo[("chain", str(link[0]))] = True  # each loader once, also in cycles
        ins = self.inputs(node)
        if "lora_name" in ins:
            name = self.string(ins["lora_name"]) or "?"
            weight = self.number(ins.get("strength_model", ins.get("strength", 1.0)))
            if name not in {n for n, _ in info.loras}:
                info.loras.append((name, float(weight if weight is not None else 1.0)))
        if "stop_at_clip_layer" in ins and info.clip_skip is None:
            layer = self.number(ins["stop_at_clip_layer"])
            info.clip_skip = -int(layer) if layer is not None else None
        for key in ("ckpt_name", "unet_name", "model_name"):
            if key in ins and not info.model:
                info.model = self.string(ins[key])
        for key in ("model", "clip"):
            if _is_link(ins.get(key)):
                self.model_chain(ins[key], info, depth + 1)

    @_memo
    def latent_size(self, link: Any, depth: int = 0) -> tuple[Optional[int], Optional[int], bool]:
        """(width, height, from_empty): the size where the latent was made."""
        node, _ = self.node(link)
        if node is None or depth > MAX_DEPTH:
            return None, None, False
        ins = self.inputs(node)
        if "width" in ins and "height" in ins:
            w, h = self.number(ins["width"]), self.number(ins["height"])
            empty = "Empty" in str(node.get("class_type", ""))
            return (int(w) if w else None), (int(h) if h else None), empty
        for key in ("samples", "latent", "latent_image", "source"):
            if _is_link(ins.get(key)):
                return self.latent_size(ins[key], depth + 1)
        return None, None, False

    # -- samplers -----------------------------------------------------------------------------
    def samplers(self) -> list[tuple[str, dict]]:
        found = []
        for nid, node in self.graph.items():
            ins = self.inputs(node)
            kind = str(node.get("class_type", ""))
            has_cond = ("positive" in ins and "negative" in ins) or "guider" in ins
            if has_cond and ("Sampler" in kind or any(k in ins for k in SEED_KEYS) or "noise" in ins):
                found.append((nid, node))
        return sorted(found, key=lambda p: (len(p[0]), p[0]))

    def sampler_info(self, node: dict) -> dict:
        ins = self.inputs(node)
        out: dict[str, Any] = {"class_type": node.get("class_type")}
        positive, negative, model = ins.get("positive"), ins.get("negative"), ins.get("model")
        cfg = ins.get("cfg")
        guider, _ = self.node(ins.get("guider"))
        if guider is not None:
            g = self.inputs(guider)
            positive = g.get("positive", g.get("conditioning"))
            negative, model, cfg = g.get("negative"), g.get("model"), g.get("cfg", cfg)
        seed = next((ins[k] for k in SEED_KEYS if k in ins), None)
        noise, _ = self.node(ins.get("noise"))
        if seed is None and noise is not None:
            seed = next((self.inputs(noise)[k] for k in SEED_KEYS if k in self.inputs(noise)), None)
        out["seed"] = self.number(seed)
        out["cfg"] = self.number(cfg)
        out["steps"] = self.number(ins.get("steps"))
        out["sampler"] = self.string(ins.get("sampler_name"))
        out["scheduler"] = self.string(ins.get("scheduler"))
        out["denoise"] = self.number(ins.get("denoise"))
        sampler_node, _ = self.node(ins.get("sampler"))
        if sampler_node is not None and out["sampler"] is None:
            out["sampler"] = self.string(self.inputs(sampler_node).get("sampler_name"))
        sigmas, _ = self.node(ins.get("sigmas"))
        if sigmas is not None:
            s = self.inputs(sigmas)
            out["steps"] = out["steps"] or self.number(s.get("steps"))
            out["scheduler"] = out["scheduler"] or self.string(s.get("scheduler")) or (
                str(sigmas.get("class_type", "")).replace("Scheduler", "").lower() or None)
            out["denoise"] = out["denoise"] if out["denoise"] is not None else self.number(s.get("denoise"))
        out["positive"] = self.prompt_text(positive)
        out["negative"] = self.prompt_text(negative)
        out["width"], out["height"], out["txt2img"] = self.latent_size(
            ins.get("latent_image", ins.get("latent")))
        out["_model"] = model
        out["_clip"] = self._clip_of(positive)
        return out

    @_memo
    def _clip_of(self, link: Any, depth: int = 0) -> Any:
        node, _ = self.node(link)
        if node is None or depth > MAX_DEPTH:
            return None
        ins = self.inputs(node)
        if _is_link(ins.get("clip")):
            return ins["clip"]
        for key, value in ins.items():
            if (key.startswith("conditioning") or key == "positive") and _is_link(value):
                return self._clip_of(value, depth + 1)
        return None


def summarize_api(graph: dict) -> Optional[GenerationInfo]:
    """GenerationInfo of an API-format graph, or None when it holds no sampler."""
    if not isinstance(graph, dict):
        return None
    walker = _Walker(graph)
    samplers = [walker.sampler_info(node) for _, node in walker.samplers()]
    if not samplers:
        return None
    # The first-pass sampler (its latent made empty: txt2img) carries the prompt and size.
    primary = next((s for s in samplers if s["txt2img"]), samplers[0])
    info = GenerationInfo(source="comfyui")
    info.prompt = primary["positive"] or ""
    info.negative = primary["negative"] or ""
    info.seed = int(primary["seed"]) if primary["seed"] is not None else None
    info.steps = int(primary["steps"]) if primary["steps"] is not None else None
    info.cfg = float(primary["cfg"]) if primary["cfg"] is not None else None
    info.sampler, info.scheduler = primary["sampler"], primary["scheduler"]
    info.denoise = float(primary["denoise"]) if primary["denoise"] is not None else None
    info.width, info.height = primary["width"], primary["height"]
    walker.model_chain(primary["_model"], info)
    walker.model_chain(primary["_clip"], info)
    info.samplers = [{k: v for k, v in s.items() if not k.startswith("_")} for s in samplers]
    return info


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
