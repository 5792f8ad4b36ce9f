"""Text buckets fitted to traffic: the prompt-length buckets with the least padding for a graph budget.

Pure (standard library; integers only). Input: a ``Histogram`` of prompt lengths in tokens (the
``patches`` field holds tokens here) and a budget K of sequence buckets. Two answers:

* ``optimal_seq_buckets``: the best K multiples of the block size, found by the EXACT bucket
  optimizer (``gaudi_vl.buckets.optimizer``). That optimizer works on multiples of 64; lengths are
  mapped to ``u = ceil(t / block) * 64`` (one 64-unit per block), where ``required_bucket(u) = u``, and
  a bucket ``b'`` back to ``b' / 64 * block`` tokens. The map is an order-preserving bijection between
  block multiples and 64-multiples, and the patches cost is linear, so the padded total is scaled by
  ``block / 64`` exactly: the optimum in one space is the optimum in the other. Engines that read a
  bucket list (vllm-gaudi's ``VLLM_BUCKETING_FROM_FILE``) can use it as is.
* ``best_linear_range``: the best ``(min, step, max)`` of an engine's linear generator (vllm-fork:
  ``VLLM_PROMPT_SEQ_BUCKET_MIN/STEP/MAX``), found by trying every block multiple as ``min`` and as
  ``step`` with ``max`` fixed
  at the block-rounded longest prompt, and every bucket a block multiple. Exact over those ranges;
  never better than the optimum above (a lower bound printed beside it).

Padding cost: ``sum(count * bucket(t))`` tokens, ``bucket(t)`` the first bucket ``>= t`` (the engines'
lookup); a prompt above the largest bucket runs at its own length (a compile while serving).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gaudi_vl.buckets.histogram import Histogram, histogram_from_patches
from gaudi_vl.buckets.optimizer import optimal_buckets
from gaudi_vl.engines import EngineProfile
from gaudi_vl.errors import GaudiVLError
from gaudi_vl.geometry import PATCHES_PER_WINDOW

UNIT = PATCHES_PER_WINDOW
"""The optimizer's granularity (64): one unit stands for one block of tokens."""


def padded_tokens(hist: Histogram, buckets: Sequence[int]) -> int:
    """Tokens the engine computes for the workload with ``buckets`` (first bucket >= length; above the
    largest, the prompt's own length)."""
    ordered = sorted(buckets)
    total = 0
    for t, n in zip(hist.patches, hist.counts, strict=True):
        b = EngineProfile.bucket_for(t, ordered)
        total += n * (t if b is None else b)
    return total


def _block_top(hist: Histogram, block: int) -> int:
    return -(-hist.largest_patches // block) * block


@dataclass(frozen=True)
class SeqFit:
    """One fitted set of sequence buckets and what it pads."""

    buckets: tuple[int, ...]
    padded_tokens: int
    real_tokens: int

    @property
    def waste_fraction(self) -> float:
        return self.padded_tokens / self.real_tokens - 1.0


def optimal_seq_buckets(hist: Histogram, max_buckets: int, block: int) -> SeqFit:
    """The K block multiples with the least padding (module docstring: exact, via the optimizer)."""
    if hist.is_empty:
        raise GaudiVLError("the text workload has no prompts", "check the --text-workload path and format")
    units = histogram_from_patches((-(-t // block) * UNIT for t in hist.patches), hist.counts)
    best = optimal_buckets(units, max_buckets)
    buckets = tuple(b // UNIT * block for b in best.buckets)
    return SeqFit(buckets, padded_tokens(hist, buckets), hist.real_patches)


@dataclass(frozen=True)
class LinearFit(SeqFit):
    """A linear range's buckets (``SeqFit``) and the variables that make them."""

    minimum: int = 0
    step: int = 0
    maximum: int = 0


def best_linear_range(
    hist: Histogram, max_buckets: int, block: int, generator: Callable[[int, int, int], list[int]]
) -> LinearFit:
    """The ``(min, step, max)`` of ``generator`` (the engine's own range function) with at most
    ``max_buckets`` values, the last one ``max`` (every prompt covered), and the least padding; ties
    to fewer buckets, then larger min and step. ``min`` and ``step`` run over every block multiple up
    to ``max``; the padding of a range is summed per block with prefix counts (exact integers)."""
    if hist.is_empty:
        raise GaudiVLError("the text workload has no prompts", "check the --text-workload path and format")
    top = _block_top(hist, block)
    units = top // block
    count = [0] * (units + 1)  # prompts needing exactly u blocks
    for t, n in zip(hist.patches, hist.counts, strict=True):
        count[-(-t // block)] += n
    prefix = list(itertools.accumulate(count))  # prompts needing <= u blocks

    def cost(values: Sequence[int]) -> int:
        total, below = 0, 0
        for b in values:
            u = min(b // block, units)
            total += (prefix[u] - below) * b
            below = prefix[u]
        return total

    best: tuple[tuple[int, int, int, int], LinearFit] | None = None
    for lo in range(block, top + 1, block):
        for step in range(block, top + 1, block):
            if top // step - lo // step > max_buckets:  # the stable part alone is too long
                continue
            values = generator(lo, step, top)
            if not values or len(values) > max_buckets or values[-1] != top or any(v % block for v in values):
                continue
            key = (cost(values), len(values), -lo, -step)
            if best is None or key < best[0]:
                best = (key, LinearFit(tuple(values), key[0], hist.real_patches, lo, step, top))
    if best is None:
        raise GaudiVLError(
            f"no linear bucket range of at most {max_buckets} buckets reaches the longest prompt "
            f"({top} tokens)",
            "raise --text-max-buckets",
        )
    return best[1]
