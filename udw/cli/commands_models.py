"""Model verbs: models (list / get), inspect (and lineage), looks, generate."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from ..checkpoints import compare, find_model, format_lineage, format_report, inspect_file
from ..looks import SAMPLERS, SCHEDULERS, load_looks
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="the models UDW knows: installed or not, where, licence, source; get fetches one",
                       description="list: every known model, where it is installed (or where `get` puts it), its "
                                   "licence and source. get NAME: download it from its public source (or "
                                   "UDW_MODEL_MIRROR/NAME/FILE) into the model folder, once.")
    msub = p.add_subparsers(dest="models_command", metavar="list|get")
    ls = msub.add_parser("list", help="known models and where they are")
    ls.add_argument("--kind", help="only this kind (taggers, detectors, embedders, pose, controlnet)")
    ls.add_argument("--json", action="store_true", help="print JSON")
    get = msub.add_parser("get", help="download models by name into the model folder (skips installed ones)")
    get.add_argument("names", nargs="+", metavar="NAME", help="model names (udw models list)")
    p.set_defaults(func=cmd_models, models_command=None, kind=None, json=False)

    p = sub.add_parser("inspect", help="describe a checkpoint / LoRA / VAE file, and its lineage",
                       description="Architecture (SD1/SD2/SDXL, v-prediction hints, inpainting, EMA, baked VAE), "
                                   "dtype and size per component, A1111 hashes (sha256, AutoV2, legacy), "
                                   "safetensors metadata. With --base: weight cosine similarity per component.")
    p.add_argument("model", help="model file, or a name found in the model folders (UDW_MODELS_DIR/checkpoints)")
    p.add_argument("--base", help="compare against this checkpoint (lineage)")
    p.add_argument("--no-hash", action="store_true", help="skip hashing (cached hashes are still shown)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("looks", help="list the looks (presets) and where to add your own")
    p.add_argument("look", nargs="?", help="show one look in full")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_looks)

    p = sub.add_parser("generate", help="generate images with an SD1 checkpoint (diffusers, no hub access)",
                       description="txt2img from a single-file SD1 checkpoint with a look's settings; PNGs carry "
                                   "A1111-style `parameters` text. Options override the look.")
    p.add_argument("--checkpoint", "-c", required=True, help="checkpoint file or name")
    p.add_argument("--look", "-l", default="tv", help="look id or name (udw looks); default tv")
    p.add_argument("--prompt", "-p", default="", help="your prompt (booru tags); placed in the look's slot")
    p.add_argument("--negative", help="replace the look's negative prompt")
    p.add_argument("--seed", type=int, default=-1, help="seed (-1: random); image i uses seed+i")
    p.add_argument("-n", "--count", type=int, default=1, help="how many images")
    p.add_argument("--steps", type=int)
    p.add_argument("--cfg", type=float)
    p.add_argument("--sampler", choices=sorted(SAMPLERS))
    p.add_argument("--scheduler", choices=sorted(SCHEDULERS))
    p.add_argument("--width", type=int)
    p.add_argument("--height", type=int)
    p.add_argument("--clip-skip", type=int, help="A1111 convention (2 = penultimate layer; the look says 2)")
    p.add_argument("--hires", action="store_true", help="add the look's hi-res pass")
    p.add_argument("--vae", help="separate VAE file or name (models folder 'vae')")
    p.add_argument("--lora", action="append", default=[], help="LoRA file[:weight] (repeatable)")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda if available)")
    p.add_argument("-o", "--output", default="udw-outputs", help="output folder")
    p.set_defaults(func=cmd_generate)


def cmd_models(args: argparse.Namespace) -> int:
    from ..models.status import get_model, list_status

    if args.models_command == "get":
        with CtrlC() as ctrl_c:
            for name in args.names:
                files = get_model(name, terminal_ports(f"download {name}", ctrl_c, args.quiet))
                verb = "downloaded" if files.origin == "download" else "already installed"
                print(f"{name}: {verb} at {files.first.parent}")
        return 0
    rows = list_status(kind=args.kind)
    if args.json:
        print(json.dumps([{**vars(r), "path": str(r.path or ""), "install_to": str(r.install_to)} for r in rows],
                         indent=2))
        return 0
    for r in rows:
        where = f"installed: {r.path} ({r.origin})" if r.installed else f"not installed (get puts it in {r.install_to})"
        print(f"{r.name:<36} {r.kind:<11} {r.licence:<18} {where}\n{'':<36} source: {r.source}")
    print("\nfetch one: udw models get NAME   (UDW_MODEL_MIRROR=URL: from URL/NAME/FILE)")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    path = find_model(args.model)
    with CtrlC() as ctrl_c:
        report = inspect_file(path, hashes=not args.no_hash, ports=terminal_ports("hash", ctrl_c, args.quiet))
        lineage = None
        if args.base:
            lineage = compare(path, find_model(args.base), ports=terminal_ports("lineage", ctrl_c, args.quiet))
    if args.json:
        out = report.to_dict()
        if lineage:
            out["lineage"] = lineage.to_dict()
        print(json.dumps(out, indent=2))
        return 0
    print(format_report(report))
    if lineage:
        print(format_lineage(lineage))
    return 0


def cmd_looks(args: argparse.Namespace) -> int:
    book = load_looks()
    if args.look:
        look = book.get(args.look)
        print(json.dumps(look.to_dict(), indent=2) if args.json else _look_text(look))
        return 0
    if args.json:
        print(json.dumps({k: v.to_dict() for k, v in book.looks.items()}, indent=2))
        return 0
    for look in book.looks.values():
        hires = f", hi-res {'x'.join(map(str, look.size(True)))}" if look.hires else ""
        print(f"{look.id:<14} {look.name:<18} {look.width}x{look.height}{hires}, {look.a1111_sampler[0]} "
              f"{look.a1111_sampler[1]}, {look.steps} steps, CFG {look.cfg:g}, clip skip {look.clip_skip}")
    from ..looks import user_dirs

    print(f"\nadd or override looks with JSON files in: {', '.join(str(d) for d in user_dirs())}")
    for problem in book.problems:
        print(f"  problem: {problem}")
    return 0


def _look_text(look) -> str:
    return (f"{look.name} ({look.id}) from {look.source}\n  {look.description}\n  prompt: {look.prompt}\n"
            f"  negative: {look.negative}\n  size: {look.width}x{look.height}"
            + (f", hi-res x{look.hires.scale:g} -> {'x'.join(map(str, look.size(True)))} "
               f"(denoise {look.hires.denoise:g})" if look.hires else "")
            + f"\n  {look.a1111_sampler[0]} / {look.a1111_sampler[1]}, {look.steps} steps, CFG {look.cfg:g}, "
              f"clip skip {look.clip_skip}")


def cmd_generate(args: argparse.Namespace) -> int:
    from ..generate import LoraSpec, generate, load_pipeline, save_png
    from ..looks.infotext import GenParams

    look = load_looks().get(args.look)
    ckpt = find_model(args.checkpoint)
    vae = find_model(args.vae, "vae") if args.vae else None
    loras = []
    for text in args.lora:
        spec = LoraSpec.parse(text)
        loras.append(LoraSpec(find_model(spec.path, "loras"), spec.weight))
    seed = args.seed if args.seed >= 0 else random.randrange(2 ** 32)
    params = GenParams.from_look(look, args.prompt, seed, hires=args.hires, negative=args.negative,
                                 steps=args.steps, cfg=args.cfg, sampler=args.sampler, scheduler=args.scheduler,
                                 width=args.width, height=args.height, clip_skip=args.clip_skip)
    with CtrlC() as ctrl_c:
        loaded = load_pipeline(ckpt, vae, loras, device=args.device,
                               ports=terminal_ports("hash", ctrl_c, args.quiet))
        results = generate(loaded, params, args.count, ports=terminal_ports("generate", ctrl_c, args.quiet))
    for image, used in results:
        path = save_png(image, used, Path(args.output))
        print(f"wrote {path} ({image.width}x{image.height}, seed {used.seed})")
    return 0
