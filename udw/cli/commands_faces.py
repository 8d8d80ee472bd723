"""Face, character, arrangement and export verbs: faces, characters, arrange, export, sources."""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path

from ..characters import EMBEDDER_CHOICES, CharacterSettings, parse_renames, rename_characters, run_characters
from ..characters.cluster import METHODS
from ..core.errors import BadInput
from ..core.manifest import Dataset
from ..dataset import ArrangeSettings, CaptionSettings, ExportSettings, MetaSettings, arrange, run_export
from ..dataset.arrange import LEVELS, MODES
from ..dataset.balance import NORMALISE, parse_weights, read_weights, table
from ..dataset.trainers import KOHYA_LAYOUTS, STRATEGIES, TRAINERS
from ..faces import CropSettings, FaceSettings, run_faces
from ..faces.detect import DETECTOR_CHOICES
from ..faces.geometry import COUNT_SOURCES, Buckets, parse_detector_edges
from .progress import CtrlC, terminal_ports


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("faces", help="detect anime faces; store boxes, face-height buckets, person counts",
                       description="Detect faces in every image of DATASET (resumable). Detectors: deepghs "
                                   "YOLOv8 ONNX models or the LBP cascade; 'auto' takes the best one found.")
    p.add_argument("dataset")
    p.add_argument("--detector", default="auto", help=f"{', '.join(DETECTOR_CHOICES)} or a .onnx/.xml path")
    p.add_argument("--conf", type=float, help="confidence threshold (YOLO; default 0.25)")
    p.add_argument("--iou", type=float, help="NMS IoU threshold (YOLO; default 0.7)")
    p.add_argument("--max-size", type=int, default=640, help="longer side used for detection")
    p.add_argument("--min-neighbors", type=int, default=5, help="LBP cascade: neighbours a face needs")
    p.add_argument("--buckets", default="25,50,75", help="face-height-ratio bucket edges in percent")
    _detector_buckets_arg(p)
    p.add_argument("--classes", default="", help="YOLO: classes counted as faces, by name or number "
                   "(default: the model's classes named like 'face'; its class list is shown when none is)")
    p.add_argument("--count-from", choices=COUNT_SOURCES, default="auto", help="person count from faces and/or tags")
    p.add_argument("--crop", action="store_true", help="also save a square crop per face as a new item")
    p.add_argument("--crop-scale", type=float, default=3.0, help="crop side in face heights")
    p.add_argument("--crop-min", type=int, default=256, help="skip crops smaller than this (source pixels)")
    p.add_argument("--crop-size", type=int, default=768, help="crops are scaled down to this side")
    _common(p)
    p.set_defaults(func=cmd_faces)

    p = sub.add_parser("characters", help="name faces from reference pictures; group the rest",
                       description="Embed every face (CCIP ONNX, or the weight-free colour embedder), name it "
                                   "from refs/NAME/*.png, cluster the rest into unknown_k (noise -> others).")
    p.add_argument("dataset")
    p.add_argument("--refs", help="reference folder with one subfolder per character (default DATASET/refs)")
    p.add_argument("--embedder", default="auto", help=f"{', '.join(EMBEDDER_CHOICES)} or a .onnx path")
    p.add_argument("--threshold", type=float, help="same-character difference (CCIP default 0.178)")
    p.add_argument("--cluster", choices=METHODS, default="dbscan")
    p.add_argument("--min-cluster", type=int, default=3, help="faces needed to form an unknown_k group")
    p.add_argument("--detector", default="auto", help="finds the faces in the reference pictures")
    p.add_argument("--rename", action="append", default=[], metavar="OLD=NEW",
                   help="rename a character everywhere (e.g. unknown_1=Aoi); repeatable; skips the run")
    _common(p)
    p.set_defaults(func=cmd_characters)

    p = sub.add_parser("arrange", help="write the count/character/bucket folder tree with JSON and captions",
                       description="Arrange DATASET into OUT: Level 1 count, Level 2 characters, Level 3 "
                                   "face-height bucket; seed-format JSON and a caption beside each image; "
                                   "prints the balance table.")
    p.add_argument("dataset")
    p.add_argument("-o", "--output", required=True, help="target folder (refused if it holds something else)")
    _arrange_args(p)
    p.add_argument("--caption-ext", default=".txt")
    p.set_defaults(func=cmd_arrange)

    p = sub.add_parser("export", help="arrange, balance and write files for a trainer, plus a dataset card",
                       description="Everything `arrange` does, then EveryDream2 multiply.txt, a kohya dataset "
                                   "TOML (or N_name folders) or a OneTrainer concepts JSON, and README.md.")
    p.add_argument("dataset")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--trainer", choices=TRAINERS, required=True)
    p.add_argument("--caption-ext", help="default: .caption for kohya, .txt otherwise")
    p.add_argument("--kohya-layout", choices=KOHYA_LAYOUTS, default="toml")
    p.add_argument("--balancing-strategy", choices=STRATEGIES, default="REPEATS", help="OneTrainer")
    p.add_argument("--resolution", type=int, default=512, help="kohya TOML resolution")
    _arrange_args(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("sources", help="list a dataset's sources; set their licence or permission notes")
    p.add_argument("dataset")
    p.add_argument("--licence", help="licence or permission note to set")
    p.add_argument("--source", default="*", help="which sources (glob on the source path; default all)")
    p.set_defaults(func=cmd_sources)


def _detector_buckets_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detector-buckets", action="append", default=[], metavar="DETECTOR=EDGES",
                   help="bucket edges for one detector's boxes, e.g. lbpcascade_animeface=30,60,90 (the cascade's "
                        "square boxes reach below the chin); repeatable")


