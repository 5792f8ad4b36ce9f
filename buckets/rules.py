"""The engine's bucket rules, reproduced exactly: parsing, lookup and the padded grid.

Source: vllm-project/vllm-gaudi ``vllm_gaudi/extension/bucketing/vision.py``
(``HPUVisionBucketManager``). Every other module asks these functions; nothing re-derives them.
"""

from __future__ import annotations

from collections.abc import Sequence

from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PATCHES_PER_WINDOW

ENGINE_DEFAULT_BUCKETS: tuple[int, ...] = (1600, 3136, 4096, 6400, 7744, 9216, 12544)
"""``MULTIMODAL_CONFIG['qwen2_5_vl']['buckets']`` in vllm_gaudi/extension/bucketing/vision.py."""

WARMUP_ASPECT_RATIOS: tuple[tuple[int, int], ...] = ((1, 1), (4, 3), (3, 4), (16, 9), (9, 16))
"""Warm-up guesses one graph per aspect ratio per bucket
(vllm_gaudi/v1/worker/hpu_model_runner.py, ``warmup_multimodal_graphs``)."""
GRAPHS_PER_BUCKET = len(WARMUP_ASPECT_RATIOS)


def bucket_for(patches: int, buckets: Sequence[int]) -> int | None:
    """The bucket an image of ``patches`` patches is padded to, or None when it runs unpadded.

    Engine rule (``get_multimodal_bucket``): the first bucket of the sorted list that is
    ``>= patches``; above the largest bucket the image keeps its own size, a new graph shape that
    compiles while serving.
    """
    for bucket in sorted(buckets):
        if patches <= bucket:
            return bucket
    return None


def _find_even_factor(desired: int, orig: int) -> int | None:
    """``find_factor``: the smallest even divisor of ``desired`` above ``orig``."""
    for i in range(orig + 1, desired + 1):
        if desired % i == 0 and i % 2 == 0:
            return i
    return None


def engine_padded_grid(grid_h: int, grid_w: int, bucket: int) -> tuple[int, int] | None:
    """The (h, w) patch grid the engine pads a ``grid_h x grid_w`` image to, or None.

    Reproduces ``find_padding`` / ``pad_multimodal_data`` (vllm_gaudi/extension/bucketing/vision.py),
    the path that pads ``pixel_values`` and ``image_grid_thw`` before the tower: it pads only when it
    finds an even grid side that keeps the other side and multiplies to exactly ``bucket``;
    otherwise it silently runs the image UNPADDED (a new shape, a compile at serving time). The
    tower-internal path (vllm_gaudi/models/qwen2_5_vl.py ``get_image_embeds``) appends pad tokens
    instead and always reaches the bucket. Returns the image's own grid when it equals the bucket.
    """
    if grid_h * grid_w >= bucket:
        return (grid_h, grid_w) if grid_h * grid_w == bucket else None
    pad_h = pad_w = 0
    if bucket % grid_h == 0:
        w_factor = bucket // grid_h
        pad_w = w_factor - grid_w if (w_factor > grid_w and w_factor % 2 == 0) else 0
    elif bucket % grid_w == 0:
        h_factor = bucket // grid_w
        pad_h = h_factor - grid_h if (h_factor > grid_h and h_factor % 2 == 0) else 0
    elif grid_h > grid_w:
        w_factor = _find_even_factor(bucket, grid_w)
        if w_factor is not None:
            pad_w = w_factor - grid_w
            h_factor = bucket // w_factor
            if h_factor > grid_h:
                pad_h = h_factor - grid_h
    else:
        h_factor = _find_even_factor(bucket, grid_h)
        if h_factor is not None:
            pad_h = h_factor - grid_h
            w_factor = bucket // h_factor
            if w_factor > grid_w:
                pad_w = w_factor - grid_w
    if (grid_h + pad_h) * (grid_w + pad_w) != bucket:
        return None
    return grid_h + pad_h, grid_w + pad_w


def parse_engine_buckets(text: str) -> tuple[int, ...] | None:
    """Parse ``VLLM_MULTIMODAL_BUCKETS`` the way the engine does.

    ``'None'`` disables bucketing (returns None); empty means the model default; otherwise
    ``int(x)`` for each comma-separated item (so surrounding spaces are fine), then sorted.
    Unlike the engine, bad items raise a ``GaudiVLError`` naming the item instead of a bare
    ``ValueError`` at server start.
    """
    if text == "None":
        return None
    if text == "":
        return ENGINE_DEFAULT_BUCKETS
    values: list[int] = []
    for item in text.split(","):
        try:
            values.append(int(item))
        except ValueError:
            raise GaudiVLError(
                f"bucket {item.strip()!r} is not an integer",
                "buckets are comma-separated patch counts, e.g. 2048,4096,8192",
            ) from None
    return tuple(sorted(values))


def check_bucket_values(buckets: Sequence[int]) -> None:
    """Raise for values the engine would accept but that break HPU assumptions.

    Duplicates waste a warm-up slot; values that are not positive multiples of 64 patches leave
    partial 112 x 112 windows after padding.
    """
    seen: set[int] = set()
    for b in buckets:
        if b in seen:
            raise GaudiVLError(f"bucket {b} is listed twice", "list each bucket once")
        seen.add(b)
        if b <= 0 or b % PATCHES_PER_WINDOW:
            up = max(PATCHES_PER_WINDOW, -(-b // PATCHES_PER_WINDOW) * PATCHES_PER_WINDOW)
            raise GaudiVLError(
                f"bucket {b} is not a positive multiple of {PATCHES_PER_WINDOW} patches",
                f"use {up} (one 112 x 112 window is 64 patches)",
            )
