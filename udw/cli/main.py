"""Argument parsing and error reporting for the `udw` command."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from .. import __version__
from ..core.errors import UdwError
from . import (commands_app, commands_build, commands_dataset, commands_dedupe, commands_faces, commands_gallery,
               commands_models, commands_pose, commands_scale, commands_tagging, commands_video)
from .engine_options import add_to_verbs, engine_from_args, engine_scope

# Each module adds its verbs with register(subparsers); a verb's handler is set as `func`.
COMMAND_MODULES = [commands_dataset, commands_video, commands_dedupe, commands_tagging, commands_faces, commands_build,
                   commands_gallery, commands_models, commands_pose, commands_scale, commands_app]


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


def _steady_memory() -> None:
    """Keep this process's resident memory flat on long videos (glibc only).

    Decoding, colour conversion and encoding allocate and free megabyte-sized buffers in several
    threads; with one malloc arena per thread these fragment and the resident size creeps up with
    the video's length (+14 MB over Big Buck Bunny). Two shared arenas keep it flat at no CPU cost
    (a fixed mmap threshold also did, but cost 40% more CPU in page faults). The CLI owns its
    process; the library never does this in a host's process.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX: two heaps shared by the threads instead of one per thread
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    _steady_memory()
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