def _bucket_edges(args: argparse.Namespace) -> tuple[tuple[int, ...], dict]:
    try:
        return Buckets.parse(args.buckets).edges, parse_detector_edges(args.detector_buckets)
    except ValueError as exc:
        raise BadInput(str(exc), "e.g. --buckets 25,50,75 --detector-buckets lbpcascade_animeface=30,60,90") from exc


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-download", action="store_true", help="allow model downloads")
    p.add_argument("--retry-failed", action="store_true", help="retry images that failed before")


def _arrange_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--levels", default="count,character,bucket", help=f"folder levels, from {', '.join(LEVELS)}")
    p.add_argument("--mode", choices=MODES, default="link", help="hard links (copies across drives), copies or symlinks")
    p.add_argument("--min-images", type=int, default=1, help="smaller character combinations -> character_others")
    p.add_argument("--max-count", type=int, default=6, help="this many characters or more -> N+_characters")
    p.add_argument("--buckets", default="25,50,75")
    _detector_buckets_arg(p)
    p.add_argument("--merge", action="store_true", help="add to a folder that holds other files")
    p.add_argument("--general", default="anishot", help="the caption's general description")
    p.add_argument("--no-episode", action="store_true", help="do not append series+episode to it")
    p.add_argument("--count-from", choices=COUNT_SOURCES, default="auto")
    p.add_argument("--no-crops", action="store_true", help="leave face crops out")
    p.add_argument("--template", default=CaptionSettings().template, help="caption template")
    p.add_argument("--max-tags", type=int)
    p.add_argument("--keep-parts", type=int, default=0, help="put a keep-tokens separator after N parts")
    p.add_argument("--separator", default="|||")
    p.add_argument("--drop-core-tags", action="store_true", help="drop hair/eye tags of named characters")
    p.add_argument("--underscores", action="store_true", help="keep underscores in tags")
    p.add_argument("--weights", help="CSV of 'folder or glob, weight'")
    p.add_argument("--weight", action="append", default=[], metavar="FOLDER=W", help="a folder weight; repeatable")
    p.add_argument("--max-multiply", type=float, default=100.0)
    p.add_argument("--normalise", choices=NORMALISE, default="min1",
                   help="min1: rarest folder seen once per epoch (seed); total: keep the epoch size")


