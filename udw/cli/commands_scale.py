"""Scale-out verbs: check a Ray cluster, mirror a dataset folder to or from object storage."""

from __future__ import annotations

import argparse

from ..core.engine import engine_settings
from ..core.manifest import Dataset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cluster", help="check the Ray cluster stages would run on",
                       description="Connect to a Ray cluster (or start a private local one) and print its "
                                   'nodes, CPUs and GPUs. Needs pip install "udw-studio[ray]".')
    p.add_argument("--address", default=None, help="auto, ray://HOST:10001 or HOST:6379 (default: local)")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("mirror", help="copy a dataset folder to or from object storage (s3://, gs://, ...)",
                       description="push: upload the dataset's files (not its manifest) that the mirror lacks, "
                                   "so Ray workers can use --ray-worker-root URL; pull: download the files "
                                   "workers wrote there. Only missing or resized files are copied.")
    p.add_argument("dataset")
    p.add_argument("url", help="the mirror, e.g. s3://bucket/datasets/show")
    p.add_argument("direction", choices=("push", "pull"))
    p.set_defaults(func=cmd_mirror)


def cmd_cluster(args: argparse.Namespace) -> int:
    from ..scale.runtime import cluster_summary

    print(cluster_summary(engine_settings("ray", args.address)))
    return 0


def cmd_mirror(args: argparse.Namespace) -> int:
    from ..scale.storage import sync

    ds = Dataset(args.dataset)
    n = sync(ds.root, args.url, args.direction)
    print(f"{args.direction}: {n} file(s) copied {'to' if args.direction == 'push' else 'from'} {args.url}")
    return 0
