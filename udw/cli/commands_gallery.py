"""Gallery verbs: gallery (static HTML + Markdown pages), meta (generation metadata), tags (batch edit)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.errors import BadInput
from ..core.manifest import Dataset
from ..gallery.export import GROUPS, export_gallery
from ..gallery.metadata import read_metadata
from ..gallery.query import STATUSES, Filter
from ..gallery.tagedit import OPS, apply_changes, plan_batch
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gallery", help="write a static gallery page (HTML + Markdown) of a folder or dataset",
                       description="Thumbnails linking to the full images, in sections per folder (or per "
                                   "bucket/character/episode of a dataset, or per `Look`), captions with "
                                   "prompt and seed. The Markdown page suits mkdocs-material (attr_list, "
                                   "md_in_html).")
    p.add_argument("source", help="a folder of images, or a dataset folder")
    p.add_argument("-o", "--output", required=True, help="site folder to write (created if needed)")
    p.add_argument("--group-by", choices=GROUPS, default="auto",
                   help="sections: folder for image folders, bucket for datasets (default: auto)")
    p.add_argument("--title", default="", help="page title (default: the folder's name)")
    p.add_argument("--link", action="store_true", help="link to the originals instead of copying them")
    p.add_argument("--limit", type=int, default=0, help="at most this many images per section (0: all)")
    p.add_argument("--tags", default="", help="dataset filter, e.g. '1girl, -smile, red hair|blue hair'")
    p.add_argument("--thumb-size", type=int, default=320, help="thumbnail side in pixels")
    p.add_argument("--name", default="index", help="page file name without suffix (default: index)")
    p.set_defaults(func=cmd_gallery)

    p = sub.add_parser("meta", help="show the generation parameters embedded in images",
                       description="Reads A1111 `parameters` (PNG text or JPEG/WebP EXIF) and ComfyUI "
                                   "`prompt`/`workflow` graphs; damaged metadata is reported, not fatal.")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--raw", action="store_true", help="also print every raw text entry")
    p.set_defaults(func=cmd_meta)

    p = sub.add_parser("tags", help="edit tags over a filtered set of a dataset (manifest and sidecars)",
                       description="add/remove take comma-separated tags; replace takes OLD NEW; regex "
                                   "takes PATTERN REPLACEMENT (an empty result removes the tag).")
    p.add_argument("dataset")
    p.add_argument("op", choices=OPS)
    p.add_argument("args", nargs="+")
    p.add_argument("--where", default="", help="tag filter of the items to edit (default: all)")
    p.add_argument("--status", choices=STATUSES, default="active")
    p.add_argument("--bucket")
    p.add_argument("--character")
    p.add_argument("--dry-run", action="store_true", help="only report what would change")
    p.set_defaults(func=cmd_tags)


def cmd_gallery(args: argparse.Namespace) -> int:
    with CtrlC() as ctrl_c:
        report = export_gallery(args.source, args.output, group_by=args.group_by, title=args.title,
                                link=args.link, limit=max(0, args.limit), tags=args.tags,
                                thumb_size=args.thumb_size, name=args.name,
                                ports=terminal_ports("gallery", ctrl_c, args.quiet))
    print(report.summary())
    for w in report.warnings[:10]:
        print(f"  warning: {w}")
    return 0


def cmd_meta(args: argparse.Namespace) -> int:
    out = []
    for path in args.images:
        meta = read_metadata(path)
        if args.json:
            entry = meta.to_dict()
            if args.raw:
                entry["text"], entry["prompt"], entry["workflow"] = meta.text, meta.comfy_prompt, meta.comfy_workflow
            out.append(entry)
            continue
        print(f"== {path} ({meta.format} {meta.width}x{meta.height})")
        print(meta.info.to_infotext() if meta.info else "(no generation parameters found)")
        for line in meta.info.detail_lines() if meta.info else []:
            print(line)  # LoRA files and weights, every pass, values read from the workflow
        for w in meta.warnings:
            print(f"warning: {w}")
        if args.raw:
            print(meta.raw_json())
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    return 0


def cmd_tags(args: argparse.Namespace) -> int:
    ds = Dataset(args.dataset)
    need = 2 if args.op in ("replace", "regex") else 1
    if len(args.args) != need:
        raise BadInput(f"{args.op} takes {need} argument(s), got {len(args.args)}",
                       "e.g. `udw tags DS replace long_hair 'long hair'`")
    f = Filter(tags=args.where, status=args.status, bucket=args.bucket, character=args.character)
    with ds.db() as conn:
        changes = plan_batch(conn, f, args.op, args.args[0], args.args[1] if need == 2 else "")
    with CtrlC() as ctrl_c:
        report = apply_changes(ds, changes, dry_run=args.dry_run, ports=terminal_ports("tags", ctrl_c, args.quiet))
    print(report.summary())
    for ex in report.examples[:5]:
        print(f"  {Path(ex['path']).name}: -{ex['removed']} +{ex['added']}")
    return 0
