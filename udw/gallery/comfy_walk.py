"""Walking a ComfyUI API graph: values through primitive and string nodes, conditioning back to the
text encoders (guiders, ConditioningZeroOut, edit encoders), the model chain to checkpoint and LoRA
loaders, and the image/latent flow (sizes, upscalers, the chain of samplers behind a saved image).
Every walk is bounded and memoised, so hostile graphs (cycles, deep chains) stay cheap."""

from __future__ import annotations

import re
from typing import Any, Optional

from .geninfo import GenerationInfo
from .passes import Lora, model_stem

Link = list  # [node_id, output_index]
MAX_DEPTH = 64
SEED_KEYS = ("seed", "noise_seed")
STRING_KEYS = ("text", "value", "string", "prompt", "text_g", "text_l", "t5xxl", "clip_l", "STRING")
NUMBER_KEYS = ("seed", "noise_seed", "value", "int", "float", "number", "steps", "cfg")
PASS_KEYS = ("model", "conditioning", "samples", "latent", "clip", "input", "any", "image")
BACK_KEYS = ("samples", "latent", "latent_image", "pixels", "image", "images", "source")  # image/latent flow
SCALE_RE = re.compile(r"(?:^|[^0-9])(\d)x|x(\d)(?:[^0-9]|$)", re.IGNORECASE)