def _arrange_settings(args: argparse.Namespace) -> ArrangeSettings:
    weights = read_weights(Path(args.weights)) if args.weights else {}
    weights.update(parse_weights(args.weight))
    edges, detector_edges = _bucket_edges(args)
    return ArrangeSettings(
        levels=tuple(x.strip() for x in args.levels.split(",") if x.strip()), mode=args.mode,
        min_images=args.min_images, max_count=args.max_count, edges=edges, detector_edges=detector_edges,
        caption_ext=getattr(args, "caption_ext", None) or ".txt", merge=args.merge,
        meta=MetaSettings(general=args.general, episode_in_general=not args.no_episode,
                          count_from=args.count_from, include_crops=not args.no_crops),
        caption=CaptionSettings(template=args.template, max_tags=args.max_tags, keep_parts=args.keep_parts,
                                separator=args.separator, drop_core_tags=args.drop_core_tags,
                                underscores=args.underscores),
        weights=weights, max_multiply=args.max_multiply, normalise=args.normalise)


def cmd_faces(args: argparse.Namespace) -> int:
    edges, detector_edges = _bucket_edges(args)
    settings = FaceSettings(detector=args.detector, conf=args.conf, iou=args.iou, max_size=args.max_size,
                            min_neighbors=args.min_neighbors, edges=edges, detector_edges=detector_edges,
                            classes=tuple(c.strip() for c in args.classes.split(",") if c.strip()),
                            count_from=args.count_from,
                            crop=args.crop, crop_settings=CropSettings(args.crop_scale, args.crop_min, args.crop_size))
    with CtrlC() as ctrl_c:
        report = run_faces(args.dataset, settings, terminal_ports("faces", ctrl_c, args.quiet,
                                                                  allow_download=args.allow_download),
                           retry_failed=args.retry_failed)
    print(report.summary())
    return 1 if report.cancelled else 0


def cmd_characters(args: argparse.Namespace) -> int:
    if args.rename:
        for what, n in rename_characters(args.dataset, parse_renames(args.rename), refs=args.refs).items():
            print(f"renamed {what}: {n} faces")
        return 0
    settings = CharacterSettings(embedder=args.embedder, threshold=args.threshold, refs=args.refs,
                                 cluster=args.cluster, min_cluster=args.min_cluster, detector=args.detector)
    with CtrlC() as ctrl_c:
        report = run_characters(args.dataset, settings,
                                terminal_ports("characters", ctrl_c, args.quiet, allow_download=args.allow_download),
                                retry_failed=args.retry_failed)
    print(report.summary())
    return 1 if report.cancelled else 0


def cmd_arrange(args: argparse.Namespace) -> int:
    with CtrlC() as ctrl_c:
        report = arrange(args.dataset, args.output, _arrange_settings(args),
                         terminal_ports("arrange", ctrl_c, args.quiet))
    print(report.summary())
    if report.balance and report.balance.rows:
        print()
        print(table(report.balance))
    return 1 if report.cancelled else 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = ExportSettings(trainer=args.trainer, arrange=_arrange_settings(args), caption_ext=args.caption_ext,
                              kohya_layout=args.kohya_layout, strategy=args.balancing_strategy,
                              resolution=args.resolution)
    with CtrlC() as ctrl_c:
        report = run_export(args.dataset, args.output, settings, terminal_ports("export", ctrl_c, args.quiet))
    print(report.summary())
    return 1 if report.cancelled else 0


def cmd_sources(args: argparse.Namespace) -> int:
    ds = Dataset(args.dataset)
    sources = [s for s in ds.sources() if fnmatch.fnmatch(s["path"], args.source)]
    if args.licence is not None:
        if not sources:
            raise BadInput(f"no source matches {args.source!r}", "run `udw sources DATASET` to list them")
        with ds.transaction() as conn:
            conn.executemany("UPDATE sources SET licence=? WHERE id=?", [(args.licence, s["id"]) for s in sources])
        print(f"licence set for {len(sources)} source(s)")
        sources = [s for s in ds.sources() if fnmatch.fnmatch(s["path"], args.source)]
    for s in sources:
        print(f"{s['id']:>4}  {s['kind']:<6} {s['path']}  licence: {s.get('licence') or '(not set)'}")
    return 0
