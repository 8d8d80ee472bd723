"""``python -m udw.samples OUT_DIR [options]``: write the sample episodes and their truth files."""

from __future__ import annotations

import argparse
import sys
import time

from .generate import generate_samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m udw.samples", description=__doc__)
    p.add_argument("out_dir")
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--series", default="udwdemo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=float, default=24)
    p.add_argument("--duration", type=float, default=24.0, help="seconds per episode")
    p.add_argument("--containers", default="mp4,webm", help="comma list, cycled over episodes (mp4, webm, mkv)")
    p.add_argument("--opening", type=float, default=None, help="shared opening seconds (0: none)")
    p.add_argument("--ending", type=float, default=None, help="shared ending seconds (0: none)")
    p.add_argument("--image-set", type=int, default=0, metavar="BASES",
                   help="also write OUT_DIR/imageset: BASES base stills, their variants and noise-model copies")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    fps = int(a.fps) if float(a.fps).is_integer() else float(a.fps)

    def progress(done, total, preview=None):
        if not a.quiet:
            print(f"\r{done}/{total} frames", end="", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    try:
        eps = generate_samples(a.out_dir, a.episodes, a.series, a.seed, a.width, a.height, fps, a.duration,
                               tuple(c.strip() for c in a.containers.split(",") if c.strip()),
                               a.opening, a.ending, progress)
    except (ValueError, RuntimeError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    if not a.quiet:
        print(file=sys.stderr)
    for ep in eps:
        print(f"{ep.video}\t{ep.truth}\t{ep.frame_count} frames")
    if a.image_set:
        from .imageset import generate_image_set

        print(generate_image_set(f"{a.out_dir}/imageset", bases=a.image_set, seed=a.seed))
    if not a.quiet:
        print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
