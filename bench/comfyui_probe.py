"""Run inside a real ComfyUI: load a checkpoint with ComfyUI's own loader and with the UDW node.

Run with ComfyUI's Python, from the ComfyUI folder, with it on PYTHONPATH:
    cd $UDW_COMFYUI_DIR && PYTHONPATH=. $UDW_COMFYUI_PYTHON /path/to/udw-studio/bench/comfyui_probe.py \
        check --ckpt FILE [--lora FILE]
    ... comfyui_probe.py bench --ckpt FILE --repeat 3
Prints one JSON object. The UDW pack is loaded by ComfyUI's own custom-node loader.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def setup(ckpt: Path, lora: Path | None):
    from comfy.cli_args import args

    args.cpu = True                                # as `main.py --cpu` (these machines have no GPU)
    import folder_paths
    import nodes

    folder_paths.add_model_folder_path("checkpoints", str(ckpt.parent), is_default=True)
    if lora:
        folder_paths.add_model_folder_path("loras", str(lora.parent), is_default=True)
    ok = asyncio.run(nodes.load_custom_node(str(REPO)))
    if not ok:
        raise SystemExit("ComfyUI could not load the UDW pack")
    return nodes


def check(args) -> dict:
    ckpt = Path(args.ckpt)
    lora = Path(args.lora) if args.lora else None
    nodes = setup(ckpt, lora)
    import comfy.sd

    out = {}
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(ckpt), output_vae=True, output_clip=True)
    out["guess_config"] = {"model_config": type(model.model.model_config).__name__,
                           "clip": clip is not None, "vae": vae is not None}
    loader = nodes.NODE_CLASS_MAPPINGS["UDWCheckpointLoader"]
    m, c, v, info = loader().load(ckpt.name, -2, "(baked)", "SD1 (UDW)", False)
    out["node"] = {"clip_layer": c.layer_idx, "info": info, "model_config": type(m.model.model_config).__name__}
    if lora:
        collect = Collect()
        logging.getLogger().addHandler(collect)
        stack = nodes.NODE_CLASS_MAPPINGS["UDWLoraStack"]()
        m2, c2, text = stack.apply(m, c, lora_1=lora.name, strength_model_1=1.0, strength_clip_1=1.0)
        logging.getLogger().removeHandler(collect)
        out["lora"] = {"text": text, "model_patches": len(m2.patches), "clip_patches": len(c2.patcher.patches),
                       "not_loaded": [x for x in collect.lines if "NOT LOADED" in x or "lora key" in x]}
    return out


def bench(args) -> dict:
    ckpt = Path(args.ckpt)
    nodes = setup(ckpt, None)
    simple = nodes.NODE_CLASS_MAPPINGS["CheckpointLoaderSimple"]()
    udw = nodes.NODE_CLASS_MAPPINGS["UDWCheckpointLoader"]()
    runs = {"CheckpointLoaderSimple": [], "UDWCheckpointLoader": []}
    cpu = {"CheckpointLoaderSimple": [], "UDWCheckpointLoader": []}   # process CPU time: less
    # sensitive than wall time to other processes on a shared machine

    def once(name):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        if name == "CheckpointLoaderSimple":
            out = simple.load_checkpoint(ckpt.name)
        else:
            out = udw.load(ckpt.name, -2, "(baked)", "SD1 (UDW)", False)
        runs[name].append(time.perf_counter() - t)
        cpu[name].append(time.process_time() - c)
        del out
        gc.collect()

    once("CheckpointLoaderSimple")                 # warm the page cache; not counted
    runs["CheckpointLoaderSimple"].clear()
    cpu["CheckpointLoaderSimple"].clear()
    for i in range(args.repeat):                   # alternate the order to share drift fairly
        order = ("CheckpointLoaderSimple", "UDWCheckpointLoader") if i % 2 == 0 else \
            ("UDWCheckpointLoader", "CheckpointLoaderSimple")
        for name in order:
            once(name)
    med = {k: statistics.median(v) for k, v in runs.items()}
    best = {k: min(v) for k, v in runs.items()}
    return {"file": str(ckpt), "size": os.path.getsize(ckpt), "runs": runs, "median": med, "min": best,
            "ratio": med["UDWCheckpointLoader"] / med["CheckpointLoaderSimple"],
            "ratio_min": best["UDWCheckpointLoader"] / best["CheckpointLoaderSimple"],
            "cpu": cpu, "ratio_cpu": statistics.median(cpu["UDWCheckpointLoader"]) /
            statistics.median(cpu["CheckpointLoaderSimple"]),
            "udw_overhead_s": _overhead(ckpt, udw)}


def _overhead(ckpt: Path, udw) -> float:
    """What the UDW node adds around ComfyUI's loader (header check, clip skip, INFO), median of 5."""
    module = sys.modules[type(udw).__module__]
    import comfy.sd

    clip = comfy.sd.load_checkpoint_guess_config(str(ckpt), output_vae=False, output_clip=True,
                                                 output_model=False)[1]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        arch = module._header_arch(str(ckpt))
        module.require_sd1(arch, ckpt.name)
        c = clip.clone()
        c.clip_layer(-2)
        module._info(ckpt.name, str(ckpt), arch, -2, "(baked)", False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["check", "bench"])
    p.add_argument("--ckpt", required=True)
    p.add_argument("--lora")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = check(args) if args.mode == "check" else bench(args)
    print("UDW-PROBE " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
