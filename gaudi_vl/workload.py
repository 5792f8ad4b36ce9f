"""Workload readers (an edge): image folders, CSV size lists, OpenAI chat JSONL, engine logs.

Each reader turns what people actually send into a ``Histogram`` (``gaudi_vl.buckets.histogram``)
of 112-aligned patch counts for a pixel range; the pure optimizer takes it from there.

Reading rules:

* Images are never decoded: sizes and EXIF orientation come from the header
  (``gaudi_vl.imageio.header_size``: only the formats of ``ALLOWED_FORMATS``, PostScript refused by
  content, a PNG's ``eXIf`` read only before its pixel data); for data URLs only the first few KB of
  base64 are decoded, more only if the header is longer (a JPEG with a large EXIF block). A file
  named by many JSONL requests is read once (``HeaderCache``: path, device, inode, size, mtime).
* EXIF orientation: vLLM loads images with ``Image.open(...)`` + ``load()`` + ``convert()`` and no
  ``ImageOps.exif_transpose`` (vllm/multimodal/media/image.py, ``ImageMediaIO``), so the engine sees
  the STORED width x height. That is what we use by default; rotated images (orientation 5-8)
  are counted and ``apply_exif=True`` swaps their sides for clients that transpose before sending.
  The patch count is the same either way (the resize rule is symmetric); only the 2-D grid
  (padding rule, warm-up resolutions) changes.
* Engine logs know only patch counts, and only of PADDED images: vllm-gaudi logs "Padding current
  image size N to B" (vllm_gaudi/models/qwen2_5_vl.py:400-404@091bbadda10b) and vllm-fork habana_main
  "Padding current number pixel N to B" (vllm/model_executor/models/qwen2_5_vl.py:970-974@95af7009;
  aice/v1.21.0 logs it at DEBUG only) when N < B; images exactly at a bucket or above the largest
  are not logged.
* Bad rows: skipped with a warning that names their line numbers, or fatal with ``strict``.

Limits (README "Limits"), so that no file can hang the reader or exhaust memory: the workload is a
folder or a regular file (a FIFO or ``/dev/zero`` is refused before it is opened); a line of more
than :data:`MAX_LINE_CHARS` characters is skipped without being held in memory; a CSV field over
Python's ``csv.field_size_limit()`` (131,072) skips its row; image sides are at most
:data:`MAX_SIDE_PX`, a row's count at most :data:`MAX_ROW_COUNT`, the whole workload at most
:data:`MAX_IMAGES` images; a JSONL request nested too deeply for the JSON parser is a skipped line;
a logged patch count above :data:`MAX_LOG_PATCHES` is a skipped line. Sizes are merged as they are
read (one counter per distinct size), so memory grows with distinct sizes, not with rows.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

from gaudi_vl.buckets.cost import Objective, cost_for
from gaudi_vl.buckets.histogram import Histogram, SizeStats, histogram_from_patches, histogram_from_sizes
from gaudi_vl.buckets.optimizer import (
    MAX_BUCKETS_FOR_WASTE,
    BucketScore,
    fewest_buckets_for_waste,
    optimal_buckets,
    score_buckets,
)
from gaudi_vl.buckets.planner import BucketPlan, Strategy, make_plan, plan_buckets
from gaudi_vl.engines import DEFAULT_PROFILE, EngineProfile, Setting
from gaudi_vl.engines.logs import PADDING
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PixelRange, reachable_windows
from gaudi_vl.imageio import HeaderCache, RefusedImage, header_size
from gaudi_vl.models import VisionSpec
from gaudi_vl.plan import Resolution
from gaudi_vl.warmup_plan import padded_compiling_images


class WorkloadFormat(str, Enum):
    AUTO = "auto"
    DIR = "dir"
    CSV = "csv"
    JSONL = "jsonl"
    LOG = "log"


IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".jfif", ".ppm", ".pgm"}
)
LOG_LINE = PADDING
"""The engines' padding line (``gaudi_vl.engines.logs.PADDING``)."""
"""vllm-fork (``get_image_embeds``) and vllm-gaudi (``pad_multimodal_data``) log formats."""
SKIPPED_SHOWN = 10
"""Line numbers listed in a skip warning (the rest are counted)."""
HEADER_CHUNKS_B64 = (4096, 65536, None)
"""Base64 characters decoded per attempt to read a data URL's header (None: all of it)."""
DEFAULT_MAX_BUCKETS = 8
"""``--max-buckets`` when not given: one more than the engine's default list of 7."""
MAX_LINE_CHARS = 64 << 20
"""64 Mi characters: the longest line read (a JSONL request inlining a 45 MB image as base64)."""
MAX_SIDE_PX = 2**31 - 1
"""Largest image side read from a CSV (PNG's own limit)."""
MAX_ROW_COUNT = 10**12
"""Largest ``count`` of one CSV row."""
MAX_IMAGES = 2**53
"""Most images in one workload: counts stay exact in the float64 sums of the histogram."""
MAX_LOG_PATCHES = 2**24
"""Largest patch count read from an engine log; ``MAX_PIXELS`` images have about 10^6 patches."""


