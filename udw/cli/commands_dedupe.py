"""The dedupe verb: remove near-duplicates from a dataset or a plain folder, undo, evaluate."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.atomic import write_with
from ..dedupe.settings import KEEP_RULES, LINKAGES, METHODS, DedupeSettings
from .progress import CtrlC, terminal_ports

EPILOG = """how it decides (defaults keep every distinct drawing):
  the method's signatures find candidate pairs (threshold: default per method below); the pair
  verifier then aligns each pair (scale, shift, tone) and compares small colour thumbnails block by
  block: a copy (re-encode, rescale, crop <= 2%, shift <= 1%, gamma +-5%) is merged; another
  expression, outfit colour, pose or character is kept. Known faces (from `udw faces`) are compared
  at full detail. Lip flaps and blinks are kept by default (--merge-lip-flaps merges them).

methods (threshold = smallest similarity of a candidate pair, 0.5-1.0):
""" + "\n".join(f"  {m.name:<10} default {m.candidate:<5g} (--no-verify: {m.default:g}) {m.help}"
                for m in METHODS.values()) + """

examples:
  udw dedupe my_dataset                       mark duplicates (files stay), preview in previews/
  udw dedupe ~/fanart --move-duplicates       a plain folder: duplicates go to ~/fanart/duplicates/
  udw dedupe my_dataset --strictness 2        keep more pairs apart; re-running replaces the result
  udw dedupe frames --merge-lip-flaps         also merge blinks / mouth flaps of one drawing
  udw dedupe my_dataset --undo                everything back as it was (moved files too)
  udw dedupe frames --eval EP01.truth.json    precision/recall/F1 against ground truth

ground truth: a udw.samples truth file, or {"groups": [["a.png", "b.png"], ...]}"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dedupe", help="remove near-duplicate pictures (dataset or plain folder)",
                       description="Find near-duplicate pictures, keep one per cluster and mark the rest "
                                   "as duplicates in the manifest (a plain folder gets a manifest, its "
                                   "pictures stay in place). Files move or go only when asked.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", help="dataset folder, or a plain folder of pictures")
    p.add_argument("-m", "--method", choices=list(METHODS), default="structure")
    p.add_argument("-t", "--threshold", type=float, help="smallest similarity that is a duplicate "
                   "(0.5-1.0; default per method)")
    p.add_argument("--keep", choices=list(KEEP_RULES), default="sharpest", help="which picture of a cluster "
                   "survives (default sharpest)")
    p.add_argument("--linkage", choices=list(LINKAGES), default="direct",
                   help="direct: removed pictures resemble the kept one; chain: union-find")
    p.add_argument("--model", help="embed: model name (mobilenetv3-large, mobilenetv3-small, clip-vit-b32) "
                   "or .onnx path")
    p.add_argument("--aspect-tolerance", type=float, default=0.05,
                   help="compare only pictures whose aspect ratios differ by less (default 0.05)")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--move-duplicates", dest="action", action="store_const", const="move",
                     help="move duplicate files into DATASET/duplicates/")
    act.add_argument("--delete-duplicates", dest="action", action="store_const", const="delete",
                     help="delete duplicate files (cannot be undone)")
    act.add_argument("--dry-run", dest="action", action="store_const", const="dry",
                     help="change nothing; report and preview only")
    act.add_argument("--undo", dest="action", action="store_const", const="undo",
                     help="restore everything the last dedupe removed (moves files back)")
    p.add_argument("--eval", action="append", default=[], metavar="TRUTH.json",
                   help="score the result against ground truth (repeatable)")
    p.add_argument("--preview", help="cluster preview PNG (default DATASET/previews/dedupe.png)")
    p.add_argument("--no-preview", action="store_true")
    p.add_argument("--preview-clusters", type=int, default=8, help="largest clusters shown (default 8)")
    p.add_argument("--exact", action="store_true", help="compare all pairs (slow; no index)")
    p.add_argument("--strictness", type=float, default=1.0,
                   help="verifier: 2 keeps more pairs apart, 0.5 merges more (0.25-4, default 1)")
    p.add_argument("--merge-lip-flaps", action="store_true",
                   help="verifier: merge a change confined to the eyes or mouth of a face (a blink or "
                        "lip flap of one drawing); default: kept, like any expression")
    p.add_argument("--allow-crops", action="store_true",
                   help="verifier: a crop of a larger picture counts as its copy (default: only crops "
                        "up to ~4%%; aspect ratios are then not compared)")
    p.add_argument("--no-verify", action="store_true",
                   help="decide on the signature similarity alone (the old behaviour; merges expressions)")
    p.add_argument("--allow-download", action="store_true", help="allow model downloads from the Hub")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_dedupe, action="mark")


def cmd_dedupe(args: argparse.Namespace) -> int:
    from ..dedupe.run import dedupe_dataset, restore

    with CtrlC() as ctrl_c:
        ports = terminal_ports("dedupe", ctrl_c, args.quiet, allow_download=args.allow_download)
        if args.action == "undo":
            print(restore(args.dataset, ports).summary())
            return 0
        settings = DedupeSettings(method=args.method, threshold=args.threshold, keep=args.keep,
                                  linkage=args.linkage, aspect_tolerance=args.aspect_tolerance,
                                  model=args.model, exact=args.exact, verify=not args.no_verify,
                                  strictness=args.strictness, keep_lip_flaps=not args.merge_lip_flaps,
                                  allow_crops=args.allow_crops,
                                  action="mark" if args.action == "dry" else args.action).validated()
        report = dedupe_dataset(args.dataset, settings, ports, truth=args.eval, preview=not args.no_preview,
                                dry_run=args.action == "dry", preview_clusters=args.preview_clusters)
    preview_path = None
    if report.preview is not None:
        from ..dedupe.run import open_dataset

        preview_path = Path(args.preview) if args.preview else open_dataset(args.dataset).root / "previews" / "dedupe.png"
        write_with(preview_path, lambda tmp: report.preview.save(tmp, format="PNG"))
    if args.json:
        print(json.dumps(_as_json(report, preview_path), indent=2, default=str))
        return 0
    print(report.summary())
    for line in report.details():
        print(line)
    for path, size in report.largest[:5]:
        print(f"  cluster of {size}: kept {path}")
    if preview_path:
        print(f"  preview: {preview_path}")
    if report.undone and report.undone.restored:
        print(f"  (the previous result was undone first: {report.undone.restored} items)")
    if report.scores:
        from ..dedupe.evaluate import format_scores

        print(format_scores(report.scores))
    return 0


def _as_json(report, preview_path) -> dict:
    from ..dedupe.verified import as_record

    return {"settings": report.settings.__dict__, "considered": report.considered, "clusters": report.clusters,
            "removed": report.removed, "kept": report.kept, "dry_run": report.dry_run,
            "failed": report.failed, "search": report.search, "seconds": report.seconds,
            "largest": report.largest, "scores": report.scores,
            "closest_merged": [{"kept": a, "removed": b, **as_record(v)} for a, b, v in report.close_merges],
            "closest_kept_apart": [{"a": a, "b": b, **as_record(v)} for a, b, v in report.kept_apart],
            "preview": str(preview_path) if preview_path else None}