def is_link(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and isinstance(v[0], (str, int)) and isinstance(v[1], int)


def _memo(method):
    """Cache a walk per (method, link): shared sub-graphs are walked once and a cycle ends the
    walk (an entry being computed reads as None), so hostile graphs stay linear."""

    def wrapper(self, value, depth=0):
        if not is_link(value):
            return method(self, value, depth)
        key = (method.__name__, str(value[0]), value[1])
        if key not in self.memo:
            self.memo[key] = None
            self.memo[key] = method(self, value, depth)
        return self.memo[key]

    wrapper.__name__ = method.__name__
    return wrapper


class GraphWalker:
    def __init__(self, graph: dict):
        self.graph = {str(k): v for k, v in graph.items() if isinstance(v, dict)}
        self.memo: dict[tuple, Any] = {}

    def node(self, link: Any) -> tuple[Optional[dict], int]:
        if not is_link(link):
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
        links = [v for v in ins.values() if is_link(v)]
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
        links = [v for v in ins.values() if is_link(v)]
        return self.number(links[0], depth + 1) if len(links) == 1 else None

    # -- conditioning back to the text encoders ------------------------------------------------
    @_memo
    def prompt_text(self, link: Any, depth: int = 0) -> Optional[str]:
        node, slot = self.node(link)
        if node is None or depth > MAX_DEPTH:
            return None
        ins = self.inputs(node)
        if node.get("class_type") == "ConditioningZeroOut":
            return ""  # zeroed conditioning: no prompt at all, whatever text it was made from
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
                 if k.startswith("conditioning") and is_link(ins[k])]
        parts = [p for p in parts if p]
        if parts:
            return "\n".join(dict.fromkeys(parts))
        links = [v for v in ins.values() if is_link(v)]
        return self.prompt_text(links[0], depth + 1) if len(links) == 1 else None

    # -- model chain: checkpoint, LoRAs, clip skip -----------------------------------------------
    def model_chain(self, link: Any, info: GenerationInfo, depth: int = 0) -> None:
        node, _ = self.node(link)
        if node is None or depth > MAX_DEPTH or ("chain", str(link[0])) in self.memo:
            return
        self.memo[("chain", str(link[0]))] = True  # each loader once, also in cycles
        ins = self.inputs(node)
        for key in ("model", "clip"):  # loaders nearer the checkpoint first: LoRAs in the order applied
            if is_link(ins.get(key)):
                self.model_chain(ins[key], info, depth + 1)
        if "lora_name" in ins:
            weight = self.number(ins.get("strength_model", ins.get("strength", 1.0)))
            clip = self.number(ins["strength_clip"]) if "strength_clip" in ins else None
            lora = Lora.from_file(self.string(ins["lora_name"]) or "?", float(1.0 if weight is None else weight),
                                  None if clip is None else float(clip))
            if lora.name not in {lo.name for lo in info.loras}:
                info.loras.append(lora)
        if "stop_at_clip_layer" in ins and info.clip_skip is None:
            layer = self.number(ins["stop_at_clip_layer"])
            info.clip_skip = -int(layer) if layer is not None else None
        for key in ("ckpt_name", "unet_name", "model_name"):
            if key in ins and not info.model:
                info.model = self.string(ins[key])

    # -- image and latent flow: sizes, upscalers, the chain of passes ----------------------------
    def back(self, node: dict) -> Any:
        """The input an image or latent came from (the first linked image/latent input)."""
        ins = self.inputs(node)
        return next((ins[k] for k in BACK_KEYS if is_link(ins.get(k))), None)

    @_memo
    def size(self, link: Any, depth: int = 0) -> tuple[Optional[int], Optional[int]]:
        """(width, height) in pixels of the image or latent on `link`, where it can be known."""
        node, _ = self.node(link)
        if node is None or depth > MAX_DEPTH:
            return None, None
        ins, kind = self.inputs(node), str(node.get("class_type", ""))
        if self.is_sampler(node):
            return self.size(ins.get("latent_image", ins.get("latent")), depth + 1)
        w, h = self.number(ins.get("width")), self.number(ins.get("height"))
        if isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0 and "Encode" not in kind:
            return int(w), int(h)
        factor = self.factor(node)
        src_w, src_h = self.size(self.back(node), depth + 1)
        if factor is not None and src_w and src_h:
            return int(round(src_w * factor)), int(round(src_h * factor))
        if "megapixels" in ins and src_w and src_h:
            scale = (float(self.number(ins["megapixels"]) or 1) * 1024 * 1024 / (src_w * src_h)) ** 0.5
            return int(round(src_w * scale)), int(round(src_h * scale))
        return src_w, src_h

    def factor(self, node: dict) -> Optional[float]:
        """The scale factor of an upscaling node (`scale_by`, or the `4x` in an upscale model's name)."""
        ins = self.inputs(node)
        if "scale_by" in ins:
            return self.number(ins["scale_by"])
        if is_link(ins.get("upscale_model")):
            m = SCALE_RE.search(self.upscaler_name(node) or "")
            return float(m.group(1) or m.group(2)) if m else None
        return None

    def upscaler_name(self, node: dict) -> Optional[str]:
        """A1111's name for how an upscaling node scales: `Latent (nearest-exact)`, `Lanczos`, a model."""
        ins = self.inputs(node)
        loader, _ = self.node(ins.get("upscale_model"))
        if loader is not None:
            name = self.string(self.inputs(loader).get("model_name"))
            return model_stem(name) if name else None
        method = self.string(ins.get("upscale_method"))
        if not method:
            return None
        if "Latent" in str(node.get("class_type", "")):
            return "Latent" if method == "bilinear" else f"Latent ({method})"
        return method.capitalize()

    def starts_empty(self, link: Any) -> bool:
        """Whether a sampler's latent was made empty (txt2img) rather than encoded or sampled before."""
        for _ in range(MAX_DEPTH):
            node, _slot = self.node(link)
            if node is None or self.is_sampler(node) or "Encode" in str(node.get("class_type", "")):
                return False
            if "Empty" in str(node.get("class_type", "")):
                return True
            link = self.back(node)
        return False

    def chain(self, link: Any) -> tuple[list[str], dict[str, list[dict]]]:
        """Sampler ids from the image on `link` back to the first one whose latent starts empty (first
        sampler first), and per later sampler the upscaling nodes between it and the one before."""
        samplers: list[str] = []
        resizes: dict[str, list[dict]] = {}
        pending: list[dict] = []
        seen: set[str] = set()
        while is_link(link) and str(link[0]) not in seen and len(seen) < MAX_DEPTH * 4:
            seen.add(str(link[0]))
            node, _ = self.node(link)
            if node is None:
                break
            if self.is_sampler(node):
                samplers.append(str(link[0]))
                resizes[str(link[0])], pending = pending, []
                ins = self.inputs(node)
                link = ins.get("latent_image", ins.get("latent"))
                continue
            if self.factor(node) is not None or "upscale_method" in self.inputs(node):
                pending.append(node)
            if "Empty" in str(node.get("class_type", "")):
                break
            link = self.back(node)
        samplers.reverse()
        # walking back, the resizes met before reaching a sampler come after it: before the next one
        return samplers, {sid: resizes[samplers[n - 1]] for n, sid in enumerate(samplers) if n}

    def checkpoint_of(self, link: Any) -> Optional[str]:
        for _ in range(MAX_DEPTH):
            node, _slot = self.node(link)
            if node is None:
                return None
            ins = self.inputs(node)
            for key in ("ckpt_name", "unet_name"):
                if key in ins:
                    return self.string(ins[key])
            link = ins.get("model")
        return None

    # -- samplers -----------------------------------------------------------------------------
    def is_sampler(self, node: dict) -> bool:
        ins, kind = self.inputs(node), str(node.get("class_type", ""))
        has_cond = ("positive" in ins and "negative" in ins) or "guider" in ins
        return has_cond and ("Sampler" in kind or any(k in ins for k in SEED_KEYS) or "noise" in ins)

    def samplers(self) -> list[tuple[str, dict]]:
        found = [(nid, node) for nid, node in self.graph.items() if self.is_sampler(node)]
        return sorted(found, key=lambda p: (len(p[0]), p[0]))

    def outputs(self) -> list[Any]:
        """Links of the images a graph saves (SaveImage-like first, then previews), else of its samplers."""
        saves = sorted(((0 if "Save" in str(n.get("class_type", "")) else 1, len(nid), nid, self.inputs(n)["images"])
                        for nid, n in self.graph.items()
                        if is_link(self.inputs(n).get("images")) and any(
                            k in str(n.get("class_type", "")) for k in ("Save", "Preview"))), key=lambda t: t[:3])
        return [t[3] for t in saves] or [[nid, 0] for nid, _ in self.samplers()]

    def conditioning(self, node: dict) -> tuple[Any, Optional[str], Optional[str], Any]:
        """(model link, positive text, negative text, cfg value) of a sampler, through its guider."""
        ins = self.inputs(node)
        guider, _ = self.node(ins.get("guider"))
        if guider is None:
            return ins.get("model"), self.prompt_text(ins.get("positive")), self.prompt_text(ins.get("negative")), \
                ins.get("cfg")
        g = self.inputs(guider)
        if "cond1" in g:  # DualCFGGuider: two positives, each its own CFG
            texts = [self.prompt_text(g.get(k)) for k in ("cond1", "cond2")]
            positive = "\n".join(dict.fromkeys(t for t in texts if t)) or None
            return g.get("model"), positive, self.prompt_text(g.get("negative")), g.get("cfg_conds")
        return (g.get("model"), self.prompt_text(g.get("positive", g.get("conditioning"))),
                self.prompt_text(g.get("negative")), g.get("cfg", ins.get("cfg")))

    def sampler_info(self, node: dict) -> dict:
        ins = self.inputs(node)
        out: dict[str, Any] = {"class_type": node.get("class_type")}
        model, out["positive"], out["negative"], cfg = self.conditioning(node)
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
        out["start"], out["end"] = self.number(ins.get("start_at_step")), self.number(ins.get("end_at_step"))
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
        latent = ins.get("latent_image", ins.get("latent"))
        out["width"], out["height"] = self.size(latent)
        out["txt2img"] = self.starts_empty(latent)
        out["_model"] = model
        out["_clip"] = self._clip_of(ins.get("positive")) or self._clip_of(self._guided(ins))
        return out

    def _guided(self, ins: dict) -> Any:
        guider, _ = self.node(ins.get("guider"))
        g = self.inputs(guider) if guider is not None else {}
        return g.get("positive", g.get("conditioning", g.get("cond1")))

    @_memo
    def _clip_of(self, link: Any, depth: int = 0) -> Any:
        node, _ = self.node(link)
        if node is None or depth > MAX_DEPTH:
            return None
        ins = self.inputs(node)
        if is_link(ins.get("clip")):
            return ins["clip"]
        for key, value in ins.items():
            if (key.startswith("conditioning") or key == "positive") and is_link(value):
                return self._clip_of(value, depth + 1)
        return None
