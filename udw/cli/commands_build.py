"""`udw build`: the whole dataset pipeline in one command (locally, or on Ray with --engine ray)."""

from __future__ import annotations

import argparse

from ..dataset.build import STEPS, StepResult, build_dataset
from ..dataset.defaults import TRAINER, BuildChoices
from ..dataset.trainers import TRAINERS
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="videos/images -> frames, dedupe, tags, faces, characters, export, gallery in one go",
                       description="Run the pipeline's steps with their defaults: frames (videos) or import "
                                   "(images), dedupe, tag, faces, characters, export (with --export) and a gallery page. Every step resumes; a step "
                                   "whose model is missing is skipped with the reason (unless named in --steps).")
    p.add_argument("inputs", nargs="*", help="videos, images, folders or globs (none: work on the dataset as it is)")
    p.add_argument("-o", "--output", "-d", "--dataset", dest="dataset", required=True,
                   help="dataset folder (created if needed)")
    p.add_argument("--steps", default="", help=f"comma-separated subset of {','.join(STEPS)} (default: all)")
    p.add_argument("--export", metavar="FOLDER", default=None,
                   help="also write the training folder (arranged, balanced, captioned; see udw export)")
    p.add_argument("--trainer", choices=TRAINERS, default=TRAINER, help=f"layout of --export (default {TRAINER})")
    p.add_argument("--gallery", metavar="FOLDER", default=None,
                   help="where the gallery page goes (default DATASET/previews/gallery)")
    p.add_argument("--refs", metavar="FOLDER", default=None,
                   help="characters: one sub-folder of example pictures per character name")
    p.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    steps = [s.strip() for s in args.steps.split(",") if s.strip()] or None
    settings = BuildChoices(refs=args.refs, export_to=args.export, trainer=args.trainer,
                            gallery_to=args.gallery).settings()

    def show(result: StepResult) -> None:
        print(result.line(), flush=True)

    with CtrlC() as ctrl_c:
        report = build_dataset(args.dataset, args.inputs, steps, terminal_ports("build", ctrl_c, args.quiet),
                               settings, on_step=show)
    print(report.summary().splitlines()[0] + (f"\nopen {report.gallery}" if report.gallery else ""))
    return 0 if report.ok else 1