@dataclass(frozen=True)
class Skipped:
    """A row or file that could not be read."""

    where: str
    """``line N`` or a file path."""
    reason: str


@dataclass(frozen=True)
class Workload:
    """A read workload: its histogram for one pixel range and what happened on the way."""

    source: str
    format: WorkloadFormat
    histogram: Histogram
    size_stats: SizeStats | None
    """None for engine logs (they hold patch counts, not image sizes)."""
    skipped: tuple[Skipped, ...] = ()
    exif_rotated_images: int = 0
    above_range_images: int = 0
    """Images above the pixel range's largest reachable patch count (logs from another range)."""
    notes: tuple[str, ...] = field(default=())

    @property
    def images(self) -> int:
        return self.histogram.images

    def warnings(self) -> tuple[str, ...]:
        out: list[str] = list(self.notes)
        if self.skipped:
            shown = ", ".join(s.where for s in self.skipped[:SKIPPED_SHOWN])
            extra = len(self.skipped) - SKIPPED_SHOWN
            more = f" and {extra} more" if extra > 0 else ""
            out.append(
                f"workload: skipped {len(self.skipped)} unreadable entries ({shown}{more}; first: "
                f"{self.skipped[0].reason}); pass --strict to stop at the first one"
            )
        s = self.size_stats
        if s is not None:
            if s.refused_aspect:
                out.append(f"workload: {s.refused_aspect} images have an aspect ratio over 200 and are "
                           "refused by the processor (left out)")
            if s.over_max_aspect:
                out.append(f"workload: {s.over_max_aspect} images are wider than --max-aspect; they are "
                           "planned for anyway")
            if s.downscaled:
                out.append(f"workload: {s.downscaled} images are larger than max_pixels and are "
                           "downscaled (fine detail is lost)")
            if s.upscaled:
                out.append(f"workload: {s.upscaled} images are smaller than min_pixels and are upscaled")
        if self.exif_rotated_images:
            out.append(f"workload: {self.exif_rotated_images} images carry an EXIF rotation; sizes are "
                       "read as stored, as vLLM does not apply EXIF orientation")
        if self.above_range_images:
            out.append(f"workload: {self.above_range_images} logged images are above the pixel range's "
                       "largest size: the log comes from another --max-pixels")
        return tuple(out)


