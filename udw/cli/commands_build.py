"""`udw build`: the whole dataset pipeline in one command (locally, or on Ray with --engine ray)."""

from __future__ import annotations

import argparse

from ..dataset.build import STEPS, build_dataset
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="videos/images -> frames, dedupe, tags, faces, characters in one go",
                       description="Run the pipeline's steps with their defaults: frames (videos) or import "
                                   "(images), dedupe, tag, faces, characters. Every step resumes; a step "
                                   "whose model is missing is skipped with the reason (unless named in --steps).")
    p.add_argument("inputs", nargs="*", help="videos, images, folders or globs (none: work on the dataset as it is)")
    p.add_argument("-o", "--output", "-d", "--dataset", dest="dataset", required=True,
                   help="dataset folder (created if needed)")
    p.add_argument("--steps", default="", help=f"comma-separated subset of {','.join(STEPS)} (default: all)")
    p.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    steps = [s.strip() for s in args.steps.split(",") if s.strip()] or None
    with CtrlC() as ctrl_c:
        report = build_dataset(args.dataset, args.inputs, steps, terminal_ports("build", ctrl_c, args.quiet))
    print(report.summary())
    return 1 if report.cancelled else 0
