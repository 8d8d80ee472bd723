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
    p.add_argument("--allow-download", action="store_true", help="allow model downloads from the Hub")
    p.set_defaults(func=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    from ..core.paths import Roots
    from ..gallery.thumbs import default_cache_dir
    from ..ui import UiHost, build_blocks

    roots = [Path(r) for r in args.root] or [Path.cwd() / "udw-data"]
    for r in roots:
        r.mkdir(parents=True, exist_ok=True)
    thumbs = default_cache_dir()
    thumbs.mkdir(parents=True, exist_ok=True)
    host = UiHost("standalone", Roots.from_env(*roots), allow_download=args.allow_download,
                  thumb_dir=str(thumbs))
    blocks = build_blocks(host)
    blocks.queue()
    print(f"UDW Studio on http://127.0.0.1:{args.port} (roots: {', '.join(map(str, host.roots.folders))})")
    # Gradio serves only allowed folders: the persistent thumbnail cache is one of them.
    blocks.launch(server_name="127.0.0.1", server_port=args.port, show_error=True,
                  inbrowser=bool(os.environ.get("UDW_OPEN_BROWSER")), allowed_paths=[str(thumbs)])
    return 0