class _Sizes:
    """Raw widths/heights (or log patch counts) as they are read, plus skips."""

    def __init__(self, source: Path, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.sizes: Counter[tuple[int, int]] = Counter()
        self.patches: Counter[int] = Counter()
        self.images = 0
        self.skipped: list[Skipped] = []
        self.exif_rotated = 0

    def skip(self, where: str, reason: str) -> None:
        if self.strict:
            raise GaudiVLError(
                f"{self.source}: {where}: {reason}", "fix it or drop --strict to skip bad entries"
            )
        self.skipped.append(Skipped(where, reason))

    def _count(self, count: int) -> None:
        self.images += count
        if self.images > MAX_IMAGES:
            raise GaudiVLError(
                f"{self.source} holds over {MAX_IMAGES:,} images", "check the counts of the workload"
            )

    def add(self, width: int, height: int, count: int = 1) -> None:
        self._count(count)
        self.sizes[(width, height)] += count

    def add_patches(self, patches: int) -> None:
        self._count(1)
        self.patches[patches] += 1


def _lines(f: IO[str], sizes: _Sizes, limit: int = MAX_LINE_CHARS) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a text file; a line over ``limit`` characters is skipped (and
    read past in ``limit``-sized pieces, never held whole)."""
    line_no = 0
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        line_no += 1
        if len(line) > limit and not line.endswith("\n"):
            while (rest := f.readline(limit)) and not rest.endswith("\n"):
                pass
            sizes.skip(f"line {line_no}", f"longer than {limit:,} characters")
            continue
        yield line_no, line


def _json_lines(lines: Iterator[tuple[int, str]], sizes: _Sizes) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed request)`` of JSONL lines: blank lines passed over, a line that is not
    JSON (bad syntax, nested past the parser's depth, an integer of thousands of digits) skipped
    with its reason."""
    for line_no, line in lines:
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            sizes.skip(f"line {line_no}", f"not JSON ({exc.msg})")
        except RecursionError:
            sizes.skip(f"line {line_no}", "not JSON (nested too deeply)")
        except ValueError as exc:  # an integer of thousands of digits
            sizes.skip(f"line {line_no}", f"not JSON ({exc})")


def _progress(items: list[Path], desc: str) -> Iterator[Path]:
    """A tqdm bar on stderr, only when stderr is a terminal (logs and pipes stay clean)."""
    from tqdm import tqdm

    return iter(tqdm(items, desc=desc, unit="img", file=sys.stderr, disable=not sys.stderr.isatty()))


def _read_dir(path: Path, sizes: _Sizes, apply_exif: bool) -> None:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    for file in _progress(files, "reading image headers"):
        try:
            width, height, rotated = header_size(file, apply_exif)
        except RefusedImage as exc:
            sizes.skip(str(file.relative_to(path)), str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad files
            sizes.skip(str(file.relative_to(path)), f"not a readable image ({type(exc).__name__})")
            continue
        sizes.exif_rotated += rotated
        sizes.add(width, height)


def _positive(text: str | None, name: str, high: int) -> int:
    if text is None or not text.strip():
        raise ValueError(f"{name} is missing")
    cell = text.strip()
    if len(cell) > 20 or not cell.isascii():
        raise ValueError(f"{name} {cell[:20]!r} is not a whole number")
    try:
        value = int(cell)
    except ValueError:
        raise ValueError(f"{name} {cell!r} is not a whole number") from None
    if value <= 0:
        raise ValueError(f"{name} {value} is not positive")
    if value > high:
        raise ValueError(f"{name} {value} is above the limit of {high:,}")
    return value


def _read_csv(path: Path, sizes: _Sizes) -> None:
    with path.open(newline="", encoding="utf-8-sig") as f:
        where = [0]

        def lines() -> Iterator[str]:
            for line_no, line in _lines(f, sizes):
                where[0] = line_no
                yield line

        reader = csv.reader(lines())
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise GaudiVLError(
                f"{path}: the header is not CSV ({exc})", "start with a line such as width,height,count"
            ) from None
        if header is None:
            raise GaudiVLError(f"{path} is empty", "a CSV workload needs a header: width,height[,count]")
        names = [h.strip().lower() for h in header]
        if "width" not in names or "height" not in names:
            raise GaudiVLError(
                f"{path}: the header {','.join(header)!r} has no width and height columns",
                "start the CSV with a header line such as width,height,count",
            )
        wi, hi = names.index("width"), names.index("height")
        ci = names.index("count") if "count" in names else None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte
                sizes.skip(f"line {where[0]}", f"not CSV ({exc})")
                continue
            if not row or all(not c.strip() for c in row):
                continue
            line = where[0]
            try:
                width = _positive(row[wi] if wi < len(row) else None, "width", MAX_SIDE_PX)
                height = _positive(row[hi] if hi < len(row) else None, "height", MAX_SIDE_PX)
                cell = row[ci].strip() if ci is not None and ci < len(row) else ""
                count = _positive(cell, "count", MAX_ROW_COUNT) if cell else 1  # empty: one image
            except ValueError as exc:
                sizes.skip(f"line {line}", str(exc))
                continue
            sizes.add(width, height, count)


def _image_urls(node: Any) -> Iterator[str]:
    """Image URLs anywhere in a chat request: ``{"type": "image_url", "image_url": {"url": ...}}``
    (chat completions, also inside batch ``body``) and ``{"type": "input_image", "image_url": ...}``
    (responses API). Walked with an explicit stack (document order), so nesting depth costs no
    recursion."""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if kind in ("image_url", "input_image") and "image_url" in item:
                ref = item["image_url"]
                url = ref.get("url") if isinstance(ref, dict) else ref
                if isinstance(url, str):
                    yield url
                continue
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _data_url_size(url: str, apply_exif: bool) -> tuple[int, int, bool]:
    head, sep, payload = url.partition(",")
    if not sep or ";base64" not in head:
        raise ValueError("data URL is not base64")
    payload = payload.strip()
    last: Exception | None = None
    for chunk in HEADER_CHUNKS_B64:
        part = payload if chunk is None or chunk >= len(payload) else payload[:chunk]
        try:
            data = base64.b64decode(part[: len(part) - len(part) % 4] if chunk is not None else part)
            return header_size(io.BytesIO(data), apply_exif)
        except RefusedImage:
            raise
        except (binascii.Error, ValueError) as exc:
            last = exc
            if chunk is None or chunk >= len(payload):
                break
        except Exception as exc:  # noqa: BLE001 - truncated header: read more
            last = exc
            if chunk is None or chunk >= len(payload):
                break
    raise ValueError(f"data URL holds no readable image ({type(last).__name__})")


def _file_url_size(url: str, base: str, cache: HeaderCache) -> tuple[int, int, bool]:
    """The header size of a ``file://`` URL or a path (relative to the JSONL's folder), read once
    per file (``cache``); plain string paths, as this runs once per request."""
    if url.startswith("file://"):
        target = unquote(urlparse(url).path)
    else:
        target = url if os.path.isabs(url) else os.path.join(base, url)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        raise ValueError(f"image file {target} not found (or not a regular file)") from None
    except (OSError, ValueError) as exc:  # a name too long, permission denied on a parent, a NUL
        why = getattr(exc, "strerror", None) or exc
        raise ValueError(f"image file {target} cannot be read ({why})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"image file {target} not found (or not a regular file)")
    return cache.size(target, st)


def _read_jsonl(path: Path, sizes: _Sizes, apply_exif: bool) -> None:
    cache = HeaderCache(apply_exif)  # a file named by many requests is read once
    base = str(path.parent)
    with path.open(encoding="utf-8") as f:
        for line_no, request in _json_lines(_lines(f, sizes), sizes):
            for url in _image_urls(request):
                try:
                    width, height, rotated = _url_size(url, base, cache)
                except ValueError as exc:
                    sizes.skip(f"line {line_no}", str(exc))
                    continue
                sizes.exif_rotated += rotated
                sizes.add(width, height)


def _read_log(path: Path, sizes: _Sizes) -> None:
    with path.open(encoding="utf-8", errors="replace") as f:
        for line_no, line in _lines(f, sizes):
            match = LOG_LINE.search(line)
            if match:
                digits = match.group(1)
                if len(digits) > 9 or not 0 < int(digits) <= MAX_LOG_PATCHES:
                    reason = f"patch count {digits[:12]} is not in 1..{MAX_LOG_PATCHES:,}"
                    sizes.skip(f"line {line_no}", reason)
                    continue
                sizes.add_patches(int(digits))


def detect_format(path: Path) -> WorkloadFormat:
    """``dir`` for folders, else by suffix, else by the first non-empty line."""
    if path.is_dir():
        return WorkloadFormat.DIR
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return WorkloadFormat.CSV
    if suffix in (".jsonl", ".ndjson", ".json"):
        return WorkloadFormat.JSONL
    if suffix in (".log", ".txt", ".out", ".err"):
        return WorkloadFormat.LOG
    first = ""
    with path.open(encoding="utf-8", errors="replace") as f:
        for _ in range(1000):  # the first non-empty line among the first 1000, each read bounded
            line = f.readline(4096)
            if not line or line.strip():
                first = line.strip()
                break
    if first.startswith("{"):
        return WorkloadFormat.JSONL
    if "width" in first.lower() and "height" in first.lower():
        return WorkloadFormat.CSV
    return WorkloadFormat.LOG


def read_workload(
    path: str | Path,
    pixel_range: PixelRange,
    *,
    fmt: WorkloadFormat | str = WorkloadFormat.AUTO,
    strict: bool = False,
    apply_exif: bool = False,
) -> Workload:
    """Read a workload and build its histogram for ``pixel_range``.

    Raises ``GaudiVLError`` for a missing path, a wrong format, a bad row under ``strict`` and a
    workload with no usable image.
    """
    source = Path(path)
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise GaudiVLError(
            f"workload {source} does not exist", "pass a folder, .csv, .jsonl or engine log"
        ) from None
    except (OSError, ValueError) as exc:  # a symlink loop, a name too long, a NUL byte
        raise GaudiVLError(f"cannot read workload {source}: {getattr(exc, 'strerror', None) or exc}",
                           "check the path") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        # A FIFO would block until someone writes, a device such as /dev/zero never ends.
        raise GaudiVLError(
            f"workload {source} is not a folder or a regular file", "copy the data to a file first"
        )
    fmt = WorkloadFormat(fmt)
    if fmt is WorkloadFormat.AUTO:
        fmt = detect_format(source)
    if (fmt is WorkloadFormat.DIR) != source.is_dir():
        raise GaudiVLError(
            f"workload {source} is {'a folder' if source.is_dir() else 'a file'}, not {fmt.value}",
            "use --workload-format auto",
        )
    sizes = _Sizes(source, strict)
    try:
        if fmt is WorkloadFormat.DIR:
            _read_dir(source, sizes, apply_exif)
        elif fmt is WorkloadFormat.CSV:
            _read_csv(source, sizes)
        elif fmt is WorkloadFormat.JSONL:
            _read_jsonl(source, sizes, apply_exif)
        else:
            _read_log(source, sizes)
    except UnicodeDecodeError:
        raise GaudiVLError(f"workload {source} is not UTF-8 text", "is --workload-format right?") from None
    except OSError as exc:
        raise GaudiVLError(f"cannot read workload {source}: {exc.strerror}", "check the path") from None

    above = 0
    stats: SizeStats | None = None
    if fmt is WorkloadFormat.LOG:
        hist = histogram_from_patches(sizes.patches.keys(), sizes.patches.values())
        top = reachable_windows(pixel_range).max_patches
        above = sum(n for p, n in sizes.patches.items() if p > top)
    else:
        keys = list(sizes.sizes)
        hist, stats = histogram_from_sizes(
            [w for w, _ in keys], [h for _, h in keys], list(sizes.sizes.values()), pixel_range
        )
    if hist.is_empty:
        what = {
            WorkloadFormat.DIR: "no readable image files",
            WorkloadFormat.CSV: "no valid width,height rows",
            WorkloadFormat.JSONL: "no readable image_url parts",
            WorkloadFormat.LOG: "no 'Padding current image size N to B' lines",
        }[fmt]
        raise GaudiVLError(f"workload {source} has {what}", "check the path and --workload-format")
    return Workload(
        source=str(source),
        format=fmt,
        histogram=hist,
        size_stats=stats,
        skipped=tuple(sizes.skipped),
        exif_rotated_images=sizes.exif_rotated,
        above_range_images=above,
    )


# --- planning from a workload ---------------------------------------------------------------

RESOLUTION_LIMIT = 8
"""At most this many explicit warm-up resolutions for vllm-gaudi. Each one is an extra graph
compiled at start-up and kept in graph memory on top of the 5 per bucket; the buckets already
cover every size, so only the few shapes that carry a large share of the traffic are worth it."""
RESOLUTION_MIN_SHARE = 0.01
"""... and only shapes with at least 1 % of the images."""


@dataclass(frozen=True)
class WorkloadReport:
    """The optimal plan against the other strategies on one workload."""

    workload: Workload
    objective: Objective
    max_buckets: int
    max_waste_fraction: float | None
    cover_range: bool
    scores: tuple[BucketScore, ...]
    """``optimal`` first, then ``default``, ``linear``, ``exp``."""
    resolutions: tuple[Resolution, ...] = ()
    resolutions_share: float = 0.0
    """Fraction of the workload's images whose aligned size is one of ``resolutions``."""
    compiling_images: tuple[int, ...] = ()
    """Per score (same order): images whose padded size warm-up did not compile, so that they
    compile while serving (``gaudi_vl.warmup_plan.padded_compiling_images``)."""

    @property
    def optimal(self) -> BucketScore:
        return self.scores[0]

    def relative_time(self, score: BucketScore) -> float:
        """Vision-tower cost-model time of ``score`` relative to the optimal plan (1.0)."""
        return score.tower_flops / self.optimal.tower_flops


def top_resolutions(
    histogram: Histogram, limit: int = RESOLUTION_LIMIT
) -> tuple[tuple[Resolution, ...], float]:
    """The most frequent aligned ``WxH`` sizes (at least ``RESOLUTION_MIN_SHARE`` of the images)
    and the share of images they cover."""
    if not histogram.grids:
        return (), 0.0
    total = histogram.images
    chosen = [g for g in histogram.top_grids(limit) if g.images / total >= RESOLUTION_MIN_SHARE]
    share = sum(g.images for g in chosen) / total
    return tuple(Resolution(g.width_px, g.height_px) for g in chosen), share


def plan_for_workload(
    workload: Workload,
    pixel_range: PixelRange,
    vision: VisionSpec,
    *,
    max_buckets: int | None = None,
    objective: Objective | str = Objective.TIME,
    max_waste_fraction: float | None = None,
    cover_range: bool = True,
    step: int | None = None,
    count: int | None = None,
    engine: EngineProfile = DEFAULT_PROFILE,
    align: bool = True,
) -> tuple[BucketPlan, WorkloadReport]:
    """Optimal buckets for ``workload`` and the comparison with the default/linear/exp plans.

    ``cover_range`` (default) makes the largest bucket the range's largest reachable patch count,
    so no in-range image compiles while serving even if the workload never reached it.
    ``max_waste_fraction`` picks the fewest buckets (up to ``max_buckets``, else
    ``MAX_BUCKETS_FOR_WASTE``) whose padding stays under it, by the patches objective.
    ``engine`` (its profile) gives the default list and each plan's warm-up set; explicit warm-up
    resolutions are chosen only for engines that read them.
    """
    objective = Objective(objective)
    hist = workload.histogram
    windows = reachable_windows(pixel_range)
    top = windows.max_patches if cover_range else None
    cost = cost_for(objective, vision)
    if max_waste_fraction is not None:
        limit = max_buckets if max_buckets is not None else MAX_BUCKETS_FOR_WASTE
        best = fewest_buckets_for_waste(hist, max_waste_fraction, top_patches=top, max_buckets=limit)
        budget = limit
    else:
        budget = max_buckets if max_buckets is not None else DEFAULT_MAX_BUCKETS
        best = optimal_buckets(hist, budget, cost, objective=objective, top_patches=top)
    notes: list[str] = []
    if best.top_patches > windows.max_patches:
        notes.append(
            f"the workload needs a {best.top_patches}-patch bucket, above the largest size the pixel "
            f"range reaches ({windows.max_patches}): its sizes come from another range"
        )
    bucket_plan = make_plan(best.buckets, Strategy.OPTIMAL, pixel_range, windows, extra_warnings=notes)

    # Compare with the same cost model the report names (time by default), so "relative time" is
    # the tower's time even when the buckets were chosen by patches or by --max-waste.
    time_cost = cost_for(Objective.TIME, vision)
    others = {
        "default": plan_buckets(pixel_range, Strategy.DEFAULT, engine=engine),
        "linear": plan_buckets(pixel_range, Strategy.LINEAR, step=step),
        "exp": plan_buckets(pixel_range, Strategy.EXP, count=count),
    }
    chosen, share = top_resolutions(hist) if engine.reads(Setting.RESOLUTIONS) else ((), 0.0)

    compiling: list[int] = []

    def score(label: str, buckets: tuple[int, ...], extra: tuple[Resolution, ...] = ()) -> BucketScore:
        warm = engine.warmup_set(buckets, pixel_range, align=align,
                                 resolutions=[(r.width, r.height) for r in extra])
        compiling.append(padded_compiling_images(hist.patches, hist.counts, buckets, warm.compiled))
        return score_buckets(
            label, buckets, hist, time_cost, warmup_graphs=warm.graphs, never_warmed=warm.never_warmed,
            warmup_above_largest=warm.above_largest,
        )

    scores = [score("optimal", best.buckets, chosen)]
    scores += [score(name, p.buckets) for name, p in others.items()]
    report = WorkloadReport(
        workload=workload,
        objective=Objective.PATCHES if max_waste_fraction is not None else objective,
        max_buckets=budget,
        max_waste_fraction=max_waste_fraction,
        cover_range=cover_range,
        scores=tuple(scores),
        resolutions=chosen,
        resolutions_share=share,
        compiling_images=tuple(compiling),
    )
    return bucket_plan, report


# ---------------------------------------------------------------- text workloads (issue 18)

CHARS_PER_TOKEN = 4.0
"""Default characters per text token when no tokenizer is at hand. An assumption, stated in the
report: about 4 characters of English per token for byte-level BPE vocabularies of Qwen2.5's size
(151,643 tokens); CJK text packs fewer characters per token (pass ``--chars-per-token``)."""
IMAGE_TOKENS_EXTRA = 2
"""``<|vision_start|>`` and ``<|vision_end|>`` around each image's merged patch tokens (Qwen2.5-VL)."""
RUNNING_LINE = re.compile(r"Running: (\d{1,9}) reqs")
"""vLLM's periodic metrics line (V0 ``Running: N reqs, Swapped: ...``; V1 ``Running: N reqs, Waiting: ...``):
the decode batch at that moment."""


@dataclass(frozen=True)
class TextWorkload:
    """Prompt lengths (tokens, estimated) and decode batch sizes read from traffic."""

    source: str
    format: WorkloadFormat
    prompt_tokens: Histogram
    """``patches`` holds prompt lengths in tokens."""
    decode_batches: Histogram
    """``patches`` holds running-request counts from the engine's metrics lines."""
    chars_per_token: float
    skipped: tuple[Skipped, ...] = ()

    @property
    def prompts(self) -> int:
        return self.prompt_tokens.images


def _text_chars(node: Any) -> int:
    """Characters of text in a chat request: string ``content``, ``text`` / ``input_text`` parts and a
    completions ``prompt``; walked with an explicit stack like ``_image_urls``."""
    total = 0
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in ("text", "input_text") and isinstance(item.get("text"), str):
                total += len(item["text"])
                continue
            for key, value in item.items():
                if key in ("content", "prompt") and isinstance(value, str):
                    total += len(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return total


def read_text_workload(
    path: str | Path,
    image_tokens: Callable[[int, int], int],
    *,
    chars_per_token: float = CHARS_PER_TOKEN,
    fmt: WorkloadFormat | str = WorkloadFormat.AUTO,
    strict: bool = False,
) -> TextWorkload:
    """Prompt lengths from a JSONL of chat requests (text characters / ``chars_per_token`` plus
    ``image_tokens(width, height)`` per image, rounded up) or decode batch sizes from an engine log
    (``Running: N reqs``). ``image_tokens`` is the model's rule (the edge passes it)."""
    source = Path(path)
    if not source.exists():
        raise GaudiVLError(f"text workload {source} does not exist",
                           "pass a JSONL of chat requests or an engine log")
    if not source.is_file() or not stat.S_ISREG(source.stat().st_mode):
        raise GaudiVLError(f"text workload {source} is not a regular file",
                           "pass a JSONL file or an engine log")
    if not (0 < chars_per_token <= 100):
        raise GaudiVLError(f"--chars-per-token {chars_per_token} is not in (0, 100]",
                           "e.g. --chars-per-token 4")
    kind = WorkloadFormat(fmt)
    if kind is WorkloadFormat.AUTO:
        kind = detect_format(source)
    if kind not in (WorkloadFormat.JSONL, WorkloadFormat.LOG):
        raise GaudiVLError(f"text workload {source} is {kind.value}, not JSONL or a log",
                           "pass a JSONL of chat requests or an engine log")
    sizes = _Sizes(source, strict)
    cache, base = HeaderCache(), str(source.parent)  # a file named by many requests is read once
    prompts: Counter[int] = Counter()
    running: Counter[int] = Counter()
    with source.open(encoding="utf-8", errors="replace") as f:
        if kind is WorkloadFormat.LOG:
            for _, line in _lines(f, sizes):
                for match in RUNNING_LINE.finditer(line):
                    n = int(match.group(1))
                    if n > 0:
                        running[n] += 1
        else:
            for line_no, request in _json_lines(_lines(f, sizes), sizes):
                tokens = _text_chars(request) / chars_per_token
                ok = True
                for url in _image_urls(request):
                    try:
                        width, height, _ = _url_size(url, base, cache)
                    except ValueError as exc:
                        sizes.skip(f"line {line_no}", str(exc))
                        ok = False
                        break
                    tokens += image_tokens(width, height) + IMAGE_TOKENS_EXTRA
                if ok:
                    prompts[max(1, math.ceil(tokens))] += 1
    hist = histogram_from_patches(prompts.keys(), prompts.values())
    batches = histogram_from_patches(running.keys(), running.values())
    if hist.is_empty and batches.is_empty:
        raise GaudiVLError(f"text workload {source} has no readable prompt or 'Running: N reqs' line",
                           "pass a JSONL of chat requests or a vLLM log with its metrics lines")
    return TextWorkload(str(source), kind, hist, batches, chars_per_token, tuple(sizes.skipped))


# --- requests (images per prompt) ------------------------------------------------------------


@dataclass(frozen=True)
class RequestWorkload:
    """A workload read as requests: each distinct tuple of (width, height) images and its count.

    Image folders and CSV rows are one-image requests; a JSONL line is one request with every image
    it holds, in order. Engine logs hold only patch counts, so they cannot be read this way.
    """

    source: str
    format: WorkloadFormat
    requests: dict[tuple[tuple[int, int], ...], int]
    skipped: tuple[Skipped, ...] = ()
    exif_rotated_images: int = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def warnings(self) -> tuple[str, ...]:
        if not self.skipped:
            return ()
        shown = ", ".join(s.where for s in self.skipped[:SKIPPED_SHOWN])
        line = (f"workload: skipped {len(self.skipped)} unreadable entries ({shown}; first: "
                f"{self.skipped[0].reason}); pass --strict to stop at the first one")
        return (line,)


def _url_size(url: str, base: str, cache: HeaderCache) -> tuple[int, int, bool]:
    """(width, height, rotated) of one image URL of a chat request (data URL or local file; a file
    named by many requests is read once through ``cache``)."""
    if url.startswith("data:"):
        return _data_url_size(url, cache.apply_exif)
    if url.startswith(("http://", "https://")):
        raise ValueError("remote image URLs are not fetched; inline them or use file paths")
    return _file_url_size(url, base, cache)


def _read_jsonl_requests(path: Path, sizes: _Sizes, apply_exif: bool) -> Counter[tuple[tuple[int, int], ...]]:
    """One request per JSONL line: the sizes of its images in document order. A line with an
    unreadable image is skipped whole (its call shape would be unknown)."""
    out: Counter[tuple[tuple[int, int], ...]] = Counter()
    cache, base = HeaderCache(apply_exif), str(path.parent)  # a file named by many requests is read once
    with path.open(encoding="utf-8") as f:
        for line_no, request in _json_lines(_lines(f, sizes), sizes):
            images: list[tuple[int, int]] = []
            try:
                for url in _image_urls(request):
                    width, height, rotated = _url_size(url, base, cache)
                    sizes.exif_rotated += rotated
                    images.append((width, height))
            except ValueError as exc:
                sizes.skip(f"line {line_no}", str(exc))
                continue
            if images:
                sizes._count(len(images))
                out[tuple(images)] += 1
    return out


def read_requests(
    path: str | Path,
    *,
    fmt: WorkloadFormat | str = WorkloadFormat.AUTO,
    strict: bool = False,
    apply_exif: bool = False,
) -> RequestWorkload:
    """Read a workload as requests (images per prompt); the same files as ``read_workload``."""
    source = Path(path)
    try:
        mode = os.stat(source).st_mode
    except (OSError, ValueError):
        raise GaudiVLError(f"workload {source} does not exist or cannot be read",
                           "pass a folder, .csv or .jsonl") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise GaudiVLError(f"workload {source} is not a folder or a regular file",
                           "copy the data to a file first")
    fmt = WorkloadFormat(fmt)
    if fmt is WorkloadFormat.AUTO:
        fmt = detect_format(source)
    if (fmt is WorkloadFormat.DIR) != source.is_dir():
        what = "a folder" if source.is_dir() else "a file"
        raise GaudiVLError(f"workload {source} is {what}, not {fmt.value}", "use --workload-format auto")
    if fmt is WorkloadFormat.LOG:
        raise GaudiVLError(f"workload {source} is an engine log: it holds patch counts, not image sizes",
                           "pass the images, a width,height CSV or the JSONL requests")
    sizes = _Sizes(source, strict)
    try:
        if fmt is WorkloadFormat.JSONL:
            requests = _read_jsonl_requests(source, sizes, apply_exif)
        else:
            if fmt is WorkloadFormat.DIR:
                _read_dir(source, sizes, apply_exif)
            else:
                _read_csv(source, sizes)
            requests = Counter({((w, h),): n for (w, h), n in sizes.sizes.items()})
    except UnicodeDecodeError:
        raise GaudiVLError(f"workload {source} is not UTF-8 text", "is --workload-format right?") from None
    except OSError as exc:
        raise GaudiVLError(f"cannot read workload {source}: {exc.strerror}", "check the path") from None
    if not requests:
        raise GaudiVLError(f"workload {source} has no request with a readable image",
                           "check the path and --workload-format")
    return RequestWorkload(str(source), fmt, dict(requests), tuple(sizes.skipped), sizes.exif_rotated)
