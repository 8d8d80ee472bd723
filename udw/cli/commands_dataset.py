"""Dataset verbs: import, grid, info."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.atomic import write_with
from ..core.manifest import Dataset
from ..dataset.ingest import MODES, import_images
from ..gallery.grid import dataset_grid
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import image files or folders into a dataset",
                       description="Copy (or hard-link) images into DATASET/images and add them to its "
                                   "manifest. Re-running adds only new files.")
    p.add_argument("inputs", nargs="+", help="image files, folders or glob patterns")
    p.add_argument("-d", "--dataset", required=True, help="dataset folder (created if needed)")
    p.add_argument("--mode", choices=MODES, default="copy")
    p.add_argument("--licence", help="licence or permission note recorded for these sources")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("grid", help="write a preview grid of a dataset",
                       description="Render the first LIMIT items of a dataset as a labelled grid PNG.")
    p.add_argument("dataset")
    p.add_argument("-o", "--output", help="PNG to write (default DATASET/previews/grid.png)")
    p.add_argument("--limit", type=int, default=64)
    p.add_argument("--cols", type=int, default=0, help="columns (0: near square)")
    p.add_argument("--cell", type=int, default=192, help="cell size in pixels")
    p.set_defaults(func=cmd_grid)

    p = sub.add_parser("info", help="summarise a dataset (items, sources, stages)")
    p.add_argument("dataset")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)


def cmd_import(args: argparse.Namespace) -> int:
    with CtrlC() as ctrl_c:
        report = import_images(args.dataset, args.inputs, mode=args.mode, licence=args.licence,
                               ports=terminal_ports("import", ctrl_c, args.quiet))
    print(report.summary())  # names every file that could not be imported
    return 1 if report.cancelled else 0


def cmd_grid(args: argparse.Namespace) -> int:
    ds = Dataset(args.dataset)
    grid = dataset_grid(ds, limit=args.limit, cols=args.cols, cell=args.cell)
    out = Path(args.output) if args.output else ds.root / "previews" / "grid.png"
    write_with(out, lambda tmp: grid.save(tmp, format="PNG"))
    print(f"wrote {out} ({grid.width}x{grid.height})")
    return 0


def dataset_info(ds: Dataset) -> dict:
    with ds.db() as conn:
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall())
    return {"root": str(ds.root), "items": statuses, "sources": len(ds.sources()),
            "stages": ds.stage_summary()}


def cmd_info(args: argparse.Namespace) -> int:
    info = dataset_info(Dataset(args.dataset))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"dataset {info['root']}")
    print("  items: " + (", ".join(f"{n} {s}" for s, n in info["items"].items()) or "none"))
    print(f"  sources: {info['sources']}")
    for stage, counts in info["stages"].items():
        print(f"  stage {stage}: {counts['ok']} ok, {counts['failed']} failed")
    return 0
