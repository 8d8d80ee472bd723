"""Tagging verb: `udw tag DATASET_OR_FOLDER_OR_IMAGE`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.errors import BadInput
from ..core.images import is_image_path
from ..core.manifest import MANIFEST_NAME, Dataset
from ..models.registry import known_specs
from ..tagging import DEFAULT_MODEL, TagOptions, open_tagger, parse_tag_list, tag_files
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(s.name for s in known_specs("taggers"))
    p = sub.add_parser(
        "tag", help="tag images with a WD14 tagger (scores into the manifest, .tags sidecars)",
        description="Tag a dataset, a plain folder of images (it becomes a dataset in place: a manifest "
                    "is added and .tags files are written beside the images) or one image (tags printed). "
                    "Re-running tags only what is new or was tagged with other settings.",
        epilog=f"Known models: {names}. Put them in ~/.cache/udw/models/taggers/<name>/ or UDW_MODELS_DIR, "
               "or give --model PATH/TO/model.onnx (its selected_tags.csv beside it).")
    p.add_argument("target", help="dataset folder, plain image folder, or one image file")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"model name or .onnx path (default {DEFAULT_MODEL})")
    p.add_argument("--general", type=float, default=0.35, help="general tag threshold (default 0.35)")
    p.add_argument("--character", type=float, default=0.85, help="character tag threshold (default 0.85)")
    p.add_argument("--mcut", action="store_true", help="MCut threshold for general tags (largest score gap)")
    p.add_argument("--character-mcut", action="store_true", help="MCut threshold for characters (min 0.15)")
    p.add_argument("--blacklist", default="", help="comma-separated tags never to output")
    p.add_argument("--blacklist-file", help="file of tags never to output (one per line or comma-separated)")
    p.add_argument("--keep-overlap", action="store_true", help="keep `hair` beside `long_hair`")
    p.add_argument("--max-tags", type=int, default=0, help="at most this many general tags (0: all)")
    p.add_argument("--underscores", action="store_true", help="keep underscores in tags")
    p.add_argument("--no-escape", action="store_true", help="do not escape ( ) in tag lines")
    p.add_argument("--int8", action="store_true", help="int8 dynamic quantization (faster on CPU; made once)")
    p.add_argument("--cpu", action="store_true", help="CPU only (default: best available provider)")
    p.add_argument("--provider", action="append", help="onnxruntime provider to try, best first (repeatable)")
    p.add_argument("--threads", type=int, default=0,
                   help="onnxruntime threads per model run (0: on a CPU, single-threaded runs side by side, "
                        "one per core)")
    p.add_argument("--batch", type=int, default=0, help="images per model run (0: per model/provider)")
    p.add_argument("--no-sidecars", action="store_true", help="do not write .tags files")
    p.add_argument("--json", help="also write one JSON file of item -> rating and tag -> confidence")
    p.add_argument("--retry-failed", action="store_true", help="try again items that failed before")
    p.add_argument("--allow-download", action="store_true", help="download a missing model from the Hub")
    p.set_defaults(func=cmd_tag)


def options_from(args: argparse.Namespace) -> TagOptions:
    blacklist = parse_tag_list(args.blacklist)
    if args.blacklist_file:
        try:
            blacklist += parse_tag_list(Path(args.blacklist_file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadInput(f"cannot read {args.blacklist_file}: {exc.strerror or exc}", "check the path") from exc
    for name in ("general", "character"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise BadInput(f"--{name} {getattr(args, name)} is not between 0 and 1", "use e.g. 0.35")
    return TagOptions(general=args.general, character=args.character, general_mcut=args.mcut,
                      character_mcut=args.character_mcut, blacklist=blacklist, drop_overlap=not args.keep_overlap,
                      max_tags=args.max_tags, underscores=args.underscores, escape=not args.no_escape)


def cmd_tag(args: argparse.Namespace) -> int:
    from ..dataset.ingest import index_in_place
    from ..tagging.stage import run_lines, tag_dataset, write_json

    options = options_from(args)
    providers = ["CPUExecutionProvider"] if args.cpu else args.provider
    target = Path(args.target).expanduser()
    if target.is_file() and is_image_path(target):
        return _tag_one(target, args, options, providers)
    if not target.is_dir():
        raise BadInput(f"{target}: no such dataset, folder or image", "check the path")
    with CtrlC() as ctrl_c:
        ports = terminal_ports("tag", ctrl_c, args.quiet, providers=providers, allow_download=args.allow_download)
        if (target / MANIFEST_NAME).exists():
            ds = Dataset(target)
        else:
            ds, added = index_in_place(target, ports)
            print(f"{target}: new dataset in place")
            print(added.summary())  # names every file that could not be taken
        report = tag_dataset(ds, args.model, options, ports, int8=args.int8, threads=args.threads,
                             batch_size=args.batch, sidecars=not args.no_sidecars, retry_failed=args.retry_failed)
    print("\n".join(run_lines(ds, report, top=12)))
    earlier = ds.stage_summary().get("tag", {}).get("failed", 0) - len(report.failed)
    if earlier > 0 and not args.retry_failed:
        print(f"{earlier} failed earlier (--retry-failed to try them again)")
    if args.json:
        print(f"wrote {write_json(ds, args.json, options)}")
    return 1 if report.cancelled else 0


def _tag_one(path: Path, args: argparse.Namespace, options: TagOptions, providers) -> int:
    """One image: print the tag line, the rating and (with --json) the confidences."""
    from ..core.ports import Ports

    tagger = open_tagger(args.model, Ports(providers=providers, allow_download=args.allow_download),
                         int8=args.int8, threads=args.threads, for_batches=False)
    (_, result), = tag_files(tagger, [path], options)
    if isinstance(result, Exception):
        raise result
    print(result.prompt(options))
    print(f"rating: {result.rating}")
    if args.json:
        from ..core.atomic import write_text
        write_text(args.json, json.dumps(result.to_json(options), ensure_ascii=False, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0
