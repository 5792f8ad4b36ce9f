"""The workload as the optimizer sees it: how many images land on each patch count.

Pure (numpy and the geometry core; no file I/O — the readers in ``gaudi_vl.workload`` produce the
sizes). A million image sizes collapse to at most a few thousand distinct aligned patch counts,
which is what makes the exact optimizer fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import MAX_ASPECT_RATIO, PATCH_PX, PixelRange


@dataclass(frozen=True)
class GridCount:
    """Images whose 112-aligned size is ``grid_h x grid_w`` patches."""

    grid_h_patches: int
    grid_w_patches: int
    images: int

    @property
    def patches(self) -> int:
        return self.grid_h_patches * self.grid_w_patches

    @property
    def width_px(self) -> int:
        return self.grid_w_patches * PATCH_PX

    @property
    def height_px(self) -> int:
        return self.grid_h_patches * PATCH_PX


@dataclass(frozen=True)
class Histogram:
    """Sorted, unique patch counts with the number of images at each.

    ``grids`` (optional) keeps the 2-D shapes behind the counts: the engine's padding rule
    (``engine_padded_grid``) and explicit warm-up resolutions need them. Workloads that only know
    patch counts (an engine log) leave it empty.
    """

    patches: tuple[int, ...]
    counts: tuple[int, ...]
    grids: tuple[GridCount, ...] = ()

    def __post_init__(self) -> None:
        if len(self.patches) != len(self.counts):
            raise ValueError("patches and counts differ in length")
        if any(b <= a for a, b in zip(self.patches, self.patches[1:], strict=False)):
            raise ValueError("patch counts must be strictly increasing")
        if self.patches and self.patches[0] <= 0:
            raise ValueError("patch counts must be positive")
        if any(c <= 0 for c in self.counts):
            raise ValueError("image counts must be positive")
        if self.grids and sum(g.images for g in self.grids) != sum(self.counts):
            raise ValueError("grids do not add up to the histogram")

    @property
    def images(self) -> int:
        return sum(self.counts)

    @property
    def real_patches(self) -> int:
        """Patches the workload really has (no padding)."""
        return sum(p * c for p, c in zip(self.patches, self.counts, strict=True))

    @property
    def largest_patches(self) -> int:
        return self.patches[-1]

    @property
    def is_empty(self) -> bool:
        return not self.patches

    def top_grids(self, limit: int) -> tuple[GridCount, ...]:
        """The ``limit`` most frequent shapes, most frequent first (ties: smaller first)."""
        ranked = sorted(self.grids, key=lambda g: (-g.images, g.patches, g.grid_h_patches))
        return tuple(ranked[:limit])


def histogram_from_patches(patches: Iterable[int], counts: Iterable[int] | None = None) -> Histogram:
    """Collapse raw patch counts (e.g. from an engine log) into a ``Histogram``."""
    values = np.fromiter(patches, dtype=np.int64)
    weights = np.ones_like(values) if counts is None else np.fromiter(counts, dtype=np.int64)
    if values.size != weights.size:
        raise ValueError("patches and counts differ in length")
    if values.size == 0:
        return Histogram((), ())
    unique, inverse = np.unique(values, return_inverse=True)
    summed = np.bincount(inverse, weights=weights).astype(np.int64)
    keep = summed > 0
    return Histogram(tuple(int(v) for v in unique[keep]), tuple(int(c) for c in summed[keep]))


@dataclass(frozen=True)
class SizeStats:
    """What happened to the original image sizes on their way into the histogram."""

    images: int
    """Images read (with their counts), refused ones included."""
    refused_aspect: int
    """Aspect ratio over 200: Qwen2.5-VL's processor raises; not in the histogram."""
    over_max_aspect: int
    """Aspect ratio over the plan's ``--max-aspect`` (but at most 200): in the histogram, may
    need a bucket above the range's largest."""
    upscaled: int
    """Area below ``min_pixels``: the processor enlarges them."""
    downscaled: int
    """Area above ``max_pixels``: the processor shrinks them (detail is lost)."""


def histogram_from_sizes(
    widths: Sequence[int] | np.ndarray,
    heights: Sequence[int] | np.ndarray,
    counts: Sequence[int] | np.ndarray | None,
    pixel_range: PixelRange,
) -> tuple[Histogram, SizeStats]:
    """Histogram of the 112-aligned patch counts of original ``width x height`` images.

    Identical sizes are merged first (``np.unique`` on a packed key), so the resize rule
    (``PixelRange.aligned_patches`` via ``PixelRange.resize``; the one implementation of
    transformers' ``smart_resize``) runs once per DISTINCT size, not once per image.
    """
    w = np.asarray(widths, dtype=np.int64)
    h = np.asarray(heights, dtype=np.int64)
    c = np.ones_like(w) if counts is None else np.asarray(counts, dtype=np.int64)
    if not (w.shape == h.shape == c.shape) or w.ndim != 1:
        raise ValueError("widths, heights and counts must be 1-D and of one length")
    if w.size and (w.min() <= 0 or h.min() <= 0 or c.min() <= 0):
        raise GaudiVLError("image sizes and counts must be positive", "fix or drop those rows")
    if w.size and max(int(w.max()), int(h.max())) >= 1 << 31:
        raise GaudiVLError("an image side is over 2^31 pixels", "check the workload's width/height")
    key = (w << 32) | h
    unique, inverse = np.unique(key, return_inverse=True)
    weight = np.bincount(inverse, weights=c).astype(np.int64) if unique.size else np.zeros(0, np.int64)

    per_grid: dict[tuple[int, int], int] = {}
    refused = over_aspect = upscaled = downscaled = 0
    for packed, n in zip(unique.tolist(), weight.tolist(), strict=True):
        width, height = packed >> 32, packed & 0xFFFFFFFF
        aspect = max(width, height) / min(width, height)
        if aspect > MAX_ASPECT_RATIO:
            refused += n
            continue
        if aspect > pixel_range.max_aspect_ratio:
            over_aspect += n
        area = width * height
        if area < pixel_range.min_pixels:
            upscaled += n
        elif area > pixel_range.max_pixels:
            downscaled += n
        rh, rw = pixel_range.resize(height, width)
        grid = (rh // PATCH_PX, rw // PATCH_PX)
        per_grid[grid] = per_grid.get(grid, 0) + n

    grids = tuple(GridCount(gh, gw, n) for (gh, gw), n in sorted(per_grid.items()))
    by_patches: dict[int, int] = {}
    for g in grids:
        by_patches[g.patches] = by_patches.get(g.patches, 0) + g.images
    ordered = sorted(by_patches)
    hist = Histogram(tuple(ordered), tuple(by_patches[p] for p in ordered), grids)
    stats = SizeStats(int(c.sum()), refused, over_aspect, upscaled, downscaled)
    return hist, stats
