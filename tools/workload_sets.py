"""Derive ``width,height,count`` CSV workloads from real image-size sources, at run time.

Nothing is downloaded or stored here: point it at a file you already have (e.g. a COCO-format
annotation JSON brought in by hand) and it writes the CSV that ``gaudi-vl plan --workload``
reads. The numbers in BENCHMARKS.md were produced this way (see the commands there).

Usage:
  python tools/workload_sets.py coco ANNOTATIONS.json|- -o sizes.csv   # COCO "images" entries
  python tools/workload_sets.py dir FOLDER -o sizes.csv                # image headers in a folder
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def coco_sizes(text: str) -> Counter[tuple[int, int]]:
    """``(width, height)`` counts of a COCO-format file's ``images`` list."""
    data = json.loads(text)
    return Counter((int(im["width"]), int(im["height"])) for im in data["images"])


def dir_sizes(folder: Path) -> Counter[tuple[int, int]]:
    """Sizes from image headers (Pillow's lazy open: pixels are never decoded)."""
    from PIL import Image

    from gaudi_vl.workload import IMAGE_SUFFIXES

    out: Counter[tuple[int, int]] = Counter()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            with Image.open(path) as im:
                out[im.size] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a width,height,count CSV from real image sizes")
    parser.add_argument("kind", choices=["coco", "dir"])
    parser.add_argument("source", help="COCO JSON path ('-' for stdin) or an image folder")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    if args.kind == "coco":
        text = sys.stdin.read() if args.source == "-" else Path(args.source).read_text(encoding="utf-8")
        sizes = coco_sizes(text)
    else:
        sizes = dir_sizes(Path(args.source))
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("width,height,count\n")
        for (w, h), n in sorted(sizes.items()):
            f.write(f"{w},{h},{n}\n")
    print(f"{sum(sizes.values())} images, {len(sizes)} distinct sizes -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
