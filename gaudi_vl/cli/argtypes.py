"""argparse value types shared by the sub-commands: each turns bad text into a one-line usage error.

Every numeric option is validated here, at the edge: its type, its sign and a documented upper
bound (README "Limits"). The bounds keep every command fast and its memory small whatever is typed
(a 29-digit ``--max-pixels`` or a 20-digit ``--count`` used to hang), and each one is far above what a
real deployment uses:

=======================================  ===========  =====================================================
option                                   bound        why this bound
=======================================  ===========  =====================================================
``--min-pixels`` / ``--max-pixels``      178,956,970  Pillow's decompression-bomb error threshold
                                                      (``gaudi_vl.geometry.MAX_PIXELS``): larger images
                                                      cannot be opened by the engine's loader at all
``--step``                               913,045      patches of a ``MAX_PIXELS`` image
``--count`` / ``--max-buckets``          256          ``gaudi_vl.buckets.planner.MAX_BUCKETS``
``--max-graphs``                         4,096        ``MAX_GRAPHS``: each graph is a start-up compile
any other whole number                   2^31 - 1     the C ``int`` engines parse options into
=======================================  ===========  =====================================================

The serving settings (``--tp``, ``--port``, ``--max-model-len``, ``--max-num-seqs``, ...) carry their
bounds in their one declaration, ``gaudi_vl.settings.ServeSettings``, which the plan file obeys too.

Text longer than :data:`MAX_NUMBER_CHARS` is refused before any conversion, so no option can make
Python parse a million-digit integer.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from gaudi_vl.buckets.planner import MAX_BUCKETS
from gaudi_vl.geometry import MAX_PATCHES, MAX_PIXELS

MAX_NUMBER_CHARS = 64
"""Longest text accepted for a number (a product such as ``1280*28*28`` included)."""
MAX_INT = 2**31 - 1
"""Bound of a whole-number option that has no tighter one."""


def _short(text: str, what: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise argparse.ArgumentTypeError(f"{text[:20]!r}... ({len(text)} characters) is not {what}")
    return text


def pixels(text: str) -> int:
    """A pixel count: ``401408``, ``401_408`` or a product such as ``1280*28*28``, at most ``MAX_PIXELS``."""
    cleaned = _short(text, "a pixel count").replace("_", "").replace(" ", "")
    parts = cleaned.split("*")
    if not cleaned or not all(p.isascii() and p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a pixel count (use a whole number such as 401408 or 1280*28*28)"
        )
    value = math.prod(int(p) for p in parts)
    if value > MAX_PIXELS:
        shown = f"{text} = {value}" if len(parts) > 1 else str(value)
        raise argparse.ArgumentTypeError(
            f"{shown} pixels is above the limit of {MAX_PIXELS} (Pillow's decompression-bomb "
            "threshold: the engine cannot open larger images)"
        )
    return value


def int_in(low: int, high: int, name: str = "") -> Callable[[str], int]:
    """An argparse type for a whole number in ``[low, high]`` (the bound is named in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(_short(text, "a whole number"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} must be {low} or more")
        if value > high:
            why = f" ({name})" if name else ""
            raise argparse.ArgumentTypeError(f"{value} is above the limit of {high}{why}")
        return value

    parse.__name__ = f"int_in_{low}_{high}"
    return parse


positive_int = int_in(1, MAX_INT, "2^31 - 1")
"""A whole number >= 1 (no tighter bound known: the C ``int`` limit)."""
bucket_count = int_in(1, MAX_BUCKETS, "buckets; each adds warm-up graphs")
patch_step = int_in(1, MAX_PATCHES, "patches of the largest image")
MAX_GRAPHS = 4096
"""``--max-graphs`` bound: each warm-up graph is one compile at start-up (seconds each on Gaudi), so
thousands already mean an hour of warm-up; 16 times the bucket bound."""
graph_count = int_in(1, MAX_GRAPHS, "warm-up graphs; each is a compile at start-up")
MAX_WARMUP_SECONDS = 86_400.0
"""``--max-warmup-seconds`` bound: a day of warm-up."""


def warmup_seconds(text: str) -> float:
    """``--max-warmup-seconds``: a finite number of seconds in ``(0, MAX_WARMUP_SECONDS]``."""
    value = _finite(text, "a number of seconds")
    if not 0 < value <= MAX_WARMUP_SECONDS:
        raise argparse.ArgumentTypeError(f"{value:g} is not in (0, {MAX_WARMUP_SECONDS:g}] seconds")
    return value


def _finite(text: str, what: str) -> float:
    try:
        value = float(_short(text, what))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def percent(text: str) -> float:
    value = _finite(text.rstrip("%"), "a percentage")
    if not 0.0 <= value <= 10000.0:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 10000 percent")
    return value
