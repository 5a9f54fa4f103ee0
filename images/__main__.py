"""`scripts/images build [krm|cmp ...]`: the images as tars that `ctr images import` and `docker load` read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/images", description="Build zdrender's container images without a container daemon (amd64).")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="build images into tars (cached; the same inputs give the same digests)")
    make.add_argument("images", nargs="*", choices=[[], *build.IMAGES], help="krm, cmp (default: both)")
    make.add_argument("--out", type=Path, help=f"folder for the tars (default: {build.cache_dir() / 'out'})")
    sub.add_parser("list", help="the images and their references")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, image in build.IMAGES.items():
            print(f"{name}\t{image.ref}\t{image.dockerfile}")
        return 0
    try:
        for name in args.images or list(build.IMAGES):
            built = build.build(name, args.out)
            print(f"{built.image.ref}\t{built.archive}\t{built.size / 1e6:.1f} MB ({built.unpacked / 1e6:.1f} MB unpacked)\t{built.seconds:.1f}s", flush=True)
    except build.BuildError as err:
        print(f"scripts/images: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
