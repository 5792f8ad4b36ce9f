"""Bucket planning from a pixel range: strategies, user-list validation and the coverage table.

Pure: numbers in, a frozen ``BucketPlan`` out. The workload-driven optimizer lives beside it in
``gaudi_vl.buckets.optimizer``. The engine's own list (the ``default`` strategy) and its lookup come
from the engine profile (``gaudi_vl.engines``); which sizes the engine warms up is the plan's
business (``gaudi_vl.plan.Plan.warmup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from gaudi_vl.buckets.rules import check_bucket_values, round_up_to_window
from gaudi_vl.engines import DEFAULT_PROFILE, EngineProfile
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PATCHES_PER_WINDOW, PIXELS_PER_PATCH, PixelRange, WindowRange, reachable_windows


class Strategy(str, Enum):
    """How buckets are spread over the reachable patch range."""

    DEFAULT = "default"
    """The engine's default list clipped to the range, extended to the range's ends (halving below,
    x1.5 above; the top raised, not added, when it only serves panoramas above max_pixels)."""
    LINEAR = "linear"
    """Evenly spaced every ``step`` patches from the smallest to the largest reachable size."""
    EXP = "exp"
    """``count`` buckets in geometric progression from the smallest to the largest size."""
    USER = "user"
    """A list the user gave, validated."""
    OPTIMAL = "optimal"
    """Chosen by the workload optimizer."""


GROWTH_ABOVE = 1.5
"""Above the engine's list the default strategy steps buckets by x1.5 (worst padding 33%): large
images cost the tower quadratically, so the top of the range is split finer than the bottom."""
GROWTH_BELOW = 2.0
"""Below the engine's list it halves (worst padding 50% on small, cheap images)."""
CLOSE_TO_TOP = 1.25
"""A grown bucket within this factor of the range's top is replaced by the top, not kept beside it."""
SLIVER = 0.125
"""Panoramas above max_pixels get no bucket of their own when they add at most this share to the top."""


