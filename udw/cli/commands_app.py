"""App verbs: the standalone Gradio app (`udw ui`) and the end-to-end demo (`udw demo`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="serve the UDW Studio app on 127.0.0.1",
                       description="The same Gradio Blocks as the A1111 tab, served locally.")
    p.add_argument("--port", type=int, default=7861)
    p.add_argument("--root", action="append", default=[],
                   help="folder the app may read and write (repeatable; the first is the default "
                        "for relative paths; default: ./udw-data)")
    p.add_argument("--allow-download", action="store_true",
                   help="allow model downloads (the default unless UDW_AUTO_DOWNLOAD=0)")
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("demo", help="the whole pipeline on generated sample episodes, ending in a gallery page",
                       description="Generate two sample episodes (or reuse them), name the cast from a few "
                                   "close-ups, then build: frames, dedupe, tags, faces, characters, the "
                                   "training folder and its gallery page. A step whose model is missing says "
                                   "what to do and the rest still runs. Re-running resumes.")
    p.add_argument("-o", "--output", default="demo-out", help="folder for samples/, dataset/, train/, gallery/")
    p.add_argument("--duration", type=float, default=24.0, help="seconds per sample episode")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("samples", help="write the ground-truth sample episodes (videos + truth JSON)",
                       description="Deterministic cel-animation episodes with a shared opening and ending, "
                                   "held drawings, pans and cuts, and a JSON of every frame's truth.")
    p.add_argument("-o", "--output", required=True, help="folder to write")
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--duration", type=float, default=24.0, help="seconds per episode")
    p.add_argument("--size", default="640x360", help="WIDTHxHEIGHT")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_samples)


def cmd_ui(args: argparse.Namespace) -> int:
    from ..core.paths import Roots
    from ..gallery.thumbs import default_cache_dir
    from ..ui import UiHost, build_blocks

    roots = [Path(r) for r in args.root] or [Path.cwd() / "udw-data"]
    for r in roots:
        r.mkdir(parents=True, exist_ok=True)
    thumbs = default_cache_dir()
    thumbs.mkdir(parents=True, exist_ok=True)
    from ..models.fetch import auto_download_enabled

    host = UiHost("standalone", Roots.from_env(*roots), allow_download=args.allow_download or auto_download_enabled(),
                  thumb_dir=str(thumbs))
    blocks = build_blocks(host)
    blocks.queue()
    print(f"UDW Studio on http://127.0.0.1:{args.port} (roots: {', '.join(map(str, host.roots.folders))})")
    # Gradio serves only allowed folders: the persistent thumbnail cache is one of them.
    blocks.launch(server_name="127.0.0.1", server_port=args.port, show_error=True,
                  inbrowser=bool(os.environ.get("UDW_OPEN_BROWSER")), allowed_paths=[str(thumbs)])
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    from .progress import CtrlC, terminal_ports

    with CtrlC() as ctrl_c:
        report = run_demo(args.output, terminal_ports("demo", ctrl_c, args.quiet), duration_s=args.duration)
    print(report.summary().splitlines()[0] + (f"\nopen {report.gallery}" if report.gallery else ""))
    return 0 if report.ok else 1


def cmd_samples(args: argparse.Namespace) -> int:
    from ..core.errors import BadInput
    from ..samples import generate_samples
    from .progress import CtrlC, TerminalBar

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise BadInput(f"bad --size {args.size!r}", "write it as WIDTHxHEIGHT, e.g. 640x360") from None
    with CtrlC() as ctrl_c:
        episodes = generate_samples(args.output, episodes=args.episodes, seed=args.seed, width=width,
                                    height=height, duration_s=args.duration,
                                    progress=None if args.quiet else TerminalBar("samples"), cancel=ctrl_c)
    for ep in episodes:
        print(f"{ep.video}  ({ep.frame_count} frames; truth {ep.truth.name})")
    return 0
