"""Argument parsing and error reporting for the `udw` command."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from .. import __version__
from ..core.errors import UdwError
from . import (commands_app, commands_build, commands_dataset, commands_faces, commands_gallery, commands_models,
               commands_pose, commands_scale)
from .engine_options import add_to_verbs, engine_from_args, engine_scope

# Each module adds its verbs with register(subparsers); a verb's handler is set as `func`.
COMMAND_MODULES = [commands_dataset, commands_build, commands_faces, commands_gallery, commands_models, commands_pose,
                   commands_scale, commands_app]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="udw", description="UDW Studio: build anime datasets from video, tag, dedupe, arrange, "
                                "load UDW models, transfer poses and render galleries.")
    parser.add_argument("--version", action="version", version=f"udw {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    add_to_verbs(sub)  # --engine local|ray on every verb that runs stages
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with engine_scope(engine_from_args(args)):
            return int(args.func(args) or 0)
    except UdwError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished work is kept; run the same command again to resume",
              file=sys.stderr)
        return 130