def default_buckets(
    lo: int, hi: int, engine_list: Sequence[int], nominal_hi: int | None = None
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The engine's list inside the range, extended to the range's ends, and notes on the choices.

    ``nominal_hi`` is the largest image within max_pixels; ``hi`` can be larger only through the
    aspect-ratio sliver (panoramas whose short side is clamped to 112 px). The engine's own list
    (e.g. 1600 .. 12544 patches for Qwen2.5-VL) is kept up to ``nominal_hi``; below it buckets halve
    down to ``lo`` and above it they grow by ``GROWTH_ABOVE`` up to ``nominal_hi``, so no bucket pads
    its smallest image by more than half. The sliver above gets no bucket of its own when it is thin
    (at most ``SLIVER`` of ``hi``): the top bucket is RAISED to ``hi`` instead, one warm-up graph
    fewer for a few more padded patches; a wide sliver gets its own top bucket, with a note.
    """
    top = hi if nominal_hi is None else min(hi, max(lo, nominal_hi))
    values = sorted({b for b in engine_list if lo <= b <= top}) or [top]
    while values[0] > lo:
        values.insert(0, max(lo, round_up_to_window(values[0] / GROWTH_BELOW)))
    engine_top = values[-1]
    while values[-1] < top:
        step = round_up_to_window(values[-1] * GROWTH_ABOVE)
        if step >= top and values[-1] != engine_top and top <= values[-1] * CLOSE_TO_TOP:
            values[-1] = top  # a step short of the top: end the ladder at the top itself
        else:
            values.append(min(top, step))
    notes: tuple[str, ...] = ()
    if values[-1] < hi:
        last = values[-1]
        extra = hi - last
        if extra <= hi * SLIVER:
            values[-1] = hi
            notes = ((
                f"top bucket raised {last} -> {hi} so that panoramas above max_pixels ({last + 1}-{hi} "
                f"patches) need no bucket of their own: one warm-up graph fewer, at most {extra} more "
                f"padded patches ({100 * extra / hi:.1f}%) for images of the old top bucket"
            ),)
        else:
            values.append(hi)
            notes = ((
                f"bucket {hi} serves only panoramas above max_pixels ({last + 1}-{hi} patches, short "
                "side clamped to 112 px); --max-aspect drops it if you never get such images"
            ),)
    return tuple(sorted(set(values))), notes


def linear_buckets(lo: int, hi: int, step: int) -> tuple[int, ...]:
    """``lo, lo + step, ...`` up to and including ``hi`` (the last one is ``hi`` itself)."""
    if step <= 0 or step % PATCHES_PER_WINDOW:
        raise GaudiVLError(
            f"linear step {step} is not a positive multiple of {PATCHES_PER_WINDOW} patches",
            f"use --step {round_up_to_window(max(step, 1))}",
        )
    values = list(range(lo, hi, step))
    return tuple(values + [hi])


MAX_BUCKETS = 256
"""Most buckets a plan may ask for (``--count``, ``--max-buckets``): each bucket adds warm-up graphs
compiled at start-up, and 256 is already hours of warm-up. Bounds the loops too (20 digits used to hang)."""


def exp_buckets(lo: int, hi: int, count: int) -> tuple[int, ...]:
    """About ``count`` buckets in geometric progression from ``lo`` to ``hi`` (rounded up to 64).

    Geometric spacing bounds the worst-case padding *ratio* of every bucket by the same factor
    ``(hi / lo) ** (1 / (count - 1))``; rounding can merge neighbours, so fewer may come back.
    """
    if not 1 <= count <= MAX_BUCKETS:
        raise GaudiVLError(f"bucket count {count} is not in 1..{MAX_BUCKETS}", "use a smaller --count")
    if count == 1 or lo == hi:
        return (hi,)
    ratio = (hi / lo) ** (1.0 / (count - 1))
    values = {min(hi, round_up_to_window(lo * ratio**i)) for i in range(count)}
    return tuple(sorted(values | {hi}))


@dataclass(frozen=True)
class BucketRow:
    """One bucket and the images it serves."""

    bucket_patches: int
    first_patches: int
    """Smallest reachable patch count padded to this bucket (0 if the bucket serves none)."""
    last_patches: int
    worst_pad_patches: int
    """Padding of the smallest image that lands here: the worst case for this bucket."""

    @property
    def worst_pad_fraction(self) -> float:
        return self.worst_pad_patches / self.bucket_patches

    @property
    def serves_images(self) -> bool:
        return self.first_patches > 0

    @property
    def first_pixels(self) -> int:
        return self.first_patches * PIXELS_PER_PATCH

    @property
    def last_pixels(self) -> int:
        return self.last_patches * PIXELS_PER_PATCH


@dataclass(frozen=True)
class BucketPlan:
    """Buckets for one pixel range, with the coverage each one gives."""

    buckets: tuple[int, ...]
    strategy: Strategy
    pixel_range: PixelRange
    windows: WindowRange
    rows: tuple[BucketRow, ...]
    warnings: tuple[str, ...] = ()
    """Everything worth saying about the list: the range checks, then ``notes``."""
    notes: tuple[str, ...] = ()
    """What the strategy or optimizer said about its choice (not recomputable from the list)."""

    @property
    def largest(self) -> int:
        return self.buckets[-1]

    @property
    def env_value(self) -> str:
        """The ``VLLM_MULTIMODAL_BUCKETS`` value: comma-separated, sorted, no spaces."""
        return ",".join(str(b) for b in self.buckets)

    def bucket_for(self, patches: int) -> int | None:
        """The bucket an image of ``patches`` lands in by the engines' lookup, None above the largest."""
        return EngineProfile.bucket_for(patches, self.buckets)


def coverage_rows(buckets: Sequence[int], windows: WindowRange) -> tuple[BucketRow, ...]:
    """Which reachable patch counts (multiples of 64 in the range) each bucket serves."""
    rows: list[BucketRow] = []
    previous = 0
    for b in buckets:
        first = max(previous + 1, windows.min_patches)
        first = round_up_to_window(first)
        last = min(b, windows.max_patches)
        if first > last:
            rows.append(BucketRow(b, 0, 0, 0))
        else:
            rows.append(BucketRow(b, first, last, b - first))
        previous = b
    return tuple(rows)


HIGH_PAD_FRACTION = 0.5
"""A bucket whose smallest image is padded by more than this wastes most of its compute."""


def _range_warnings(buckets: Sequence[int], windows: WindowRange, pixel_range: PixelRange) -> list[str]:
    notes: list[str] = []
    for row in coverage_rows(buckets, windows):
        if row.serves_images and row.worst_pad_fraction > HIGH_PAD_FRACTION:
            notes.append(
                f"bucket {row.bucket_patches} pads images of {row.first_patches} patches by "
                f"{100 * row.worst_pad_fraction:.0f}%: add buckets below it (--strategy exp --count N, "
                "or --workload to fit your traffic) or lower --max-pixels"
            )
    if windows.max_patches > windows.nominal_max_patches:
        notes.append(
            f"the largest bucket covers {windows.max_patches} patches although max_pixels allows "
            f"{windows.nominal_max_patches}: images with aspect ratio up to "
            f"{pixel_range.max_aspect_ratio:g}:1 get their short side clamped to 112 px by the "
            f"resize rule and exceed max_pixels; pass --max-aspect to plan for narrower images only"
        )
    useless = [b for b in buckets if b < windows.min_patches]
    if useless:
        notes.append(
            f"bucket(s) {', '.join(map(str, useless))} are below the smallest reachable image "
            f"({windows.min_patches} patches) and only cost warm-up time"
        )
    return notes


def plan_buckets(
    pixel_range: PixelRange,
    strategy: Strategy | str = Strategy.DEFAULT,
    *,
    step: int | None = None,
    count: int | None = None,
    user_buckets: Sequence[int] | None = None,
    engine: EngineProfile = DEFAULT_PROFILE,
) -> BucketPlan:
    """Plan buckets covering every image the 112-aligned resize can produce in ``pixel_range``.

    The smallest bucket is the smallest reachable patch count (2048 for ``min_pixels`` 401408);
    the largest covers the largest reachable one, so no in-range image compiles at serving time.
    """
    strategy = Strategy(strategy)
    windows = reachable_windows(pixel_range)
    lo, hi = windows.min_patches, windows.max_patches
    notes: tuple[str, ...] = ()
    if strategy is not Strategy.LINEAR and step is not None:
        raise GaudiVLError(f"--step {step} is only used by --strategy linear",
                           "drop --step or pass --strategy linear")
    if strategy is not Strategy.EXP and count is not None:
        raise GaudiVLError(f"--count {count} is only used by --strategy exp",
                           "drop --count or pass --strategy exp")
    if strategy is Strategy.DEFAULT:
        buckets, notes = default_buckets(lo, hi, engine.default_buckets, windows.nominal_max_patches)
    elif strategy is Strategy.LINEAR:
        buckets = linear_buckets(lo, hi, step if step is not None else 1024)
    elif strategy is Strategy.EXP:
        buckets = exp_buckets(lo, hi, count if count is not None else 8)
    elif strategy is Strategy.USER:
        if not user_buckets:
            raise GaudiVLError("no buckets given", "pass --buckets 2048,4096,8192")
        check_bucket_values(user_buckets)
        buckets = tuple(sorted(user_buckets))
        if buckets[-1] < hi:
            raise GaudiVLError(
                f"largest bucket {buckets[-1]} leaves images of {buckets[-1] + PATCHES_PER_WINDOW}-{hi} "
                "patches unbucketed (they would compile while serving)",
                f"add {hi} to --buckets or lower --max-pixels",
            )
    else:
        raise GaudiVLError(f"strategy {strategy.value!r} needs a workload", "pass --workload PATH")
    return make_plan(buckets, strategy, pixel_range, windows, notes)


def make_plan(
    buckets: Sequence[int],
    strategy: Strategy,
    pixel_range: PixelRange,
    windows: WindowRange | None = None,
    extra_warnings: Sequence[str] = (),
) -> BucketPlan:
    """Wrap a finished bucket list in a ``BucketPlan`` with its coverage rows and warnings."""
    windows = windows or reachable_windows(pixel_range)
    ordered = tuple(sorted(buckets))
    check_bucket_values(ordered)
    warnings = _range_warnings(ordered, windows, pixel_range) + list(extra_warnings)
    return BucketPlan(
        buckets=ordered,
        strategy=strategy,
        pixel_range=pixel_range,
        windows=windows,
        rows=coverage_rows(ordered, windows),
        warnings=tuple(warnings),
        notes=tuple(extra_warnings),
    )
